"""`FolderDataset`: any ``image/``, ``alpha/``, ``trimap/`` folders whose files share stems."""
from __future__ import annotations

import os
from typing import Any, Optional, Sequence, Union

from matbench.api import DATASETS, MattingDataset


@DATASETS.register_module(name="folder")
class FolderDataset(MattingDataset):
    """Images, alphas and trimaps in three folders of ``data_root``, matched by file stem;
    ``labels_file`` (optional) maps stems to ``{"type": "SO|STM|NS", "category": ...}``."""

    def __init__(self, data_root: Union[str, os.PathLike], image_dir: str = "image", alpha_dir: str = "alpha",
                 trimap_dir: str = "trimap", image_exts: Sequence[str] = (".jpg", ".jpeg", ".png"),
                 alpha_exts: Sequence[str] = (".png",), trimap_exts: Sequence[str] = (".png",),
                 labels_file: Optional[Union[str, os.PathLike]] = None, **kwargs: Any) -> None:
        super().__init__(data_root, image_dir=image_dir, alpha_dir=alpha_dir, trimap_dir=trimap_dir,
                         image_exts=image_exts, alpha_exts=alpha_exts, trimap_exts=trimap_exts,
                         labels_file=labels_file, **kwargs)

"""P3M-10k's test sets P3M-500-P and P3M-500-NP (Li et al., "Privacy-Preserving Portrait Matting",
ACM MM 2021), read as P3M's ``core/test.py`` (``test_p3m10k``) reads them: every image of the
split's image folder (``blurred_image/`` for P3M-500-P, ``original_image/`` for P3M-500-NP) paired
by stem with ``mask/<stem>.png`` and ``trimap/<stem>.png``. The optional ``facemask/`` is not read
(the paper does not use it)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Union

from matbench.api import DATASETS, InputError, MattingDataset

PAPER = "Li et al., Privacy-Preserving Portrait Matting, ACM MM 2021"


class P3M500(MattingDataset):
    """One P3M-500 split; ``data_root`` is the unpacked ``P3M-10k/`` folder (holding
    ``validation/<split>/``), a copy without ``validation/`` (as JizhiziLi/P3M's ``core/config.py``
    builds its paths), the ``validation/`` folder, or the split folder itself."""

    #: the split's folder name and image folder
    SPLIT: str = ""
    IMAGE_DIR: str = ""

    def __init__(self, data_root: Union[str, os.PathLike], **kwargs: Any) -> None:
        kwargs.setdefault("image_dir", self.IMAGE_DIR)
        kwargs.setdefault("alpha_dir", "mask")
        kwargs.setdefault("trimap_dir", "trimap")
        super().__init__(self.split_folder(data_root, kwargs["image_dir"]) if data_root else data_root, **kwargs)

    @classmethod
    def split_folder(cls, data_root: Union[str, os.PathLike], image_dir: str) -> Path:
        """The split's folder under `data_root`: the first candidate that holds `image_dir`."""
        root = Path(data_root)
        if not root.is_dir():
            raise InputError(root, "dataset folder not found")
        candidates = (f"validation/{cls.SPLIT}", cls.SPLIT, ".")
        for sub in candidates:
            if (root / sub / image_dir).is_dir():
                return (root / sub) if sub != "." else root
        looked = ", ".join(f"{c}/{image_dir}/" if c != "." else f"{image_dir}/" for c in candidates)
        raise InputError(root, f"no {cls.SPLIT} set here: looked for {looked}")


@DATASETS.register_module(name="p3m500-p")
class P3M500P(P3M500):
    """P3M-500-P: 500 portraits with blurred faces (the public test set of the paper's tables)."""

    SPLIT, IMAGE_DIR = "P3M-500-P", "blurred_image"
    METAINFO: dict = {"name": "p3m500-p", "title": "P3M-500-P", "groups": [], "default_variant": "aim",
                      "trimap_rule": None, "paper": PAPER}


@DATASETS.register_module(name="p3m500-np")
class P3M500NP(P3M500):
    """P3M-500-NP: 500 public-figure portraits, faces not blurred."""

    SPLIT, IMAGE_DIR = "P3M-500-NP", "original_image"
    METAINFO: dict = {"name": "p3m500-np", "title": "P3M-500-NP", "groups": [], "default_variant": "aim",
                      "trimap_rule": None, "paper": PAPER}

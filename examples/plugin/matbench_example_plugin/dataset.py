"""``photo-mattes``: a dataset laid out as ``photos/<stem>.jpg``, ``mattes/<stem>_alpha.png``,
``trimaps/<stem>_trimap.png`` and an optional ``lighting.json`` (``{stem: {"lighting": "day"}}``).
The file names differ between the folders, so the plugin overrides :meth:`collect`."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional, Union

from matbench.api import DATASETS, InputError, MattingDataset, files_by_stem, first_names

LABELS_FILE = "lighting.json"


def by_sample(folder: Path, exts: tuple[str, ...], suffix: str, role: str) -> dict[str, Path]:
    """``{sample name: path}`` of the files ``<name><suffix><ext>`` in ``folder``."""
    found = {}
    for stem, path in files_by_stem(folder, exts, role).items():
        if not stem.endswith(suffix):
            raise InputError(path, f"{role} file name does not end in '{suffix}'")
        found[stem[:-len(suffix)] if suffix else stem] = path
    return found


@DATASETS.register_module(name="photo-mattes")
class PhotoMattes(MattingDataset):
    """Photos with ``_alpha`` mattes and ``_trimap`` trimaps; ``data_root`` holds the three folders.

    Args:
        alpha_suffix, trimap_suffix: what follows the photo's stem in the other file names.
        labels_file: the lighting labels (default: ``lighting.json`` when present).
        **kwargs: :class:`MattingDataset`'s options (``image_dir``, ``trimap_dir=None`` to make the
            trimaps from the alpha by ``trimap_rule``, ``skip``, ...).
    """

    METAINFO: dict = {
        "name": "photo-mattes",                   # the name of --dataset and of results files
        "title": "Photo mattes (example layout)",  # captions and `matbench list`
        # one group: mean SAD per lighting value, as columns of the whole-image table
        "groups": [dict(key="lighting", values={"day": "Day", "night": "Night"}, closed=True,
                        placement="whole")],
        "default_variant": "aim",                 # the metric variant used without --metric-variant
        "trimap_rule": dict(type="dilate_erode", kernel_size=15),   # only with trimap_dir=None
        "paper": "",
    }

    def __init__(self, data_root: Union[str, os.PathLike], alpha_suffix: str = "_alpha",
                 trimap_suffix: str = "_trimap", labels_file: Optional[Union[str, os.PathLike]] = None,
                 **kwargs: Any) -> None:
        self.alpha_suffix, self.trimap_suffix = alpha_suffix, trimap_suffix
        if labels_file is None and data_root and (Path(data_root) / LABELS_FILE).is_file():
            labels_file = LABELS_FILE
        kwargs.setdefault("image_dir", "photos")
        kwargs.setdefault("alpha_dir", "mattes")
        kwargs.setdefault("trimap_dir", "trimaps")
        super().__init__(data_root, labels_file=labels_file, **kwargs)

    def collect(self) -> dict[str, dict[str, Path]]:
        # data_prefix holds absolute folders (joined with data_root by MattingDataset)
        photos = files_by_stem(Path(self.data_prefix["image"]), self.image_exts, "photo")
        files = {name: {"image": path} for name, path in photos.items()}
        others = {"alpha": (self.alpha_exts, self.alpha_suffix)}
        if self.ships_trimaps:
            others["trimap"] = (self.trimap_exts, self.trimap_suffix)
        for role, (exts, suffix) in others.items():
            folder = Path(self.data_prefix[role])
            found = by_sample(folder, exts, suffix, role)
            missing = sorted(set(photos) - set(found))
            if missing:
                raise InputError(folder / f"{missing[0]}{suffix}{exts[0]}",
                                 f"{role} missing ({len(missing)} photos have none: {first_names(missing)})")
            extra = sorted(set(found) - set(photos))
            if extra:
                raise InputError(found[extra[0]], f"{role} has no photo ({len(extra)} such files)")
            for name in files:
                files[name][role] = found[name]
        return files

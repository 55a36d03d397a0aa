"""`MattingDataset`: images, alpha mattes and trimaps matched by file stem across three folders.

The base of every matting dataset plugin (AIM-500, a plain folder, the embedded set). A data
info is ``{"name", "image_path", "alpha_path", "trimap_path", "type", "category"}``; the
pipeline (default: :class:`~matbench.transforms.LoadMattingSample`) adds the arrays.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Optional, Sequence, Union

from mmengine.dataset import BaseDataset

from . import transforms  # noqa: F401  (registers LoadMattingSample)
from .errors import InputError, MatbenchError
from .io import read_json
from .registry import TRANSFORMS, build

#: The image types of AIM-500's labels file.
TYPES = ("SO", "STM", "NS")
UNKNOWN = "unknown"
DEFAULT_PIPELINE = (dict(type="LoadMattingSample"),)


def _first(names: Sequence[str], n: int = 3) -> str:
    shown = ", ".join(f"'{x}'" for x in names[:n])
    return shown + (f" and {len(names) - n} more" if len(names) > n else "")


def _files_by_stem(folder: Path, exts: Sequence[str], what: str) -> dict[str, Path]:
    """``{stem: path}`` of the non-hidden files in `folder` with one of `exts` (any case)."""
    if not folder.is_dir():
        raise InputError(folder, f"{what} folder not found")
    wanted = tuple(e.lower() for e in exts)
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.suffix.lower() not in wanted or not path.is_file():
            continue
        if path.stem in found:
            raise InputError(path, f"two {what} files share the name '{path.stem}' "
                                   f"({found[path.stem].name} and {path.name})")
        found[path.stem] = path
    return found


def load_labels(path: Union[str, os.PathLike], names: Sequence[str]) -> dict[str, dict[str, str]]:
    """``{name: {"type", "category"}}`` for every name from an AIM-style labels json
    (``{stem: {"type": "SO|STM|NS", "category": ...}}``); entries for other stems are ignored."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "labels file not found")
    raw = read_json(path)
    if not isinstance(raw, dict):
        raise InputError(path, "expected an object {name: {\"type\": ..., \"category\": ...}}")
    missing = [n for n in names if n not in raw]
    if missing:
        raise InputError(path, f"no type/category for {len(missing)} of {len(names)} images: {_first(missing)}")
    labels = {}
    for name in names:
        entry = raw[name]
        if not isinstance(entry, dict) or "type" not in entry or "category" not in entry:
            raise InputError(path, f"entry '{name}' needs \"type\" and \"category\", got {entry!r}")
        kind, category = entry["type"], entry["category"]
        if kind not in TYPES:
            raise InputError(path, f"entry '{name}' has type {kind!r} (expected one of {', '.join(TYPES)})")
        if not isinstance(category, str) or not category:
            raise InputError(path, f"entry '{name}' has category {category!r} (expected a name)")
        labels[name] = {"type": kind, "category": category}
    return labels


class MattingDataset(BaseDataset):
    """Images, alphas and trimaps under ``data_root``, matched by stem; sorted by name.

    Args:
        data_root: the dataset folder.
        image_dir, alpha_dir, trimap_dir: sub-folders (relative to ``data_root``, or absolute).
        image_exts, alpha_exts, trimap_exts: file extensions looked for (case-insensitive).
        labels_file: optional json ``{stem: {"type": "SO|STM|NS", "category": ...}}``
            (relative to ``data_root`` or absolute); without it type and category are "unknown".
        skip: names to leave out (the evaluation loop's resume uses it).
        pipeline: transforms (dicts built from ``TRANSFORMS``, or callables) run by ``__getitem__``.
        **kwargs: passed to mmengine's ``BaseDataset`` (``metainfo``, ``serialize_data``,
            ``lazy_init``, ``indices``, ``test_mode`` ...).
    """

    METAINFO: dict = {"dataset_name": "matting folders", "types": TYPES}

    def __init__(self, data_root: Union[str, os.PathLike], image_dir: str = "image", alpha_dir: str = "alpha",
                 trimap_dir: str = "trimap", image_exts: Sequence[str] = (".jpg", ".jpeg", ".png"),
                 alpha_exts: Sequence[str] = (".png",), trimap_exts: Sequence[str] = (".png",),
                 labels_file: Optional[Union[str, os.PathLike]] = None, skip: Sequence[str] = (),
                 pipeline: Optional[Sequence[Union[dict, Callable]]] = None, ann_file: str = "",
                 **kwargs: Any) -> None:
        if not data_root:
            raise MatbenchError(f"{type(self).__name__}: data_root is required")
        root = Path(data_root)
        if not root.is_dir():
            raise InputError(root, "dataset folder not found")
        self.image_exts, self.alpha_exts, self.trimap_exts = tuple(image_exts), tuple(alpha_exts), tuple(trimap_exts)
        self.labels_file = None if labels_file is None else root / labels_file
        self.skip = frozenset(skip)
        if pipeline is None:
            pipeline = [dict(t) for t in DEFAULT_PIPELINE]
        # built here with matbench's registry, so no mmengine default scope is needed
        built = [build(TRANSFORMS, t) if isinstance(t, dict) else t for t in pipeline]
        kwargs.setdefault("test_mode", True)
        super().__init__(ann_file=ann_file, data_root=str(root),
                         data_prefix=dict(image=str(image_dir), alpha=str(alpha_dir), trimap=str(trimap_dir)),
                         pipeline=built, **kwargs)

    def load_data_list(self) -> list[dict]:
        root = Path(self.data_root)
        folders = {k: Path(self.data_prefix[k]) for k in ("image", "alpha", "trimap")}
        images = _files_by_stem(folders["image"], self.image_exts, "image")
        alphas = _files_by_stem(folders["alpha"], self.alpha_exts, "alpha")
        trimaps = _files_by_stem(folders["trimap"], self.trimap_exts, "trimap")
        if not images:
            raise MatbenchError(f"{root}: no images found in {folders['image']} "
                                f"(looked for {', '.join(self.image_exts)})")
        names = sorted(images)
        for what, found, exts in (("alpha", alphas, self.alpha_exts), ("trimap", trimaps, self.trimap_exts)):
            missing = [n for n in names if n not in found]
            if missing:
                raise InputError(folders[what] / f"{missing[0]}{exts[0]}",
                                 f"{what} missing for image {images[missing[0]].name} "
                                 f"({len(missing)} of {len(names)} images have no {what})")
            extra = sorted(set(found) - set(images))
            if extra:
                raise InputError(found[extra[0]], f"{what} has no image in {folders['image']} "
                                                  f"({len(extra)} such {what} files)")
        if self.labels_file is not None:
            labels = load_labels(self.labels_file, names)
        else:
            labels = {n: {"type": UNKNOWN, "category": UNKNOWN} for n in names}
        return [{"name": n, "image_path": str(images[n]), "alpha_path": str(alphas[n]),
                 "trimap_path": str(trimaps[n]), **labels[n]} for n in names]

    def filter_data(self) -> list[dict]:
        return [info for info in self.data_list if info["name"] not in self.skip]

    @property
    def names(self) -> list[str]:
        """The sample names, in order."""
        return [self.get_data_info(i)["name"] for i in range(len(self))]

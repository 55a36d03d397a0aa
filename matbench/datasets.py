"""`MattingDataset`: images, alpha mattes and trimaps matched by file stem across three folders.

The base of every matting dataset plugin (a standard test set, a plain folder, the embedded set). A data
info is ``{"name", "image_path", "alpha_path", "trimap_path", "type", "category"}``; the
pipeline (default: :class:`~matbench.transforms.LoadMattingSample`) adds the arrays.

It behaves as an mmengine ``BaseDataset`` in a Runner (``metainfo``, ``data_prefix``,
``full_init``, ``get_data_info``, ``indices``, ``lazy_init``) without deriving from it: importing
``mmengine.dataset`` imports torch, and listing a test set's files never needs it.
"""
from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any, Callable, Optional, Sequence, Union

from . import transforms  # noqa: F401  (registers LoadMattingSample)
from .errors import InputError, MatbenchError
from .groups import group_spec, group_specs
from .io import read_json
from .registry import TRANSFORMS, build
from .trimaps import generated_trimaps

UNKNOWN = "unknown"
DEFAULT_PIPELINE = (dict(type="LoadMattingSample"),)


def first_names(names: Sequence[str], n: int = 3) -> str:
    """The first `n` names, quoted, and how many more there are (for messages)."""
    shown = ", ".join(f"'{x}'" for x in names[:n])
    return shown + (f" and {len(names) - n} more" if len(names) > n else "")


def files_by_stem(folder: Union[str, os.PathLike], exts: Sequence[str], what: str) -> dict[str, Path]:
    """``{stem: path}`` of the non-hidden files in `folder` with one of `exts` (any case); two files
    with one stem are refused."""
    folder = Path(folder)
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


def match_by_stem(folders: dict[str, tuple[Union[str, os.PathLike], Sequence[str]]]) -> dict[str, dict[str, Path]]:
    """``{name: {role: path}}`` from ``{role: (folder, extensions)}``, the first role (the images)
    naming the samples: a file missing in another folder, or one without an image, is refused."""
    folders = {role: (Path(folder), exts) for role, (folder, exts) in folders.items()}
    roles = list(folders)
    found = {role: files_by_stem(folder, exts, role) for role, (folder, exts) in folders.items()}
    images = found[roles[0]]
    if not images:
        folder, exts = folders[roles[0]]
        raise InputError(folder, f"no {roles[0]}s found (looked for {', '.join(exts)})")
    for role in roles[1:]:
        folder, exts = folders[role]
        missing = [n for n in images if n not in found[role]]
        if missing:
            raise InputError(folder / f"{missing[0]}{exts[0]}",
                             f"{role} missing for {roles[0]} {images[missing[0]].name} "
                             f"({len(missing)} of {len(images)} {roles[0]}s have no {role})")
        extra = sorted(set(found[role]) - set(images))
        if extra:
            raise InputError(found[role][extra[0]], f"{role} has no {roles[0]} in {folders[roles[0]][0]} "
                                                    f"({len(extra)} such {role} files)")
    return {name: {role: found[role][name] for role in roles} for name in sorted(images)}


def read_labels_file(path: Union[str, os.PathLike]) -> Any:
    """The raw entries of a labels file: a JSON object ``{stem: {key: value}}``, or a CSV file
    whose first column is the stem and whose header names the group keys (``name,type,category``)."""
    import csv

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "labels file not found")
    if path.suffix.lower() != ".csv":
        return read_json(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(path, f"cannot read labels CSV: {exc}") from None
    if not rows or len(rows[0]) < 2:
        raise InputError(path, "a labels CSV needs a header row: the name column, then one column per group key")
    header, entries = rows[0], {}
    for number, row in enumerate(rows[1:], 2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise InputError(path, f"line {number} has {len(row)} fields, the header {len(header)}")
        if row[0] in entries:
            raise InputError(path, f"line {number}: '{row[0]}' is labelled twice")
        entries[row[0]] = dict(zip(header[1:], row[1:]))
    return entries


def load_labels(path: Union[str, os.PathLike], names: Sequence[str],
                groups: Sequence[dict]) -> dict[str, dict[str, str]]:
    """``{name: {group key: value}}`` for every name from a labels file (JSON ``{stem: {key:
    value}}``, e.g. ``{"img1": {"type": "A", "lighting": "night"}}``, or CSV: see
    :func:`read_labels_file`) with one entry per group of ``groups`` (:mod:`matbench.groups`);
    entries for other stems are ignored."""
    return check_labels(read_labels_file(path), names, groups, path)


def check_labels(raw: Any, names: Sequence[str], groups: Sequence[dict],
                 where: Union[str, os.PathLike]) -> dict[str, dict[str, str]]:
    """The labels of ``names`` from ``raw`` (``{name: {group key: value}}``), each image with a
    non-empty text per group, a closed group's among its values; errors name ``where``."""
    keys = [g["key"] for g in groups]
    if not isinstance(raw, dict):
        raise InputError(where, "expected an object {name: {" + ", ".join(f'"{k}": ...' for k in keys) + "}}")
    missing = [n for n in names if n not in raw]
    if missing:
        raise InputError(where, f"no {'/'.join(keys)} for {len(missing)} of {len(names)} images: {first_names(missing)}")
    labels = {}
    for name in names:
        entry = raw[name]
        if not isinstance(entry, dict) or any(k not in entry for k in keys):
            raise InputError(where, f"entry '{name}' needs {' and '.join(repr(k) for k in keys)}, got {entry!r}")
        for group in groups:
            value = entry[group["key"]]
            if not isinstance(value, str) or not value:
                raise InputError(where, f"entry '{name}' has {group['key']} {value!r} (expected a name)")
            if group["closed"] and value not in group["values"]:
                raise InputError(where, f"entry '{name}' has {group['key']} {value!r} "
                                        f"(expected one of {', '.join(group['values'])})")
        labels[name] = {k: entry[k] for k in keys}
    return labels


class MattingDataset:
    """Images, alphas and trimaps under ``data_root``, matched by stem; sorted by name.

    A dataset plugin describes itself in ``METAINFO`` (mmengine style): ``name`` (its CLI name),
    ``title``, ``groups`` (:mod:`matbench.groups`; none by default), ``default_variant`` (the metric
    variant its paper used; ``None``: the metric plugins' default), ``trimap_rule`` (how trimaps
    are made when the set ships none, :mod:`matbench.trimaps`) and ``paper``. Subclasses with
    another layout override :meth:`collect`.

    Args:
        data_root: the dataset folder.
        image_dir, alpha_dir, trimap_dir: sub-folders (relative to ``data_root``, or absolute);
            ``trimap_dir=None``: the set ships no trimaps, they are made by ``trimap_rule``.
        image_exts, alpha_exts, trimap_exts: file extensions looked for (case-insensitive).
        labels_file: optional json ``{stem: {group key: value}}`` (relative to ``data_root`` or
            absolute); without it every group value is "unknown". A dataset declaring no groups
            takes them from the file's keys.
        trimap_cache: where generated trimaps go (the evaluation puts them in its work dir).
        skip: names to leave out.
        pipeline: transforms (dicts built from ``TRANSFORMS``, or callables) run by ``__getitem__``.
        metainfo: entries that replace the class's ``METAINFO`` ones.
        indices: keep only the first ``indices`` samples (an int) or those at these positions.
        lazy_init: list the files at the first use rather than in the constructor.
        test_mode, serialize_data: accepted for mmengine configs; without effect.
    """

    METAINFO: dict = {"name": "folder", "title": "matting folders", "groups": [], "default_variant": None,
                      "trimap_rule": None, "paper": ""}

    def __init__(self, data_root: Union[str, os.PathLike], image_dir: str = "image", alpha_dir: str = "alpha",
                 trimap_dir: Optional[str] = "trimap", image_exts: Sequence[str] = (".jpg", ".jpeg", ".png"),
                 alpha_exts: Sequence[str] = (".png",), trimap_exts: Sequence[str] = (".png",),
                 labels_file: Optional[Union[str, os.PathLike]] = None,
                 trimap_cache: Optional[Union[str, os.PathLike]] = None, skip: Sequence[str] = (),
                 pipeline: Optional[Sequence[Union[dict, Callable]]] = None, metainfo: Optional[dict] = None,
                 indices: Optional[Union[int, Sequence[int]]] = None, lazy_init: bool = False,
                 test_mode: bool = True, serialize_data: bool = False) -> None:
        if not data_root:
            raise MatbenchError(f"{type(self).__name__}: data_root is required")
        root = Path(data_root)
        if not root.is_dir():
            raise InputError(root, "dataset folder not found")
        self.image_exts, self.alpha_exts, self.trimap_exts = tuple(image_exts), tuple(alpha_exts), tuple(trimap_exts)
        self.labels_file = None if labels_file is None else root / labels_file
        self.trimap_cache = trimap_cache
        self.skip = frozenset(skip)
        if pipeline is None:
            pipeline = [dict(t) for t in DEFAULT_PIPELINE]
        # built here with matbench's registry, so no mmengine default scope is needed
        self.pipeline = [build(TRANSFORMS, t) if isinstance(t, dict) else t for t in pipeline]
        self.test_mode = test_mode
        self.data_root = str(root)
        folders = dict(image=image_dir, alpha=alpha_dir, trimap=trimap_dir)
        self.data_prefix = {role: str(root / folder) for role, folder in folders.items() if folder is not None}
        self._metainfo = {**copy.deepcopy(self.METAINFO), **copy.deepcopy(metainfo or {})}
        self._indices = indices
        self.data_list: list[dict] = []
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    @property
    def metainfo(self) -> dict:
        """A copy of the dataset's description (``METAINFO`` with the constructor's ``metainfo``)."""
        return copy.deepcopy(self._metainfo)

    def full_init(self) -> None:
        """List the samples (once)."""
        if self._fully_initialized:
            return
        infos = self.filter_data(self.load_data_list())
        infos = self._select(infos)
        self.data_list = infos
        self._fully_initialized = True

    def _select(self, infos: list[dict]) -> list[dict]:
        """The samples ``indices`` keeps: the first N (an int), or those positions (each once)."""
        indices, n = self._indices, len(infos)
        what = f"{type(self).__name__}: option indices={indices!r}"
        if indices is None:
            return infos
        if isinstance(indices, int) and not isinstance(indices, bool):
            if indices < 0:
                raise MatbenchError(f"{what} should be a count (0 or more) or a list of positions")
            return infos[:indices]
        if not isinstance(indices, (list, tuple)) or not all(isinstance(i, int) and not isinstance(i, bool)
                                                             for i in indices):
            raise MatbenchError(f"{what} should be a count or a list of positions, e.g. indices=[0,3,7]")
        outside = [i for i in indices if not -n <= i < n]
        if outside:
            raise MatbenchError(f"{what}: position {outside[0]} is outside the {n} images (0 to {n - 1})")
        seen: dict[int, int] = {}
        for i in indices:
            if i % n in seen:
                raise MatbenchError(f"{what}: image {i % n} ({infos[i]['name']}) is listed twice; each image is "
                                    "scored once")
            seen[i % n] = i
        return [infos[i] for i in indices]

    def __len__(self) -> int:
        self.full_init()
        return len(self.data_list)

    def get_data_info(self, idx: int) -> dict:
        """A copy of sample `idx`'s files and labels, with its position as ``sample_idx``."""
        self.full_init()
        return {**self.data_list[idx], "sample_idx": idx}

    def __getitem__(self, idx: int) -> dict:
        """Sample `idx` through the pipeline."""
        sample = self.get_data_info(idx)
        for transform in self.pipeline:
            sample = transform(sample)
        return sample

    @property
    def groups(self) -> list[dict]:
        """The group definitions of this dataset (validated, defaults filled in)."""
        return group_specs(self.metainfo.get("groups"))

    @property
    def ships_trimaps(self) -> bool:
        return "trimap" in self.data_prefix

    def collect(self) -> dict[str, dict[str, Path]]:
        """``{name: {role: path}}``: the files of every sample (roles ``image``, ``alpha`` and,
        when the set ships them, ``trimap``; a subclass may add more, e.g. ``detail``)."""
        folders = {"image": (Path(self.data_prefix["image"]), self.image_exts),
                   "alpha": (Path(self.data_prefix["alpha"]), self.alpha_exts)}
        if self.ships_trimaps:
            folders["trimap"] = (Path(self.data_prefix["trimap"]), self.trimap_exts)
        return match_by_stem(folders)

    def load_data_list(self) -> list[dict]:
        files = self.collect()
        names = sorted(files)
        if not names:
            raise MatbenchError(f"{self.data_root}: no images found")
        if not self.ships_trimaps:
            rule = self.metainfo.get("trimap_rule")
            if not rule:
                raise MatbenchError(f"{self.metainfo.get('name', type(self).__name__)}: trimap_dir=None says the "
                                    "set ships no trimaps, and this dataset has no rule to make them from the "
                                    "alpha: give trimap_dir=FOLDER (the trimaps' folder)")
            if self.trimap_cache is None:
                raise MatbenchError(f"{self.metainfo.get('name', type(self).__name__)}: the set ships no trimaps; "
                                    "they are made from the alpha only during an evaluation (into its work dir)")
            made = generated_trimaps({n: str(files[n]["alpha"]) for n in names}, rule, self.trimap_cache)
            for n in names:
                files[n]["trimap"] = Path(made[n])
        labels = self.labels(names)
        if type(self).labels is not MattingDataset.labels:        # a plugin's own: checked as a file's
            labels = check_labels(labels, names, self.groups, f"{self.data_root} (labels of {type(self).__name__})")
        return [{"name": n, **{f"{role}_path": str(path) for role, path in files[n].items()}, **labels[n]}
                for n in names]

    def labels(self, names: Sequence[str]) -> dict[str, dict[str, str]]:
        """``{name: {group key: value}}`` for every image: from ``labels_file`` (JSON or CSV) when
        one is given, else "unknown". A plugin whose groups come from somewhere else (the file
        names, a database) overrides this; its values are checked against the groups as a
        labels file's are."""
        groups = self.groups
        if self.labels_file is None:
            return {n: {g["key"]: UNKNOWN for g in groups} for n in names}
        if not groups:
            groups = self._groups_from_labels()
        return load_labels(self.labels_file, names, groups)

    def _groups_from_labels(self) -> list[dict]:
        """Open groups named after the keys of a labels file (a dataset that declares none)."""
        raw = read_labels_file(self.labels_file)
        entries = [e for e in raw.values() if isinstance(e, dict)] if isinstance(raw, dict) else []
        keys = list(dict.fromkeys(k for e in entries for k in e))
        groups = [group_spec({"key": k, "values": {v: v for v in sorted({str(e.get(k)) for e in entries})}})
                  for k in keys]
        self._metainfo["groups"] = groups
        return groups

    def filter_data(self, infos: list[dict]) -> list[dict]:
        """The samples kept: all but those named in ``skip``."""
        return [info for info in infos if info["name"] not in self.skip]

    @property
    def names(self) -> list[str]:
        """The sample names, in order."""
        return [self.get_data_info(i)["name"] for i in range(len(self))]

"""AIM's stage-2 training set, as the official ``train_data='matting'``: foregrounds and alphas
of DIM, HATT and AM-2k (``<source>/{fg, mask, usr}``) composited on BG-20k backgrounds.

Each source lists its masks; a mask needs a foreground of the same stem. The USR comes from
``usr/<stem>.png`` when that file exists, otherwise it is computed from the alpha and the image
type (SO/STM/NS) given by the source's ``types_file`` or ``default_type``.

Backgrounds are paired with samples by a permutation of the background list drawn from
(seed, epoch) — so within an epoch no background repeats until all are used, every epoch pairs
anew, and the pairing depends on nothing but (seed, epoch, index). ``reshuffle_backgrounds=False``
keeps one pairing for the whole run, as the official code does.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional, Sequence, Union

import numpy as np

from matbench.api import DATASETS, files_by_stem, first_names, InputError, MatbenchError, read_json

from matbench_datasets.aim500 import TYPES
from .seeding import AimTrainDataset

IMAGE_EXTS = (".jpg", ".jpeg", ".png")

#: The official stage-2 pipeline (``core/data.py`` and ``generate_composite`` in ``core/util.py``),
#: except that the crop comes before compositing and noise rather than after: both work pixel by
#: pixel, so cropping first draws samples from the same distribution, at a third of the cost.
COMPOSITION_PIPELINE = (
    dict(type="LoadAimTrainSample"),
    dict(type="GenerateUSR", kernel_size=30),
    dict(type="ResizeBackground"),
    dict(type="RandomBackgroundBlur", kernel_sizes=(20, 30, 40, 50, 60), prob=0.5),
    dict(type="RandomTransitionCrop", crop_sizes=(640, 960, 1280), fallback_size=320, transition_prob=0.5),
    dict(type="Composite"),
    dict(type="RandomGaussianNoise", sigma=10, prob=0.5),
    dict(type="RandomFlip", prob=0.5),
    dict(type="ResizeTo", size=320),
    dict(type="PackAimInputs"),
)

SOURCE_KEYS = ("root", "name", "fg_dir", "alpha_dir", "usr_dir", "repeat", "types_file", "types_key", "default_type")


def load_types(path: Path, names: Sequence[str], key: Optional[str] = None) -> dict[str, str]:
    """``{name: type}`` for the `names` found in a json of ``{stem: "SO"}`` or
    ``{stem: {"type": "SO", ...}}`` (under the top-level `key` when given, as the official
    ``dim_hatt_type.json`` keys its datasets). Keys with a file extension match by their stem."""
    if not path.is_file():
        raise InputError(path, "types file not found")
    raw = read_json(path)
    if key is not None:
        if not isinstance(raw, dict) or not isinstance(raw.get(key), dict):
            raise InputError(path, f"no object under the key '{key}'")
        raw = raw[key]
    if not isinstance(raw, dict):
        raise InputError(path, "expected an object {name: type}")
    by_stem = {os.path.splitext(k)[0] if os.path.splitext(k)[1].lower() in IMAGE_EXTS else k: v
               for k, v in raw.items()}
    types = {}
    for name in names:
        entry = raw.get(name, by_stem.get(name))
        if entry is None:
            continue
        kind = entry.get("type") if isinstance(entry, dict) else entry
        if kind not in TYPES:
            raise InputError(path, f"entry '{name}' has type {kind!r} (expected one of {', '.join(TYPES)})")
        types[name] = kind
    return types


def _source_spec(source: Union[str, os.PathLike, dict], base: Optional[Path]) -> dict:
    spec = {"root": source} if isinstance(source, (str, os.PathLike)) else dict(source)
    unknown = sorted(set(spec) - set(SOURCE_KEYS))
    if unknown or "root" not in spec:
        raise MatbenchError(f"composition source {source!r}: needs 'root'; allowed keys are "
                            f"{', '.join(SOURCE_KEYS)}" + (f" (unknown: {', '.join(unknown)})" if unknown else ""))
    root = Path(spec["root"])
    root = root if root.is_absolute() or base is None else base / root
    default_name = root.parent.name if root.name.lower() == "train" and root.parent.name else root.name
    repeat = spec.get("repeat", 1)
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
        raise MatbenchError(f"composition source {root}: repeat must be a positive integer, got {repeat!r}")
    default_type = spec.get("default_type")
    if default_type is not None and default_type not in TYPES:
        raise MatbenchError(f"composition source {root}: default_type must be one of {', '.join(TYPES)}, "
                            f"got {default_type!r}")
    types_file = spec.get("types_file")
    if types_file is not None:
        types_file = Path(types_file)
        types_file = types_file if types_file.is_absolute() or base is None else base / types_file
    return {"root": root, "name": str(spec.get("name") or default_name), "fg_dir": spec.get("fg_dir", "fg"),
            "alpha_dir": spec.get("alpha_dir", "mask"), "usr_dir": spec.get("usr_dir", "usr"), "repeat": repeat,
            "types_file": types_file, "types_key": spec.get("types_key"), "default_type": default_type}


def _under(root: Path, folder: str) -> Path:
    return Path(folder) if Path(folder).is_absolute() else root / folder


@DATASETS.register_module(name="composition")
class CompositionDataset(AimTrainDataset):
    """Foregrounds of one or more sources composited on a folder of backgrounds.

    Args:
        sources: the source folders (``DIM/train``, ``HATT/train``, ``AM-2k/train``), each a path or
            a dict with ``root`` and optionally ``name`` (default: the folder name, or its parent's
            for ``.../train``), ``fg_dir`` ("fg"), ``alpha_dir`` ("mask"), ``usr_dir`` ("usr"),
            ``repeat`` (1; the official SAMPLE_BAGS: DIM 5, HATT 5, AM-2k 2 — each foreground
            appears that many times per epoch, on different backgrounds), ``types_file``,
            ``types_key`` and ``default_type`` (for computing missing USRs; see :func:`load_types`).
        bg_dir: the backgrounds folder (``BG-20k/train``).
        data_root: optional base folder for relative ``sources``, ``types_file`` and ``bg_dir``.
        reshuffle_backgrounds: pair backgrounds anew every epoch (default) or once for the run.
        seed, pipeline, **kwargs: see :class:`~matbench_aim.datasets.seeding.AimTrainDataset`;
            the default pipeline is :data:`COMPOSITION_PIPELINE`.

    A sample (after ``PackAimInputs``): ``inputs``, ``fg``, ``bg`` 3x320x320, ``alpha`` and
    ``trimap`` (the USR, resized bilinearly) 1x320x320, ``name`` ("<source>/<stem>").
    """

    METAINFO: dict = {"dataset_name": "AIM stage-2 composites", "types": TYPES}
    DEFAULT_PIPELINE = COMPOSITION_PIPELINE

    def __init__(self, sources: Sequence[Union[str, os.PathLike, dict]], bg_dir: Union[str, os.PathLike],
                 data_root: Optional[Union[str, os.PathLike]] = None, reshuffle_backgrounds: bool = True,
                 fg_exts: Sequence[str] = IMAGE_EXTS, alpha_exts: Sequence[str] = (".png", ".jpg"),
                 usr_exts: Sequence[str] = (".png",), bg_exts: Sequence[str] = IMAGE_EXTS, **kwargs: Any) -> None:
        if isinstance(sources, (str, os.PathLike, dict)):
            sources = [sources]
        if not sources:
            raise MatbenchError(f"{type(self).__name__}: at least one source is required")
        base = Path(data_root) if data_root else None
        self.sources = [_source_spec(s, base) for s in sources]
        bg = Path(bg_dir)
        self.bg_dir = bg if bg.is_absolute() or base is None else base / bg
        self.reshuffle_backgrounds = bool(reshuffle_backgrounds)
        self.fg_exts, self.alpha_exts, self.usr_exts, self.bg_exts = (
            tuple(fg_exts), tuple(alpha_exts), tuple(usr_exts), tuple(bg_exts))
        self.bg_paths: list[str] = []
        self._bg_order: tuple[int, Optional[np.ndarray]] = (-1, None)
        super().__init__(data_root=str(base) if base else "", **kwargs)

    def _load_source(self, src: dict) -> list[dict]:
        root = src["root"]
        if not root.is_dir():
            raise InputError(root, "source folder not found")
        fg_dir, alpha_dir, usr_dir = (_under(root, src[k]) for k in ("fg_dir", "alpha_dir", "usr_dir"))
        alphas = files_by_stem(alpha_dir, self.alpha_exts, "alpha")
        fgs = files_by_stem(fg_dir, self.fg_exts, "foreground")
        usrs = files_by_stem(usr_dir, self.usr_exts, "USR") if usr_dir.is_dir() else {}
        if not alphas:
            raise InputError(alpha_dir, f"no alpha mattes found (looked for {', '.join(self.alpha_exts)})")
        names = sorted(alphas)
        missing = [n for n in names if n not in fgs]
        if missing:
            raise InputError(fg_dir / f"{missing[0]}{alphas[missing[0]].suffix}",
                             f"foreground missing for alpha {alphas[missing[0]].name} "
                             f"({len(missing)} of {len(names)} alphas have no foreground)")
        need_type = [n for n in names if n not in usrs]
        types = load_types(src["types_file"], need_type, src["types_key"]) if src["types_file"] and need_type else {}
        if src["default_type"]:
            types = {n: types.get(n, src["default_type"]) for n in need_type}
        untyped = [n for n in need_type if n not in types]
        if untyped:
            where = src["types_file"] or alphas[untyped[0]]
            raise InputError(where, f"no USR in {usr_dir} and no type (SO/STM/NS) for {len(untyped)} "
                                    f"of {len(names)} images: {first_names(untyped)} (add usr/ files, a types_file "
                                    "entry or the source's default_type)")
        return [{"name": f"{src['name']}/{n}", "source": src["name"], "fg_path": str(fgs[n]),
                 "alpha_path": str(alphas[n]), "usr_path": str(usrs[n]) if n in usrs else None,
                 "type": types.get(n), "bag": bag}
                for n in names for bag in range(src["repeat"])]

    def load_data_list(self) -> list[dict]:
        if not self.bg_dir.is_dir():
            raise InputError(self.bg_dir, "background folder not found")
        wanted = tuple(e.lower() for e in self.bg_exts)
        self.bg_paths = [str(p) for p in sorted(self.bg_dir.iterdir())
                         if not p.name.startswith(".") and p.suffix.lower() in wanted and p.is_file()]
        if not self.bg_paths:
            raise InputError(self.bg_dir, f"no backgrounds found (looked for {', '.join(self.bg_exts)})")
        data = []
        for src in self.sources:
            data += self._load_source(src)
        return data

    def background_order(self, epoch: int) -> np.ndarray:
        """The permutation of :attr:`bg_paths` used in `epoch` (cached per epoch)."""
        epoch = epoch if self.reshuffle_backgrounds else 0
        if self._bg_order[0] != epoch:
            # a stream apart from the samples' (their seed sequences have no spawn key)
            rng = np.random.default_rng(np.random.SeedSequence([self.seed, epoch], spawn_key=(1,)))
            self._bg_order = (epoch, rng.permutation(len(self.bg_paths)))
        return self._bg_order[1]

    def prepare_sample(self, results: dict, epoch: int, index: int) -> dict:
        order = self.background_order(epoch)
        results["bg_path"] = self.bg_paths[int(order[index % len(order)])]
        return results

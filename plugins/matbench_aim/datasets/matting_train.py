"""Stage-2-style training on any dataset in AIM-500's layout (AIM-500 itself, the embedded set):
photo + alpha + USR with the stage-2 crop/flip/resize, for demos and smoke runs.

The USR comes from ``usr/<name>.png`` when present, otherwise from the alpha and the image type.
The composition loss needs a foreground and a background: ``fg/<name>`` and ``bg/<name>`` when
present, otherwise estimated as the official ``process_fgbg`` does, ``fg = image * alpha`` and
``bg = image * (1 - alpha)``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Sequence, Union

from mmengine.dataset import BaseDataset

from matbench.api import DATASETS, build, files_by_stem, first_names, InputError, MatbenchError

from matbench_datasets.aim500 import TYPES
from .seeding import AimTrainDataset


#: Stage-2 transforms on a photo (no compositing); the smoke config shrinks the sizes.
MATTING_TRAIN_PIPELINE = (
    dict(type="LoadAimTrainSample", bg_same_size=True),
    dict(type="GenerateUSR", kernel_size=30),
    dict(type="EstimateForegroundBackground"),
    dict(type="RandomTransitionCrop", crop_sizes=(640, 960, 1280), fallback_size=320, transition_prob=0.5),
    dict(type="RandomFlip", prob=0.5),
    dict(type="ResizeTo", size=320),
    dict(type="PackAimInputs"),
)


@DATASETS.register_module(name="matting_train")
class MattingTrainDataset(AimTrainDataset):
    """The samples of an AIM-500-layout dataset, as stage-2 training samples.

    Args:
        source: the dataset to read, a config dict built from ``DATASETS`` (default: the embedded
            set) or a built dataset; its data infos give ``name``, ``image_path``, ``alpha_path``
            and ``type``, and its ``data_root`` holds the optional ``usr/``, ``fg/``, ``bg/``.
        usr_dir, fg_dir, bg_dir: those sub-folders (relative to the source's root, or absolute).
        default_type: the type used to compute a missing USR when the source has none ("unknown").
        seed, pipeline, **kwargs: see :class:`~matbench_aim.datasets.seeding.AimTrainDataset`;
            the default pipeline is :data:`MATTING_TRAIN_PIPELINE`.

    A sample (after ``PackAimInputs``): ``inputs``, ``fg``, ``bg`` 3xSxS, ``alpha`` and ``trimap``
    (the USR, resized bilinearly) 1xSxS, ``name``.
    """

    METAINFO: dict = {"dataset_name": "matting training (AIM-500 layout)", "types": TYPES}
    DEFAULT_PIPELINE = MATTING_TRAIN_PIPELINE

    def __init__(self, source: Union[dict, BaseDataset, None] = None, usr_dir: str = "usr", fg_dir: str = "fg",
                 bg_dir: str = "bg", default_type: Optional[str] = None,
                 usr_exts: Sequence[str] = (".png",), layer_exts: Sequence[str] = (".png", ".jpg", ".jpeg"),
                 **kwargs: Any) -> None:
        if default_type is not None and default_type not in TYPES:
            raise MatbenchError(f"{type(self).__name__}: default_type must be one of {', '.join(TYPES)}, "
                                f"got {default_type!r}")
        self.source = dict(type="embedded") if source is None else source
        self.usr_dir, self.fg_dir, self.bg_dir = usr_dir, fg_dir, bg_dir
        self.default_type = default_type
        self.usr_exts, self.layer_exts = tuple(usr_exts), tuple(layer_exts)
        super().__init__(**kwargs)

    def _source_dataset(self) -> BaseDataset:
        if isinstance(self.source, dict):
            return build(DATASETS, self.source)
        if hasattr(self.source, "get_data_info") and hasattr(self.source, "data_root"):
            return self.source
        raise MatbenchError(f"{type(self).__name__}: source must be a dataset config dict or a dataset, "
                            f"got {type(self.source).__name__}")

    def load_data_list(self) -> list[dict]:
        ds = self._source_dataset()
        root = Path(ds.data_root)
        infos = [ds.get_data_info(i) for i in range(len(ds))]
        if not infos:
            raise InputError(root, "the source dataset has no samples")
        folders = {k: Path(d) if Path(d).is_absolute() else root / d
                   for k, d in (("usr", self.usr_dir), ("fg", self.fg_dir), ("bg", self.bg_dir))}
        found = {k: files_by_stem(f, self.usr_exts if k == "usr" else self.layer_exts, k) if f.is_dir() else {}
                 for k, f in folders.items()}
        data = []
        for info in infos:
            name = info["name"]
            kind = info.get("type") if info.get("type") in TYPES else self.default_type
            data.append({"name": name, "image_path": info["image_path"], "alpha_path": info["alpha_path"],
                         "usr_path": str(found["usr"][name]) if name in found["usr"] else None,
                         "fg_path": str(found["fg"][name]) if name in found["fg"] else None,
                         "bg_path": str(found["bg"][name]) if name in found["bg"] else None,
                         "type": kind, "category": info.get("category")})
        untyped = [d["name"] for d in data if d["usr_path"] is None and d["type"] is None]
        if untyped:
            raise InputError(folders["usr"], f"no USR file and no type (SO/STM/NS) for {len(untyped)} of "
                                             f"{len(data)} images: {first_names(untyped)} (add the labels file, usr/ "
                                             "files or default_type)")
        return data

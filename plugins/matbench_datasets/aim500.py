"""AIM-500 (Li et al., "Deep Automatic Natural Image Matting", IJCAI 2021), read as the official
``core/test.py`` lays it out: ``ROOT/original/*.jpg``, ``ROOT/mask/*.png``, ``ROOT/trimap/*.png``
and the labels ``ROOT/aim_category_type.json`` (three types, seven categories, as the AIM README's
tables show them). ``usr/`` (training targets) is not read here."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional, Union

from matbench.api import DATASETS, MattingDataset

LABELS_FILE = "aim_category_type.json"

#: SO: salient opaque, STM: salient transparent/meticulous, NS: non-salient
TYPES = ("SO", "STM", "NS")

TYPE_GROUP = dict(
    key="type", values={t: t for t in TYPES}, closed=True, placement="whole",
    about="SO, STM, NS: mean SAD per image type; Avg.: the unweighted mean of the type means.",
    avg_header="Type Avg.")

CATEGORY_GROUP = dict(
    key="category", closed=False, placement="table", title="SAD per category",
    values={"animal": "Animal", "portrait": "Human", "transparent": "Transp.", "plant": "Plant",
            "furniture": "Furni.", "toy": "Toy", "fruit": "Fruit"},
    about="Mean SAD per category (Human = portrait); Avg.: the unweighted mean of the category means.",
    avg_header="Cat. Avg.")

AIM500_GROUPS = [TYPE_GROUP, CATEGORY_GROUP]


@DATASETS.register_module(name="aim500")
class AIM500(MattingDataset):
    """AIM-500 under ``data_root``; types/categories from ``aim_category_type.json`` when present
    (otherwise "unknown"). Pass ``labels_file`` to use another file (then it must exist)."""

    METAINFO: dict = {"name": "aim500", "title": "AIM-500", "groups": AIM500_GROUPS, "default_variant": "aim",
                      "trimap_rule": None, "paper": "Li et al., Deep Automatic Natural Image Matting, IJCAI 2021"}

    def __init__(self, data_root: Union[str, os.PathLike], labels_file: Optional[Union[str, os.PathLike]] = None,
                 **kwargs: Any) -> None:
        if labels_file is None and data_root and (Path(data_root) / LABELS_FILE).is_file():
            labels_file = LABELS_FILE
        kwargs.setdefault("image_dir", "original")
        kwargs.setdefault("alpha_dir", "mask")
        kwargs.setdefault("trimap_dir", "trimap")
        super().__init__(data_root, labels_file=labels_file, **kwargs)

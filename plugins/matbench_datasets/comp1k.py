"""Composition-1k test set (Xu et al., "Deep Image Matting", CVPR 2017): 50 Adobe foregrounds, each
composited on 20 VOC backgrounds, 1000 images with Adobe's trimaps, in either of two layouts.

- The pre-merged download (MatteFormer's "prepared test set", used by GCA, MatteFormer, ViTMatte):
  ``ROOT/merged/<fg stem>_<k>.png``, ``ROOT/alpha_copy/<same name>`` (each alpha copied 20 times),
  ``ROOT/trimaps/<same name>``, paired by identical file name (GCA ``config/*.toml``,
  MatteFormer and ViTMatte ``inference.py``).
- mmagic's processed layout: ``ROOT/test_list.json`` (written by mmagic's
  ``tools/dataset_converters/comp1k/preprocess_comp1k_dataset.py``), a list of
  ``{alpha_path, fg_path, bg_path, merged_path, trimap_path}`` relative to ``ROOT``, where
  ``alpha_path`` is the single Adobe alpha its 20 composites share.

Either way a sample is named after its merged image's stem, so one predictions folder
(``<fg stem>_<k>.png``) scores against both. The default metric variant is "dim" (mmagic).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Union

from matbench.api import DATASETS, first_names, InputError, MatbenchError, MattingDataset, read_json

LIST_FILE = "test_list.json"
MERGED_DIRS = dict(image_dir="merged", alpha_dir="alpha_copy", trimap_dir="trimaps")
# where mmagic's converter puts the files (informative: the list gives every path)
MMAGIC_DIRS = dict(image_dir="Test_set/merged", alpha_dir="Test_set/Adobe-licensed images/alpha",
                   trimap_dir="Test_set/Adobe-licensed images/trimaps")
LAYOUTS = ("auto", "merged", "mmagic")
LIST_ROLES = {"image": "merged_path", "alpha": "alpha_path", "trimap": "trimap_path"}


def detect_layout(root: Path) -> str:
    """"mmagic" when ``root`` holds mmagic's ``test_list.json``, else "merged" when it holds
    ``merged/``; anything else is refused."""
    if (root / LIST_FILE).is_file():
        return "mmagic"
    if (root / MERGED_DIRS["image_dir"]).is_dir():
        return "merged"
    raise InputError(root, f"not a Composition-1k test set: expected {LIST_FILE} (mmagic's layout) or "
                           "merged/, alpha_copy/ and trimaps/ (the pre-merged download)")


@DATASETS.register_module(name="comp1k")
class Comp1k(MattingDataset):
    """Composition-1k test under ``data_root`` (the folder the download unpacks to, e.g.
    ``Composition-1k-testset/`` or mmagic's ``adobe_composition-1k/``).

    Args:
        layout: "merged" (``merged/``, ``alpha_copy/``, ``trimaps/``), "mmagic" (``test_list.json``)
            or "auto" (mmagic's when its list is there).
        **kwargs: as :class:`~matbench.datasets.MattingDataset` (folder names apply to "merged").
    """

    METAINFO: dict = {"name": "comp1k", "title": "Composition-1k", "groups": [], "default_variant": "dim",
                      "trimap_rule": None, "paper": "Xu et al., Deep Image Matting, CVPR 2017"}

    def __init__(self, data_root: Union[str, os.PathLike], layout: str = "auto", **kwargs: Any) -> None:
        if layout not in LAYOUTS:
            raise MatbenchError(f"unknown Composition-1k layout '{layout}' (known: {', '.join(LAYOUTS)})")
        if layout == "auto" and data_root and Path(data_root).is_dir():
            layout = detect_layout(Path(data_root))
        self.layout = layout
        for key, folder in (MMAGIC_DIRS if layout == "mmagic" else MERGED_DIRS).items():
            kwargs.setdefault(key, folder)
        for key in ("image_exts", "alpha_exts", "trimap_exts"):
            kwargs.setdefault(key, (".png",))
        super().__init__(data_root, **kwargs)

    def collect(self) -> dict[str, dict[str, Path]]:
        if self.layout == "mmagic":
            return self._collect_list(Path(self.data_root) / LIST_FILE)
        return super().collect()

    def _collect_list(self, list_file: Path) -> dict[str, dict[str, Path]]:
        """The samples of mmagic's ``test_list.json``, named after their merged images."""
        root = Path(self.data_root)
        if not list_file.is_file():
            raise InputError(list_file, "mmagic's Composition-1k test list not found")
        entries = read_json(list_file)
        if not isinstance(entries, list) or not entries:
            raise InputError(list_file, "expected a non-empty list of {merged_path, alpha_path, trimap_path, ...}")
        files: dict[str, dict[str, Path]] = {}
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict) or any(not isinstance(entry.get(k), str) for k in LIST_ROLES.values()):
                raise InputError(list_file, f"entry {i} needs " + ", ".join(LIST_ROLES.values()) + f", got {entry!r}")
            paths = {role: root / entry[key] for role, key in LIST_ROLES.items()}
            for role, path in paths.items():
                if not path.is_file():
                    raise InputError(path, f"{role} of {LIST_FILE} entry {i} not found")
            name = paths["image"].stem
            if name in files:
                raise InputError(list_file, f"two entries have the merged image name '{name}' "
                                            f"({files[name]['image']} and {paths['image']})")
            files[name] = paths
        unlisted = self._unlisted_merged(files)
        if unlisted:
            raise InputError(unlisted[0], f"merged image not in {LIST_FILE} ({len(unlisted)} such files: "
                                          f"{first_names([p.name for p in unlisted])})")
        return files

    @staticmethod
    def _unlisted_merged(files: dict[str, dict[str, Path]]) -> list[Path]:
        """Merged images beside the listed ones that the list leaves out (a stale or cut list)."""
        folders = {paths["image"].parent for paths in files.values()}
        listed = {paths["image"] for paths in files.values()}
        return sorted(p for folder in folders for p in folder.glob("*.png")
                      if not p.name.startswith(".") and p not in listed)

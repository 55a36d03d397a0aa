"""USR, AIM's unified semantic representation: the stage-2 target of the global branch, made
from the ground-truth alpha as the official ``core/process_data.py`` does.

The trimap comes from binary morphology with OpenCV's elliptical structuring element of
``kernel_size x kernel_size`` (``util.gen_trimap_with_dilate``): 255 where the erosion of
``alpha == 255`` is set, 128 where the dilation of ``alpha != 0`` is set but the erosion is not,
0 elsewhere. OpenCV's default borders apply, so the erosion never eats into a foreground that
touches the image edge. Then, per image type: SO keeps the trimap, STM sets every value > 128 to
128 (no foreground class), NS is 128 everywhere.

Where the official code and SPEC 1.4 differ, or need reading closely:

* "30x30 kernel": ``process_data.py`` uses 30 for DIM, HATT and AM-2K. An even size gives an
  ellipse whose anchor is at (15, 15), one pixel off the middle, so the band is not centred
  (reproduced: the same OpenCV calls). Stage 1 (``data.py``) builds its DUTS trimaps with
  ``kernel_size=10`` on the fly; that is :func:`trimap_from_alpha` with 10.
* ``util.gen_usr_with_dilate(alpha, kernel_size, img_type)`` looks like the USR function but
  ignores ``img_type`` and returns the plain trimap; it is never called. The type rules live in
  ``process_data.gen_usr_from_mask``, which this module follows.
* The official loop deletes the whole output folder first (``refresh_folder``); here files are
  (over)written one by one, atomically, and nothing else in the folder is touched.
* The official code reads masks with PIL as they are stored; here :func:`matbench.io.read_alpha8`
  reads them (validated): 8-bit values as stored, a 16-bit mask rounded to 8 bits (the official
  code would compare raw 16-bit values with 255).
"""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Callable, Mapping, Optional, Union

import numpy as np

from matbench.api import dilate_erode, files_by_stem, group_spec, InputError, load_labels, read_alpha8, write_png_atomic

from matbench_datasets.aim500 import TYPE_GROUP, TYPES

__all__ = ["DEFAULT_KERNEL_SIZE", "MASK_EXTS", "trimap_from_alpha", "make_usr", "write_usr_folder"]

#: The official kernel size for USR (``process_data.py``, all three training sets).
DEFAULT_KERNEL_SIZE = 30
#: Mask files looked for by :func:`write_usr_folder` (any case).
MASK_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
LABELS_FILE = "aim_category_type.json"


def _check_alpha(alpha_uint8: np.ndarray) -> np.ndarray:
    alpha = np.asarray(alpha_uint8)
    if alpha.dtype != np.uint8 or alpha.ndim != 2:
        raise ValueError(f"expected a uint8 HxW alpha (0..255), got {alpha.dtype} {alpha.shape}")
    return alpha


def _check_kernel(kernel_size: int) -> None:
    if isinstance(kernel_size, bool) or not isinstance(kernel_size, (int, np.integer)) or kernel_size < 1:
        raise ValueError(f"kernel_size must be a positive integer, got {kernel_size!r}")


def trimap_from_alpha(alpha_uint8: np.ndarray, kernel_size: int) -> np.ndarray:
    """The official trimap (uint8 HxW, 0/128/255) of a uint8 HxW alpha: dilate ``alpha != 0`` and
    erode ``alpha == 255`` with a ``kernel_size`` ellipse; 255 inside the erosion, 128 in the rest
    of the dilation (the core's ``dilate_erode`` rule, with the arguments checked)."""
    alpha = _check_alpha(alpha_uint8)
    _check_kernel(kernel_size)
    return dilate_erode(alpha, int(kernel_size))


def make_usr(alpha_uint8: np.ndarray, image_type: str, kernel_size: int = DEFAULT_KERNEL_SIZE) -> np.ndarray:
    """The USR (uint8 HxW) of a uint8 HxW alpha for an image of type ``'SO'`` (the trimap),
    ``'STM'`` (the trimap with 255 -> 128) or ``'NS'`` (128 everywhere)."""
    if image_type not in TYPES:
        raise ValueError(f"unknown image type {image_type!r} (expected one of {', '.join(TYPES)})")
    alpha = _check_alpha(alpha_uint8)
    if image_type == "NS":
        _check_kernel(kernel_size)  # same argument check for every type
        return np.full(alpha.shape, 128, np.uint8)
    usr = trimap_from_alpha(alpha, kernel_size)
    if image_type == "STM":
        usr[usr > 128] = 128
    return usr


def _mask_files(folder: Path) -> dict[str, Path]:
    found = files_by_stem(folder, MASK_EXTS, "mask")
    if not found:
        raise InputError(folder, f"no mask files ({', '.join(MASK_EXTS)})")
    return found


def _checked_labels(labels: Mapping[str, Mapping[str, str]], names: list[str], where: Path) -> dict[str, str]:
    missing = [n for n in names if n not in labels]
    if missing:
        shown = ", ".join(f"'{n}'" for n in missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        raise InputError(where, f"no type for {len(missing)} of {len(names)} masks: {shown}")
    types = {}
    for name in names:
        entry = labels[name]
        kind = entry.get("type") if isinstance(entry, Mapping) else None
        if kind not in TYPES:
            raise InputError(where, f"entry '{name}' has type {kind!r} (expected one of {', '.join(TYPES)})")
        types[name] = kind
    return types


def write_usr_folder(data_root: Union[str, os.PathLike],
                     labels: Optional[Mapping[str, Mapping[str, str]]] = None,
                     kernel_size: int = DEFAULT_KERNEL_SIZE, mask_dir: str = "mask", usr_dir: str = "usr",
                     labels_file: str = LABELS_FILE,
                     on_file: Optional[Callable[[str], None]] = None) -> Counter:
    """Write ``data_root/usr_dir/<stem>.png`` for every mask in ``data_root/mask_dir``; returns
    how many files were written per type.

    ``labels`` maps a stem to ``{"type": "SO|STM|NS", ...}``; without it they are read from
    ``data_root/labels_file`` (AIM-500's ``aim_category_type.json``). Every mask needs a type.
    ``on_file(stem)`` is called after each file (for progress bars)."""
    root = Path(data_root)
    if not root.is_dir():
        raise InputError(root, "data root not found")
    masks = _mask_files(root / mask_dir)
    names = list(masks)
    if labels is None:
        types = {n: e["type"] for n, e in load_labels(root / labels_file, names, [group_spec(TYPE_GROUP)]).items()}
    else:
        types = _checked_labels(labels, names, root / labels_file)
    _check_kernel(kernel_size)  # fail before writing anything
    out_dir = root / usr_dir
    written: Counter = Counter()
    for name in names:
        alpha8 = read_alpha8(masks[name])
        write_png_atomic(out_dir / f"{name}.png", make_usr(alpha8, types[name], kernel_size))
        written[types[name]] += 1
        if on_file is not None:
            on_file(name)
    return written

"""The gallery's pictures: downscaled copies of each photo, trimap, ground truth and prediction,
the error map |p − g| of every run as a heat map, and the heat map of the worst region at full size.

They are made once, where the arrays already are: ``matbench eval`` (with its report) makes each
run's pictures in its metric worker processes from the prediction, alpha and trimap they score
(:func:`pictures_in_worker`, into ``WORK/report_pictures/``); ``matbench report`` reuses them when
the files still have the content they were made from, and makes the others from the files
(:func:`render_image`, in a pool of processes). The dataset's pictures (photo, trimap, ground truth)
depend on one file each and are kept by that file's content hash in matbench's cache folder, so
a dataset's are made once for all the runs on it.

Error maps of one photo share one colour scale across runs (0 to the largest error any run shows
there), so two runs' maps of the same photo can be compared by colour; the full-size crops use
the absolute scale 0 to 1. Everything is downscaled by area averaging (halved by 2x2 means), so an
error map's total stays proportional to the SAD. Photos and heat maps are
JPEG (small), predictions JPEG of quality 92 (made for every run; PNG costs ten times as much on
a noisy matte), the dataset's trimaps and ground truths PNG (no ringing on their edges).
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import cv2
import numpy as np

from ..errors import InputError
# a sample's PICTURES_KEY asks its metric worker for pictures: {"folder", "cache", "kept"}
from ..evaluation.metric import PICTURES_KEY
from . import colormap

#: the longest side of a thumbnail at most, in pixels: the picture halved until it fits (2x2 means
#: are OpenCV's fast path, and a JPEG photo decodes at 1/2, 1/4, 1/8 of its size directly)
THUMB_SIZE = 512
#: the side of the full-size crop of each photo's worst region, in pixels
CROP_SIZE = 256
#: the worst region is searched on a grid of this step (pixels)
CROP_STEP = 8
JPEG_QUALITY = 80
#: the version of how pictures are made: part of every kept picture's identity
RECIPE = 2
#: the work dir's folder of the pictures its metric workers made
RUN_PICTURES = "report_pictures"
#: matbench's cache folder's sub-folder of dataset pictures, by content
CACHE_PICTURES = "report-pictures"


# --------------------------------------------------------------------------- primitives

def thumb_size(width: int, height: int, limit: int = THUMB_SIZE) -> tuple[int, int]:
    """(width, height) halved (rounding down) until the long side is at most ``limit``."""
    k = 0
    while max(width, height) >> k > limit:
        k += 1
    return max(1, width >> k), max(1, height >> k)


def shrink(array: np.ndarray, size: tuple[int, int], nearest: bool = False) -> np.ndarray:
    """``array`` at ``size`` (width, height) by area averaging: 2x2 means while at least twice the
    size (OpenCV's fast path), then ``INTER_AREA``; nearest for label images (trimaps)."""
    if array.shape[1::-1] == tuple(size):
        return array
    if nearest:
        return cv2.resize(array, size, interpolation=cv2.INTER_NEAREST)
    while array.shape[1] // 2 >= size[0] and array.shape[0] // 2 >= size[1]:
        h, w = array.shape[0] // 2, array.shape[1] // 2
        array = cv2.resize(array[:2 * h, :2 * w], (w, h), interpolation=cv2.INTER_AREA)
    if array.shape[1::-1] != tuple(size):
        array = cv2.resize(array, size, interpolation=cv2.INTER_AREA)
    return array


def to_8bit(alpha: np.ndarray) -> np.ndarray:
    """An alpha in [0, 1] as uint8, rounded as :func:`matbench.io.read_alpha8` rounds (an 8-bit
    file's values come back exactly)."""
    if alpha.dtype == np.uint8:
        return alpha
    return cv2.convertScaleAbs(np.asarray(alpha, np.float64), alpha=255.0)


def error_maps(err8: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The area-averaged error |p − g| (uint8, full size) at ``size`` in alpha units (float32),
    and its means over blocks of ``CROP_STEP`` pixels (the search grid of :func:`worst_window`),
    both from one pyramid of 2x2 means."""
    level = err8.astype(np.float32)
    levels = [level]
    while min(level.shape[:2]) >= 2 and len(levels) <= 3:
        h, w = level.shape[0] // 2, level.shape[1] // 2
        level = cv2.resize(level[:2 * h, :2 * w], (w, h), interpolation=cv2.INTER_AREA)
        levels.append(level)
    start = max([lv for lv in levels if lv.shape[1] >= size[0] and lv.shape[0] >= size[1]], key=lambda lv: -lv.size,
                default=levels[0])
    thumb = shrink(start, size) * np.float32(1 / 255)
    blocks = levels[3] if len(levels) > 3 and CROP_STEP == 8 else None
    return thumb, blocks


def top_of(err: np.ndarray) -> float:
    """The top of an error map's own colour scale (never below one 8-bit level)."""
    return max(float(err.max()) if err.size else 0.0, 1 / 255)


def index_of(err: np.ndarray, vmax: float) -> np.ndarray:
    """Colour-map indices 0..255 of an error map on the scale 0..``vmax``."""
    return np.clip(np.rint(err * np.float32(255 / vmax)), 0, 255).astype(np.uint8)


def rescaled(index: np.ndarray, own: float, shared: float) -> np.ndarray:
    """Indices made on the scale 0..``own`` moved to the scale 0..``shared`` (>= own)."""
    if shared <= own:
        return index
    return np.rint(index.astype(np.float32) * np.float32(own / shared)).astype(np.uint8)


def worst_window(err8: np.ndarray, blocks: np.ndarray | None = None, size: int = CROP_SIZE,
                 step: int = CROP_STEP) -> tuple[int, int, int, int]:
    """(x, y, w, h) of the ``size`` x ``size`` window (smaller only where the image is) with the
    largest summed error, its corner on a grid of ``step`` pixels (``blocks``: the error's means
    over those blocks, when already made); the first such window when several tie."""
    h, w = err8.shape[:2]
    cw, ch = min(size, w), min(size, h)
    hb, wb = h // step, w // step
    kw, kh = cw // step, ch // step
    if min(hb, wb, kw, kh) < 1:
        return 0, 0, cw, ch
    if blocks is None or blocks.shape != (hb, wb):
        blocks = cv2.resize(err8[:hb * step, :wb * step].astype(np.float32), (wb, hb), interpolation=cv2.INTER_AREA)
    total = cv2.integral(blocks, sdepth=cv2.CV_64F)
    sums = total[kh:, kw:] - total[:-kh, kw:] - total[kh:, :-kw] + total[:-kh, :-kw]
    by, bx = np.unravel_index(int(np.argmax(sums)), sums.shape)
    return min(int(bx) * step, w - cw), min(int(by) * step, h - ch), cw, ch


def heat(index: np.ndarray, lut_bgr: np.ndarray) -> np.ndarray:
    """Colour-map indices as a BGR heat map (``lut_bgr``: :func:`colormap.lut` in BGR order)."""
    return cv2.applyColorMap(np.ascontiguousarray(index), lut_bgr.reshape(256, 1, 3))


def crop_heat(err8: np.ndarray, window: Sequence[int], lut_bgr: np.ndarray) -> np.ndarray:
    """The heat map (BGR) of the error in ``window`` at full size, on the absolute scale 0..1."""
    x, y, w, h = window
    return heat(err8[y:y + h, x:x + w], lut_bgr)


def png_bytes(array: np.ndarray) -> bytes:
    # run-length deflate: as fast as zlib level 1, as small as level 6 on mattes and trimaps (and smaller on noisy ones)
    ok, data = cv2.imencode(".png", array, [cv2.IMWRITE_PNG_COMPRESSION, 1,
                                            cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE])
    return data.tobytes()


def jpeg_bytes(bgr: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    """JPEG of a BGR (or grey) image."""
    ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return data.tobytes()


#: how a prediction's thumbnail is stored: JPEG of high quality (a tenth of a PNG's time on a noisy
#: matte; the full-size crops show the original file)
PRED_EXT = "jpg"


def pred_bytes(matte: np.ndarray) -> bytes:
    return png_bytes(matte) if PRED_EXT == "png" else jpeg_bytes(matte, quality=92)


def lut_bgr() -> np.ndarray:
    return np.ascontiguousarray(colormap.lut()[:, ::-1])


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` through a temporary file and a rename: a reader (or a hard link made from an
    older version) never sees a half-written or changed file."""
    path = os.fspath(path)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def link_or_copy(src: str | os.PathLike, dst: str | os.PathLike) -> None:
    """``dst`` with the content of ``src``: a hard link where the file system allows, else a copy
    (kept pictures are only ever replaced by renames, so a link never changes under the report)."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def dataset_picture_name(sha: str, role: str, size: tuple[int, int]) -> str:
    """The file name of a dataset picture made from the file whose content hash (or
    :func:`stamp_key`) is ``sha``."""
    ext = "jpg" if role == "photo" else "png"
    return f"v{RECIPE}-{sha}-{size[0]}x{size[1]}-{role}.{ext}"


def stamp_key(path: str | os.PathLike) -> str | None:
    """A key of the file at ``path`` that changes whenever its content can have changed: a hash
    of its real path, size, modification and inode change times (no tool sets the last back; see
    :func:`matbench.content.same_content`). Photos are keyed so: they are not read to be scored,
    and hashing one costs more than its thumbnail's lookup."""
    from ..content import file_stamp

    stamp = file_stamp(path)
    if stamp[1] is None:
        return None
    return "s" + hashlib.sha256(json.dumps(stamp[:4]).encode()).hexdigest()[:40]


def cache_folder() -> Path | None:
    """Where dataset pictures are kept by content (None: no cache folder)."""
    from ..plugins import cache_dir

    base = cache_dir()
    return None if base is None else base / CACHE_PICTURES


def photo_thumb(path: str, size: tuple[int, int]) -> np.ndarray:
    """The photo (BGR) at ``size``: a JPEG is decoded at 1/2, 1/4 or 1/8 scale when that still
    covers the thumbnail (decoding is most of a photo's cost). Like the run, EXIF orientation is
    applied (cv2 does so by default)."""
    from ..io import image_size, read_rgb

    try:
        stored = image_size(path)
    except InputError:
        stored = size
    fits = [f for f in (1, 2, 4, 8) if max(stored) // f >= max(size) and min(stored) // f >= min(size)]
    flags = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4,
             8: cv2.IMREAD_REDUCED_COLOR_8}[max(fits or [1])]
    bgr = cv2.imread(path, flags)
    if bgr is None:                       # a format cv2 does not read: the checked reader
        bgr = np.ascontiguousarray(read_rgb(path)[:, :, ::-1])
    if bgr.shape[1::-1] != tuple(size):
        # (a photo whose size differs from its alpha's is shown at the alpha's thumbnail size)
        bgr = shrink(bgr, size) if bgr.shape[1] >= size[0] and bgr.shape[0] >= size[1] else \
            cv2.resize(bgr, size, interpolation=cv2.INTER_LINEAR)
    return bgr


def _dataset_picture(role: str, source: Callable[[], np.ndarray], size: tuple[int, int]) -> bytes:
    if role == "photo":
        return jpeg_bytes(source())
    return png_bytes(shrink(source(), size, nearest=role == "trimap"))


def keep_dataset_picture(store: Path, sha: str, role: str, size: tuple[int, int],
                         source: Callable[[], np.ndarray]) -> Path:
    """The dataset picture of content ``sha`` in ``store``, made from ``source()`` (the photo's
    thumbnail, or the full-size alpha or trimap) unless already there."""
    path = store / dataset_picture_name(sha, role, size)
    if not path.is_file():
        store.mkdir(parents=True, exist_ok=True)
        write_atomic(path, _dataset_picture(role, source, size))
    return path


# --------------------------------------------------------------------------- in the metric workers

def run_key(prediction_sha: str, alpha_sha: str) -> str:
    """The name prefix of a run's pictures of one image: they depend on the content of its
    prediction and ground truth only, so a rerun on the same files finds them made."""
    return f"v{RECIPE}-{prediction_sha[:24]}-{alpha_sha[:24]}"


def picture_config(work_dir: Path, kept: Path | None) -> dict:
    """What a metric worker needs to make a run's pictures (``PICTURES_KEY`` of each sample):
    where they go, the cache of dataset pictures, and the folder of kept predictions (a model's
    run: pictures show the 8-bit file kept, as a report from the files would)."""
    cache = cache_folder()
    return {"folder": str(Path(work_dir) / RUN_PICTURES), "cache": str(cache) if cache else None,
            "kept": str(kept) if kept is not None else None}


def pictures_in_worker(sample: Mapping, pred: np.ndarray, alpha: np.ndarray, trimap: np.ndarray,
                       read: Mapping[str, list]) -> None:
    """Make one image's pictures of this run from the arrays just scored (``read``: the content
    stamps of the files they were read from), unless pictures of the same contents are there.
    A failure costs the pictures, never the row: the report then makes them from the files."""
    try:
        _pictures_in_worker(sample, pred, alpha, trimap, read)
    except Exception:  # noqa: BLE001 - pictures are optional; the report remakes what is missing
        pass


def _pictures_in_worker(sample: Mapping, pred: np.ndarray, alpha: np.ndarray, trimap: np.ndarray,
                        read: Mapping[str, list]) -> None:
    from ..content import file_sha256
    from ..io import read_alpha8

    config = sample[PICTURES_KEY]
    folder = Path(config["folder"])
    store = Path(config["cache"]) if config.get("cache") else folder
    name = str(sample["name"])

    def sha(role: str, path: str | None) -> str | None:
        given = read.get(role)
        if given and len(given) == 5 and given[4]:
            return given[4]
        return file_sha256(path) if path else None

    if config.get("kept"):                     # a model's run: the 8-bit file the report reads
        kept = os.path.join(config["kept"], f"{name}.png")
        pred_sha, pred = file_sha256(kept), None
    else:
        kept, pred_sha = None, sha("prediction", sample.get("pred_path"))
    alpha_sha = sha("alpha", sample.get("alpha_path"))
    if not pred_sha or not alpha_sha:
        return
    key = run_key(pred_sha, alpha_sha)
    h, w = np.shape(alpha)[:2]
    size = thumb_size(w, h)
    photo, trimap_path = sample.get("image_path"), sample.get("trimap_path")
    dataset = [(role, digest, source) for role, digest, source in (
        ("photo", stamp_key(photo) if photo else None, lambda: photo_thumb(photo, size)),
        ("alpha", alpha_sha, lambda: to_8bit(alpha)),
        ("trimap", sha("trimap", trimap_path) if trimap_path else None, lambda: np.asarray(trimap, np.uint8)))
        if digest and not (store / dataset_picture_name(digest, role, size)).is_file()]
    if not dataset and (folder / f"{key}.json").is_file():
        return                                 # made for these contents already (a rerun)
    cv2.setNumThreads(1)
    for role, digest, source in dataset:
        try:
            keep_dataset_picture(store, digest, role, size, source)
        except OSError:
            pass                               # a cache that cannot be written: the report makes them
    if (folder / f"{key}.json").is_file():
        return
    pred8 = read_alpha8(kept) if kept else to_8bit(pred)
    alpha8 = to_8bit(alpha)
    if pred8.shape != alpha8.shape:
        return
    folder.mkdir(parents=True, exist_ok=True)
    record = write_run_pictures(folder, key, pred8, alpha8, size)
    # the record last: its presence says the pictures are complete
    record.update(recipe=RECIPE, prediction=pred_sha, alpha=alpha_sha, size=[w, h], thumb=list(size))
    write_atomic(folder / f"{key}.json", json.dumps(record).encode())


def write_run_pictures(folder: Path, key: str, pred8: np.ndarray, alpha8: np.ndarray,
                       size: tuple[int, int]) -> dict:
    """A run's pictures of one image on its own scales: the prediction's thumbnail, the error
    map (colour-map indices on 0..its largest value, and their heat map) and the heat map of its
    worst window at full size; returns ``error_max`` and ``window``."""
    lut = lut_bgr()
    err8 = cv2.absdiff(pred8, alpha8)
    err, blocks = error_maps(err8, size)
    own = top_of(err)
    index = index_of(err, own)
    window = worst_window(err8, blocks)
    write_atomic(folder / f"{key}-pred.{PRED_EXT}", pred_bytes(shrink(pred8, size)))
    # the indices for a report that puts this map on a shared scale (a grey JPEG: a level or two off)
    write_atomic(folder / f"{key}-error-index.jpg", jpeg_bytes(index, quality=95))
    write_atomic(folder / f"{key}-error.jpg", jpeg_bytes(heat(index, lut)))
    write_atomic(folder / f"{key}-crop.jpg", jpeg_bytes(crop_heat(err8, window, lut)))
    return {"error_max": own, "window": list(window)}


def kept_pictures(folder: str | os.PathLike, prediction_sha: str, alpha_sha: str) -> dict | None:
    """The record of a run's pictures of the prediction and ground truth with these contents,
    when its metric workers made them (None otherwise, or when the record is not sound)."""
    path = Path(folder) / f"{run_key(prediction_sha, alpha_sha)}.json"
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    ok = (isinstance(record, dict) and record.get("recipe") == RECIPE and record.get("prediction") == prediction_sha
          and record.get("alpha") == alpha_sha and _ints(record.get("size"), 2) and _ints(record.get("window"), 4)
          and isinstance(record.get("error_max"), (int, float)) and 0 < record["error_max"] <= 1)
    if ok:
        (w, h), (x, y, cw, ch) = record["size"], record["window"]
        ok = 0 < cw and 0 < ch and x + cw <= w and y + ch <= h
    return record if ok else None


#: the file names of a run's kept pictures: ``<run key>-<what>.<ext>`` and ``<run key>.json``
_RUN_PICTURE = re.compile(r"^(v\d+-[0-9a-f]{24}-[0-9a-f]{24})(-[a-z-]+\.(?:png|jpg)|\.json)$")


def prune_run_pictures(folder: str | os.PathLike, keep: set[str]) -> int:
    """Remove a run's kept pictures of contents it no longer scores (run keys not in ``keep``), so
    that a work dir evaluated again and again with new predictions does not pile them up;
    returns how many files went."""
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        match = _RUN_PICTURE.match(entry.name)
        if match and match.group(1) not in keep:
            try:
                os.unlink(entry.path)
                removed += 1
            except OSError:
                pass
    return removed


def _ints(value: object, n: int) -> bool:
    return isinstance(value, list) and len(value) == n and all(isinstance(v, int) and v >= 0 for v in value)


# --------------------------------------------------------------------------- in the report

@dataclass
class RunSide:
    """One run's side of one photo: the prediction file, and the pictures its metric workers made
    of that file's content (``kept``: their record, :func:`kept_pictures`; ``folder``: where)."""

    prediction: str
    kept: dict | None = None
    folder: str | None = None
    key: str | None = None          # the run key of the prediction's and ground truth's contents


@dataclass
class ImageTask:
    """One photo of the gallery: its files, each run's side, and where its pictures go."""

    stem: str                       # file name prefix in the pictures folder
    folder: str
    photo: str | None
    alpha: str
    trimap: str | None
    runs: list
    #: role -> content hash of the file (photo, alpha, trimap) where known; else hashed here
    shas: dict = field(default_factory=dict)
    #: folders to look for kept dataset pictures in, and the one to keep new ones in
    stores: list = field(default_factory=list)
    cache: str | None = None
    unknown_only: bool = False

    @property
    def reusable(self) -> bool:
        """Whether every picture can be taken from kept ones (nothing to decode, probably)."""
        return not self.unknown_only and all(side.kept for side in self.runs)


def _entry(name: str, size: tuple[int, int]) -> dict:
    return {"file": name, "width": size[0], "height": size[1]}


def render_image(task: ImageTask) -> dict:
    """Write the pictures of one photo; returns their file names and sizes, the original size, the
    worst window (the first run's) and the top of the shared error scale (``vmax``, alpha units)."""
    from ..content import file_sha256
    from ..io import image_size, read_alpha8, read_trimap

    cv2.setNumThreads(1)                  # the pool's processes are the parallelism
    lut = lut_bgr()
    out_dir = Path(task.folder)
    arrays: dict[str, np.ndarray] = {}

    def alpha8() -> np.ndarray:
        if "alpha" not in arrays:
            arrays["alpha"] = read_alpha8(task.alpha)
        return arrays["alpha"]

    def trimap() -> np.ndarray:
        if "trimap" not in arrays:
            arrays["trimap"] = read_trimap(task.trimap)
        return arrays["trimap"]

    reuse = not task.unknown_only
    # a kept record holds for the alpha's content, so its size is the alpha's
    kept_size = next((side.kept["size"] for side in task.runs if side.kept), None)
    w, h = kept_size if kept_size else image_size(task.alpha)[::-1]
    size = thumb_size(w, h)
    out: dict[str, Any] = {"width": w, "height": h}

    # the dataset's pictures: kept by content, made here otherwise (and kept for the next time)
    for role, path, source, name in (
            ("photo", task.photo, lambda: photo_thumb(task.photo, size), f"{task.stem}-photo.jpg"),
            ("alpha", task.alpha, alpha8, f"{task.stem}-gt.png"),
            ("trimap", task.trimap, trimap, f"{task.stem}-trimap.png")):
        if not path:
            out[role] = None
            continue
        sha = stamp_key(path) if role == "photo" else task.shas.get(role) or file_sha256(path)
        file = dataset_picture_name(sha, role, size)
        found = next((Path(s) / file for s in task.stores if (Path(s) / file).is_file()), None)
        if found is not None:
            link_or_copy(found, out_dir / name)
        else:
            data = _dataset_picture(role, source, size)
            write_atomic(out_dir / name, data)
            if task.cache:
                try:
                    Path(task.cache).mkdir(parents=True, exist_ok=True)
                    write_atomic(Path(task.cache) / file, data)
                except OSError:
                    pass                    # a cache that cannot be written costs time, not the report
        out[role] = _entry(name, size)

    # each run's prediction and error map on its own scale: kept ones, or made from the files
    sides = []
    for k, side in enumerate(task.runs, 1):
        pred_name = f"{task.stem}-r{k}-pred.{PRED_EXT}"
        if side.kept and reuse:
            kept = Path(side.folder) / run_key(side.kept["prediction"], side.kept["alpha"])
            link_or_copy(f"{kept}-pred.{PRED_EXT}", out_dir / pred_name)
            sides.append({"index": None, "own": float(side.kept["error_max"]), "kept": kept,
                          "window": tuple(side.kept["window"]), "err8": None})
            continue
        pred8 = read_alpha8(side.prediction)
        if pred8.shape != alpha8().shape:
            raise InputError(side.prediction, f"prediction is {pred8.shape[1]}x{pred8.shape[0]}, "
                                              f"the ground truth {w}x{h}")
        write_atomic(out_dir / pred_name, pred_bytes(shrink(pred8, size)))
        err8 = cv2.absdiff(pred8, alpha8())
        if task.unknown_only and task.trimap:
            err8[trimap() != 128] = 0
        err, blocks = error_maps(err8, size)
        own = top_of(err)
        sides.append({"index": index_of(err, own), "own": own, "kept": None,
                      "window": worst_window(err8, blocks), "err8": err8})

    # one colour scale for the photo's error maps; the first run's worst window for every crop
    window = sides[0]["window"]
    vmax = max(s["own"] for s in sides)
    out["runs"] = []
    for k, (side, s) in enumerate(zip(task.runs, sides), 1):
        heat_name, crop_name = f"{task.stem}-r{k}-error.jpg", f"{task.stem}-r{k}-crop.jpg"
        if s["kept"] is not None and s["own"] >= vmax:
            link_or_copy(f"{s['kept']}-error.jpg", out_dir / heat_name)
        else:
            index = s["index"]
            if index is None:              # kept indices, on the run's own scale
                index = cv2.imread(f"{s['kept']}-error-index.jpg", cv2.IMREAD_GRAYSCALE)
                if index is None or index.shape[1::-1] != size:
                    raise InputError(f"{s['kept']}-error-index.jpg", "a damaged picture of the run (remove "
                                                                     f"{RUN_PICTURES}/ to have it made again)")
            write_atomic(out_dir / heat_name, jpeg_bytes(heat(rescaled(index, s["own"], vmax), lut)))
        if s["kept"] is not None and tuple(s["window"]) == tuple(window):
            link_or_copy(f"{s['kept']}-crop.jpg", out_dir / crop_name)
        else:
            err8 = s["err8"]
            if err8 is None:               # kept pictures, but of another window than the first run's
                err8 = cv2.absdiff(read_alpha8(side.prediction), alpha8())
            write_atomic(out_dir / crop_name, jpeg_bytes(crop_heat(err8, window, lut)))
        out["runs"].append({"pred": _entry(f"{task.stem}-r{k}-pred.{PRED_EXT}", size), "error": _entry(heat_name, size),
                            "crop": _entry(crop_name, (window[2], window[3])), "error_max": s["own"]})
    out["vmax"] = vmax
    out["window"] = list(window)
    return out


def _pool(processes: int):
    from ..evaluation.workers import worker_init

    # fork is cheap and inherits the imports; a process that uses CUDA cannot fork safely
    torch = sys.modules.get("torch")
    cuda = torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized()
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() and not cuda else "spawn"
    return multiprocessing.get_context(method).Pool(processes, initializer=worker_init, initargs=(os.getpid(),))


def default_processes(tasks: Sequence[ImageTask]) -> int:
    """Processes for ``tasks``: one per CPU this process may use when at least 8 photos need
    decoding (0: here; linking kept pictures is not worth starting processes)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    heavy = sum(1 for t in tasks if not t.reusable)
    return 0 if heavy < 8 or cpus < 2 else min(cpus, 16)


def render_all(tasks: Sequence[ImageTask], processes: int | None = None,
               on_done: Callable[[], None] | None = None) -> list[dict]:
    """:func:`render_image` of every task, in order, in ``processes`` processes (0: here)."""
    processes = default_processes(tasks) if processes is None else processes
    results: list[dict] = []

    def collect(items: Iterable[dict]) -> list[dict]:
        for item in items:
            results.append(item)
            if on_done:
                on_done()
        return results

    if processes == 0:
        return collect(map(render_image, tasks))
    with _pool(processes) as pool:
        return collect(pool.imap(render_image, tasks, chunksize=2))

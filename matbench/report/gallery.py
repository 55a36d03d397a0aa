"""The gallery's pictures: downscaled copies of each photo, trimap, ground truth and prediction,
and the error map |p − g| of every run as a heat map, made in a pool of processes.

Error maps of one photo share one colour scale across runs (0 to the largest error any run
shows there), so two runs' maps of the same photo can be compared by colour. Everything is
downscaled by area averaging, so an error map's total stays proportional to the SAD.
Photos and heat maps are JPEG (small); mattes and trimaps PNG (no ringing on their edges).
"""
from __future__ import annotations

import multiprocessing
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

import cv2
import numpy as np
from PIL import Image

from ..errors import InputError
from ..io import read_alpha8, read_rgb, read_trimap

#: the longest side of a thumbnail, in pixels
THUMB_SIZE = 384
#: the heat map of error maps (perceptually uniform, dark = no error)
COLORMAP = "inferno"
JPEG_QUALITY = 80


@dataclass
class ThumbnailTask:
    """One photo: its input files, each run's prediction, and where its pictures go."""

    stem: str                       # file name prefix inside the images folder
    photo: str
    alpha: str
    trimap: str | None
    predictions: list
    folder: str
    lut: bytes                      # 256 RGB entries of the heat map


def colormap_lut(name: str = COLORMAP) -> np.ndarray:
    """The colour map as 256×3 uint8 (index 0: no error)."""
    import matplotlib

    return np.round(matplotlib.colormaps[name](np.linspace(0, 1, 256))[:, :3] * 255).astype(np.uint8)


def thumb_size(width: int, height: int, limit: int = THUMB_SIZE) -> tuple[int, int]:
    """(width, height) with the long side at most ``limit``, never enlarged."""
    scale = min(1.0, limit / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _save(img: Image.Image, folder: str, name: str) -> dict:
    path = os.path.join(folder, name)
    if name.endswith(".jpg"):
        img.save(path, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    else:
        img.save(path, format="PNG")
    return {"file": name, "width": img.width, "height": img.height}


def _shrink(array: np.ndarray, size: tuple[int, int], nearest: bool = False) -> np.ndarray:
    """``array`` at ``size`` (width, height): area averaging (a thumbnail's pixel is the mean of
    the pixels it covers), or nearest for label images."""
    if array.shape[1::-1] == size:
        return array
    return cv2.resize(array, size, interpolation=cv2.INTER_NEAREST if nearest else cv2.INTER_AREA)


def _photo(path: str, size: tuple[int, int]) -> np.ndarray:
    """The photo as RGB at about ``size``: a JPEG is decoded at 1/2, 1/4 or 1/8 scale when that
    still covers the thumbnail (most of the time a report spends is decoding). Like the run,
    EXIF orientation is applied (cv2 does so by default)."""
    with Image.open(path) as img:
        width = max(img.size)
    factor = max([f for f in (1, 2, 4, 8) if width // f >= max(size)] or [1])
    flags = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4,
             8: cv2.IMREAD_REDUCED_COLOR_8}[factor]
    bgr = cv2.imread(path, flags)
    if bgr is None:                       # a format cv2 does not read: the checked reader
        return read_rgb(path)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def render_image(task: ThumbnailTask) -> dict:
    """Write the pictures of one photo; returns their file names and sizes, the original size
    and the top of the shared error scale (``vmax``, in alpha units)."""
    cv2.setNumThreads(1)                  # the pool's processes are the parallelism
    alpha8 = read_alpha8(task.alpha)
    h, w = alpha8.shape
    size = thumb_size(w, h)
    out = {"width": w, "height": h,
           "photo": _save(Image.fromarray(_shrink(_photo(task.photo, size), size)), task.folder,
                          f"{task.stem}-photo.jpg"),
           "alpha": _save(Image.fromarray(_shrink(alpha8, size)), task.folder, f"{task.stem}-gt.png"),
           "trimap": None}
    if task.trimap:
        out["trimap"] = _save(Image.fromarray(_shrink(read_trimap(task.trimap), size, nearest=True)),
                              task.folder, f"{task.stem}-trimap.png")
    errors, preds = [], []
    for k, path in enumerate(task.predictions):
        # 8 bits are what a picture shows (a 16-bit prediction is rounded to them)
        pred = read_alpha8(path)
        if pred.shape != alpha8.shape:
            raise InputError(path, f"prediction is {pred.shape[1]}x{pred.shape[0]}, the ground truth {w}x{h}")
        preds.append(_save(Image.fromarray(_shrink(pred, size)), task.folder, f"{task.stem}-r{k + 1}-pred.png"))
        errors.append(_shrink(cv2.absdiff(pred, alpha8).astype(np.float32), size) / 255)
    vmax = max([float(e.max()) for e in errors] + [1 / 255])
    lut = np.frombuffer(task.lut, np.uint8).reshape(256, 3)
    out["runs"] = []
    for k, (pred, err) in enumerate(zip(preds, errors)):
        index = np.clip(np.round(err / vmax * 255), 0, 255).astype(np.uint8)
        heat = _save(Image.fromarray(lut[index]), task.folder, f"{task.stem}-r{k + 1}-error.jpg")
        out["runs"].append({"pred": pred, "error": heat, "error_max": float(err.max())})
    out["vmax"] = vmax
    return out


def _pool(processes: int):
    from ..evaluation.workers import worker_init

    # fork is cheap and inherits the imports; a process that uses CUDA cannot fork safely
    torch = sys.modules.get("torch")
    cuda = torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized()
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() and not cuda else "spawn"
    return multiprocessing.get_context(method).Pool(processes, initializer=worker_init, initargs=(os.getpid(),))


def default_processes(count: int) -> int:
    """Processes for ``count`` photos: one per CPU this process may use (0: none, for a few photos)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return 0 if count < 8 or cpus < 2 else min(cpus, 16)


def render_all(tasks: Sequence[ThumbnailTask], processes: int | None = None,
               on_done: Callable[[], None] | None = None) -> list[dict]:
    """:func:`render_image` of every task, in order, in ``processes`` processes (0: here)."""
    processes = default_processes(len(tasks)) if processes is None else processes
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


def make_tasks(images: Sequence, predictions: Sequence[Sequence[Path]], folder: Path) -> list[ThumbnailTask]:
    """One task per image (``images``: :class:`~matbench.report.runs.ImageFiles`; ``predictions``:
    per image, each run's file)."""
    lut = colormap_lut().tobytes()
    return [ThumbnailTask(stem=f"{i + 1:04d}", photo=img.photo, alpha=img.alpha, trimap=img.trimap,
                          predictions=[str(p) for p in preds], folder=str(folder), lut=lut)
            for i, (img, preds) in enumerate(zip(images, predictions))]

"""What the tools/bench_*.py scripts share: synthetic mattes, a dataset folder writer, timing of
commands and functions, peak memory, and their JSON output."""
from __future__ import annotations

import concurrent.futures
import json
import multiprocessing as mp
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import cv2
import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter

PAGE = os.sysconf("SC_PAGE_SIZE")
MIB = 2 ** 20


# --- inputs ----------------------------------------------------------------------------------

def synthetic_image(seed: int, h: int = 1200, w: int = 1500) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A realistic-looking (pred, alpha, trimap): soft-edged object with hair-like detail."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    shape = gaussian_filter(rng.standard_normal((h, w)), 80, mode="wrap")
    body = np.clip((shape / shape.std() + 0.3) * 8, -1, 1)      # sharp-ish boundary
    detail = gaussian_filter(rng.standard_normal((h, w)), 1.5)
    edge = np.exp(-(body ** 2) * 4)                              # soft region along the boundary
    alpha = np.clip(0.5 + 0.5 * body + edge * 2.5 * detail / detail.std() * 0.2, 0, 1)
    alpha = np.round(alpha * 255) / 255
    pred = gaussian_filter(alpha, 2.0) + rng.normal(0, 0.02, (h, w)) * edge
    for _ in range(6):                                           # a few wrong blobs
        cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(20, 80)
        pred += 0.5 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r)) * rng.choice([-1, 1])
    pred = np.round(np.clip(pred, 0, 1) * 255) / 255
    return pred, alpha, trimap_of(alpha)


def trimap_of(alpha: np.ndarray) -> np.ndarray:
    """0 where the alpha is 0, 255 where it is 1, 128 elsewhere."""
    trimap = np.full(alpha.shape, 128, np.uint8)
    trimap[alpha == 0] = 0
    trimap[alpha == 1] = 255
    return trimap


def scaled_synthetic_image(seed: int, h: int, w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``synthetic_image`` made at 1200 x 1500 and resized (bilinear, requantised to 8 bits) to
    h x w: large sizes in seconds instead of minutes."""
    def scale(a: np.ndarray) -> np.ndarray:
        return np.round(np.clip(cv2.resize(a, (w, h), interpolation=cv2.INTER_LINEAR), 0, 1) * 255) / 255

    pred, alpha, _ = synthetic_image(seed)
    alpha = scale(alpha)
    return scale(pred), alpha, trimap_of(alpha)


def composite_photo(alpha: np.ndarray, seed: int) -> np.ndarray:
    """A photo-like uint8 RGB image of the matte: two smooth colour fields blended by it, noise."""
    rng = np.random.default_rng(seed)
    h, w = alpha.shape

    def field() -> np.ndarray:
        coarse = rng.uniform(0, 255, (max(h // 100, 2), max(w // 100, 2), 3)).astype(np.float32)
        return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)

    a = alpha[..., None].astype(np.float32)
    img = a * field() + (1 - a) * field() + rng.normal(0, 4, (h, w, 3)).astype(np.float32)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def write_case(data_root: Path, predictions: Path, name: str, case: tuple[np.ndarray, np.ndarray, np.ndarray],
               seed: int) -> None:
    """One image of a ``folder`` dataset (image/<name>.jpg, alpha/ and trimap/<name>.png) and its
    8-bit prediction predictions/<name>.png."""
    pred, alpha, trimap = case
    for sub in ("image", "alpha", "trimap"):
        (data_root / sub).mkdir(parents=True, exist_ok=True)
    predictions.mkdir(parents=True, exist_ok=True)
    Image.fromarray(composite_photo(alpha, seed)).save(data_root / "image" / f"{name}.jpg", quality=90)
    Image.fromarray(np.round(alpha * 255).astype(np.uint8)).save(data_root / "alpha" / f"{name}.png")
    Image.fromarray(trimap).save(data_root / "trimap" / f"{name}.png")
    Image.fromarray(np.round(pred * 255).astype(np.uint8)).save(predictions / f"{name}.png")


def copy_case(src: tuple[Path, Path], dst: tuple[Path, Path], name: str, new_name: str) -> None:
    """Image ``name`` of one (data root, predictions) pair as ``new_name`` in another: hard links
    where the file system allows, copies elsewhere."""
    pairs = [(src[0] / sub / f"{name}{ext}", dst[0] / sub / f"{new_name}{ext}")
             for sub, ext in (("image", ".jpg"), ("alpha", ".png"), ("trimap", ".png"))]
    pairs.append((src[1] / f"{name}.png", dst[1] / f"{new_name}.png"))
    for a, b in pairs:
        b.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(a, b)
        except OSError:
            shutil.copyfile(a, b)


# --- commands, timing, memory ----------------------------------------------------------------

def matbench_command() -> list[str]:
    """The ``matbench`` command as a user runs it (the installed script, else this interpreter)."""
    script = shutil.which("matbench")
    return [script] if script else [sys.executable, "-c", "from matbench.cli import main; main()"]


def run(cmd: Sequence[str], log: Path | None = None, **kwargs: Any) -> float:
    """Run a command to completion, its output captured (and written to ``log``); its wall time
    in seconds. A failure is an error that shows the end of the output."""
    t0 = time.perf_counter()
    res = subprocess.run(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)
    seconds = time.perf_counter() - t0
    if log is not None:
        log.write_text(res.stdout)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({res.returncode}):\n{res.stdout[-3000:]}")
    return seconds


def best_of(repeat: int, fn: Callable[[], Any]) -> float:
    """The smallest wall time in seconds of ``repeat`` calls of ``fn``."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def peak_rss_mib() -> float:
    """This process's peak resident memory so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def in_fresh_process(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` in a new interpreter (spawned, so its peak memory is its own); its result."""
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


def _process_table() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, resident bytes) of every process that can be read now."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                rss = int(Path(f"/proc/{entry}/statm").read_text().split()[1]) * PAGE
            except (OSError, ValueError, IndexError):
                continue
            table[int(entry)] = (int(stat.rsplit(")", 1)[1].split()[1]), rss)
    return table


def _tree_rss(root: int) -> tuple[int, int]:
    """(sum, largest) of the resident bytes of ``root`` and all its descendants."""
    table = _process_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    total = largest = 0
    stack = [root]
    while stack:
        pid = stack.pop()
        rss = table.get(pid, (0, 0))[1]
        total, largest = total + rss, max(largest, rss)
        stack += children.get(pid, [])
    return total, largest


def run_with_tree_memory(cmd: Sequence[str], interval: float = 0.1, **kwargs: Any) -> dict[str, float]:
    """Run a command; its wall time and the peak resident memory of its process tree, sampled
    every ``interval`` seconds from /proc: the largest sum over the processes (a page mapped by
    several counted in each) and the largest single process."""
    peak = {"tree": 0, "largest": 0}
    t0 = time.perf_counter()
    proc = subprocess.Popen(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)

    def sample() -> None:
        while proc.poll() is None:
            total, largest = _tree_rss(proc.pid)
            peak["tree"], peak["largest"] = max(peak["tree"], total), max(peak["largest"], largest)
            time.sleep(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = proc.communicate()
    seconds = time.perf_counter() - t0
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{output[-3000:]}")
    return {"seconds": seconds, "peak_tree_mib": peak["tree"] / MIB, "peak_process_mib": peak["largest"] / MIB}


def write_json(path: Path | None, data: dict) -> None:
    """``data`` as indented JSON at ``path`` (nothing when None)."""
    if path is not None:
        path.write_text(json.dumps(data, indent=1) + "\n")

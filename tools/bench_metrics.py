"""Seconds per image of the "aim" metrics: fast path, the plain port (reference.py) and, when
AIM_REF names the official repository, the official evaluate.py functions (via tools/official).

    python tools/bench_metrics.py [--images 3] [--repeat 3] [--json FILE]
    AIM_REF=/path/to/AIM python tools/bench_metrics.py
    # AIM_REF: a checkout of github.com/JizhiziLi/AIM

Inputs: 1200x1500 synthetic alphas (smooth field with soft edges, solid fg / bg) and predictions
with errors (blur, noise, a few wrong blobs, 8-bit); and, when present, the alphamatting-lowres
photos with a seeded synthetic prediction. Numba compile time is excluded (warm-up first). The
last table is throughput with 2 processes over the images (as the evaluation loop's workers).
``--json`` writes the same numbers.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time
from pathlib import Path

import numpy as np

from benchlib import synthetic_image, write_json
from matbench_metrics.aim import conn, grad, reference, sad_mse_mad_group
from matbench_metrics.aim.golden_inputs import PHOTO_DIR, make_case, photo_cases
from matbench_metrics.aim.suite import aim_metrics
from official import module, official_metrics


def _official():
    """The official evaluate module when AIM_REF is set, else None."""
    return module("evaluate") if os.environ.get("AIM_REF") else None


def suites(ev):
    """name -> {group: fn(pred, alpha, trimap)}"""
    out = {
        "fast": {"sad-group": sad_mse_mad_group, "grad": lambda p, g, t: grad(p, g),
                 "conn": lambda p, g, t: conn(p, g)},
        "reference": {"sad-group": reference.sad_mse_mad, "grad": lambda p, g, t: reference.grad(p, g),
                      "conn": lambda p, g, t: reference.conn(p, g)},
    }
    if ev is not None:
        def sad_group(p, g, t):
            ev.calculate_sad_mse_mad(p, g, t)
            ev.calculate_sad_mse_mad_whole_img(p, g)
            ev.calculate_sad_fgbg(p, g, t)
        out["official"] = {"sad-group": sad_group,
                           "grad": lambda p, g, t: ev.compute_gradient_whole_image(p, g),
                           "conn": lambda p, g, t: ev.compute_connectivity_loss_whole_image(p, g)}
    return out


def time_suites(images, repeat: int, ev) -> dict[str, dict[str, float]]:
    res = {}
    for name, groups in suites(ev).items():
        res[name] = {}
        for group, fn in groups.items():
            best = []
            for p, g, t in images:
                fn(p, g, t)                                      # warm-up (numba compile, caches)
                ts = []
                for _ in range(repeat if name != "official" else 1):
                    t0 = time.perf_counter()
                    fn(p, g, t)
                    ts.append(time.perf_counter() - t0)
                best.append(min(ts))
            res[name][group] = float(np.mean(best))
        res[name]["total"] = sum(res[name].values())
    return res


def report(title: str, res) -> None:
    groups = ("sad-group", "grad", "conn", "total")
    print(f"\n{title} — seconds per image (min of repeats, mean over images)")
    print(f"{'':12s}" + "".join(f"{g:>12s}" for g in groups))
    for name, r in res.items():
        print(f"{name:12s}" + "".join(f"{r[g]:12.4f}" for g in groups))
    for base in ("official", "reference"):
        if base in res:
            print(f"{base + '/fast':12s}" + "".join(f"{res[base][g] / res['fast'][g]:11.1f}x" for g in groups))


_IMAGES = None


def _init(images):
    global _IMAGES
    _IMAGES = images


def _score(i):
    return aim_metrics(*_IMAGES[i])


def _official_score(i):
    return official_metrics(*_IMAGES[i])


def throughput(images, ev, rounds: int = 4) -> dict[str, float]:
    """Images per second of the whole suite with 2 worker processes, by implementation."""
    print("\nthroughput, 2 processes (fork), whole 10-value suite")
    jobs = list(range(len(images))) * rounds
    out = {}
    for label, fn, n in (("fast", _score, len(jobs)), ("official", _official_score, 2 * len(images) // 2)):
        if label == "official" and ev is None:
            continue
        with mp.get_context("fork").Pool(2, initializer=_init, initargs=(images,)) as pool:
            pool.map(fn, range(min(2, len(images))))                 # warm-up in each worker
            t0 = time.perf_counter()
            pool.map(fn, jobs[:n], chunksize=1)
            dt = time.perf_counter() - t0
        print(f"{label:10s} {n / dt:8.2f} images/s  ({dt / n:.4f} s/image)")
        out[label] = n / dt
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    args = ap.parse_args()
    ev = _official()
    synth = [synthetic_image(s) for s in range(args.images)]
    out = {"images": len(synth), "size": list(synth[0][0].shape), "synthetic": time_suites(synth, args.repeat, ev)}
    report(f"{len(synth)} synthetic 1200x1500 images", out["synthetic"])
    if PHOTO_DIR.is_dir():
        photos = [make_case(r) for r in photo_cases()]
        out["photos"] = time_suites(photos, args.repeat, ev)
        report(f"{len(photos)} alphamatting-lowres photos ({photos[0][0].shape[0]}x{photos[0][0].shape[1]}..)",
               out["photos"])
    out["images_per_s_2_processes"] = throughput(synth, ev)
    write_json(args.json, out)


if __name__ == "__main__":
    main()

"""Inference speed and peak memory of matbench's strategies against the official core/test.py path.

    python tools/bench_inference.py [--sizes 1200x1500 2160x3840] [--device cpu|cuda] [--repeat 2]
                                    [--json FILE]
    AIM_REF=/path/to/AIM python tools/bench_inference.py   # + official
    # AIM_REF: a checkout of github.com/JizhiziLi/AIM

AimNet with deterministic weights (timings do not depend on the values). For each image size and
strategy (resize, hybrid, tiled) prints seconds per image, images/s and peak memory (CUDA:
torch.cuda.max_memory_allocated; CPU: the process's peak RSS so far). When AIM_REF points at the
official repository, the official ``inference_img`` (CPU, scikit-image 0.14 resizing) and the
official ``evaluate.py`` metrics are timed on the same machine, and the ratio of a whole evaluation
per image (inference + metrics) is printed: matbench overlaps metrics with the next image's
inference (metric pool), so its per-image cost is max(inference, metrics / workers). ``--json``
writes the same numbers.
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch

from benchlib import peak_rss_mib, write_json
from matbench.deterministic_weights import fill_deterministic
from matbench.networks import image_tensor
from matbench.registry import STRATEGIES, build
from matbench_aim.models import AimNet
from matbench_aim.testing import scene
from matbench_metrics.aim import aim_metrics
from official import build_aimnet, official_metrics, predict


def _time(fn, repeat: int, device: str) -> tuple[float, float]:
    fn()                                                          # warm-up (cudnn, allocator)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    # CPU: the process's peak resident memory so far (it only grows: run one size per call to compare)
    mem = torch.cuda.max_memory_allocated() / 2**20 if device.startswith("cuda") else peak_rss_mib()
    return min(times), mem


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["1200x1500"])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--strategies", nargs="+", default=["resize", "hybrid", "tiled"])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--amp", choices=["fp16", "bf16"], default=None)
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    args = ap.parse_args()
    net = fill_deterministic(AimNet()).eval().to(args.device)
    off_net = fill_deterministic(build_aimnet()).eval() if os.environ.get("AIM_REF") else None
    rows: list[dict] = []
    print(f"device {args.device} ({torch.cuda.get_device_name() if args.device.startswith('cuda') else 'CPU'}), "
          f"torch {torch.__version__}, threads {torch.get_num_threads()}, amp {args.amp}")
    print(f"{'size':>10s} {'path':22s} {'s/image':>9s} {'images/s':>9s} {'peak MiB':>9s}")
    for size in args.sizes:
        h, w = (int(v) for v in size.split("x"))
        rgb = scene(h, w)
        x = image_tensor(rgb, args.device)
        alpha = np.clip(np.asarray(rgb[..., 0], np.float64) / 255, 0, 1)
        trimap = np.where(alpha > 0.8, 255, np.where(alpha < 0.2, 0, 128)).astype(np.uint8)
        aim_metrics(alpha * 0.9, alpha, trimap)                  # warm-up (numba cache)
        t0 = time.perf_counter()
        aim_metrics(alpha * 0.9, alpha, trimap)
        t_metrics = time.perf_counter() - t0
        ours = {}
        for name in args.strategies:
            strategy = build(STRATEGIES, dict(type=name))
            with torch.no_grad(), torch.autocast(torch.device(args.device).type,
                                                 dtype={"fp16": torch.float16, "bf16": torch.bfloat16}.get(args.amp),
                                                 enabled=args.amp is not None):
                sec, mem = _time(lambda: strategy(net, x), args.repeat, args.device)
            ours[name] = sec
            rows.append(dict(size=size, path=f"matbench {name}", seconds=sec, peak_mib=mem))
            print(f"{size:>10s} {'matbench ' + name:22s} {sec:9.3f} {1 / sec:9.2f} {mem:9.0f}")
        rows.append(dict(size=size, path="matbench metrics", seconds=t_metrics))
        print(f"{size:>10s} {'matbench metrics':22s} {t_metrics:9.3f}")
        if off_net is not None:
            for choice in ("RESIZE", "HYBRID"):
                sec, mem = _time(lambda: predict(off_net, rgb, choice), args.repeat, "cpu")
                t0 = time.perf_counter()
                official_metrics(alpha * 0.9, alpha, trimap)
                t_off_metrics = time.perf_counter() - t0
                mine = ours.get(choice.lower())
                rows.append(dict(size=size, path=f"official {choice.lower()}", seconds=sec, peak_mib=mem,
                                 metrics_seconds=t_off_metrics))
                print(f"{size:>10s} {'official ' + choice.lower():22s} {sec:9.3f} {1 / sec:9.2f} {mem:9.0f}")
                if mine:
                    whole_ours = max(mine, t_metrics / 2)
                    rows[-1].update(whole_official_seconds=sec + t_off_metrics, whole_matbench_seconds=whole_ours)
                    print(f"{'':>10s} whole evaluation per image ({choice.lower()}): official "
                          f"{sec + t_off_metrics:.3f} s (metrics {t_off_metrics:.3f}), matbench {whole_ours:.3f} s "
                          f"-> {(sec + t_off_metrics) / whole_ours:.1f}x")
    write_json(args.json, dict(device=args.device, torch=torch.__version__, threads=torch.get_num_threads(),
                               amp=args.amp, rows=rows))


if __name__ == "__main__":
    main()

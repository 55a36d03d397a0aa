"""How matbench's cost grows with image size and with dataset size.

    python tools/bench_scale.py [--metric-sizes 1200x1500 2160x3840 4320x7680]
                                [--inference-sizes 2160x3840 4320x7680] [--skip-inference]
                                [--dataset-images 5000] [--dataset-size 256x256] [--json FILE]

* metrics: seconds per image and peak resident memory of the "aim" metrics
  (``matbench_metrics.aim.aim_metrics``) on synthetic images of 1.8 Mpx, 4K and 8K; each size in
  a fresh process that loads the prepared arrays, compiles on a small crop, then times the
  metrics (best of --repeat). "above start" is the growth of the peak over the process's
  resident memory just before (libraries and inputs loaded).
* inference: the ``tiled`` strategy (bounded memory for large images) of AimNet with
  deterministic random weights on the CPU, at 4K and 8K: seconds for one image (after a warm-up
  on a small one) and peak resident memory, each size in a fresh process.
* dataset: ``matbench eval --dataset folder --predictions`` on a synthetic folder of N small
  images (16 distinct cases, hard-linked under N names) as a subprocess, after an untimed run
  on the 16: wall time (fixed cost included), images/s, and the peak resident memory of its
  process tree (workers included; sampled from /proc, a page mapped by several processes
  counted in each) and of its largest process. ``--dataset-images 0`` skips it.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from benchlib import (MIB, PAGE, best_of, copy_case, in_fresh_process, matbench_command, peak_rss_mib, run,
                      run_with_tree_memory, scaled_synthetic_image, synthetic_image, write_case, write_json)

DISTINCT = 16


def _rss_mib() -> float:
    """This process's resident memory now."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * PAGE / MIB


def _size(text: str) -> tuple[int, int]:
    h, w = (int(v) for v in text.split("x"))
    return h, w


def metrics_in_fresh_process(arrays: str, repeat: int) -> dict[str, float]:
    """Child side of the metrics measurement: ``arrays`` is an .npz of pred, alpha, trimap."""
    from matbench_metrics.aim import aim_metrics

    with np.load(arrays) as z:
        pred, alpha, trimap = z["pred"], z["alpha"], z["trimap"]
    aim_metrics(pred[:64, :64], alpha[:64, :64], trimap[:64, :64])     # numba compile (or cache load)
    start = _rss_mib()
    seconds = best_of(repeat, lambda: aim_metrics(pred, alpha, trimap))
    return dict(seconds=seconds, peak_rss_mib=peak_rss_mib(), above_start_mib=peak_rss_mib() - start)


def tiled_in_fresh_process(image: str) -> dict[str, float]:
    """Child side of the inference measurement: ``image`` is an .npy of H x W x 3 uint8."""
    import torch

    from matbench.deterministic_weights import fill_deterministic
    from matbench.networks import image_tensor
    from matbench.registry import STRATEGIES, build
    from matbench_aim.models import AimNet

    net = fill_deterministic(AimNet()).eval()
    strategy = build(STRATEGIES, dict(type="tiled"))
    rgb = np.load(image)
    with torch.no_grad():
        strategy(net, image_tensor(rgb[:256, :256].copy(), "cpu"))           # warm-up
        start = _rss_mib()
        x = image_tensor(rgb, "cpu")
        t0 = time.perf_counter()
        strategy(net, x)
        seconds = time.perf_counter() - t0
    return dict(seconds=seconds, peak_rss_mib=peak_rss_mib(), above_start_mib=peak_rss_mib() - start,
                threads=torch.get_num_threads())


def bench_metrics(sizes: list[tuple[int, int]], repeat: int, tmp: Path) -> list[dict]:
    rows = []
    for h, w in sizes:
        pred, alpha, trimap = scaled_synthetic_image(0, h, w)
        np.savez(tmp / "case.npz", pred=pred, alpha=alpha, trimap=trimap)
        del pred, alpha, trimap
        row = dict(size=f"{h}x{w}", megapixels=h * w / 1e6, **in_fresh_process(metrics_in_fresh_process,
                                                                                str(tmp / "case.npz"), repeat))
        rows.append(row)
        print(f"metrics  {row['size']:>10s} {row['megapixels']:6.1f} Mpx {row['seconds']:8.3f} s "
              f"{row['peak_rss_mib']:8.0f} MiB peak ({row['above_start_mib']:.0f} above start)")
    return rows


def bench_inference(sizes: list[tuple[int, int]], tmp: Path) -> list[dict]:
    from matbench_aim.testing import scene

    rows = []
    for h, w in sizes:
        np.save(tmp / "image.npy", scene(h, w))
        row = dict(size=f"{h}x{w}", megapixels=h * w / 1e6, **in_fresh_process(tiled_in_fresh_process,
                                                                                str(tmp / "image.npy")))
        rows.append(row)
        print(f"tiled    {row['size']:>10s} {row['megapixels']:6.1f} Mpx {row['seconds']:8.3f} s "
              f"{row['peak_rss_mib']:8.0f} MiB peak ({row['above_start_mib']:.0f} above start), "
              f"CPU, {row['threads']} threads")
    return rows


def bench_dataset(n: int, size: tuple[int, int], tmp: Path) -> dict:
    src, dst = (tmp / "cases_data", tmp / "cases_pred"), (tmp / "data", tmp / "pred")
    for i in range(DISTINCT):
        write_case(*src, f"c{i}", synthetic_image(i, *size), i)
    for i in range(n):
        copy_case(src, dst, f"c{i % DISTINCT}", f"img{i:05d}")

    def command(data: tuple[Path, Path]) -> list[str]:
        return matbench_command() + ["eval", "--dataset", "folder", "--data-root", str(data[0]), "--predictions",
                                     str(data[1]), "--work-dir", str(tmp / "work"), "--restart", "--no-report"]

    run(command(src))           # untimed: plugin index and compiled metrics cached, as in daily use
    res = run_with_tree_memory(command(dst))
    row = dict(images=n, size=f"{size[0]}x{size[1]}", images_per_s=n / res["seconds"], **res)
    print(f"dataset  {n} images of {row['size']}: {row['seconds']:.1f} s, {row['images_per_s']:.1f} images/s, "
          f"peak {row['peak_tree_mib']:.0f} MiB (process tree), {row['peak_process_mib']:.0f} MiB (largest process)")
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--metric-sizes", nargs="+", default=["1200x1500", "2160x3840", "4320x7680"])
    ap.add_argument("--repeat", type=int, default=2, help="metric runs per size; the fastest counts")
    ap.add_argument("--inference-sizes", nargs="+", default=["2160x3840", "4320x7680"])
    ap.add_argument("--skip-inference", action="store_true")
    ap.add_argument("--dataset-images", type=int, default=5000, help="0: skip the dataset measurement")
    ap.add_argument("--dataset-size", default="256x256")
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    args = ap.parse_args()
    print(f"{os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        out = dict(metrics=bench_metrics([_size(s) for s in args.metric_sizes], args.repeat, tmp), inference=None,
                   dataset=None)
        if not args.skip_inference:
            out["inference"] = bench_inference([_size(s) for s in args.inference_sizes], tmp)
        if args.dataset_images:
            out["dataset"] = bench_dataset(args.dataset_images, _size(args.dataset_size), tmp)
    write_json(args.json, out)


if __name__ == "__main__":
    main()

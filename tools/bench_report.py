"""Size and build time of `matbench report` on a synthetic AIM-500-layout set.

    python tools/bench_report.py [--images 500] [--runs 3] [--size 1080x1440] [--root DIR]
                                 [--repeat 1] [--only files|kept]

Makes (once, cached in --root) N synthetic photos with soft-edged alphas (hair-like strands, a
semi-transparent region), trimaps (the alpha's support dilated, its opaque part eroded) and, per
run, a predictions folder (blurred alpha with wrong blobs and noise in the unknown region, a
different error level per run); evaluates each folder with `matbench eval` (the real loop,
"aim" metrics) twice: with --no-report (``run<k>``) and with its default report (``run<k>-report``,
whose metric workers make and keep the pictures). Then times `write_report` of all runs, which
is what it prints: wall and CPU time, the page's size, the pictures folder's size and file count,
for the report made from the files alone (the --no-report runs; the dataset's pictures are
removed from matbench's cache first, untimed) and for the report that reuses the kept pictures.
Only the report is timed; making the set and the runs is not. matbench's cache folder is
``--root/cache`` (``MATBENCH_CACHE``).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image


def _smooth_noise(rng: np.random.Generator, h: int, w: int, scale: int) -> np.ndarray:
    """Zero-mean noise with features about ``scale`` pixels wide (float32)."""
    small = rng.normal(size=(max(2, h // scale), max(2, w // scale))).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def make_image(args: tuple) -> None:
    """One photo, alpha, trimap of the set and one prediction per run."""
    root, name, seed, h, w, runs = args
    cv2.setNumThreads(1)                                # the pool's processes are the parallelism
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cy, cx = rng.uniform(0.4, 0.6) * h, rng.uniform(0.4, 0.6) * w
    radius = rng.uniform(0.25, 0.35) * min(h, w)
    d = np.hypot(yy - cy, xx - cx) * (1 + 0.08 * _smooth_noise(rng, h, w, 64))
    alpha = np.clip((radius - d) / 6 + 0.5, 0, 1)
    strands = np.clip(_smooth_noise(rng, h, w, 3) * 2.0, 0, 1) * (np.abs(d - radius) < 40)
    alpha = np.maximum(alpha, strands)
    if seed % 3 == 1:                                    # a semi-transparent region
        alpha = np.where((d < radius * 0.6) & (xx > cx), 0.55 + 0.1 * _smooth_noise(rng, h, w, 32), alpha)
    a8 = np.round(np.clip(alpha, 0, 1) * 255).astype(np.uint8)
    a = a8[..., None].astype(np.float32) / 255
    fg = 128 + 60 * np.stack([_smooth_noise(rng, h, w, s) for s in (16, 24, 32)], -1)
    bg = 128 + 70 * np.stack([_smooth_noise(rng, h, w, s) for s in (40, 60, 80)], -1)
    photo = np.clip(a * fg + (1 - a) * bg + rng.normal(0, 4, (h, w, 3)).astype(np.float32), 0, 255).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (15, 15))
    trimap = np.full((h, w), 128, np.uint8)
    trimap[cv2.dilate((a8 > 0).astype(np.uint8), kernel) == 0] = 0
    trimap[cv2.erode((a8 == 255).astype(np.uint8), kernel) == 1] = 255
    Image.fromarray(photo).save(root / "original" / f"{name}.jpg", quality=90)
    Image.fromarray(a8).save(root / "mask" / f"{name}.png")
    Image.fromarray(trimap).save(root / "trimap" / f"{name}.png")
    unknown = trimap == 128
    for k in range(runs):
        pred = cv2.GaussianBlur(a8.astype(np.float32) / 255, (0, 0), 1 + k)
        for _ in range(2 + k):                            # wrong blobs
            by, bx, br = int(rng.uniform(0, h)), int(rng.uniform(0, w)), int(rng.uniform(10, 60))
            blob = np.zeros((h, w), np.uint8)
            cv2.circle(blob, (bx, by), br, 1, -1)
            pred = np.where(blob == 1, 1 - pred, pred)
        noise = rng.normal(0, 0.03 * (k + 1), (h, w)).astype(np.float32)
        pred = np.where(unknown, pred + noise, pred)
        out = root.parent / f"pred{k + 1}" / f"{name}.png"
        Image.fromarray(np.round(np.clip(pred, 0, 1) * 255).astype(np.uint8)).save(out)


def make_set(base: Path, count: int, runs: int, h: int, w: int) -> Path:
    """The synthetic set under ``base/AIM-500`` and its predictions ``base/pred<k>``, cached."""
    from matbench.evaluation.run import dataset_metainfo

    root = base / "AIM-500"
    stamp = base / "set.json"
    spec = {"images": count, "runs": runs, "size": [h, w], "version": 1}
    if stamp.is_file() and json.loads(stamp.read_text()) == spec:
        return root
    shutil.rmtree(base, ignore_errors=True)
    for sub in ("original", "mask", "trimap"):
        (root / sub).mkdir(parents=True)
    for k in range(runs):
        (base / f"pred{k + 1}").mkdir(parents=True)
    groups = {g["key"]: list(g["values"]) for g in dataset_metainfo("aim500")["groups"]}
    names = [f"img_{i:04d}" for i in range(count)]
    labels = {n: {key: values[i % len(values)] for key, values in groups.items()} for i, n in enumerate(names)}
    (root / "aim_category_type.json").write_text(json.dumps(labels))
    with mp.Pool(os.cpu_count()) as pool:
        for i, _ in enumerate(pool.imap_unordered(make_image, [(root, n, i, h, w, runs) for i, n in enumerate(names)])):
            if (i + 1) % 50 == 0 or i + 1 == count:
                print(f"making the set: {i + 1}/{count}", file=sys.stderr)
    stamp.write_text(json.dumps(spec))
    return root


def evaluate_runs(base: Path, root: Path, runs: int, report: bool = False) -> list[Path]:
    """`matbench eval` of each predictions folder (resumed, so instant when already done); with
    ``report``, as the default command does (its metric workers make the report's pictures)."""
    from matbench.evaluation.options import make_job
    from matbench.evaluation.run import evaluate

    work_dirs = []
    for k in range(runs):
        work = base / f"run{k + 1}{'-report' if report else ''}"
        if not (work / "results.json").is_file():
            evaluate(make_job(dataset="aim500", data_root=root, predictions=base / f"pred{k + 1}",
                              work_dir=work, label=f"method {chr(65 + k)}", report=report))
        work_dirs.append(work)
    return work_dirs


def _cpu_seconds() -> float:
    import resource

    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                   resource.getrusage(resource.RUSAGE_CHILDREN)))


def folder_size(path: Path) -> tuple[int, int]:
    files = [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files), len(files)


def time_report(work_dirs: list[Path], out: Path, repeat: int, before=lambda: None) -> dict:
    """Best wall and CPU seconds of ``repeat`` fresh builds of the report of ``work_dirs``."""
    from matbench.report import pictures_folder, write_report

    times, cpu, load = [], [], os.getloadavg()[0]
    for _ in range(repeat):
        # a fresh build each time: replacing a report also deletes its old pictures, which costs
        # what the disk takes to free their files (a few ms each with online discard)
        shutil.rmtree(pictures_folder(out), ignore_errors=True)
        out.unlink(missing_ok=True)
        before()
        start, used = time.perf_counter(), _cpu_seconds()
        write_report(work_dirs, out)
        times.append(time.perf_counter() - start)
        cpu.append(_cpu_seconds() - used)
    pictures, files = folder_size(pictures_folder(out))
    return {"wall_s": min(times), "cpu_s": min(cpu), "load": load, "page_bytes": out.stat().st_size,
            "pictures_bytes": pictures, "files": files, "repeat": repeat}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--size", default="1080x1440", help="HxW of the synthetic images")
    parser.add_argument("--root", type=Path, default=Path("work_dirs/bench_report"))
    parser.add_argument("--repeat", type=int, default=1, help="time the report this many times")
    parser.add_argument("--only", choices=["files", "kept"], help="time one of the two reports only")
    args = parser.parse_args()
    h, w = (int(v) for v in args.size.lower().split("x"))
    base = args.root.resolve()
    os.environ["MATBENCH_CACHE"] = str(base / "cache")
    root = make_set(base, args.images, args.runs, h, w)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"report of {args.images} images x {args.runs} runs ({h}x{w}), {cpus} CPUs")
    cases = []
    if args.only != "kept":
        plain = evaluate_runs(base, root, args.runs)
        forget = lambda: shutil.rmtree(base / "cache" / "report-pictures", ignore_errors=True)  # noqa: E731
        cases.append(("from the files alone", time_report(plain, base / "report.html", args.repeat, forget)))
    if args.only != "files":
        kept = evaluate_runs(base, root, args.runs, report=True)
        cases.append(("reusing eval's pictures", time_report(kept, base / "report-kept.html", args.repeat)))
    for what, r in cases:
        print(f"{what}:")
        print(f"  build time: {r['wall_s']:.1f} s wall (best of {r['repeat']}; load average before: "
              f"{r['load']:.1f}), {r['cpu_s']:.1f} s of CPU (this process and its picture processes)")
        print(f"  page:       {r['page_bytes'] / 1e6:.2f} MB")
        print(f"  pictures:   {r['pictures_bytes'] / 1e6:.1f} MB in {r['files']} files")
        print(f"  total:      {(r['page_bytes'] + r['pictures_bytes']) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()

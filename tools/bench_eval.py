"""``matbench eval`` of a predictions folder against the official evaluation, end to end, on the
same files: seconds per image, fixed cost, and whether every value is identical.

    python tools/bench_eval.py [--images 24] [--size 1200x1500] [--repeat 2] [--dir DIR]
                               [--pictures new|first|kept] [--no-report] [--skip-official] [--json FILE]
    AIM_REF=/path/to/AIM python tools/bench_eval.py    # with the official side
    # AIM_REF: a checkout of github.com/JizhiziLi/AIM

Writes (in a temporary folder, or in --dir/HxW_N, reused when there) N synthetic images in the
``folder`` dataset layout (``image/<name>.jpg``, ``alpha/`` and ``trimap/<name>.png``) and a
folder of 8-bit predictions ``<name>.png``, and a copy of the first image alone. Then runs, as a
user would, the default command ``matbench eval --dataset folder --data-root D --predictions P
--work-dir W --restart`` (its visual report included; ``--no-report`` measures without it) on the
one-image set and on the N-image set (after an untimed run, the faster of --repeat alternating
runs each): matbench's seconds per image are (T_N - T_1) / (N - 1), its fixed cost (start-up,
plugin discovery, results, tables and the report's plots) T_1 minus that.

The report's pictures are made by the metric workers and kept by content; ``--pictures`` says
which case is timed: ``new`` (default: the typical one, another method on a dataset already
evaluated: the dataset's pictures are in matbench's cache, the run's are made), ``first`` (the
first evaluation on this dataset: none kept), ``kept`` (the same predictions again: every
picture found made). Before each timed run the work dir's report and pictures (and for ``first``
the cache's dataset pictures) are put away, untimed (moved aside: deleting them would slow the
next timed run, see ``forget_pictures``); the subprocesses use a cache folder of their own
(``MATBENCH_CACHE`` under the set's folder).

The official side, with AIM_REF set: the ten values of each image from core/evaluate.py
(tools/official), on the same files read as core/test.py reads them (prediction and alpha
``png / 255.`` in float64, trimap uint8), one image after the other in one process, timed
with the reading. Every per-image value of W/results.json must equal the official one exactly
(float equality; an official inf/nan, the division by zero of mse_trimap / mad_trimap without
unknown pixels, must be null). Also times ``matbench list`` and ``matbench --help`` (best of 3).

``--strategy S`` measures the whole evaluation of a network instead (issue: the CUDA path):
``matbench eval --strategy S --random-weights [--device D] [--amp A]`` (AimNet, inference and
all ten values) against core/test.py's ``inference_img`` with the official AimNet (seeded random
weights, on the same device) plus the official metrics, image after image. The weights differ,
so only times are compared; with ``--amp`` the same run in float32 gives the largest per-image
change of each metric that autocast causes.
"""
from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

from benchlib import best_of, copy_case, matbench_command, run, synthetic_image, write_case, write_json
from official import official_metrics, read_gray


def _make(args: tuple[Path, int, int, int]) -> None:
    """Image ``seed`` of the N-image set (a pool task)."""
    root, seed, h, w = args
    write_case(root / "data", root / "pred", f"img{seed:04d}", synthetic_image(seed, h, w), seed)


def make_sets(root: Path, n: int, h: int, w: int) -> list[str]:
    """The N-image set (``root/data``, ``root/pred``) and the one-image copy (``root/one_*``),
    made unless already there; the image names."""
    names = [f"img{i:04d}" for i in range(n)]
    missing = [i for i, name in enumerate(names) if not (root / "pred" / f"{name}.png").is_file()]
    if missing:
        with mp.get_context("fork").Pool(min(len(missing), os.cpu_count() or 1)) as pool:
            pool.map(_make, [(root, i, h, w) for i in missing])
    if not (root / "one_pred" / f"{names[0]}.png").is_file():
        copy_case((root / "data", root / "pred"), (root / "one_data", root / "one_pred"), names[0], names[0])
    return names


def eval_command(data_root: Path, predictions: Path, work_dir: Path, network: list[str] | None = None,
                 report: bool = True) -> list[str]:
    """The command line of the issue, for one set: scoring the predictions, or (``network``: the
    strategy, device and amp options) evaluating AimNet with random weights; the default command
    writes its report (``report=False``: ``--no-report``)."""
    source = ["--predictions", str(predictions)] if network is None else [
        "--random-weights", "--no-save-predictions", *network]
    return matbench_command() + ["eval", "--dataset", "folder", "--data-root", str(data_root), *source,
                                 "--work-dir", str(work_dir), "--restart", *([] if report else ["--no-report"])]


def forget_pictures(root: Path, pictures: str) -> Callable[[Path], None]:
    """What to put away (untimed) before a timed run into ``work``, for the ``--pictures`` case:
    moved to ``root/trash`` (removed after the timings): deleting thousands of files would make the
    disk free their blocks during the next timed run (online discard), which the journal's fsyncs
    then wait for; a new method's run has nothing to delete."""
    def prepare(work: Path) -> None:
        if pictures == "kept":
            return
        trash = root / "trash" / f"{time.monotonic_ns()}"
        trash.mkdir(parents=True)
        for path in (work / "report_files", work / "report_pictures", work / "report.html",
                     *([root / "cache" / "report-pictures"] if pictures == "first" else [])):
            if path.exists():
                path.rename(trash / f"{path.parent.name}-{path.name}")
    return prepare


def time_eval(root: Path, repeat: int, network: list[str] | None = None, report: bool = True,
              prepare: Callable[[Path], None] = lambda work: None) -> tuple[float, float]:
    """Best wall times of ``matbench eval`` on the one-image and the N-image set, after an untimed
    run (caches: plugin index, compiled metrics, files); the two alternate, so that a slow spell
    of the machine does not fall on one of them only. ``prepare(work dir)`` runs before each
    timed run, untimed."""
    one = eval_command(root / "one_data", root / "one_pred", root / "work_one", network, report)
    every = eval_command(root / "data", root / "pred", root / "work", network, report)
    run(one)
    run(every)

    def timed(cmd: list[str], work: Path) -> float:
        prepare(work)
        used = _children_cpu()
        seconds = run(cmd)
        cpu.setdefault(work.name, []).append(_children_cpu() - used)
        return seconds

    cpu: dict[str, list[float]] = {}
    times = [(timed(one, root / "work_one"), timed(every, root / "work")) for _ in range(repeat)]
    time_eval.cpu = (min(cpu["work_one"]), min(cpu["work"]))      # CPU seconds of the same runs (all processes)
    return min(t for t, _ in times), min(t for _, t in times)


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def official_network_side(root: Path, names: list[str], strategy: str, device: str) -> dict[str, float]:
    """Mean seconds per image of core/test.py's loop body: read the photo, ``inference_img``
    (RESIZE or HYBRID) with the official AimNet on ``device``, read the ground truth, the ten
    values."""
    import torch
    from PIL import Image

    from official import build_aimnet, predict

    choice = {"resize": "RESIZE", "hybrid": "HYBRID"}[strategy]
    model = build_aimnet(seed=0).to(device)
    photo = lambda name: np.array(Image.open(root / "data" / "image" / f"{name}.jpg"))[:, :, :3]  # noqa: E731
    predict(model, photo(names[0]), choice)                                  # warm-up (cuDNN, allocator)
    spent = dict(inference_s=0.0, metrics_s=0.0)
    for name in names:
        t0 = time.perf_counter()
        pred = predict(model, photo(name), choice)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        t1 = time.perf_counter()
        official_metrics(pred, read_gray(root / "data" / "alpha" / f"{name}.png") / 255.,
                         read_gray(root / "data" / "trimap" / f"{name}.png"))
        spent["inference_s"] += t1 - t0
        spent["metrics_s"] += time.perf_counter() - t1
    per = {k: v / len(names) for k, v in spent.items()}
    return {**per, "per_image_s": per["inference_s"] + per["metrics_s"]}


def largest_changes(results: dict, reference: dict) -> dict[str, float]:
    """Per metric, the largest per-image |difference| between two runs' results.json."""
    ref = {row["name"]: row for row in reference["per_image"]}
    out: dict[str, float] = {}
    for row in results["per_image"]:
        for key, value in row.items():
            other = ref[row["name"]].get(key)
            if isinstance(value, float) and isinstance(other, float):
                out[key] = max(out.get(key, 0.0), abs(value - other))
    return out


def official_side(root: Path, names: list[str]) -> tuple[dict[str, dict[str, float]], float, float]:
    """The official values by image, and the mean seconds per image spent reading and computing."""
    def read(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (read_gray(root / "pred" / f"{name}.png") / 255.,
                read_gray(root / "data" / "alpha" / f"{name}.png") / 255.,
                read_gray(root / "data" / "trimap" / f"{name}.png"))

    official_metrics(*(a[:64, :64] for a in read(names[0])))     # imports done inside the official functions
    values, reading, computing = {}, 0.0, 0.0
    for name in names:
        t0 = time.perf_counter()
        arrays = read(name)
        t1 = time.perf_counter()
        values[name] = official_metrics(*arrays)
        reading, computing = reading + t1 - t0, computing + time.perf_counter() - t1
    return values, reading / len(names), computing / len(names)


def compare(results: dict, official: dict[str, dict[str, float]]) -> tuple[int, int, list[dict]]:
    """(equal, compared, first mismatches) of results.json's per-image values against the official."""
    rows = {row["name"]: row for row in results["per_image"]}
    equal, compared, mismatches = 0, 0, []
    for name, values in official.items():
        for key, ref in values.items():
            ours = rows[name][key]
            same = ours is None and not math.isfinite(ref) or ours is not None and float(ours) == ref
            equal, compared = equal + same, compared + 1
            if not same and len(mismatches) < 10:
                mismatches.append(dict(name=name, key=key, matbench=ours, official=ref))
    return equal, compared, mismatches


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=24)
    ap.add_argument("--size", default="1200x1500", help="HxW of the synthetic images")
    ap.add_argument("--repeat", type=int, default=2, help="runs of each matbench eval; the fastest counts")
    ap.add_argument("--dir", type=Path, help="where to make the sets (kept; default: a temporary folder)")
    ap.add_argument("--skip-official", action="store_true", help="leave out the official side even with AIM_REF")
    ap.add_argument("--strategy", choices=["resize", "hybrid"], help="evaluate AimNet (random weights) through this "
                    "strategy instead of scoring predictions: the whole evaluation, inference included")
    ap.add_argument("--device", default="cpu", help="with --strategy: cpu or cuda")
    ap.add_argument("--amp", choices=["fp16", "bf16"], help="with --strategy: autocast, and its largest metric changes")
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    ap.add_argument("--no-report", action="store_true", help="time matbench eval --no-report instead of the default "
                    "command (which writes the run's visual report)")
    ap.add_argument("--pictures", choices=["new", "first", "kept"], default="new",
                    help="the report's pictures: the run's made, the dataset's kept (new); none kept (first); all "
                         "kept (kept: the same predictions again)")
    args = ap.parse_args()
    if args.images < 2:
        ap.error("--images must be at least 2")
    h, w = (int(v) for v in args.size.split("x"))
    with_official = bool(os.environ.get("AIM_REF")) and not args.skip_official
    with tempfile.TemporaryDirectory() as tmp:
        root = (args.dir or Path(tmp)) / f"{h}x{w}_{args.images}"
        names = make_sets(root, args.images, h, w)
        network = None if args.strategy is None else [
            "--strategy", args.strategy, "--device", args.device, *(["--amp", args.amp] if args.amp else [])]
        os.environ["MATBENCH_CACHE"] = str(root / "cache")         # the subprocesses' cache, of this set
        with_report = not args.no_report and network is None    # (a network's run keeps no predictions to show)
        t_one, t_all = time_eval(root, args.repeat, network, with_report,
                                 forget_pictures(root, args.pictures) if with_report else lambda work: None)
        per_image = (t_all - t_one) / (args.images - 1)
        cpu_one, cpu_all = time_eval.cpu
        shutil.rmtree(root / "trash", ignore_errors=True)
        out = dict(images=args.images, size=[h, w], repeat=args.repeat, network=network,
                   report=with_report, pictures=args.pictures if with_report else None,
                   load_average=os.getloadavg(),
                   matbench=dict(one_image_s=t_one, all_images_s=t_all, per_image_s=per_image,
                                 fixed_s=t_one - per_image),
                   cpu=dict(per_image_s=(cpu_all - cpu_one) / (args.images - 1), one_image_s=cpu_one,
                            all_images_s=cpu_all),
                   cli=dict(list_s=best_of(3, lambda: run(matbench_command() + ["list"])),
                            help_s=best_of(3, lambda: run(matbench_command() + ["--help"]))),
                   official=None)
        if network is not None:
            if args.amp:
                fp32 = [a for a in network if a not in ("--amp", args.amp)]
                run(eval_command(root / "data", root / "pred", root / "work_fp32", fp32))
                out["amp_largest_change"] = largest_changes(*(json.loads((root / w / "results.json").read_text())
                                                              for w in ("work", "work_fp32")))
            if with_official:
                side = official_network_side(root, names, args.strategy, args.device)
                out["official"] = dict(side, ratio=side["per_image_s"] / per_image)
        elif with_official:
            values, reading, computing = official_side(root, names)
            equal, compared, mismatches = compare(json.loads((root / "work" / "results.json").read_text()), values)
            out["official"] = dict(per_image_s=reading + computing, read_s=reading, metrics_s=computing,
                                   ratio=(reading + computing) / per_image, identical=equal, compared=compared,
                                   mismatches=mismatches)
    report(out)
    write_json(args.json, out)


def report(out: dict) -> None:
    """The table of the issue: per-image seconds side by side, fixed cost, identical values."""
    m, o = out["matbench"], out["official"]
    what = "8-bit PNG predictions" if out["network"] is None else "AimNet " + " ".join(out["network"])
    report = (f"the default command: with its report (pictures: {out['pictures']})" if out["report"]
              else "--no-report")
    print(f"\nmatbench eval, {out['images']} synthetic {out['size'][0]}x{out['size'][1]} images, folder dataset, "
          f"{what}, {report} (best of {out['repeat']} runs; load average "
          f"{' '.join(f'{v:.1f}' for v in out['load_average'])} after)")
    print(f"{'':24s} {'matbench':>10s} {'official':>10s} {'official / matbench':>20s}")
    off = f"{o['per_image_s']:10.3f} {o['ratio']:19.1f}x" if o else f"{'skipped':>10s}"
    print(f"{'per image, s':24s} {m['per_image_s']:10.3f} {off}")
    print(f"{'fixed cost, s':24s} {m['fixed_s']:10.3f}")
    print(f"{'CPU per image, s':24s} {out['cpu']['per_image_s']:10.3f}   (all processes, the same runs: "
          "steadier than wall time on a busy machine)")
    if o and "identical" not in o:
        print(f"official per image: inference {o['inference_s']:.3f} s, metrics {o['metrics_s']:.3f} s "
              "(random weights on both sides: times only)")
    elif o:
        print(f"values identical: {o['identical']}/{o['compared']}")
        for bad in o["mismatches"]:
            print(f"  differs: {bad}")
    else:
        print("official side skipped (set AIM_REF=/path/to/AIM, without --skip-official)")
    for key, change in out.get("amp_largest_change", {}).items():
        print(f"  {key}: largest per-image change under --amp: {change:.6g}")
    print(f"matbench list: {out['cli']['list_s']:.2f} s, matbench --help: {out['cli']['help_s']:.2f} s (best of 3)")


if __name__ == "__main__":
    main()

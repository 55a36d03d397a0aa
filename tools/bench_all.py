"""Every benchmark of tools/ in one go, summed up as the Markdown performance table of docs/performance.md.

    python tools/bench_all.py [--quick] [--dir DIR] [--json FILE]
    AIM_REF=/path/to/AIM python tools/bench_all.py --quick     # with the official columns
    # AIM_REF: a checkout of github.com/JizhiziLi/AIM

Runs bench_metrics, bench_eval, bench_inference, bench_train, (with AIM_REF) bench_train_loop and
bench_scale, each as a subprocess writing ``--json`` (into --dir, with its output as ``.log``;
default: a temporary folder), on this machine: CUDA where available for inference and training,
else the CPU. ``--quick`` uses small sizes and few repeats (minutes on a laptop); without it each
tool runs with its own defaults (meant for a real machine: the training defaults take long on a
CPU). Without AIM_REF the official columns are left empty and the table says so. A benchmark that
fails is reported and left out; the others still run.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

from benchlib import run, write_json

TOOLS = Path(__file__).resolve().parent


def plan(quick: bool, official: bool) -> list[tuple[str, list[str]]]:
    """(tool, arguments) of every benchmark to run, in order."""
    steps = [
        ("bench_metrics", ["--images", "1", "--repeat", "1"] if quick else []),
        ("bench_eval", ["--images", "6"] if quick else []),
        ("bench_inference", ["--sizes", "600x800"] if quick else ["--sizes", "1200x1500"]),
        ("bench_train", ["--stages", "sod", "--batch", "2", "--size", "160", "--iters", "2"] if quick else []),
        ("bench_train_loop", ["--stage", "sod", "--batch", "2", "--iters", "4", "--workers", "1", "--samples", "4"]
         if quick else []),
        ("bench_scale", ["--metric-sizes", "1200x1500", "2160x3840", "--repeat", "1", "--inference-sizes",
                         "1080x1920", "--dataset-images", "500", "--dataset-size", "128x128"] if quick else []),
    ]
    return [(tool, args) for tool, args in steps if official or tool != "bench_train_loop"]


def run_all(steps: list[tuple[str, list[str]]], folder: Path) -> dict[str, dict | None]:
    """Each tool's JSON by name (None for a tool that failed, whose output is shown)."""
    results: dict[str, dict | None] = {}
    for tool, args in steps:
        out = folder / f"{tool}.json"
        cmd = [sys.executable, str(TOOLS / f"{tool}.py"), *args, "--json", str(out)]
        print(f"{tool} {' '.join(args)}", end=" ... ", flush=True)
        try:
            seconds = run(cmd, log=folder / f"{tool}.log")
        except RuntimeError as err:
            print(f"FAILED\n{err}\n")
            results[tool] = None
            continue
        print(f"{seconds:.0f} s")
        results[tool] = json.loads(out.read_text())
    return results


def _t(seconds: float) -> str:
    return f"{seconds:.3f} s" if seconds < 10 else f"{seconds:.1f} s"


def _x(ratio: float) -> str:
    return f"{ratio:.1f}×"


def _rows(r: dict[str, dict | None]) -> list[tuple[str, str, str, str]]:
    """(measure, matbench, official, matbench speed-up) rows from the tools' results."""
    rows = []
    if m := r.get("bench_metrics"):
        fast, off = m["synthetic"]["fast"]["total"], m["synthetic"].get("official", {}).get("total")
        size = "x".join(map(str, m["size"]))
        rows.append((f"aim metrics (10 values), one {size} image, 1 process", _t(fast), _t(off) if off else "",
                     _x(off / fast) if off else ""))
        tp = m["images_per_s_2_processes"]
        rows.append(("aim metrics, images/s with 2 processes", f"{tp['fast']:.2f}",
                     f"{tp['official']:.2f}" if "official" in tp else "",
                     _x(tp["fast"] / tp["official"]) if "official" in tp else ""))
    if e := r.get("bench_eval"):
        mb, off = e["matbench"], e["official"]
        what = f"{e['images']} images of {e['size'][0]}x{e['size'][1]}"
        rows.append((f"`matbench eval` of a predictions folder, per image, end to end ({what})",
                     _t(mb["per_image_s"]), _t(off["per_image_s"]) if off else "", _x(off["ratio"]) if off else ""))
        if off:
            rows.append(("per-image values identical to the official code", f"{off['identical']}/{off['compared']}",
                         "", ""))
        rows.append(("`matbench eval` fixed cost per run (start-up, discovery, results, tables)",
                     _t(mb["fixed_s"]), "", ""))
        rows.append(("`matbench list` / `matbench --help`", f"{e['cli']['list_s']:.2f} s / {e['cli']['help_s']:.2f} s",
                     "", ""))
    if i := r.get("bench_inference"):
        by = {(row["size"], row["path"]): row for row in i["rows"]}
        for size, path in [k for k in by if k[1].startswith("matbench ") and k[1] != "matbench metrics"]:
            name = path.split()[1]
            ours, off = by[size, path], by.get((size, f"official {name}"))
            rows.append((f"AimNet inference `{name}`, one {size} image ({i['device']})", _t(ours["seconds"]),
                         _t(off["seconds"]) if off else "", _x(off["seconds"] / ours["seconds"]) if off else ""))
            if off and "whole_official_seconds" in off:
                rows.append((f"whole evaluation per {size} image, `{name}` (inference + metrics)",
                             _t(off["whole_matbench_seconds"]), _t(off["whole_official_seconds"]),
                             _x(off["whole_official_seconds"] / off["whole_matbench_seconds"])))
    if t := r.get("bench_train"):
        for row in t["rows"]:
            rows.append((f"training step `{row['stage']}` ({row['setting']}), images/s, batch {t['batch']} of "
                         f"{t['size']}x{t['size']} ({t['device']})", f"{row['images_per_s']:.2f}", "", ""))
    if tl := r.get("bench_train_loop"):
        for row in tl["rows"][1:]:
            rows.append((f"training `{tl['stage']}`, {row['what']} (batch {tl['batch']}, {tl['device']})",
                         f"{row['matbench']:.3f}", f"{row['official']:.3f}", _x(row["speed_up"])))
    if s := r.get("bench_scale"):
        for row in s["metrics"]:
            rows.append((f"aim metrics, one {row['size']} image ({row['megapixels']:.1f} Mpx): time, peak RSS",
                         f"{_t(row['seconds'])}, {row['peak_rss_mib']:.0f} MiB", "", ""))
        for row in s["inference"] or []:
            rows.append((f"`tiled` inference, one {row['size']} image ({row['megapixels']:.1f} Mpx), CPU: "
                         "time, peak RSS",
                         f"{_t(row['seconds'])}, {row['peak_rss_mib']:.0f} MiB", "", ""))
        if d := s["dataset"]:
            rows.append((f"`matbench eval`, {d['images']} predictions of {d['size']}: time, images/s, peak RSS "
                         f"(all processes)", f"{_t(d['seconds'])}, {d['images_per_s']:.0f}/s, "
                         f"{d['peak_tree_mib']:.0f} MiB", "", ""))
    return rows


def markdown(results: dict[str, dict | None], official: bool) -> str:
    """The performance table, with a line on the machine and on what was left out."""
    device = (results.get("bench_inference") or {}).get("device", "?")
    lines = [f"Measured on {os.cpu_count()} CPU cores ({platform.machine()}, Python {platform.python_version()}), "
             f"inference and training on {device}.", ""]
    if not official:
        lines += ["Official columns skipped: AIM_REF is not set.", ""]
    failed = [tool for tool, res in results.items() if res is None]
    if failed:
        lines += [f"Failed, left out: {', '.join(failed)}.", ""]
    lines += ["| measure | matbench | official code | matbench speed-up |", "|---|---|---|---|"]
    lines += [f"| {' | '.join(row)} |" for row in _rows(results)]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes and few repeats")
    ap.add_argument("--dir", type=Path, help="keep each tool's JSON and output here")
    ap.add_argument("--json", type=Path, help="write all the tools' results here")
    args = ap.parse_args()
    official = bool(os.environ.get("AIM_REF"))
    if official:
        from official import OfficialCodeError, core_dir

        try:
            core_dir()
        except OfficialCodeError as err:
            sys.exit(str(err))
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.dir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        results = run_all(plan(args.quick, official), folder)
    print("\n" + markdown(results, official))
    write_json(args.json, results)


if __name__ == "__main__":
    main()

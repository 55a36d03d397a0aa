"""A model's evaluation per image with the machine idle and with one core busy in another process:
how much the thread budget (``--threads``, default the CPUs this process may use) protects it.

    python tools/bench_threads.py [--images 9] [--size 600x800] [--strategy resize] [--repeat 2]
                                  [--compare-env OMP_WAIT_POLICY=ACTIVE] [--json FILE]

Writes a ``folder`` dataset of N photo-like images (and a copy of the first alone), then times, as
a user runs it, ``matbench eval --dataset folder --data-root D --strategy S --random-weights
--no-report --restart`` (AimNet) on the one-image and the N-image set: seconds per image are
(T_N - T_1) / (N - 1), the faster of ``--repeat`` runs. Each case runs idle and while a busy loop
(``python -c "while True: pass"``) occupies one core. Prints the per-image seconds and the
busy / idle ratio (goal: at most 1.5). ``--compare-env`` repeats everything with an environment
variable set (e.g. ``OMP_WAIT_POLICY=ACTIVE``, torch's spinning default), to show what it changes.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterator

from benchlib import best_of, copy_case, matbench_command, run, synthetic_image, write_case, write_json


@contextlib.contextmanager
def busy_core() -> Iterator[None]:
    """One core kept busy by another process for the duration of the block."""
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        proc.kill()
        proc.wait()


def per_image(root: Path, one: Path, work: Path, strategy: str, repeat: int, env: dict) -> float:
    """(T_N - T_1) / (N - 1) of the default command on the N-image and the one-image set."""
    def command(data: Path) -> list[str]:
        return [*matbench_command(), "eval", "--dataset", "folder", "--data-root", str(data), "--strategy", strategy,
                "--random-weights", "--no-report", "--restart", "--device", "cpu", "--work-dir", str(work)]

    n = len(list((root / "image").iterdir()))
    run(command(root), env=env)                                   # untimed: caches, plugin index
    t_n = best_of(repeat, lambda: run(command(root), env=env))
    t_1 = best_of(repeat, lambda: run(command(one), env=env))
    return (t_n - t_1) / (n - 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=9)
    ap.add_argument("--size", default="600x800")
    ap.add_argument("--strategy", default="resize")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--compare-env", default=None, help="NAME=VALUE: the same measurements with this set too")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    h, w = map(int, args.size.lower().split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        root, one, pred = Path(tmp) / "set", Path(tmp) / "one", Path(tmp) / "pred"
        for i in range(args.images):
            write_case(root, pred, f"img{i:02d}", synthetic_image(seed=i, h=h, w=w), seed=i)
        copy_case((root, pred), (one, Path(tmp) / "pred1"), "img00", "img00")
        envs = {"default": {**os.environ, "MATBENCH_CACHE": str(Path(tmp) / "cache")}}
        if args.compare_env:
            name, _, value = args.compare_env.partition("=")
            envs[args.compare_env] = {**envs["default"], name: value}
        report: dict = {"size": [h, w], "images": args.images, "strategy": args.strategy, "cpus": os.cpu_count()}
        for label, env in envs.items():
            idle = per_image(root, one, Path(tmp) / "w", args.strategy, args.repeat, env)
            with busy_core():
                busy = per_image(root, one, Path(tmp) / "w", args.strategy, args.repeat, env)
            report[label] = {"idle_s": idle, "busy_s": busy, "ratio": busy / idle}
            print(f"{label:>24}: {idle:.3f} s per image idle, {busy:.3f} s with one core busy: {busy / idle:.2f}x")
    write_json(args.json, report)


if __name__ == "__main__":
    main()

"""Tiny suites for the tests: two 4-image sets of 40x52 pictures (an AIM-500 layout and the same
layout read as a ``folder`` set), prediction folders, and ``matbench bench`` as a user runs it."""
import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import make_aim500, make_predictions


def tiny_sets(base: Path) -> dict:
    """``{"aim500": root, "studio": root}``: two small sets with their trimaps, and a predictions
    folder for each (``pred/aim500``, ``pred/studio``)."""
    roots = {"aim500": make_aim500(base / "AIM-500", seed=0), "studio": make_aim500(base / "studio", seed=5)}
    for key, root in roots.items():
        make_predictions(root, base / "pred" / key, seed=2)
    return roots


def suite_text(base: Path, runs: str | None = None, datasets: str | None = None) -> str:
    """A suite over the tiny sets: ClosedForm, KNN and a predictions folder per set."""
    datasets = datasets or f"""[
    dict(name='aim500', data_root={str(base / 'AIM-500')!r}),
    dict(name='folder', key='studio', data_root={str(base / 'studio')!r},
         options=dict(image_dir='original', alpha_dir='mask', trimap_dir='trimap')),
]"""
    runs = runs or f"""[
    dict(label='ClosedForm', model='ClosedForm'),
    dict(label='KNN', model='KNN'),
    dict(label='theirs', predictions={str(base / 'pred')!r} + '/{{dataset}}'),
]"""
    return f"datasets = {datasets}\nruns = {runs}\n"


def write_suite(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def bench(*args: str, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    """``python -m matbench.cli bench ARGS`` in ``cwd``."""
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "matbench.cli", "bench", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def record(work: Path) -> dict:
    return json.loads((work / "suite.json").read_text())


def pairs(work: Path) -> dict:
    """``{(dataset, run): pair record}`` of ``work/suite.json``."""
    return {(p["dataset"], p["run"]): p for p in record(work)["pairs"]}


def reused(work: Path, folder: str) -> tuple[int, int]:
    """(rows reused, images) of a pair, from its results file (evaluate's ``meta.resume``)."""
    data = json.loads((work / folder / "results.json").read_text())
    return data["meta"]["resume"]["reused"], len(data["per_image"])

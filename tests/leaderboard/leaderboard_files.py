"""Hand-made results files for the leaderboard tests: per-image rows with known shifts and noise,
and the metadata `matbench eval` writes (the metric's description, groups, work dir)."""
import json
import subprocess
import sys

import numpy as np

from matbench.evaluation.summary import summarize
from matbench.groups import group_specs

KEYS = ["sad", "mse", "grad", "conn"]
METRIC = {"variant": "aim", "title": "official AIM code", "keys": KEYS,
          "columns": [["sad", "SAD", 2], ["mse", "MSE", 4], ["grad", "Grad.", 2], ["conn", "Conn.", 2]],
          "headers": {}, "note": "", "uses_trimap": True, "higher_is_better": []}
GROUPS = group_specs([
    {"key": "type", "values": {"SO": "SO", "STM": "STM", "NS": "NS"}, "placement": "whole", "closed": True,
     "avg_header": "Type Avg."},
    {"key": "category", "values": {"animal": "Animal", "plant": "Plant"}, "placement": "table",
     "title": "SAD per category", "avg_header": "Cat. Avg."}])
TYPES = ("SO", "STM", "NS")
CATEGORIES = ("animal", "plant")


def base_values(n, seed=0):
    return np.random.default_rng(seed).uniform(5.0, 50.0, n)


def make_rows(n=60, shift=0.0, noise=0.0, seed=1, names=None, base_seed=0):
    """Rows of ``n`` images: SAD = a fixed base per image + ``shift`` + Gaussian ``noise`` (symmetric
    about 0 by construction); the other metrics follow SAD."""
    base = base_values(n, base_seed)
    rng = np.random.default_rng(seed)
    half = rng.normal(0.0, noise, n // 2) if noise else np.zeros(n // 2)
    # each draw and its negative: noise that no seed can make look like a shift
    noises = rng.permutation(np.concatenate([half, -half, np.zeros(n % 2)]))
    rows = []
    for i in range(n):
        sad = float(base[i] + shift + noises[i])
        rows.append({"name": f"im{i:03d}" if names is None else names[i], "type": TYPES[i % 3],
                     "category": CATEGORIES[i % 2], "unknown_pixels": 100, "sad": sad, "mse": sad / 1000,
                     "grad": sad / 4, "conn": sad - 1})
    return rows


def results(rows, label, *, work_dir="/nowhere/run", test="predictions", metric=METRIC, **meta):
    data = {"meta": {"variant": metric["variant"], "label": label, "test": test,
                     "dataset": {"type": "aim500", "name": "aim500", "title": "AIM-500", "num_images": len(rows)},
                     "groups": GROUPS, "metric": metric, "work_dir": work_dir,
                     "source": {"type": "PredictionFolder", "root": "/p"}, **meta},
            "per_image": rows, "summary": summarize(rows, metric["keys"], GROUPS)}
    return data


def write_run(tmp_path, name, rows, label, **meta):
    """``tmp_path/name/results.json`` of a run whose work dir is that folder."""
    folder = tmp_path / name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "results.json"
    path.write_text(json.dumps(results(rows, label, work_dir=str(folder), **meta)))
    return path


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "matbench.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=600, cwd=cwd)


def one_line_error(proc, *needles):
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("matbench: error: "), proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def md_table(text, word="Whole image"):
    """The rows (lists of stripped cells) of the first Markdown table whose caption has ``word``,
    and its notes."""
    rows, notes, inside = [], [], False
    for line in text.splitlines():
        if line.startswith("**"):
            if inside:
                break
            inside = word in line
        elif inside and line.startswith("|") and not line.startswith("|--"):
            rows.append([c.strip() for c in line.strip("|").split("|")])
        elif inside and line.startswith("- "):
            notes.append(line[2:])
    return rows, notes

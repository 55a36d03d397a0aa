"""`matbench eval --launcher pytorch` under torchrun with two gloo processes: each image scored
exactly once, rows identical to one process, resumable like it."""
import json
import subprocess
import sys

import pytest


def _eval(root, pred, work, nproc):
    args = ["eval", "--dataset", "aim500", "--data-root", str(root), "--predictions", str(pred),
            "--work-dir", str(work), "--workers", "0", "--metric-workers", "1"]
    if nproc > 1:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(nproc),
               "--standalone", "-m", "matbench.cli", *args, "--launcher", "pytorch"]
    else:
        cmd = [sys.executable, "-m", "matbench.cli", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    return json.loads((work / "results.json").read_text()), proc


@pytest.fixture
def seven_images(tmp_path):
    from conftest import make_aim500, make_predictions

    labels = {f"im{i:02d}": {"type": ("SO", "STM", "NS")[i % 3], "category": "toy"} for i in range(7)}
    root = make_aim500(tmp_path / "data", labels=labels)
    return root, make_predictions(root, tmp_path / "pred")


def test_two_gloo_processes_match_one(seven_images, tmp_path):
    root, pred = seven_images
    single, _ = _eval(root, pred, tmp_path / "one", 1)
    work = tmp_path / "two"
    double, _ = _eval(root, pred, work, 2)
    assert double["per_image"] == single["per_image"]
    assert double["summary"] == single["summary"]
    # each image exactly once, split between the two ranks' journals (7 = 4 + 3)
    counts = sorted(len(p.read_text().splitlines()) for p in work.glob("per_image*.jsonl"))
    assert counts == [3, 4]

    # resume: drop rank 1's rows, run again with two processes
    rank1 = work / "per_image.rank1.jsonl"
    rank1.write_text("")
    (work / "results.json").unlink()
    resumed, _ = _eval(root, pred, work, 2)
    assert resumed["meta"]["resumed_images"] == 4
    assert resumed["per_image"] == single["per_image"]
    # and a single process resumes a two-process run
    (work / "results.json").unlink()
    again, _ = _eval(root, pred, work, 1)
    assert again["meta"]["resumed_images"] == 7 and again["per_image"] == single["per_image"]

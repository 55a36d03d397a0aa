"""The model zoo keeps the guarantees AimNet keeps (issue 19): a checkpoint with NaN weights, an
empty or a truncated one is one line naming the file or the image, and an interrupted evaluation
ends with exit 130, keeps its journal and resumes."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from matbench.api import MODELS, build, fill_deterministic
from matbench.plugins import load_plugins

ZOO = ["GFM", "P3MNet", "MODNet", "GCA", "MatteFormer", "IndexNet"]


def matbench(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "matbench.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=600, **kwargs)


def one_line_error(proc, *needles):
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert len(lines) == 1 and lines[0].startswith("matbench: error: "), proc.stderr[-3000:]
    for needle in needles:
        assert needle in lines[0], lines[0]


def _state(name: str) -> dict:
    load_plugins()
    return fill_deterministic(build(MODELS, {"type": name})).state_dict()


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """Per zoo network: a checkpoint whose every floating tensor is NaN (tied copies stay equal)."""
    folder = tmp_path_factory.mktemp("zoo_ckpt")
    paths = {}
    for name in ZOO:
        state = _state(name)
        for tensor in state.values():
            if tensor.is_floating_point():
                tensor.fill_(float("nan"))
        paths[name] = folder / f"{name}-nan.pth"
        torch.save(state, paths[name])
    return paths


@pytest.mark.parametrize("name", ZOO)
def test_nan_weights_are_one_line_naming_the_image(name, checkpoints, tmp_path):
    proc = matbench("eval", "--model", name, "--checkpoint", checkpoints[name], "--dataset-option", "indices=1",
                    "--work-dir", tmp_path / "w", "--no-report", "--metric-workers", "0")
    one_line_error(proc, "non-finite", ".jpg")


@pytest.mark.parametrize("name", ZOO)
@pytest.mark.parametrize("damage", ["empty", "truncated"])
def test_damaged_checkpoints_are_one_line_naming_the_file(name, damage, checkpoints, tmp_path):
    ckpt = tmp_path / "damaged.pth"
    data = checkpoints[name].read_bytes()
    ckpt.write_bytes(b"" if damage == "empty" else data[: len(data) // 3])
    proc = matbench("eval", "--model", name, "--checkpoint", ckpt, "--dataset-option", "indices=1",
                    "--work-dir", tmp_path / "w", "--no-report", "--metric-workers", "0")
    one_line_error(proc, str(ckpt))


@pytest.mark.parametrize("name", ["GFM", "P3MNet", "MODNet", "IndexNet"])
def test_an_interrupted_zoo_evaluation_resumes(name, tmp_path):
    """Ctrl-C after the first finished image: exit 130, the journal kept, the same command resumes."""
    ckpt = tmp_path / "w.pth"
    torch.save(_state(name), ckpt)
    work = tmp_path / "w"
    cmd = [sys.executable, "-m", "matbench.cli", "eval", "--model", name, "--checkpoint", str(ckpt),
           "--dataset-option", "indices=6", "--work-dir", str(work), "--no-report", "--threads", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    journal = work / "per_image.jsonl"
    deadline = time.time() + 300
    while time.time() < deadline and (not journal.exists() or not journal.read_text().strip()):
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err, err
    kept = len(journal.read_text().splitlines())
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    results = json.loads((work / "results.json").read_text())
    assert len(results["per_image"]) == 6 and results["meta"]["resumed_images"] >= min(kept, 6) - 1

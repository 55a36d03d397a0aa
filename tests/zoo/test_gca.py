"""GCA Matting (matbench_zoo.gca): the default procedure against the official code's own 8-bit
outputs (golden, tools/make_gca_golden.py), the released checkpoint format and wrong
checkpoints through the CLI, and an end-to-end eval on a miniature Composition-1k."""
from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from comp1k_mini import assert_rows_score_the_predictions, mini_comp1k, read8, write_scenes
from conftest import ROOT, load_tool
from matbench.api import InputError
from matbench_zoo.gca.conditioning import conditioned_state
from matbench_zoo.gca.network import GCA
from matbench_zoo.gca.strategies import reflect_indices

GOLDEN = np.load(ROOT / "tests" / "fixtures" / "zoo" / "gca_golden.npz")
CASES = load_tool("make_gca_golden")


def harness():
    """tools/official/gca.py (its ``save_released`` writes the released file format; nothing
    of it needs the official code)."""
    if str(ROOT / "tools") not in sys.path:
        sys.path.insert(0, str(ROOT / "tools"))
    return importlib.import_module("official.gca")


def matbench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "matbench.cli", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def state() -> dict[str, torch.Tensor]:
    return conditioned_state()


@pytest.fixture(scope="module")
def released(state, tmp_path_factory) -> Path:
    """The conditioned weights in the released gca-dist.pth layout."""
    path = tmp_path_factory.mktemp("gca") / "gca-dist.pth"
    harness().save_released(state, path)
    return path


@pytest.fixture(scope="module")
def scenes(tmp_path_factory) -> Path:
    """photos/<case>.png and trimaps/<case>.png of the golden cases."""
    return write_scenes(tmp_path_factory.mktemp("scenes"), CASES)


def test_state_dict_is_the_official_layout():
    state = GCA().state_dict()
    assert len(state) == 578 and sum(v.numel() for v in state.values()) == 25_291_776
    assert tuple(state["encoder.conv1.module.weight_bar"].shape) == (32, 6, 3, 3)
    assert tuple(state["decoder.layer1.0.conv1.module.weight_bar"].shape) == (512, 512, 4, 4)   # transposed
    assert tuple(state["decoder.layer1.0.conv1.module.weight_u"].shape) == (512,)
    assert tuple(state["encoder.layer2.0.downsample.1.module.weight_v"].shape) == (64,)
    assert "encoder.guidance_head.11.running_var" in state and "decoder.gca.W.1.weight" in state
    assert not any(k.endswith(".weight_orig") or k.endswith("conv1.module.weight") for k in state)


def test_reflect_padding_is_numpys():
    for n, before, after in ((1, 3, 4), (5, 0, 27), (7, 32, 57), (40, 32, 56)):
        expected = np.pad(np.arange(n), (before, after), mode="reflect")
        assert np.array_equal(np.arange(n)[reflect_indices(n, before, after, "cpu").numpy()], expected)


def predict(scenes: Path, checkpoint: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return matbench("predict", str(scenes / "photos"), "--trimap", str(scenes / "trimaps"), "--model", "GCA",
                    "--checkpoint", str(checkpoint), "--out", str(out), *extra)


@pytest.fixture(scope="module")
def predicted(released, scenes, tmp_path_factory) -> Path:
    """What `matbench predict` writes with no --strategy (gca-test) from the released format."""
    out = tmp_path_factory.mktemp("predicted")
    proc = predict(scenes, released, out)
    assert proc.returncode == 0, proc.stderr
    return out


def assert_official(out: Path, procedure: str) -> None:
    """The 8-bit alphas in ``out`` against the official script's (golden): 99.9 % within 2 grey
    levels, known regions forced exactly as the script forces them, an alpha that is not flat."""
    for name in CASES.CASES:
        ours, theirs = read8(out / f"{name}.png"), GOLDEN[f"{name}_{procedure}"]
        assert ours.shape == theirs.shape == CASES.CASES[name][:2]
        diff = np.abs(ours.astype(int) - theirs.astype(int))
        assert (diff <= 2).mean() >= 0.999, (name, procedure)
        trimap = CASES.scene(name)[1]
        assert np.array_equal(ours[trimap != 128], theirs[trimap != 128])
        unknown = ours[trimap == 128]
        assert ((unknown > 12) & (unknown < 243)).mean() > 0.3


def test_default_predict_is_the_official_test_phase(predicted):
    """main.py --phase=test: an odd size (padded) and multiples of 32 (not padded)."""
    assert_official(predicted, "test")


def test_gca_demo_is_demo_py(released, scenes, tmp_path):
    proc = predict(scenes, released, tmp_path / "out", "--strategy", "gca-demo")
    assert proc.returncode == 0, proc.stderr
    assert_official(tmp_path / "out", "demo")


def released_like(state: dict[str, torch.Tensor], case: str) -> dict[str, torch.Tensor]:
    """A released-format state dict made wrong as ``case`` says."""
    state = {f"module.{k}": v for k, v in state.items()}
    if case == "missing":
        del state["module.decoder.conv2.bias"]
    elif case == "baseline":      # the official res_shortcut encoder/decoder: no attention, no guidance head
        state = {k: v for k, v in state.items() if ".gca." not in k and "guidance_head" not in k}
    elif case == "one-channel trimap":
        state["module.encoder.conv1.module.weight_bar"] = torch.zeros(32, 4, 3, 3)
        state["module.encoder.shortcut.0.0.module.weight_bar"] = torch.zeros(32, 4, 3, 3)
        state["module.encoder.shortcut.0.0.module.weight_v"] = torch.zeros(36)
    return state


@pytest.mark.parametrize("case, needle", [("missing", "missing: decoder.conv2.bias"), ("baseline", "baseline"),
                                          ("one-channel trimap", "trimap_channel = 1")])
def test_checkpoints_of_other_variants_are_named(tmp_path, case, needle):
    path = tmp_path / "wrong.pth"
    torch.save({"iter": 1, "state_dict": released_like(GCA().state_dict(), case)}, path)
    with pytest.raises(InputError, match=needle) as info:
        GCA().load_checkpoint(str(path))
    assert info.value.path == str(path)


class _RunsCode:
    def __reduce__(self):
        return (print, ("unpickled: this ran code",))


def test_a_checkpoint_that_runs_code_is_a_one_line_error(scenes, tmp_path):
    """Through the CLI: one line naming the file, exit code 2, no traceback, nothing run (the
    wrong variants above reach the user the same way, as the InputError's one line)."""
    path = tmp_path / "wrong.pth"
    torch.save({"state_dict": released_like(GCA().state_dict(), "none"), "iter": _RunsCode()}, path)
    proc = predict(scenes, path, tmp_path / "out")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert path.name in lines[0] and "cannot load checkpoint safely" in lines[0]
    assert "this ran code" not in proc.stdout


def test_eval_on_comp1k_scores_what_predict_writes(released, predicted, tmp_path):
    root = mini_comp1k(tmp_path / "comp1k", CASES)
    work = tmp_path / "work"
    proc = matbench("eval", "--model", "GCA", "--checkpoint", str(released), "--dataset", "comp1k",
                    "--data-root", str(root), "--work-dir", str(work), "--no-report", "--metric-workers", "0")
    assert proc.returncode == 0, proc.stderr
    results = json.loads((work / "results.json").read_text())
    assert_rows_score_the_predictions(results, work, root, predicted, CASES.CASES)
    table = matbench("leaderboard", str(work / "results.json"), "--reference", "gca-readme")
    assert table.returncode == 0, table.stderr
    assert table.stdout.count("**Table") == 1                                  # the run beside the published row
    assert "GCA Matting (gca-dist, published)" in table.stdout and "35.28" in table.stdout
    assert "GCA Matting (gca-dist, matbench)" in table.stdout

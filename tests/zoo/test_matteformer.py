"""MatteFormer (matbench_zoo.matteformer) through the command line as a user runs it: the default
procedure (inference.py: padding, OS8 -> OS4 -> OS1 refinement, known regions, truncation) and
the other refinement widths against the official script's own 8-bit outputs
(tests/fixtures/zoo/matteformer_golden.npz, written by tools/make_matteformer_golden.py with the
same conditioned weights), the released checkpoint format, one-line errors for wrong checkpoints,
and `matbench eval` on a miniature Composition-1k next to the published row."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from comp1k_mini import assert_rows_score_the_predictions, mini_comp1k, read8, write_scenes
from conftest import ROOT, load_tool
from matbench.api import InputError, STRATEGIES, build, image_tensor, run_strategy, to_uint8
from matbench.networks import trimap_tensor
from matbench_zoo.matteformer import MatteFormer
from matbench_zoo.matteformer.conditioning import conditioned_state
from matbench_zoo.matteformer.strategy import reflect_index

GOLDEN = np.load(ROOT / "tests" / "fixtures" / "zoo" / "matteformer_golden.npz")
CASES = load_tool("make_matteformer_golden")


def matbench(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "matbench.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=600)


def ok(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def save_released(state: dict[str, torch.Tensor], path: Path, **extra) -> Path:
    """The layout of the released best_model.pth (trainers/trainer.py save_model): plain entries
    around ``state_dict``, whose keys all start with ``module.`` (DistributedDataParallel)."""
    torch.save({"iter": 200000, "loss": {"mse": torch.tensor(0.004), "sad": torch.tensor(23.8)},
                "state_dict": {f"module.{k}": v for k, v in state.items()},
                "opt_state_dict": {"state": {}, "param_groups": [{"lr": 0.0, "betas": (0.5, 0.999), "params": [0, 1]}]},
                "lr_state_dict": {"T_max": 190000, "last_epoch": 190000, "base_lrs": [0.001]}, **extra}, path)
    return path


@pytest.fixture(scope="module")
def state() -> dict[str, torch.Tensor]:
    return conditioned_state()


@pytest.fixture(scope="module")
def released(state, tmp_path_factory) -> Path:
    return save_released(state, tmp_path_factory.mktemp("matteformer") / "best_model.pth")


@pytest.fixture(scope="module")
def scenes(tmp_path_factory) -> Path:
    """photos/<case>.png and trimaps/<case>.png of the golden cases."""
    return write_scenes(tmp_path_factory.mktemp("scenes"), CASES)


def predict(scenes: Path, checkpoint: Path, out: Path, *extra) -> subprocess.CompletedProcess:
    return matbench("predict", scenes / "photos", "--trimap", scenes / "trimaps", "--model", "MatteFormer",
                    "--checkpoint", checkpoint, "--out", out, "--device", "cpu", *extra)


@pytest.fixture(scope="module")
def predicted(released, scenes, tmp_path_factory) -> Path:
    """What `matbench predict` writes with no --strategy, from the released file as it is."""
    out = tmp_path_factory.mktemp("predicted")
    ok(predict(scenes, released, out))
    return out


def test_state_dict_is_the_released_layout():
    state = MatteFormer().state_dict()
    assert len(state) == 509 and sum(v.numel() for v in state.values()) == 44_857_278
    for stage, blocks in enumerate((2, 2, 6, 2)):
        for b in range(blocks):
            prefix = f"encoder.layers.{stage}.blocks.{b}.attn."
            heads = (3, 6, 12, 24)[stage]
            assert tuple(state[prefix + "relative_position_bias_table"].shape) == (169 + 3 * (b + 1), heads)
            index = state[prefix + "relative_position_index"]
            assert index.dtype == torch.int64 and tuple(index.shape) == (49, 49 + 3 * (b + 1))
            assert index[:, 49:].tolist() == [list(range(169, 169 + 3 * (b + 1)))] * 49   # prior-token rows
    index = state["encoder.layers.0.blocks.0.attn.relative_position_index"]
    assert index[0, 0] == 84 and index[0, 48] == 0 and index[48, 0] == 168           # Swin's window offsets
    assert tuple(state["encoder.patch_embed.proj.weight"].shape) == (96, 6, 4, 4)
    assert tuple(state["encoder.shortcut.5.3.module.weight_bar"].shape) == (512, 512, 3, 3)
    assert tuple(state["decoder.layer1.0.conv1.module.weight_bar"].shape) == (512, 512, 4, 4)   # transposed
    assert "decoder.refine_OS8.3.bias" in state and "decoder.refine_OS8.2.weight" not in state  # shared LeakyReLU


def test_reflect_padding_is_numpys():
    for n, before, after in ((1, 3, 4), (5, 32, 59), (83, 32, 45), (96, 32, 32)):
        assert np.array_equal(reflect_index(n, before, after), np.pad(np.arange(n), (before, after), mode="reflect"))


def assert_official(out: Path, key: str) -> None:
    """The 8-bit alphas in ``out`` against the official script's: >= 99.9 % of the unknown
    pixels within 2 grey levels, known regions exactly as forced, an alpha that is not flat."""
    for name in CASES.CASES:
        ours, theirs = read8(out / f"{name}.png"), GOLDEN[key.format(name)]
        trimap = CASES.scene(name)[1]
        assert ours.shape == theirs.shape == trimap.shape
        unknown = trimap == 128
        diff = np.abs(ours.astype(int) - theirs.astype(int))
        assert (diff[unknown] <= 2).mean() >= 0.999, (name, key, (diff[unknown] <= 2).mean())
        assert np.array_equal(ours[~unknown], trimap[~unknown])
        assert ((ours[unknown] > 12) & (ours[unknown] < 243)).mean() > 0.15


def test_default_predict_is_inference_py(predicted):
    """An odd size (32 + rounding padding) and multiples of 32 (32 all round)."""
    assert_official(predicted, "{}")


def test_other_refinement_widths(state, tmp_path):
    """The configuration's self_refine_width1 / 2 as strategy options (here 58 and 30; in-process:
    the CLI path is the default's)."""
    network = MatteFormer()
    network.load_state_dict(state)
    strategy = build(STRATEGIES, {"type": "matteformer-inference", **CASES.WIDE})
    (tmp_path / "out").mkdir()
    for name in CASES.CASES:
        rgb, trimap = CASES.scene(name)
        with torch.no_grad():
            alpha = run_strategy(strategy, network.eval(), image_tensor(rgb, "cpu"), trimap_tensor(trimap, "cpu"))
        Image.fromarray(to_uint8(alpha["alpha"].numpy(), MatteFormer.save_rule)).save(tmp_path / "out" / f"{name}.png")
    assert_official(tmp_path / "out", "{}_wide")


def one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


class _RunsCode:
    def __reduce__(self):
        return (print, ("unpickled: this ran code",))


def wrong_checkpoint(case: str, path: Path) -> Path:
    """A checkpoint made wrong as ``case`` says (MatteFormer has one variant, so the wrong ones
    are a foreign network, missing keys, a corrupted buffer; the released format has no tied
    keys)."""
    state = MatteFormer().state_dict()
    if case == "swin-imagenet":        # the backbone's ImageNet checkpoint: 3-channel patches, no prior rows
        state = {k.removeprefix("encoder."): v for k, v in state.items() if k.startswith("encoder.layers.0.blocks.0")}
        state["layers.0.blocks.0.attn.relative_position_bias_table"] = torch.zeros(169, 3)
        state["patch_embed.proj.weight"] = torch.zeros(96, 3, 4, 4)
        torch.save({"model": state}, path)
        return path
    if case == "missing":
        state = {k: v for k, v in state.items() if not k.startswith("decoder.refine_OS1.")}
    elif case == "index":
        state["encoder.layers.2.blocks.3.attn.relative_position_index"] = torch.zeros(49, 61, dtype=torch.int64)
    return save_released(state, path)


def test_a_checkpoint_that_runs_code_is_a_one_line_error(scenes, tmp_path):
    """Through the CLI: one line naming the file, exit code 2, no traceback, nothing run (the
    other wrong checkpoints below reach the user the same way: an InputError is that line)."""
    path = tmp_path / "wrong.pth"
    torch.save({"iter": _RunsCode(), "state_dict": {"module.decoder.refine_OS1.3.bias": torch.zeros(1)}}, path)
    proc = predict(scenes, path, tmp_path / "out")
    one_line_error(proc, path.name, "cannot load checkpoint safely")
    assert "this ran code" not in proc.stdout


@pytest.mark.parametrize("case, needle", [
    ("swin-imagenet", "not a state dict"),
    ("swin-keys", "missing: encoder.patch_embed.proj.weight"),
    ("missing", "checkpoint does not fit the model (missing: decoder.refine_OS1.0.weight"),
    ("index", "encoder.layers.2.blocks.3.attn.relative_position_index differs"),
])
def test_wrong_checkpoints_are_named(tmp_path, case, needle):
    path = tmp_path / f"{case}.pth"
    if case == "swin-keys":         # the backbone's keys in a plain state dict
        torch.save({"patch_embed.proj.weight": torch.zeros(96, 3, 4, 4)}, path)
    else:
        wrong_checkpoint(case, path)
    with pytest.raises(InputError) as info:
        MatteFormer().load_checkpoint(path)
    assert needle in str(info.value) and str(path) in str(info.value)


def test_eval_on_comp1k_scores_what_predict_writes(released, predicted, tmp_path):
    root = mini_comp1k(tmp_path / "comp1k", CASES)
    work = tmp_path / "work"
    ok(matbench("eval", "--model", "MatteFormer", "--checkpoint", released, "--dataset", "comp1k", "--data-root", root,
                "--work-dir", work, "--no-report", "--workers", "0", "--metric-workers", "0", "--device", "cpu"))
    results = json.loads((work / "results.json").read_text())
    assert results["meta"]["source"]["strategy"] == {"type": "matteformer-inference"}
    assert_rows_score_the_predictions(results, work, root, predicted, CASES.CASES)
    lines = ok(matbench("leaderboard", "--reference", "matteformer-readme", work / "results.json")).stdout.splitlines()
    published = next(i for i, line in enumerate(lines) if line.startswith("| MatteFormer (published)"))
    assert "23.80" in lines[published] and "18.90" in lines[published]
    assert lines[published + 1].startswith("| MatteFormer (matbench)") and "| inference.py " in lines[published + 1]

"""P3MNet (matbench_zoo.p3m) against the official P3M-Net code, through the command line as a user
runs it: the default procedure (RESIZE 1/2) and HYBRID against the official core/test.py's 8-bit
files (tests/fixtures/zoo/p3m_golden.npz, written by tools/make_p3m_golden.py with the same
conditioned weights), the released checkpoint format, one-line errors for wrong checkpoints, and
`matbench eval` on a miniature P3M-500-P next to the published P3M-Net row."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from matbench.registry import STRATEGIES, build
from matbench.networks import image_tensor, run_strategy
from matbench.io import to_uint8
from matbench_zoo.p3m import P3MNet
from matbench_zoo.p3m.conditioning import conditioned_state, portrait

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "zoo"
GOLDEN = np.load(FIXTURES / "p3m_golden.npz")
#: as tools/make_p3m_golden.py: name -> (height, width, seed) of the photos, the SAMPLES limit
PHOTOS = {"odd": (131, 197, 11), "exact": (128, 192, 12)}
SAMPLES_SHORT_SIDE = 100


def cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "matbench.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def ok(proc):
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def one_line_error(proc, *needles):
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("matbench: error: "), proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def agree(ours: np.ndarray, theirs: np.ndarray) -> float:
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype == np.uint8
    return float((np.abs(ours.astype(int) - theirs.astype(int)) <= 2).mean())


def grey(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))


@pytest.fixture(scope="module")
def state():
    return conditioned_state()


@pytest.fixture(scope="module")
def released(state, tmp_path_factory):
    """The conditioned weights in the released file's format: {'state_dict': ...} of the
    unwrapped network, 713 keys, the encoder's tensors under two names sharing one storage (what
    tools/official/p3m.py save_released writes)."""
    net = P3MNet()
    net.load_state_dict(state)
    path = tmp_path_factory.mktemp("ckpt") / "p3mnet_pretrained_on_p3m10k.pth"
    torch.save({"state_dict": net.state_dict()}, path)
    return path


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    for name, spec in PHOTOS.items():
        Image.fromarray(portrait(*spec)).save(folder / f"{name}.png")
    return folder


@pytest.fixture(scope="module")
def predicted(photos, released, tmp_path_factory):
    """`matbench predict` with no --strategy (the default procedure)."""
    out = tmp_path_factory.mktemp("predicted")
    ok(cli("predict", photos, "--model", "P3MNet", "--checkpoint", released, "--out", out, "--device", "cpu"))
    return out


# ------------------------------------------------------------------------------- layout and format

def test_state_dict_has_the_official_layout(state):
    net = P3MNet()
    own = net.state_dict()
    assert len(own) == 713 and list(own) == list(state)
    assert sum(p.numel() for p in net.parameters()) == 39_478_060
    assert own["encoder0.0.weight"].data_ptr() == own["resnet.conv1.weight"].data_ptr()
    assert own["encoder4.2.bn2.running_var"].data_ptr() == own["resnet.layer4.2.bn2.running_var"].data_ptr()
    assert tuple(own["resnet.fc.weight"].shape) == (1000, 512)
    assert tuple(own["dbfi_0.conv2.weight"].shape) == (3, 64, 3, 3)          # training-only side head
    assert tuple(own["tfi_3.transform.weight"].shape) == (128, 256, 1, 1)    # one projection for three inputs
    assert tuple(own["decoder0_g.6.weight"].shape) == (3, 64, 3, 3)


def test_released_format(released):
    ckpt = torch.load(released, weights_only=True)
    assert list(ckpt) == ["state_dict"]
    state = ckpt["state_dict"]
    assert len(state) == 713 and not any(k.startswith("module.") for k in state)
    assert state["encoder1.0.1.conv1.weight"].untyped_storage().data_ptr() == \
        state["resnet.layer1.1.conv1.weight"].untyped_storage().data_ptr()


def test_conditioned_alpha_spans_zero_to_one():
    got = GOLDEN["odd_resize"]
    soft = ((got > 12) & (got < 243)).mean()           # strictly between 0.05 and 0.95
    assert soft > 0.2 and (got == 0).any() and (got == 255).any()


# ----------------------------------------------------------------------- against the official code

@pytest.mark.parametrize("name", sorted(PHOTOS))
def test_default_procedure_matches_official(predicted, name):
    assert agree(grey(predicted / f"{name}.png"), GOLDEN[f"{name}_resize"]) >= 0.999


def _strategy_8bit(state, photo: np.ndarray, **strategy) -> np.ndarray:
    """The 8-bit alpha of a strategy, in this process (the command line is tested above)."""
    net = P3MNet()
    net.load_state_dict(state)
    with torch.no_grad():
        alpha = run_strategy(build(STRATEGIES, strategy), net.eval(), image_tensor(photo, "cpu"))["alpha"]
    return to_uint8(alpha.numpy(), P3MNet.save_rule)


@pytest.mark.parametrize("name", sorted(PHOTOS))
def test_hybrid_matches_official(state, name):
    ours = _strategy_8bit(state, portrait(*PHOTOS[name]), type="p3m-hybrid")
    assert agree(ours, GOLDEN[f"{name}_hybrid"]) >= 0.999


@pytest.mark.parametrize("setting", ["resize", "hybrid"])
def test_samples_mode_matches_official(state, setting):
    ours = _strategy_8bit(state, portrait(*PHOTOS["odd"]), type=f"p3m-{setting}", short_side=SAMPLES_SHORT_SIDE)
    assert agree(ours, GOLDEN[f"odd_{setting}_samples"]) >= 0.999


def test_default_strategy_and_labels():
    assert build(STRATEGIES, dict(type=P3MNet.default_strategy)).label() == "Resize (1/2)"
    assert build(STRATEGIES, dict(type="p3m-hybrid")).label() == "Hybrid (1 & 1/2)"


# --------------------------------------------------------------------------------- wrong checkpoints

def _code_running_pickle(path: Path) -> None:
    class Exploit:
        def __reduce__(self):
            return (print, ("this pickle runs code",))
    torch.save({"state_dict": {"x": Exploit()}}, path)


def test_wrong_checkpoints_are_one_line_errors(state, photos, tmp_path):
    from matbench_aim.models import AimNet

    # tensors of the right shapes that store one number each (expanded views): small files
    light = {k: torch.zeros((), dtype=v.dtype).expand(v.shape) for k, v in state.items()}
    bad = {}
    bad["aimnet.pth"] = {"state_dict": {k: torch.zeros(1) for k in AimNet().state_dict()}}
    bad["missing.pth"] = {"state_dict": {k: v for k, v in light.items() if not k.startswith("decoder_final_l")}}
    differing = dict(light)
    differing["encoder1.0.1.conv1.weight"] = light["resnet.layer1.1.conv1.weight"] + 1
    bad["tied.pth"] = {"state_dict": differing}
    for name, obj in bad.items():
        torch.save(obj, tmp_path / name)
    _code_running_pickle(tmp_path / "pickle.pth")
    expected = {"aimnet.pth": ("an AimNet checkpoint", "--model AimNet"),
                "missing.pth": ("missing: decoder_final_l.weight",),
                "tied.pth": ("two different values for one tied tensor", "encoder1.0.1.conv1.weight"),
                "pickle.pth": ("cannot load checkpoint safely",)}
    procs = {name: subprocess.Popen([sys.executable, "-m", "matbench.cli", "predict", str(photos), "--model", "P3MNet",
                                     "--checkpoint", str(tmp_path / name), "--out", str(tmp_path / f"out-{name}")],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name in expected}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        one_line_error(subprocess.CompletedProcess(proc.args, proc.returncode, out, err), name, *expected[name])


# ------------------------------------------------------------------------------------- evaluation

def _miniature_p3m500p(root: Path, photos: Path) -> Path:
    """P3M-10k/validation/P3M-500-P: the two photos as blurred_image/, soft-disc mattes, trimaps."""
    split = root / "P3M-10k" / "validation" / "P3M-500-P"
    for sub in ("blurred_image", "mask", "trimap"):
        (split / sub).mkdir(parents=True)
    for name, (h, w, _) in PHOTOS.items():
        (split / "blurred_image" / f"{name}.png").write_bytes((photos / f"{name}.png").read_bytes())
        yy, xx = np.mgrid[0:h, 0:w]
        alpha = np.clip((0.3 * min(h, w) - np.hypot(yy - h / 2, xx - w / 2)) / 5 + 0.5, 0, 1)
        a8 = np.round(alpha * 255).astype(np.uint8)
        trimap = np.where(a8 == 0, 0, np.where(a8 == 255, 255, 128)).astype(np.uint8)
        Image.fromarray(a8).save(split / "mask" / f"{name}.png")
        Image.fromarray(trimap).save(split / "trimap" / f"{name}.png")
    return root / "P3M-10k"


def test_eval_end_to_end_next_to_the_published_row(photos, released, predicted, tmp_path):
    from matbench_metrics.aim import KEYS, aim_metrics

    root = _miniature_p3m500p(tmp_path / "data", photos)
    work = tmp_path / "work"
    ok(cli("eval", "--model", "P3MNet", "--checkpoint", released, "--dataset", "p3m500-p", "--data-root", root,
           "--work-dir", work, "--device", "cpu", "--workers", 0, "--metric-workers", 0, "--no-report"))
    results = json.loads((work / "results.json").read_text())
    assert results["meta"]["variant"] == "aim"
    rows = {r["name"]: r for r in results["per_image"]}
    assert sorted(rows) == sorted(PHOTOS)
    split = root / "validation" / "P3M-500-P"
    for name, row in rows.items():
        pred = grey(work / "predictions" / f"{name}.png")
        np.testing.assert_array_equal(pred, grey(predicted / f"{name}.png"))   # what `predict` writes
        expected = aim_metrics(pred / 255.0, grey(split / "mask" / f"{name}.png") / 255.0,
                               grey(split / "trimap" / f"{name}.png"))
        assert {k: row[k] for k in KEYS} == expected
    # the run is the row right under the published P3M-Net row, in the same table
    lines = ok(cli("leaderboard", "--reference", "p3m-readme", work / "results.json")).stdout.splitlines()
    published = next(i for i, line in enumerate(lines) if line.startswith("| P3M-Net (published)"))
    assert "8.73" in lines[published] and "Resize (1/2), B:B" in lines[published]
    assert lines[published + 1].startswith("| P3M-Net (matbench)") and "| Resize (1/2) " in lines[published + 1]

"""The example plugin (examples/plugin) as a stranger would use it: built and installed as its own
distribution, found through its entry point, and used from the command line.

It is installed with pip into a temporary folder (``--target``) put on the subprocesses'
PYTHONPATH, not into the test environment: nothing is left installed when a run is killed, and
tests running beside this one never see the plugin. Everything else goes through ``matbench``
subprocesses, so discovery is the real one.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy.ndimage import gaussian_filter

PLUGIN = Path(__file__).resolve().parents[2] / "examples" / "plugin"
PACKAGE = "matbench-example-plugin"
LIGHTING = {"p1": "day", "p2": "night", "p3": "day", "p4": "night"}
SIZE = (64, 80)          # multiples of TinyMattingNet.size_divisor (4), so "pad" pads nothing


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory):
    """The environment of a ``matbench`` subprocess that has the example plugin installed."""
    tmp = tmp_path_factory.mktemp("external_plugin")
    source = tmp / "src"
    # a copy: building writes build/ and *.egg-info next to the sources
    shutil.copytree(PLUGIN, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    site = tmp / "site"
    cmd = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
           "--disable-pip-version-check", "--quiet", "--target", str(site), str(source)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    env = dict(os.environ, COLUMNS="250", CUDA_VISIBLE_DEVICES="")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH")) if p)
    return env


def matbench(env, *args, ok=True):
    proc = subprocess.run([sys.executable, "-m", "matbench.cli", *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=600)
    if ok:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def python(env, code):
    """Run ``code`` in a subprocess that can import the plugin; returns its stdout as JSON."""
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def photo_set(tmp_path_factory):
    """The plugin's layout: photos/<stem>.jpg, mattes/<stem>_alpha.png, trimaps/<stem>_trimap.png,
    lighting.json."""
    root = tmp_path_factory.mktemp("photo_set")
    for sub in ("photos", "mattes", "trimaps"):
        (root / sub).mkdir()
    rng = np.random.default_rng(0)
    h, w = SIZE
    yy, xx = np.mgrid[0:h, 0:w]
    for name in LIGHTING:
        cy, cx, r = rng.uniform(0.35, 0.65) * h, rng.uniform(0.35, 0.65) * w, rng.uniform(0.2, 0.3) * h
        alpha = np.clip((r - np.hypot(yy - cy, xx - cx)) / 5 + 0.5, 0, 1)
        a8 = np.round(alpha * 255).astype(np.uint8)
        trimap = np.full((h, w), 128, np.uint8)
        trimap[a8 == 0], trimap[a8 == 255] = 0, 255
        photo = alpha[..., None] * rng.uniform(0, 255, 3) + (1 - alpha[..., None]) * rng.uniform(0, 255, (h, w, 3))
        Image.fromarray(np.round(photo).astype(np.uint8)).save(root / "photos" / f"{name}.jpg", quality=95)
        Image.fromarray(a8).save(root / "mattes" / f"{name}_alpha.png")
        Image.fromarray(trimap).save(root / "trimaps" / f"{name}_trimap.png")
    (root / "lighting.json").write_text(json.dumps({n: {"lighting": v} for n, v in LIGHTING.items()}))
    return root


def eval_args(data_root, work, *more):
    return ("eval", "--dataset", "photo-mattes", "--data-root", data_root, "--work-dir", work,
            "--workers", "0", "--metric-workers", "0", "--no-report", *more)


def rows_of(work):
    results = json.loads((Path(work) / "results.json").read_text())
    return results, {r["name"]: r for r in results["per_image"]}


def read(path):
    return np.asarray(Image.open(path))


def test_list_names_the_plugins_and_their_package(plugin_env):
    out = matbench(plugin_env, "list").stdout
    lines = {line.split("│")[2].strip(): line for line in out.splitlines() if line.count("│") >= 4}
    for name in ("BlurredTrimap", "TinyMattingNet", "photo-mattes", "pad", "sad-only"):
        assert PACKAGE in lines[name], lines.get(name)
    assert "trimap-based" in lines["BlurredTrimap"] and "network (automatic)" in lines["TinyMattingNet"]


def test_trimap_method_network_checkpoints_and_leaderboard(plugin_env, photo_set, tmp_path):
    env = plugin_env
    # the trimap-based method, on the plugin's dataset, scored with the plugin's metric variant
    matbench(env, *eval_args(photo_set, tmp_path / "blur", "--model", "BlurredTrimap", "--metric-variant", "sad-only"))
    results, rows = rows_of(tmp_path / "blur")
    assert results["meta"]["variant"] == "sad-only" and results["meta"]["dataset"]["name"] == "photo-mattes"
    assert results["meta"]["groups"][0]["key"] == "lighting"
    for name, row in rows.items():
        trimap = read(photo_set / "trimaps" / f"{name}_trimap.png")
        alpha = read(photo_set / "mattes" / f"{name}_alpha.png") / 255.0
        pred = np.where(trimap == 255, 1.0, np.where(trimap == 0, 0.0,
                                                     gaussian_filter(trimap / 255.0, 3.0, mode="nearest")))
        err = np.abs(pred - alpha)
        assert row["lighting"] == LIGHTING[name]
        assert row["sad"] == pytest.approx(err.sum() / 1000, rel=1e-12)
        assert row["sad_unknown"] == pytest.approx(err[trimap == 128].sum() / 1000, rel=1e-12)
    day = results["summary"]["lighting"]["sad"]["day"]
    assert day == pytest.approx((rows["p1"]["sad"] + rows["p3"]["sad"]) / 2, rel=1e-12)

    # the network: deterministic random weights, then a checkpoint saved as .safetensors and .pth
    matbench(env, *eval_args(photo_set, tmp_path / "random", "--model", "TinyMattingNet", "--strategy", "pad",
                             "--random-weights"))
    expected = python(env, f"""
import json, numpy as np, torch
from PIL import Image
from safetensors.torch import save_file
from matbench_example_plugin.network import TinyMattingNet
torch.manual_seed(0)
net = TinyMattingNet().eval()
save_file(net.state_dict(), {str(tmp_path / "tiny.safetensors")!r})
torch.save(net.state_dict(), {str(tmp_path / "tiny.pth")!r})
sad = {{}}
for name in {sorted(LIGHTING)!r}:
    photo = np.asarray(Image.open({str(photo_set / "photos")!r} + f"/{{name}}.jpg"))
    x = torch.tensor(photo).permute(2, 0, 1)[None].double().div(255).float()
    with torch.no_grad():
        pred = net(net.normalize(x))[0, 0].double().numpy()
    alpha = np.asarray(Image.open({str(photo_set / "mattes")!r} + f"/{{name}}_alpha.png")) / 255.0
    sad[name] = float(np.abs(pred - alpha).sum() / 1000)
print(json.dumps(sad))
""")
    by_format = {}
    for suffix in ("safetensors", "pth"):
        work = tmp_path / f"ckpt_{suffix}"
        matbench(env, *eval_args(photo_set, work, "--model", "TinyMattingNet", "--strategy", "pad",
                                 "--checkpoint", tmp_path / f"tiny.{suffix}", "--label", f"Tiny ({suffix})"))
        results, rows = rows_of(work)
        assert results["meta"]["variant"] == "aim"            # the dataset's default_variant
        by_format[suffix] = {n: r["sad"] for n, r in rows.items()}
        for name, sad in expected.items():
            assert rows[name]["sad"] == pytest.approx(sad, rel=1e-9, abs=1e-12)
    assert by_format["safetensors"] == by_format["pth"]

    # a first-party strategy serves the plugin's network too
    matbench(env, *eval_args(photo_set, tmp_path / "full", "--model", "TinyMattingNet", "--strategy", "full",
                             "--checkpoint", tmp_path / "tiny.pth"))

    # the leaderboard over everything: one table per (dataset, variant), the group as columns
    table = matbench(env, "leaderboard", *(tmp_path / w / "results.json" for w in
                                           ("blur", "random", "ckpt_safetensors", "ckpt_pth", "full"))).stdout
    assert "variant sad-only" in table and "variant aim" in table
    for label in ("BlurredTrimap", "TinyMattingNet / pad (random weights)", "Tiny (safetensors)", "Tiny (pth)",
                  "Day", "Night", "Unknown SAD"):
        assert label in table, label


def test_predict_model_options_and_one_line_errors(plugin_env, photo_set, tmp_path):
    env = plugin_env
    # a checkpoint of a narrower network than the default (width=4, not 8)
    python(env, f"""
import torch
from matbench_example_plugin.network import TinyMattingNet
torch.save(TinyMattingNet(width=4).state_dict(), {str(tmp_path / "narrow.pth")!r})
print("{{}}")
""")
    # predict: no --strategy, so the network's default_strategy ("pad"), given an option; the
    # model option makes the network fit the checkpoint
    out = tmp_path / "mattes"
    matbench(env, "predict", photo_set / "photos", "--model", "TinyMattingNet", "--model-option", "width=4",
             "--checkpoint", tmp_path / "narrow.pth", "--strategy-option", "flip=True", "--out", out,
             "--device", "cpu")
    for name in LIGHTING:
        assert read(out / f"{name}.png").shape == SIZE
    # a first-party strategy that resizes: 64 x 80 at 1/2, floored to its divisor (32), is 32 x 32
    matbench(env, "predict", photo_set / "photos" / "p1.jpg", "--model", "TinyMattingNet", "--random-weights",
             "--strategy", "resize", "--strategy-option", "ratio=0.5", "--out", tmp_path / "resized", "--device", "cpu")
    assert read(tmp_path / "resized" / "p1.png").shape == SIZE

    def one_line_error(*args, needles):
        proc = matbench(env, *eval_args(photo_set, tmp_path / "w", *args), ok=False)
        assert proc.returncode == 2, proc.stderr[-3000:]
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("matbench: error:"), proc.stderr[-3000:]
        for needle in needles:
            assert needle in lines[0], lines[0]

    net = ("--model", "TinyMattingNet", "--strategy", "pad")
    one_line_error(*net, "--random-weights", "--strategy-option", "flp=True",
                   needles=("pad: unknown option 'flp'", "did you mean 'flip'"))
    one_line_error(*net, "--random-weights", "--model-option", "widht=4",
                   needles=("TinyMattingNet: unknown option 'widht'", "did you mean 'width'"))
    one_line_error("--model", "BlurredTrimap", "--dataset-option", "alpha_sufix=_a",
                   needles=("unknown option 'alpha_sufix'", "did you mean 'alpha_suffix'"))
    one_line_error(*net, needles=("has no weights", "no published weights"))
    # strict loading: the checkpoint of another width names the mis-shaped keys
    one_line_error(*net, "--checkpoint", tmp_path / "narrow.pth",
                   needles=("narrow.pth", "does not fit", "mis-shaped: down1.weight"))

"""What a new plugin author ran into (issue 18): a minimal network is a model, a variant can extend
another one's columns, groups can come from a CSV file or from code, and the command works from
the folder that holds a checkout named ``matbench``."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from plugin_helpers import fake_dist

ROOT = Path(__file__).resolve().parents[2]

MINIMAL_NETWORK = '''
    import torch
    from matbench.api import MODELS

    @MODELS.register_module()
    class Minimal(torch.nn.Module):
        """A network with nothing but forward (every attribute is optional)."""

        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 1, 3, padding=1)

        def forward(self, x):
            return torch.sigmoid(self.conv(x))
'''

BAND_VARIANT = '''
    import numpy as np
    from matbench.api import METRICS, lookup

    Aim = lookup(METRICS, "aim")

    def band_sad(pred, alpha, trimap):
        band = (alpha > 0) & (alpha < 1)
        return float(np.abs(pred - alpha)[band].sum() / 1000)

    @METRICS.register_module(name="aim-band")
    class AimBand(Aim):
        """The aim variant plus SAD where the true alpha is strictly between 0 and 1."""

        variant = "aim-band"
        title = "official AIM code + band SAD"
        keys = Aim.keys + ("sad_band",)
        columns = Aim.columns + (("sad_band", "Band SAD", 2),)

        @staticmethod
        def compute_image(pred, alpha, trimap):
            return {**Aim.compute_image(pred, alpha, trimap), "sad_band": band_sad(pred, alpha, trimap)}
'''


def _env(site: Path, cache: Path) -> dict:
    return {**os.environ, "PYTHONPATH": str(site), "MATBENCH_CACHE": str(cache), "COLUMNS": "200"}


def test_a_minimal_network_is_listed_as_a_model(tmp_path):
    fake_dist(tmp_path / "site", "mb_minimal", MINIMAL_NETWORK, "mb-minimal")
    env = _env(tmp_path / "site", tmp_path / "cache")
    models = subprocess.run([sys.executable, "-m", "matbench.cli", "list", "models"], capture_output=True,
                            text=True, env=env, timeout=300)
    training = subprocess.run([sys.executable, "-m", "matbench.cli", "list", "training"], capture_output=True,
                              text=True, env=env, timeout=300)
    assert " Minimal " in models.stdout and "network (automatic)" in models.stdout, models.stderr
    assert " Minimal " not in training.stdout
    # training pieces stay out of the models (and out of "did you mean" lists)
    for piece in ("AimAlphaLoss", "AimMattor", "ResNet34MP", "StrategyPredictor", "PredictionFolder"):
        assert f" {piece} " not in models.stdout
    unknown = subprocess.run([sys.executable, "-m", "matbench.cli", "eval", "--model", "Minmal", "--random-weights"],
                             capture_output=True, text=True, env=env, timeout=300)
    assert unknown.returncode == 2 and "did you mean 'Minimal'" in unknown.stderr
    assert "AimMattor" not in unknown.stderr and "StrategyPredictor" not in unknown.stderr


def test_a_variant_can_extend_another_ones_columns(tmp_path, tiny_aim500, tiny_predictions):
    fake_dist(tmp_path / "site", "mb_band", BAND_VARIANT, "mb-band")
    env = _env(tmp_path / "site", tmp_path / "cache")
    proc = subprocess.run([sys.executable, "-m", "matbench.cli", "eval", "--dataset", "aim500", "--data-root",
                           str(tiny_aim500), "--predictions", str(tiny_predictions), "--metric-variant", "aim-band",
                           "--work-dir", str(tmp_path / "w"), "--no-report", "--metric-workers", "1"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Band SAD" in proc.stdout
    rows = json.loads((tmp_path / "w" / "results.json").read_text())["per_image"]
    assert all({"sad", "conn", "grad", "sad_band"} <= set(row) for row in rows)
    # subclassing the default variant does not make another default
    default = subprocess.run([sys.executable, "-m", "matbench.cli", "eval", "--dataset", "folder", "--data-root",
                              str(tiny_aim500), "--dataset-option", "image_dir=original", "--dataset-option",
                              "alpha_dir=mask", "--predictions", str(tiny_predictions), "--work-dir",
                              str(tmp_path / "w2"), "--no-report"], capture_output=True, text=True, env=env,
                             timeout=300)
    assert default.returncode == 0, default.stderr
    assert json.loads((tmp_path / "w2" / "results.json").read_text())["meta"]["variant"] == "aim"


def test_groups_from_a_csv_labels_file(tiny_aim500, tiny_predictions, tmp_path):
    from matbench.evaluation.options import make_job
    from matbench.evaluation.run import evaluate

    (tiny_aim500 / "lighting.csv").write_text("name,lighting\na01,day\nb02,night\nc03,day\nd04,night\n")
    job = make_job(dataset="folder", data_root=tiny_aim500, predictions=tiny_predictions, work_dir=tmp_path / "w",
                   dataset_options=["image_dir=original", "alpha_dir=mask", "labels_file=lighting.csv"],
                   workers=0, metric_workers=0)
    results = evaluate(job)
    assert {r["name"]: r["lighting"] for r in results["per_image"]} == {
        "a01": "day", "b02": "night", "c03": "day", "d04": "night"}
    assert set(results["summary"]["lighting"]["sad"]) == {"day", "night"}


def test_groups_from_code_are_checked_like_a_file(tiny_aim500):
    from matbench.datasets import MattingDataset
    from matbench.errors import InputError

    class ByName(MattingDataset):
        METAINFO = {**MattingDataset.METAINFO, "groups": [dict(key="half", values={"a": "A", "b": "B"}, closed=True)]}

        def labels(self, names):
            return {n: {"half": "a" if n < "c" else "c"} for n in names}

    with pytest.raises(InputError, match="has half 'c' \\(expected one of a, b\\)"):
        ByName(tiny_aim500, image_dir="original", alpha_dir="mask")

    class Fine(ByName):
        def labels(self, names):
            return {n: {"half": "a" if n < "c" else "b"} for n in names}

    dataset = Fine(tiny_aim500, image_dir="original", alpha_dir="mask")
    assert [dataset.get_data_info(i)["half"] for i in range(len(dataset))] == ["a", "a", "b", "b"]


def test_the_command_works_beside_a_checkout_named_matbench(tmp_path):
    """From the folder that holds a clone named ``matbench``, Python takes the clone for the
    package (a namespace package) and imported its plugins/ folder as matbench.plugins."""
    (tmp_path / "matbench").symlink_to(ROOT, target_is_directory=True)
    proc = subprocess.run([sys.executable, "-m", "matbench.cli", "list", "models"], capture_output=True, text=True,
                          cwd=tmp_path, env={**os.environ, "COLUMNS": "200"}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert " AimNet " in proc.stdout and "Traceback" not in proc.stderr


def test_a_name_whose_plugin_was_uninstalled_says_which_package(tmp_path):
    fake_dist(tmp_path / "site", "mb_band", BAND_VARIANT, "mb-band")
    cache = tmp_path / "cache"
    listed = subprocess.run([sys.executable, "-m", "matbench.cli", "list", "metrics"], capture_output=True, text=True,
                            env=_env(tmp_path / "site", cache), timeout=300)
    assert "aim-band" in listed.stdout
    proc = subprocess.run([sys.executable, "-m", "matbench.cli", "eval", "--metric-variant", "aim-band",
                           "--predictions", str(tmp_path)], capture_output=True, text=True,
                          env=_env(tmp_path / "elsewhere", cache), timeout=300)      # uninstalled
    assert proc.returncode == 2 and "came from the package mb-band" in proc.stderr, proc.stderr


JIT_VARIANT = '''
    import numpy as np
    from numba import njit
    from matbench.api import METRICS, ImageMetric

    @njit(cache=True)
    def _abs_sum(pred, alpha):
        total = 0.0
        for i in range(pred.size):
            total += abs(pred.flat[i] - alpha.flat[i])
        return total

    @METRICS.register_module(name="jit-sad")
    class JitSad(ImageMetric):
        variant = "jit-sad"
        keys = ("sad",)

        @staticmethod
        def compute_image(pred, alpha, trimap):
            return {"sad": _abs_sum(pred, alpha) / 1000}
'''


def test_the_first_run_says_it_compiles_the_kernels_once(tmp_path, tiny_aim500, tiny_predictions):
    fake_dist(tmp_path / "site", "mb_jit", JIT_VARIANT, "mb-jit")
    env = {**_env(tmp_path / "site", tmp_path / "cache"), "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    outputs = []
    for run in ("first", "second"):
        proc = subprocess.run([sys.executable, "-m", "matbench.cli", "eval", "--dataset", "aim500", "--data-root",
                               str(tiny_aim500), "--predictions", str(tiny_predictions), "--metric-variant", "jit-sad",
                               "--work-dir", str(tmp_path / run), "--no-report"],
                              capture_output=True, text=True, env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr
        outputs.append(proc.stderr)
    assert "compiling the metric kernels of 'jit-sad'" in outputs[0]
    assert "compiling" not in outputs[1]
    warm = subprocess.run([sys.executable, "-m", "matbench.cli", "warmup"], capture_output=True, text=True, env=env,
                          timeout=600)
    from matbench import png
    from matbench.kernels import kernels

    expected = 1 + len(kernels([png.read_grey8_png, png.warm_up]))     # the plugin's and the PNG reader's
    assert warm.returncode == 0 and f"jit-sad: {expected} kernels, already compiled" in warm.stdout, \
        warm.stdout + warm.stderr

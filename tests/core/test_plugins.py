"""Registries and entry-point discovery, including a third-party plugin installed beside us."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

from matbench.errors import MatbenchError
from plugin_helpers import fake_dist
from matbench.plugins import registered
from matbench.registry import DATASETS, METRICS, MODELS, STRATEGIES, TRANSFORMS, lookup


def test_registries_are_children_of_mmengine():
    from mmengine import registry as mm

    assert MODELS.parent is mm.MODELS
    assert DATASETS.parent is mm.DATASETS
    assert METRICS.parent is mm.METRICS
    assert TRANSFORMS.parent is mm.TRANSFORMS
    assert STRATEGIES.scope == "matbench"


def test_first_party_plugins_are_discovered_through_entry_points():
    rows = registered()
    by_kind = {(r.kind, r.name): r for r in rows}
    assert ("metrics", "aim") in by_kind and ("metrics", "dim") in by_kind
    assert by_kind[("metrics", "aim")].package == "matbench-matting"
    assert by_kind[("metrics", "aim")].module.startswith("matbench_metrics")
    assert ("datasets", "aim500") in by_kind
    assert by_kind[("models", "ClosedForm")].what.startswith("trimap-based: ")
    assert by_kind[("models", "AimNet")].what.startswith("network (automatic): ")
    # training pieces and prediction sources are not what a user evaluates
    for name in ("AimAlphaLoss", "AimMattor", "PredictionFolder", "StrategyPredictor"):
        assert ("models", name) not in by_kind
    training = {r.name for r in registered("training")}
    assert {"AimAlphaLoss", "AimMattor", "duts", "LoadMattingSample"} <= training
    assert "PredictionFolder" not in training and "aim500" not in training


def test_unknown_name_suggests_the_closest():
    with pytest.raises(MatbenchError, match="did you mean 'aim'"):
        lookup(METRICS, "aimm")
    with pytest.raises(MatbenchError, match="unknown plugin kind"):
        registered("widgets")


THIRD_PARTY = '''
from matbench.models import TrimapMattingModel
from matbench.registry import MODELS

@MODELS.register_module()
class TrimapAsAlpha(TrimapMattingModel):
    def predict(self, image, trimap):
        return trimap / 255.0
'''


def test_third_party_plugin_registers_without_editing_matbench(tmp_path):
    pkg = tmp_path / "mb_thirdparty"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(THIRD_PARTY)
    dist = tmp_path / "mb_thirdparty-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: mb-thirdparty\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[matbench.plugins]\nthirdparty = mb_thirdparty\n")
    code = textwrap.dedent("""
        from matbench.plugins import registered
        rows = [r for r in registered('models') if r.name == 'TrimapAsAlpha']
        print(rows[0].package, rows[0].module)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PYTHONPATH": str(tmp_path), "PATH": "",
                              "MATBENCH_CACHE": str(tmp_path / "cache")}, check=True)
    assert out.stdout.split() == ["mb-thirdparty", "mb_thirdparty"]


def test_a_broken_or_clashing_plugin_is_one_warning_and_the_others_work(tmp_path):
    fake_dist(tmp_path, "mb_broken", '''
        from matbench.api import MODELS, TrimapMattingModel

        @MODELS.register_module()
        class HalfRegistered(TrimapMattingModel):
            pass

        raise RuntimeError("bug in the plugin")
    ''', "mb-broken")
    fake_dist(tmp_path, "mb_clash", '''
        from matbench.api import MODELS, TrimapMattingModel

        @MODELS.register_module(name="ClosedForm")
        class Mine(TrimapMattingModel):
            pass
    ''', "mb-clash")
    proc = subprocess.run([sys.executable, "-m", "matbench.cli", "list", "models"], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(tmp_path), "COLUMNS": "200"}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(warnings) == 2 and all(w.startswith("matbench: warning: plugin ") for w in warnings), proc.stderr
    broken = next(w for w in warnings if "mb_broken" in w)
    clash = next(w for w in warnings if "mb_clash" in w)
    assert "RuntimeError: bug in the plugin" in broken and "mb-broken" in broken
    assert "'ClosedForm' is already registered by matbench" in clash and "mb-clash" in clash
    assert "ClosedForm" in proc.stdout and "HalfRegistered" not in proc.stdout and "KNN" in proc.stdout


FAKE_AIM = '''
    from matbench.api import METRICS, STRATEGIES, ImageMetric

    @METRICS.register_module(name="aim")
    class ZeroAim(ImageMetric):
        variant = "aim"
        keys = ("sad",)

        @staticmethod
        def compute_image(pred, alpha, trimap):
            return {"sad": 0.0}

    @STRATEGIES.register_module(name="full")
    class MyFull:
        def __call__(self, network, image):
            return image[0, 0]
'''

FORCED = '''
    from matbench.api import MODELS, TrimapMattingModel

    @MODELS.register_module(name="KNN", force=True)
    class NotKNN(TrimapMattingModel):
        def predict(self, image, trimap):
            return trimap * 0.0
'''


@pytest.mark.parametrize("code", [FAKE_AIM, FORCED], ids=["sorts-first", "force"])
def test_built_in_names_cannot_be_taken(tmp_path, tiny_aim500, tiny_predictions, code):
    """A third party whose entry point sorts before the first-party plugins, or that registers
    with force=True, is the one left out; matbench's metrics, strategies and models stay whole."""
    fake_dist(tmp_path / "site", "aaa_evil", code, "aaa-evil")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site"), "MATBENCH_CACHE": str(tmp_path / "cache"),
           "COLUMNS": "200"}
    for attempt in ("cold index", "warm index"):
        proc = subprocess.run([sys.executable, "-m", "matbench.cli", "eval", "--dataset", "aim500",
                               "--data-root", str(tiny_aim500), "--predictions", str(tiny_predictions),
                               "--work-dir", str(tmp_path / attempt.replace(" ", "-")), "--no-report",
                               "--metric-workers", "0"],
                              capture_output=True, text=True, env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr
        warning = [line for line in proc.stderr.splitlines() if "warning" in line]
        if attempt == "cold index":     # said when the plugins are imported; a warm index imports the providers only
            assert warning and "aaa-evil" in warning[0] and "already registered by" in warning[0], proc.stderr
        results = json.loads((tmp_path / attempt.replace(" ", "-") / "results.json").read_text())
        assert results["summary"]["metrics"]["sad"] > 0 and "conn" in results["summary"]["metrics"]
    listed = subprocess.run([sys.executable, "-m", "matbench.cli", "list"], capture_output=True, text=True,
                            env=env, timeout=300)
    for name in ("AimNet", "ClosedForm", "KNN", "hybrid", "resize", "tiled", "full", "aim", "dim"):
        assert f" {name} " in listed.stdout, name
    assert "aaa_evil" not in listed.stdout and "aaa-evil" in listed.stderr


def test_registry_get_loads_the_plugin_first(tmp_path):
    """``METRICS.get("aim")`` at a plugin's import time (to extend a built-in variant) finds it
    before any plugin was loaded, as ``lookup`` does."""
    import subprocess
    import sys

    code = ("from matbench.api import METRICS, DATASETS\n"
            "print(METRICS.get('aim').__name__, DATASETS.get('aim500') is not None, METRICS.get('no-such') is None)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "MATBENCH_CACHE": str(tmp_path / "cache")})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["AimMetric", "True", "True"], proc.stdout + proc.stderr

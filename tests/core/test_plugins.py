"""Registries and entry-point discovery, including a third-party plugin installed beside us."""
import subprocess
import sys
import textwrap

import pytest

from matbench.errors import MatbenchError
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
    assert by_kind[("metrics", "aim")].package == "matbench"
    assert by_kind[("metrics", "aim")].module.startswith("matbench_metrics")
    assert ("datasets", "AIM500") in by_kind
    assert ("models", "ClosedForm") in by_kind


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
                         env={"PYTHONPATH": str(tmp_path), "PATH": ""}, check=True)
    assert out.stdout.split() == ["mb-thirdparty", "mb_thirdparty"]

"""The plugin index (matbench/plugins.py): what importing every plugin registered, cached so that
`matbench list` imports no plugin and a lookup imports only the plugin that has the name.

The index is per process state written for the whole installation, so every check runs in
subprocesses with a cache folder of their own, on the real installation (the first-party
plugins) plus two plugins made here: one that registers a model, one that fails to import.
"""
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from plugin_helpers import fake_dist

PROBE = '''
from matbench.api import MODELS, TrimapMattingModel


@MODELS.register_module()
class IndexProbe(TrimapMattingModel):
    """Probe one of the plugin index."""

    def predict(self, image, trimap):
        return trimap / 255.0
'''
BROKEN = 'raise RuntimeError("bug in the plugin")\n'
BROKEN_WARNING = "plugin 'mb_broken' (mb_broken, from mb-broken) not loaded: RuntimeError: bug in the plugin"

#: prints what a subprocess saw: `registered()` (or CODE's result), its PluginWarnings, which
#: plugin packages it imported and whether it imported torch or mmengine's runner
REPORT = '''
import json, sys, warnings
from dataclasses import astuple
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    {code}
print(json.dumps({{
    "result": result,
    "warnings": [str(w.message) for w in caught if w.category.__name__ == "PluginWarning"],
    "imported": sorted(m for m in sys.modules if m.startswith(("matbench_", "mb_")) and "." not in m),
    "torch": "torch" in sys.modules, "runner": "mmengine.runner" in sys.modules}}))
'''
REGISTERED = ("from matbench.plugins import registered\n"
              "    result = [list(astuple(r)) for r in registered()]")


def report(env, code=REGISTERED) -> dict:
    proc = subprocess.run([sys.executable, "-c", REPORT.format(code=code)], env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.splitlines()[-1])


def environment(site: Path, cache: Path) -> dict:
    return dict(os.environ, COLUMNS="250", MATBENCH_CACHE=str(cache),
                PYTHONPATH=os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH")) if p))


def index_file(cache: Path) -> Path:
    files = list(cache.glob("plugin-index-*.json"))
    assert len(files) == 1, files
    return files[0]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The two plugins, and a cache folder whose index a full import (the first command) wrote:
    (site folder, that cache, what the full import listed)."""
    root = tmp_path_factory.mktemp("plugin_index")
    site = root / "site"
    fake_dist(site, "mb_probe", PROBE, "mb-probe")
    fake_dist(site, "mb_broken", BROKEN, "mb-broken")
    cold = report(environment(site, root / "cache"))
    assert "mb_probe" in cold["imported"] and "matbench_aim" in cold["imported"]      # a full import
    assert cold["warnings"] == [BROKEN_WARNING]
    index_file(root / "cache")
    return site, root / "cache", cold


@pytest.fixture
def warm(world, tmp_path):
    """The environment of a command that finds the index written by the full import."""
    site, cache, _ = world
    shutil.copytree(cache, tmp_path / "cache")
    return environment(site, tmp_path / "cache")


def test_a_warm_index_lists_what_a_full_import_does_and_imports_no_plugin(world, warm):
    full = world[2]
    listed = report(warm)
    assert listed["result"] == full["result"]
    assert listed["imported"] == [] and not listed["torch"] and not listed["runner"]
    assert listed["warnings"] == [BROKEN_WARNING]        # the failed plugin, as the full import said
    probe = next(row for row in listed["result"] if row[1] == "IndexProbe")
    assert probe == ["models", "IndexProbe", "mb_probe", "mb-probe", "trimap-based: Probe one of the plugin index"]
    metrics = report(warm, "from matbench.plugins import registered\n"
                           "    result = [r.name for r in registered('metrics')]")
    assert metrics["result"] == [row[1] for row in full["result"] if row[0] == "metrics"]
    assert {"aim", "dim"} <= set(metrics["result"]) and metrics["imported"] == []


def test_matbench_list_with_a_warm_index_imports_neither_torch_nor_the_runner(warm):
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "matbench.cli", "list"], env=warm,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert not imported & {"torch", "mmengine.runner", "cv2", "mb_probe", "matbench_metrics", "matbench_aim"}
    assert [line for line in proc.stderr.splitlines()
            if not line.startswith("import time:")] == [f"matbench: warning: {BROKEN_WARNING}"]
    assert "IndexProbe" in proc.stdout and "mb-probe" in proc.stdout and "ClosedForm" in proc.stdout


def test_a_lookup_imports_only_the_plugin_that_registers_the_name(warm):
    seen = report(warm, """from matbench.registry import METRICS, MODELS, lookup
    from matbench.plugins import installed_plugins
    steps = [installed_plugins()]
    steps.append([lookup(METRICS, "aim").__module__, sorted(m for m in sys.modules if m.startswith("matbench_"))])
    steps.append([lookup(MODELS, "IndexProbe").__name__, "mb_probe" in sys.modules, "matbench_aim" in sys.modules])
    result = steps""")
    dists, metric, probe = seen["result"]
    assert ["matbench-matting", "0.1.0"] in dists and ["mb-probe", "0.1"] in dists and ["mb-broken", "0.1"] in dists
    assert metric[0].startswith("matbench_metrics.") and metric[1][0] == "matbench_metrics"
    assert not any(m.startswith(("matbench_aim", "matbench_datasets", "matbench_classic")) for m in metric[1])
    assert probe == ["IndexProbe", True, False]
    assert seen["imported"] == ["matbench_metrics", "mb_probe"] and not seen["torch"]
    assert seen["warnings"] == []       # the broken plugin does not matter here


def test_an_unknown_name_is_answered_from_the_index(warm):
    seen = report(warm, """from matbench.errors import MatbenchError
    from matbench.registry import METRICS, lookup
    try:
        lookup(METRICS, "aimm")
    except MatbenchError as exc:
        result = str(exc)""")
    assert seen["result"].startswith("unknown metric 'aimm'; did you mean 'aim'? (known: aim, dim, ")
    assert seen["imported"] == [] and not seen["torch"]
    assert seen["warnings"] == [BROKEN_WARNING]          # the name may have been the broken plugin's


def test_an_edited_plugin_makes_the_index_stale(tmp_path):
    site = tmp_path / "site"
    init = fake_dist(site, "mb_probe", PROBE, "mb-probe") / "__init__.py"
    env = environment(site, tmp_path / "cache")

    def probe():
        seen = report(env)
        return next(row[4] for row in seen["result"] if row[1] == "IndexProbe"), seen["imported"]

    assert probe()[1] != []                                          # no index yet: a full import
    assert probe() == ("trimap-based: Probe one of the plugin index", [])
    init.write_text(init.read_text().replace("Probe one", "Probe two, edited,"))     # another size
    what, imported = probe()
    assert what == "trimap-based: Probe two, edited, of the plugin index" and "mb_probe" in imported
    assert probe() == (what, [])                                     # and a new index
    stat = init.stat()
    init.write_text(init.read_text().replace("two", "six"))          # the same size, a later mtime
    os.utime(init, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert init.stat().st_size == stat.st_size
    what, imported = probe()
    assert what == "trimap-based: Probe six, edited, of the plugin index" and "mb_probe" in imported


def test_an_unwritable_cache_folder_only_costs_time(world, tmp_path):
    site, _, full = world
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    env = environment(site, blocker / "cache")              # a folder that cannot be made
    proc = subprocess.run([sys.executable, "-m", "matbench.cli", "list", "metrics"], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr.splitlines() == [f"matbench: warning: {BROKEN_WARNING}"]
    assert "mgmatting" in proc.stdout
    assert report(env)["result"] == full["result"]


@pytest.mark.parametrize("corrupt", ["truncated", "wrong shape"])
def test_a_corrupt_index_is_ignored_and_rewritten(world, warm, corrupt):
    path = index_file(Path(warm["MATBENCH_CACHE"]))
    good = json.loads(path.read_text())
    if corrupt == "truncated":
        path.write_text(path.read_text()[: len(path.read_text()) // 2])
    else:                                   # the right key, rows that are not rows
        path.write_text(json.dumps({**good, "rows": [["models"]]}))
    seen = report(warm)
    assert seen["result"] == world[2]["result"] and "mb_probe" in seen["imported"]
    assert json.loads(path.read_text()) == good
    assert report(warm)["imported"] == []


def test_a_plugin_in_a_zip_file_means_no_index(world, tmp_path):
    """A package that is no folder of its own cannot be fingerprinted: every command imports every
    plugin, and no index is written."""
    archive = tmp_path / "zipped.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("mb_zipped/__init__.py", PROBE.replace("IndexProbe", "ZippedProbe"))
        zf.writestr("mb_zipped-0.1.dist-info/METADATA", "Metadata-Version: 2.1\nName: mb-zipped\nVersion: 0.1\n")
        zf.writestr("mb_zipped-0.1.dist-info/entry_points.txt", "[matbench.plugins]\nzipped = mb_zipped\n")
    env = environment(world[0], tmp_path / "cache")
    env["PYTHONPATH"] = os.pathsep.join((str(archive), env["PYTHONPATH"]))
    for _ in range(2):
        seen = report(env)
        assert "mb_zipped" in seen["imported"] and any(row[1] == "ZippedProbe" for row in seen["result"])
    assert not list(tmp_path.glob("cache/plugin-index-*.json"))

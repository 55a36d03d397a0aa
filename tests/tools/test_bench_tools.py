"""tools/bench_eval.py end to end on two tiny images, without the official side: it runs
`matbench eval` as a user would and writes its numbers as JSON (their values are not checked:
timings)."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_eval_writes_its_numbers(tmp_path):
    out = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if k != "AIM_REF"}
    res = subprocess.run([sys.executable, str(ROOT / "tools" / "bench_eval.py"), "--images", "2", "--size", "48x64",
                          "--repeat", "1", "--skip-official", "--dir", str(tmp_path / "sets"), "--json", str(out)],
                         env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    doc = json.loads(out.read_text())
    assert doc["images"] == 2 and doc["size"] == [48, 64] and doc["official"] is None
    assert set(doc["matbench"]) == {"one_image_s", "all_images_s", "per_image_s", "fixed_s"}
    assert all(isinstance(v, float) for v in [*doc["matbench"].values(), *doc["cli"].values()])
    assert "official side skipped" in res.stdout
    sets = tmp_path / "sets" / "48x64_2"
    names = sorted(p.name for p in (sets / "pred").iterdir())
    assert names == ["img0000.png", "img0001.png"]
    for sub, ext in (("image", ".jpg"), ("alpha", ".png"), ("trimap", ".png")):
        assert sorted(p.name for p in (sets / "data" / sub).iterdir()) == [
            n.replace(".png", ext) for n in names]
    rows = json.loads((sets / "work" / "results.json").read_text())["per_image"]
    assert sorted(row["name"] for row in rows) == ["img0000", "img0001"]


def test_bench_eval_of_a_network_measures_autocast_changes(tmp_path):
    """The CUDA issue's whole-evaluation mode, tried on the CPU: AimNet with random weights
    through a strategy, then the same run without autocast to report the largest change."""
    out = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if k != "AIM_REF"}
    res = subprocess.run([sys.executable, str(ROOT / "tools" / "bench_eval.py"), "--images", "2", "--size", "256x320",
                          "--repeat", "1", "--skip-official", "--strategy", "resize", "--device", "cpu", "--amp", "bf16",
                          "--dir", str(tmp_path / "sets"), "--json", str(out)],
                         env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    doc = json.loads(out.read_text())
    assert doc["network"] == ["--strategy", "resize", "--device", "cpu", "--amp", "bf16"]
    changes = doc["amp_largest_change"]
    assert {"sad", "mse", "conn", "grad"} <= set(changes) and all(v >= 0 for v in changes.values())
    sets = tmp_path / "sets" / "256x320_2"
    amp, fp32 = (json.loads((sets / w / "results.json").read_text()) for w in ("work", "work_fp32"))
    assert amp["meta"]["source"]["amp"] == "bf16" and fp32["meta"]["source"]["amp"] is None
    sad = {r["name"]: r["sad"] for r in fp32["per_image"]}
    assert changes["sad"] == max(abs(r["sad"] - sad[r["name"]]) for r in amp["per_image"])

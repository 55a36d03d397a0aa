"""The evaluation loop end to end: results file contract, resume after kill -9, variants."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from PIL import Image

from matbench.evaluation.options import make_job
from matbench.evaluation.run import evaluate

AIM_KEYS = ("sad", "mse", "mad", "sad_trimap", "mse_trimap", "mad_trimap", "sad_fg", "sad_bg", "conn", "grad")


def _job(data_root, pred, work, **kw):
    return make_job(dataset="aim500", data_root=data_root, predictions=pred, work_dir=work,
                    workers=0, metric_workers=0, **kw)


def test_predictions_folder_results_contract(tiny_aim500, tiny_predictions, tmp_path):
    from matbench_metrics.aim import aim_metrics

    results = evaluate(_job(tiny_aim500, tiny_predictions, tmp_path / "w"))
    on_disk = json.loads((tmp_path / "w" / "results.json").read_text())
    assert on_disk == results
    meta = on_disk["meta"]
    assert meta["variant"] == "aim" and meta["dataset"]["num_images"] == 4
    assert meta["source"]["root"] == str(tiny_predictions.resolve())
    assert {"matbench_version", "date", "command", "versions"} <= set(meta)
    rows = {r["name"]: r for r in on_disk["per_image"]}
    assert set(rows) == {"a01", "b02", "c03", "d04"}
    assert rows["b02"]["type"] == "STM" and rows["b02"]["category"] == "plant"
    for name, row in rows.items():
        pred = np.asarray(Image.open(tiny_predictions / f"{name}.png"), np.float64) / 255
        alpha = np.asarray(Image.open(tiny_aim500 / "mask" / f"{name}.png"), np.float64) / 255
        trimap = np.asarray(Image.open(tiny_aim500 / "trimap" / f"{name}.png"))
        expected = aim_metrics(pred, alpha, trimap)
        assert {k: row[k] for k in AIM_KEYS} == expected          # unrounded, exactly
    summary = on_disk["summary"]
    assert summary["metrics"]["sad"] == pytest.approx(np.mean([r["sad"] for r in rows.values()]), rel=1e-12)
    assert summary["type"]["sad"]["SO"] == pytest.approx((rows["a01"]["sad"] + rows["c03"]["sad"]) / 2)
    assert summary["category"]["missing"] == ["portrait", "transparent", "furniture", "fruit"]


def test_metric_pool_gives_identical_rows(tiny_aim500, tiny_predictions, tmp_path):
    serial = evaluate(_job(tiny_aim500, tiny_predictions, tmp_path / "a"))
    job = _job(tiny_aim500, tiny_predictions, tmp_path / "b")
    job.num_workers, job.metric_workers = 2, 2
    pooled = evaluate(job)
    assert pooled["per_image"] == serial["per_image"]


def test_dim_variant_is_recorded(tiny_aim500, tiny_predictions, tmp_path):
    results = evaluate(_job(tiny_aim500, tiny_predictions, tmp_path / "w", variant="dim"))
    assert results["meta"]["variant"] == "dim"
    assert set(results["per_image"][0]) >= {"sad", "mse", "grad", "conn"}
    assert "mad" not in results["per_image"][0]


def test_resume_skips_finished_and_refuses_other_runs(tiny_aim500, tiny_predictions, tmp_path):
    work = tmp_path / "w"
    full = evaluate(_job(tiny_aim500, tiny_predictions, work))
    journal = work / "per_image.jsonl"
    lines = journal.read_text().splitlines()
    journal.write_text("\n".join(lines[:2]) + "\n" + lines[2][: len(lines[2]) // 2])   # killed mid-line
    (work / "results.json").unlink()
    again = evaluate(_job(tiny_aim500, tiny_predictions, work))
    assert again["meta"]["resumed_images"] == 2
    assert again["per_image"] == full["per_image"]
    from matbench.errors import MatbenchError

    with pytest.raises(MatbenchError, match="different run"):
        evaluate(_job(tiny_aim500, tiny_predictions, work, variant="dim"))
    restarted = evaluate(_job(tiny_aim500, tiny_predictions, work, variant="dim", restart=True))
    assert restarted["meta"]["resumed_images"] == 0


SLOW_RUN = textwrap.dedent("""
    import sys, time
    from matbench.models import TrimapMattingModel
    from matbench.registry import MODELS
    from matbench.evaluation.options import make_job
    from matbench.evaluation.run import evaluate

    @MODELS.register_module()
    class SlowTrimap(TrimapMattingModel):
        def predict(self, image, trimap):
            time.sleep(float(sys.argv[3]))
            return trimap / 255.0

    evaluate(make_job(dataset="aim500", data_root=sys.argv[1], model="SlowTrimap", work_dir=sys.argv[2],
                      workers=0, metric_workers=0))
""")


def test_kill_9_loses_nothing_finished(tmp_path):
    from conftest import make_aim500

    labels = {f"img{i:02d}": {"type": "SO", "category": "toy"} for i in range(12)}
    root = make_aim500(tmp_path / "data", labels=labels)
    work = tmp_path / "w"
    script = tmp_path / "slow.py"
    script.write_text(SLOW_RUN)
    proc = subprocess.Popen([sys.executable, str(script), str(root), str(work), "0.4"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    journal = work / "per_image.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and (not journal.exists() or len(journal.read_text().splitlines()) < 3):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = len(journal.read_text().splitlines())
    assert 3 <= finished < 12 and not (work / "results.json").exists()
    subprocess.run([sys.executable, str(script), str(root), str(work), "0"], check=True, capture_output=True)
    results = json.loads((work / "results.json").read_text())
    assert results["meta"]["resumed_images"] >= finished - 1
    assert len(results["per_image"]) == 12
    # every image's SAD equals the trimap-as-alpha error computed directly
    for row in results["per_image"]:
        alpha = np.asarray(Image.open(root / "mask" / f"{row['name']}.png"), np.float64) / 255
        trimap = np.asarray(Image.open(root / "trimap" / f"{row['name']}.png"), np.float64) / 255
        assert row["sad"] == pytest.approx(np.abs(trimap - alpha).sum() / 1000, rel=1e-12)

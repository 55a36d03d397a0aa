"""The Python API for notebooks (``matbench.evaluate`` / ``matbench.load``) and the thread budget:
the same run, checks and files as ``matbench eval``."""
import json
import os
import subprocess
import sys

import pytest

import matbench
from matbench.errors import MatbenchError
from matbench.threads import available_cpus, eval_budget


def test_evaluate_returns_results_equal_to_the_command(tiny_aim500, tiny_predictions, tmp_path):
    results = matbench.evaluate(dataset="aim500", data_root=tiny_aim500, predictions=tiny_predictions,
                                work_dir=tmp_path / "api", metric_workers=0)
    proc = subprocess.run([sys.executable, "-m", "matbench.cli", "eval", "--dataset", "aim500", "--data-root",
                           str(tiny_aim500), "--predictions", str(tiny_predictions), "--work-dir", str(tmp_path / "cli"),
                           "--no-report"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    cli = json.loads((tmp_path / "cli" / "results.json").read_text())
    assert results.rows == cli["per_image"]
    assert results.path == tmp_path / "api" / "results.json" and results.path.is_file()
    assert results.table() in proc.stdout
    assert results.summary["metrics"]["sad"] == pytest.approx(cli["summary"]["metrics"]["sad"], rel=1e-12)
    frame = results.per_image
    assert list(frame.index) == ["a01", "b02", "c03", "d04"] and frame.loc["b02", "sad"] == results.rows[1]["sad"]
    again = matbench.load(tmp_path / "api")
    assert again.rows == results.rows and "aim500" in repr(again)


def test_plugin_options_as_dicts_and_one_line_errors(tmp_path):
    results = matbench.evaluate(model="ClosedForm", dataset_options={"indices": [0, 2]}, work_dir=tmp_path / "w",
                                threads=2)
    assert len(results.rows) == 2
    assert results.meta["threads"] == "2 threads: torch 1, data loading 0, metrics 1"
    with pytest.raises(MatbenchError, match="unknown option 'indexes'; did you mean 'indices'"):
        matbench.evaluate(model="ClosedForm", dataset_options={"indexes": 2}, work_dir=tmp_path / "w2")
    with pytest.raises(MatbenchError, match="--threads 0"):
        matbench.evaluate(model="ClosedForm", work_dir=tmp_path / "w3", threads=0)


def test_summary_is_recomputed_from_the_rows(tiny_aim500, tiny_predictions, tmp_path):
    matbench.evaluate(dataset="aim500", data_root=tiny_aim500, predictions=tiny_predictions, work_dir=tmp_path / "w",
                      metric_workers=0)
    path = tmp_path / "w" / "results.json"
    data = json.loads(path.read_text())
    data["summary"]["metrics"]["sad"] = 0.0                   # a hand edit
    path.write_text(json.dumps(data))
    loaded = matbench.load(path)
    assert loaded.summary["metrics"]["sad"] == pytest.approx(
        sum(r["sad"] for r in loaded.rows) / len(loaded.rows), rel=1e-12)


@pytest.mark.parametrize("threads, model, expected", [
    (2, False, (1, 0, 2)),        # a folder of predictions: all metrics
    (2, True, (1, 0, 1)),         # a model on 2 threads: torch 1, one metric process, no loader process
    (8, True, (6, 1, 1)),
    (16, True, (13, 2, 1)),
    (1, True, (1, 0, 0)),
])
def test_the_budget_never_asks_for_more_threads_than_given(threads, model, expected):
    budget = eval_budget(threads, runs_model=model)
    assert (budget.torch, budget.loaders, budget.metric_workers) == expected
    if model:
        assert budget.torch + budget.loaders + budget.metric_workers <= max(threads, 2)


def test_available_cpus_honours_the_affinity_mask():
    code = "import os; os.sched_setaffinity(0, {0}); from matbench.threads import available_cpus; print(available_cpus())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "1", out.stderr
    assert available_cpus() == len(os.sched_getaffinity(0))


def test_training_gives_torch_the_whole_budget(monkeypatch):
    """Training loaders wait on a full queue while the step runs: they do not take torch's threads."""
    import torch
    from mmengine.config import Config

    from matbench.training.run import _set_threads

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    before = torch.get_num_threads()
    try:
        _set_threads(Config(dict(threads=2, train_dataloader=dict(num_workers=2))))
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)

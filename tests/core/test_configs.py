"""Every evaluation config under configs/ loads and resolves to an evaluation job."""
from pathlib import Path

import pytest

from matbench.evaluation.options import make_job

CONFIGS = sorted(p for p in (Path(__file__).parents[2] / "configs").glob("*.py")
                 if "train" not in p.read_text())          # training configs: tests/aim/test_training.py


@pytest.mark.parametrize("config", CONFIGS, ids=[p.name for p in CONFIGS])
def test_eval_configs_resolve(config, tmp_path):
    job = make_job(dataset=None, data_root=tmp_path, config=config, work_dir=tmp_path / "w",
                   random_weights=True)
    assert job.dataset["type"] in ("aim500", "embedded")
    assert job.dataset["data_root"] == str(tmp_path)          # the command line wins over the config
    assert job.predictor["type"] in ("TrimapPredictor", "StrategyPredictor")


def test_hybrid13_overrides_only_the_local_ratio(tmp_path):
    job = make_job(dataset=None, data_root=tmp_path, config=Path(__file__).parents[2] / "configs" / "aimnet_hybrid13_aim500.py",
                   work_dir=tmp_path / "w", random_weights=True)
    strategy = job.predictor["strategy"]
    assert strategy["type"] == "hybrid" and strategy["global_ratio"] == 0.25
    assert abs(strategy["local_ratio"] - 1 / 3) < 1e-12

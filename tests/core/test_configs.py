"""Every config under configs/ loads and resolves to an evaluation job."""
from pathlib import Path

import pytest

from matbench.evaluation.options import make_job

CONFIGS = sorted(p for p in (Path(__file__).parents[2] / "configs").glob("*.py"))


@pytest.mark.parametrize("config", CONFIGS, ids=[p.name for p in CONFIGS])
def test_eval_configs_resolve(config, tmp_path):
    job = make_job(dataset=None, data_root=tmp_path, config=config, work_dir=tmp_path / "w")
    assert job.dataset["type"] in ("aim500", "embedded")
    assert job.dataset["data_root"] == str(tmp_path)          # the command line wins over the config
    assert job.predictor["type"] == "TrimapPredictor"

"""`matbench train` mistakes caught before the run: damaged or odd checkpoints at --resume and
misspelt --cfg-options keys are one-line errors naming the file (or option) and the problem."""
import argparse
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from matbench.errors import MatbenchError

ROOT = Path(__file__).parents[2]
SMOKE = ROOT / "configs" / "aimnet_smoke.py"


def train(work_dir, *options, resume=False, timeout=120):
    cmd = [sys.executable, "-m", "matbench.cli", "train", str(SMOKE), "--work-dir", str(work_dir)]
    if resume:
        cmd.append("--resume")
    if options:
        cmd += ["--cfg-options", *options]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=timeout)


def one_line_error(proc, *needles):
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("matbench: error: "), proc.stderr[-2000:]
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def training_checkpoint(path, **extra):
    """A small file shaped like mmengine's training checkpoints (meta, state_dict, optimizer)."""
    torch.save({"meta": {"epoch": 0, "iter": 2}, "state_dict": {"network.w": torch.randn(64, 64)},
                "optimizer": {"state": {}, "param_groups": []}, **extra}, path)
    return path


def work_dir_pointing_at(tmp_path, target):
    work = tmp_path / "w"
    work.mkdir(exist_ok=True)
    (work / "last_checkpoint").write_text(str(target))
    return work


# --------------------------------------------------------------------------- --resume

def test_resume_from_a_truncated_checkpoint(tmp_path):
    ckpt = training_checkpoint(tmp_path / "iter_2.pth")
    data = ckpt.read_bytes()
    ckpt.write_bytes(data[: len(data) // 2])
    proc = train(work_dir_pointing_at(tmp_path, ckpt), resume=True)
    one_line_error(proc, str(ckpt), "truncated")


def test_resume_from_a_missing_checkpoint(tmp_path):
    missing = tmp_path / "w" / "iter_4.pth"
    proc = train(work_dir_pointing_at(tmp_path, missing), resume=True)
    one_line_error(proc, str(missing), "not found", "last_checkpoint")


def test_resume_from_a_checkpoint_that_needs_code(tmp_path):
    ckpt = training_checkpoint(tmp_path / "iter_2.pth", args=argparse.Namespace(lr=1))
    proc = train(work_dir_pointing_at(tmp_path, ckpt), resume=True)
    one_line_error(proc, str(ckpt), "weights_only")


def _resume_cfg(tmp_path):
    from matbench.training.run import load_train_config

    return load_train_config(SMOKE, work_dir=tmp_path / "w", resume=True)


@pytest.mark.parametrize("make, problem", [
    (lambda p: p.write_bytes(b""), "empty checkpoint"),
    (lambda p: torch.save({"w": torch.zeros(2)}, p), "not a training checkpoint"),
    (lambda p: torch.save([1, 2], p), "not a training checkpoint"),
    (lambda p: p.mkdir(), "not a file"),
])
def test_resume_checkpoint_checks(tmp_path, make, problem):
    from matbench.training.run import check_resume_checkpoint

    ckpt = tmp_path / "ckpt.pth"
    make(ckpt)
    work_dir_pointing_at(tmp_path, ckpt)
    with pytest.raises(MatbenchError, match=problem) as exc:
        check_resume_checkpoint(_resume_cfg(tmp_path))
    assert str(ckpt) in str(exc.value) and "\n" not in str(exc.value)


def test_resume_with_an_empty_last_checkpoint_file(tmp_path):
    from matbench.training.run import check_resume_checkpoint

    work_dir_pointing_at(tmp_path, "")
    with pytest.raises(MatbenchError, match=r"last_checkpoint: empty"):
        check_resume_checkpoint(_resume_cfg(tmp_path))


def test_resume_checkpoint_check_accepts_a_training_checkpoint(tmp_path):
    from matbench.training.run import check_resume_checkpoint

    ckpt = training_checkpoint(tmp_path / "iter_2.pth")
    work_dir_pointing_at(tmp_path, ckpt)
    assert check_resume_checkpoint(_resume_cfg(tmp_path)) == ckpt


# --------------------------------------------------------------------------- --cfg-options keys

def test_top_level_typo_in_cfg_options_is_refused(tmp_path):
    proc = train(tmp_path / "w", "trian_cfg.max_iters=2", timeout=60)
    line = one_line_error(proc, "aimnet_smoke.py")
    assert line.endswith("--cfg-options trian_cfg.max_iters: unknown key 'trian_cfg'; did you mean 'train_cfg'?")
    assert not (tmp_path / "w").exists()


@pytest.mark.parametrize("option, message", [
    ("trian_cfg.max_iters=2", "--cfg-options trian_cfg.max_iters: unknown key 'trian_cfg'; did you mean 'train_cfg'?"),
    ("lod_from=x.pth", "--cfg-options lod_from: unknown key 'lod_from'; did you mean 'load_from'?"),
    ("train_cfg.max_iter=2", "--cfg-options train_cfg.max_iter: unknown key 'max_iter'; did you mean 'max_iters'?"),
    ("optim_wrapper.optimiser.lr=1", "--cfg-options optim_wrapper.optimiser.lr: unknown key 'optimiser'; "
                                     "did you mean 'optimizer'?"),
    ("default_hooks.chekpoint.interval=1", "unknown key 'chekpoint'; did you mean 'checkpoint'?"),
    ("model.chanels_last=True", "unknown key 'chanels_last'; did you mean 'channels_last'?"),
    ("env_cfg.dist_cfg.bakend=gloo", "unknown key 'bakend'; did you mean 'backend'?"),
])
def test_unknown_cfg_option_keys_suggest(option, message):
    from matbench.training.run import load_train_config

    with pytest.raises(MatbenchError) as exc:
        load_train_config(SMOKE, cfg_options=[option])
    assert str(exc.value).startswith(f"{SMOKE}: ") and str(exc.value).endswith(message)


@pytest.mark.parametrize("config, options", [
    ("aimnet_smoke.py", ["train_cfg.max_iters=2", "train_cfg.val_interval=2", "default_hooks.checkpoint.interval=1",
                         "val_cfg=None", "val_dataloader=None", "val_evaluator=None", "load_from=x.pth",
                         "model.channels_last=True", "optim_wrapper.optimizer.weight_decay=0",
                         "train_dataloader.pin_memory=False", "train_dataloader.dataset.data_root=/x",
                         "randomness.seed=1", "env_cfg.dist_cfg.backend=gloo", "log_processor.window_size=5",
                         "experiment_name=x", "auto_scale_lr.enable=False",
                         "custom_hooks.0.priority=50"]),
    ("aimnet_matting.py", ["train_dataloader.pin_memory=False", "train_dataloader.dataset.data_root=/x"]),
    ("aimnet_duts.py", ["model.backbone_checkpoint=x.pth"]),
    ("aimnet_imagenet.py", ["train_dataloader.dataset.data_root=/x", "model.pretrained=x.pth"]),
])
def test_legitimate_cfg_options_are_kept(config, options):
    from matbench.training.run import load_train_config

    cfg = load_train_config(ROOT / "configs" / config, cfg_options=options)
    for option in options:
        key, value = option.split("=", 1)
        if key == "train_dataloader.dataset.data_root":
            assert cfg.train_dataloader.dataset.data_root == value


def test_unparsable_cfg_option_value_is_one_line():
    from matbench.training.run import load_train_config

    with pytest.raises(MatbenchError, match=r"--cfg-options auto_scale_lr: cannot parse the value 'dict\(enable"):
        load_train_config(SMOKE, cfg_options=["auto_scale_lr=dict(enable=False, base_batch_size=2)"])


# --------------------------------------------------------------------------- hostile campaign, round 3

def test_resume_with_another_optimizer_is_one_line(tmp_path):
    """A checkpoint written with Adam, resumed with the config's SGD (or the reverse): mmengine
    failed with KeyError: 'momentum' deep inside."""
    from matbench.training.run import check_resume_checkpoint

    adam = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=0.01).state_dict()
    ckpt = training_checkpoint(tmp_path / "iter_2.pth", optimizer=adam)
    work_dir_pointing_at(tmp_path, ckpt)
    cfg = _resume_cfg(tmp_path)
    cfg.optim_wrapper.optimizer = dict(type="SGD", lr=0.01, momentum=0.9)
    with pytest.raises(MatbenchError, match="another optimizer than the config's SGD") as exc:
        check_resume_checkpoint(cfg)
    assert str(ckpt) in str(exc.value)
    sgd = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.01, momentum=0.9).state_dict()
    training_checkpoint(ckpt, optimizer=sgd)
    assert check_resume_checkpoint(cfg) == ckpt


@pytest.mark.parametrize("option", ["train_cfg.max_iters=-5", "train_cfg.max_iters=0", "train_cfg.val_interval=0"])
def test_a_schedule_that_trains_nothing_is_refused(tmp_path, option):
    proc = train(tmp_path / "w", option)
    one_line_error(proc, option.split("=")[0], "whole number of 1 or more")


def test_train_work_dir_that_is_a_file(tmp_path):
    work = tmp_path / "w"
    work.write_text("not a folder")
    proc = train(work)
    one_line_error(proc, str(work), "is a file")

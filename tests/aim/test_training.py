"""Every training stage through `matbench train` on CPU, resume after kill -9, two gloo processes."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

ROOT = Path(__file__).parents[2]
CONFIGS = ROOT / "configs"


def train_cmd(config, work_dir, *options, resume=False, flags=()):
    """`matbench train CONFIG --work-dir W [flags] --cfg-options options...`"""
    cmd = [sys.executable, "-m", "matbench.cli", "train", str(config), "--work-dir", str(work_dir), *flags]
    if resume:
        cmd.append("--resume")
    if options:
        cmd += ["--cfg-options", *options]
    return cmd


def run_train(*args, env=None, **kwargs):
    res = subprocess.run(train_cmd(*args, **kwargs), capture_output=True, text=True, cwd=ROOT, env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    return res


def losses(work_dir: Path) -> list[float]:
    """The logged total losses, in order, over all runs in the work dir."""
    values = []
    for scalars in sorted(work_dir.glob("*/vis_data/scalars.json")):
        values += [json.loads(line)["loss"] for line in scalars.read_text().splitlines() if '"loss"' in line]
    return values


def _disc(h, w, rng):
    yy, xx = np.mgrid[0:h, 0:w]
    r = rng.uniform(0.25, 0.4) * min(h, w)
    return np.clip((r - np.hypot(yy - h / 2, xx - w / 2)) / 3 + 0.5, 0, 1)


def make_imagefolder(root: Path) -> Path:
    rng = np.random.default_rng(0)
    for c, colour in (("cat", (200, 60, 60)), ("dog", (60, 60, 200))):
        (root / c).mkdir(parents=True)
        for i in range(4):
            img = np.clip(np.array(colour) + rng.normal(0, 30, (40, 48, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(img).save(root / c / f"{i}.png")
    return root


def make_duts(root: Path) -> Path:
    rng = np.random.default_rng(1)
    (root / "DUTS-TR-Image").mkdir(parents=True)
    (root / "DUTS-TR-Mask").mkdir(parents=True)
    for i in range(4):
        a = _disc(72, 80, rng) > 0.5
        img = np.where(a[..., None], 220, 40) + rng.normal(0, 10, (72, 80, 3))
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(root / "DUTS-TR-Image" / f"s{i}.jpg")
        Image.fromarray((a * 255).astype(np.uint8)).save(root / "DUTS-TR-Mask" / f"s{i}.png")
    return root


def make_composition(root: Path) -> Path:
    rng = np.random.default_rng(2)
    for sub in ("DIM/train/fg", "DIM/train/mask", "BG-20k/train"):
        (root / sub).mkdir(parents=True)
    for i in range(3):
        a = _disc(96, 96, rng)
        Image.fromarray(rng.integers(0, 255, (96, 96, 3), dtype=np.uint8)).save(root / "DIM/train/fg" / f"f{i}.png")
        Image.fromarray(np.round(a * 255).astype(np.uint8)).save(root / "DIM/train/mask" / f"f{i}.png")
        Image.fromarray(rng.integers(0, 255, (120, 140, 3), dtype=np.uint8)).save(root / "BG-20k/train" / f"b{i}.jpg")
    return root


def test_stage0_imagenet_classifier(tmp_path):
    data = make_imagefolder(tmp_path / "imagenet")
    run_train(CONFIGS / "smoke" / "aimnet_imagenet_smoke.py", tmp_path / "w0",
              f"train_dataloader.dataset.data_root={data}")
    ckpt = tmp_path / "w0" / "epoch_1.pth"
    state = torch.load(ckpt, weights_only=True)["state_dict"]
    assert "backbone.layer4.2.conv2.weight" in state and tuple(state["backbone.fc.weight"].shape) == (2, 512)
    assert len(losses(tmp_path / "w0")) == 2               # 8 images, batch 4


def test_stage1_then_stage2_from_its_checkpoint(tmp_path):
    duts = make_duts(tmp_path / "DUTS-TR")
    run_train(CONFIGS / "smoke" / "aimnet_duts_smoke.py", tmp_path / "w1", f"train_dataloader.dataset.data_root={duts}")
    stage1 = tmp_path / "w1" / "epoch_1.pth"
    assert torch.load(stage1, weights_only=True)["state_dict"]["network.decoder_final_l.weight"].shape == (1, 64, 3, 3)
    comp = make_composition(tmp_path / "comp")
    res = run_train(CONFIGS / "smoke" / "aimnet_matting_smoke.py", tmp_path / "w2",
                    f"train_dataloader.dataset.data_root={comp}", f"load_from={stage1}")
    assert f"Loaded the weights of {stage1} (strict)" in res.stderr + res.stdout
    parts = [json.loads(line) for line in next((tmp_path / "w2").glob("*/vis_data/scalars.json")).read_text().splitlines()]
    assert all(k in parts[0] for k in ("global", "local", "fusion_alpha", "fusion_comp"))   # stage-2 losses


def _first_loss(work_dir: Path) -> dict:
    return json.loads(next(work_dir.glob("*/vis_data/scalars.json")).read_text().splitlines()[0])


def test_bf16_autocast_and_channels_last_on_cpu(tmp_path):
    duts = make_duts(tmp_path / "DUTS-TR")
    opt = f"train_dataloader.dataset.data_root={duts}"
    run_train(CONFIGS / "smoke" / "aimnet_duts_smoke.py", tmp_path / "fp32", opt)
    run_train(CONFIGS / "smoke" / "aimnet_duts_smoke.py", tmp_path / "bf16", opt,
              flags=["--amp", "bf16", "--channels-last"])
    fp32, bf16 = _first_loss(tmp_path / "fp32")["loss"], _first_loss(tmp_path / "bf16")["loss"]
    assert fp32 != bf16 and abs(bf16 - fp32) < 0.05 * fp32      # autocast ran, and computed the same loss
    state = torch.load(tmp_path / "bf16" / "epoch_1.pth", weights_only=True)["state_dict"]
    assert all(v.dtype == torch.float32 for v in state.values() if v.is_floating_point())   # fp32 master weights


@pytest.mark.skipif(torch.cuda.is_available(), reason="fp16 autocast is refused only without CUDA")
def test_fp16_without_cuda_is_a_one_line_error(tmp_path):
    res = subprocess.run(train_cmd(CONFIGS / "aimnet_smoke.py", tmp_path / "w", flags=["--amp", "fp16"]),
                         capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "--amp fp16 needs a CUDA GPU" in res.stderr


@pytest.mark.parametrize("model, layer", [(dict(type="AimMattor", stage="sod"), "network.resnet.conv1.weight"),
                                          (dict(type="ImageClassifier"), "backbone.conv1.weight")])
def test_channels_last_models_compute_the_same_loss(model, layer):
    from matbench.registry import MODELS, build

    torch.manual_seed(0)
    plain = build(MODELS, model)
    nhwc = build(MODELS, {**model, "channels_last": True})
    nhwc.load_state_dict(plain.state_dict())
    assert nhwc.get_parameter(layer).is_contiguous(memory_format=torch.channels_last)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 64, 64, generator=g)
    if model["type"] == "AimMattor":
        alpha = torch.rand(2, 1, 64, 64, generator=g) * 255
        targets = dict(alpha=alpha, trimap=torch.where(alpha > 230, 255.0, torch.where(alpha < 25, 0.0, 128.0)))
    else:
        targets = dict(label=torch.tensor([0, 1]))
    a, b = plain(x, **targets, mode="loss"), nhwc(x, **targets, mode="loss")
    for key in a:
        assert torch.allclose(a[key], b[key], rtol=1e-4), key
    assert nhwc.data_preprocessor._non_blocking               # batches copied asynchronously


def test_smoke_config_trains_and_its_checkpoint_evaluates(tmp_path):
    work = tmp_path / "smoke"
    run_train(CONFIGS / "aimnet_smoke.py", work, "train_cfg.max_iters=12", "train_cfg.val_interval=12",
              "default_hooks.checkpoint.interval=12")
    values = losses(work)
    assert len(values) >= 2 and values[-1] < values[0]        # the loss falls
    res = subprocess.run([sys.executable, "-m", "matbench.cli", "eval", "--checkpoint", str(work / "iter_12.pth"),
                          "--strategy", "resize", "--work-dir", str(tmp_path / "eval"), "--workers", "0",
                          "--metric-workers", "0", "--dataset-option", "indices=2"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    assert len(json.loads((tmp_path / "eval" / "results.json").read_text())["per_image"]) == 2


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 300) -> None:
    t0 = time.time()
    while not path.exists():
        assert proc.poll() is None, proc.stderr.read()[-3000:] if proc.stderr else "training ended early"
        assert time.time() - t0 < timeout, f"{path} never appeared"
        time.sleep(0.2)


def test_kill_9_then_resume_gives_the_same_state(tmp_path):
    opts = ["train_cfg.max_iters=8", "default_hooks.checkpoint.interval=4", "val_cfg=None",
            "val_dataloader=None", "val_evaluator=None"]
    # one thread: on some CPUs (AVX-512 oneDNN) multi-threaded backward passes are not bitwise
    # repeatable, and two uninterrupted runs would already differ
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run_train(CONFIGS / "aimnet_smoke.py", tmp_path / "straight", *opts, env=env)
    proc = subprocess.Popen(train_cmd(CONFIGS / "aimnet_smoke.py", tmp_path / "killed", *opts), cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    _wait_for(tmp_path / "killed" / "last_checkpoint", proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / "killed" / "iter_8.pth").exists()
    run_train(CONFIGS / "aimnet_smoke.py", tmp_path / "killed", *opts, resume=True, env=env)
    a = torch.load(tmp_path / "straight" / "iter_8.pth", weights_only=True)
    b = torch.load(tmp_path / "killed" / "iter_8.pth", weights_only=True)
    assert a["meta"]["iter"] == b["meta"]["iter"] == 8
    for key, tensor in a["state_dict"].items():
        assert torch.allclose(tensor.float(), b["state_dict"][key].float(), rtol=1e-5, atol=1e-6), key
    steps = [s["step"] for s in b["optimizer"]["state"].values()]
    assert steps and all(int(s) == 8 for s in steps)           # Adam's state continued, not restarted


@pytest.mark.skipif(0 < torch.cuda.device_count() < 2, reason="with CUDA each process needs its own GPU")
def test_two_gloo_processes(tmp_path):
    env = {**os.environ, "PORT": str(29500 + os.getpid() % 1000)}
    res = subprocess.run([str(ROOT / "tools" / "dist_train.sh"), str(CONFIGS / "aimnet_smoke.py"), "2",
                          "--work-dir", str(tmp_path / "dist"), "--cfg-options", "train_cfg.max_iters=4",
                          "train_cfg.val_interval=4", "default_hooks.checkpoint.interval=4"],
                         capture_output=True, text=True, cwd=ROOT, env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    log = next((tmp_path / "dist").glob("*/*.log")).read_text()
    assert "Distributed training: True" in log and "matting/sad" in log
    assert (tmp_path / "dist" / "iter_4.pth").is_file()


def test_cuda_run_config_pins_memory_and_uses_mmengine_amp(monkeypatch):
    from matbench.training.run import load_train_config

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    cfg = load_train_config(CONFIGS / "aimnet_matting.py", amp="fp16", channels_last=True)
    assert cfg.train_dataloader.pin_memory is True and cfg.model.channels_last is True
    assert (cfg.optim_wrapper.type, cfg.optim_wrapper.dtype) == ("AmpOptimWrapper", "float16")
    kept = load_train_config(CONFIGS / "aimnet_matting.py", cfg_options=["train_dataloader.pin_memory=False"])
    assert kept.train_dataloader.pin_memory is False            # the config's own choice wins


@pytest.mark.parametrize("options, message", [
    (["optim_wrapper.optimizer.type=Adamm"], "optim_wrapper.optimizer: unknown type 'Adamm'; did you mean 'Adam'?"),
    (["train_dataloader.dataset.type=embeded"], "train_dataloader.dataset: unknown type 'embeded'; did you mean 'embedded'?"),
    (["load_from=missing.pth"], "missing.pth: load_from checkpoint not found"),
    (["train_cfg.max_iters=abc"], "train_cfg.max_iters='abc': expected a whole number of 1 or more"),
])
def test_config_mistakes_are_one_line_errors(tmp_path, options, message):
    res = subprocess.run(train_cmd(CONFIGS / "aimnet_smoke.py", tmp_path / "w", *options),
                         capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr[-2000:]
    assert res.stderr.strip().splitlines()[-1].endswith(message)


def _strict_load(model, path):
    from types import SimpleNamespace

    from matbench.training.hooks import StrictLoadHook

    StrictLoadHook(str(path)).before_train(SimpleNamespace(model=model, logger=SimpleNamespace(info=print)))


@pytest.mark.parametrize("prefix", ["", "module.", "network."])
def test_load_from_takes_official_and_matbench_checkpoints_strictly(tmp_path, prefix):
    from matbench.errors import InputError
    from matbench.registry import MODELS, build

    torch.manual_seed(0)
    source = build(MODELS, dict(type="AimNet"))
    path = tmp_path / "weights.pth"
    torch.save({"state_dict": {prefix + k: v for k, v in source.state_dict().items()}}, path)
    model = build(MODELS, dict(type="AimMattor", stage="matting"))
    _strict_load(model, path)
    for key, value in source.state_dict().items():
        assert torch.equal(model.network.state_dict()[key], value), key
    torch.save({"state_dict": {k: v for k, v in source.state_dict().items() if "decoder" not in k}}, path)
    with pytest.raises(InputError, match="missing: decoder"):
        _strict_load(model, path)                           # mmengine's own load would only warn


def test_resume_continues_the_work_dir_not_load_from(tmp_path):
    from matbench.errors import MatbenchError
    from matbench.training.run import _route_weights, load_train_config

    stage1 = tmp_path / "stage1.pth"
    stage1.write_bytes(b"")
    cfg = load_train_config(CONFIGS / "aimnet_matting.py", work_dir=tmp_path / "w", resume=True,
                            cfg_options=[f"load_from={stage1}"])
    with pytest.raises(MatbenchError, match="nothing to resume"):
        _route_weights(cfg)
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "last_checkpoint").write_text(str(tmp_path / "w" / "epoch_3.pth"))
    _route_weights(cfg)
    assert cfg.load_from is None and not any(h["type"] == "StrictLoadHook" for h in cfg.custom_hooks)
    fresh = load_train_config(CONFIGS / "aimnet_matting.py", work_dir=tmp_path / "w2", cfg_options=[f"load_from={stage1}"])
    _route_weights(fresh)
    assert fresh.load_from is None and fresh.custom_hooks[-1] == dict(type="StrictLoadHook", checkpoint=str(stage1))

"""End-to-end training throughput: the official training loop against `matbench train`, on the
same synthetic training set, data loading included.

    AIM_REF=/path/to/AIM python tools/bench_train_loop.py \
        [--stage matting|sod] [--batch 16] [--iters 12] [--workers 4] \
        [--amp fp16|bf16] [--channels-last] [--json FILE]
    # AIM_REF: a checkout of github.com/JizhiziLi/AIM

A training set is written to a temporary folder in the official layout (which matbench's configs
read as they are): for stage 2 ('matting'), DIM/HATT/AM-2k foregrounds with alpha and USR at
--fg-size and BG-20k backgrounds at --bg-size, so that one epoch (SAMPLE_BAGS 5/5/2) covers
batch x iters samples; for stage 1 ('sod'), DUTS-TR images and masks at --duts-size. Then, for
the official code and for matbench:

  sample   seconds to build one training sample in one process (official LoadDataset /
           matbench's dataset and pipeline from configs/aimnet_{duts,matting}.py);
  loader   batches per second that a DataLoader with --workers processes delivers, no model;
  step     seconds per training iteration, data loading included, timed from the third
           iteration on: the official loop (see below) with AimNet from core/network, the
           losses of core/evaluate.py and Adam; matbench: mmengine's Runner on the stage's config
           with --amp / --channels-last, validation and checkpoints off.

core/train.py itself cannot be imported (line 21 reads `import datetime{}`), so its loop body is
restated in `official_step`: torch.cuda.empty_cache, a blocking .cuda() per tensor, forward
through DataParallel, the stage's losses, backward, step, loss.item(). The official code calls
.cuda() throughout; with --device cpu those calls are made no-ops for the duration of the run.
Both loaders get --workers processes (the official default is 4). The official backgrounds are
resized as scikit-image 0.14 (the official pin) did, not with today's anti-aliased default. Both
sides run on CUDA when it is available, else on the CPU. ``--json`` writes the table's numbers.
"""
from __future__ import annotations

import argparse
import contextlib
import itertools
import logging
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

import cv2
import numpy as np
import torch
from mmengine.hooks import Hook

from benchlib import write_json
from matbench.registry import DATASETS, HOOKS, build
from official import build_aimnet, cuda_as_noop, module, patched, sk014_resize

ROOT = Path(__file__).resolve().parents[1]
SOURCES = (("DIM", 5), ("HATT", 5), ("AM-2k", 2))          # official SAMPLE_BAGS
WARMUP = 2


# --- the synthetic training set --------------------------------------------------------------

def _smooth_rgb(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    coarse = rng.integers(0, 256, (max(h // 64, 2), max(w // 64, 2), 3), dtype=np.uint8)
    return np.clip(cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
                   + rng.normal(0, 8, (h, w, 3)), 0, 255).astype(np.uint8)


def _soft_blob(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    cy, cx = rng.uniform(0.35, 0.65) * h, rng.uniform(0.35, 0.65) * w
    r = np.hypot((yy - cy) / (0.3 * h), (xx - cx) / (0.25 * w))
    return np.round(np.clip((1.0 - r) * 12, 0, 1) * 255).astype(np.uint8)


def write_training_set(root: Path, stage: str, samples: int, args) -> None:
    from matbench_aim.usr import make_usr

    rng = np.random.default_rng(0)
    if stage == "sod":
        h, w = args.duts_size
        for sub in ("DUTS-TR/DUTS-TR-Image", "DUTS-TR/DUTS-TR-Mask"):
            (root / sub).mkdir(parents=True)
        for i in range(samples):
            cv2.imwrite(str(root / f"DUTS-TR/DUTS-TR-Image/s{i:04d}.jpg"), _smooth_rgb(rng, h, w))
            cv2.imwrite(str(root / f"DUTS-TR/DUTS-TR-Mask/s{i:04d}.png"), (_soft_blob(rng, h, w) > 127) * np.uint8(255))
        return
    per_source = -(-samples // sum(bags for _, bags in SOURCES))
    (root / "BG-20k/train").mkdir(parents=True)
    for i in range(per_source * max(bags for _, bags in SOURCES)):
        cv2.imwrite(str(root / f"BG-20k/train/b{i:04d}.jpg"), _smooth_rgb(rng, *args.bg_size))
    for name, _ in SOURCES:
        for sub in ("fg", "mask", "usr"):
            (root / name / "train" / sub).mkdir(parents=True)
        for i in range(per_source):
            alpha = _soft_blob(rng, *args.fg_size)
            for sub, img in (("fg", _smooth_rgb(rng, *args.fg_size)), ("mask", alpha), ("usr", make_usr(alpha, "SO"))):
                cv2.imwrite(str(root / name / "train" / sub / f"{name}_{i:04d}.png"), img)


# --- the official side -----------------------------------------------------------------------

def official_modules() -> SimpleNamespace:
    """core/{data, evaluate}.py from AIM_REF and the official AimNet, with the dataset paths of
    config.py set to a folder given later (``set_root``)."""
    mods = SimpleNamespace(data=module("data"), evaluate=module("evaluate"), util=module("util"),
                           aimnet=build_aimnet)

    def set_root(root: Path) -> None:
        paths = mods.data.DATASET_PATHS_DICT
        paths["SOD_DUTS"]["TRAIN"].update(ORIGINAL_PATH=f"{root}/DUTS-TR/DUTS-TR-Image/",
                                          MASK_PATH=f"{root}/DUTS-TR/DUTS-TR-Mask/")
        for key, name in (("DIM", "DIM"), ("HATT", "HATT"), ("AM2K", "AM-2k")):
            paths[key]["TRAIN"].update({f"{k}_PATH": f"{root}/{name}/train/{k.lower()}/" for k in ("FG", "MASK", "USR")})
        paths["BG20K"]["TRAIN"]["ORIGINAL_PATH"] = f"{root}/BG-20k/train/"

    mods.set_root = set_root
    return mods


def official_dataset(mods: SimpleNamespace, stage: str):
    args = SimpleNamespace(train_data=stage, logging=logging.getLogger("official"))
    return mods.data.LoadDataset(args, mods.data.DatasetTransform())


def official_step(model, optimizer, batch, stage: str, ev) -> float:
    """One iteration of core/train.py's ``train`` loop."""
    torch.cuda.empty_cache()
    batch = [item.cuda() for item in batch]
    optimizer.zero_grad()
    pred_global, pred_local, pred_fusion = model(batch[0])
    if stage == "sod":
        image, alpha, trimap = batch
        loss = (ev.get_crossentropy_loss(trimap, pred_global) + ev.get_alpha_loss(pred_local, alpha, trimap)
                + ev.get_alpha_loss_whole_img(pred_fusion, alpha))
    else:
        image, alpha, usr, fg, bg = batch
        loss = (ev.get_crossentropy_loss(usr, pred_global)
                + ev.get_alpha_loss(pred_local, alpha, usr) + ev.get_laplacian_loss(pred_local, alpha, usr)
                + ev.get_alpha_loss_whole_img(pred_fusion, alpha) + ev.get_laplacian_loss_whole_img(pred_fusion, alpha)
                + ev.get_composition_loss_whole_img(image, alpha, fg, bg, pred_fusion))
    loss.backward()
    optimizer.step()
    return loss.item()


def official_loop(mods: SimpleNamespace, dataset, args) -> list[float]:
    with cuda_as_noop() if args.device == "cpu" else contextlib.nullcontext():
        model = torch.nn.DataParallel(mods.aimnet().train()).cuda()
        optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-5)
        return clock_batches(dataset, args, lambda batch: official_step(model, optimizer, batch, args.stage,
                                                                         mods.evaluate))


# --- matbench's side -------------------------------------------------------------------------

@HOOKS.register_module()
class IterClockHook(Hook):
    """Records the time at the end of every training iteration (after the device is done)."""

    times: list[float] = []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        IterClockHook.times.append(time.perf_counter())


def bench_config(root: Path, stage: str, args, folder: Path) -> Path:
    """A config for the stage's run on the synthetic set: its own file, inheriting the stage's."""
    base = ROOT / "configs" / ("aimnet_duts.py" if stage == "sod" else "aimnet_matting.py")
    if stage == "sod":
        dataset = f"dict(data_root='{root}/DUTS-TR')"
    else:
        sources = ", ".join(f"dict(root='{n}/train', repeat={bags}, default_type='SO')" for n, bags in SOURCES)
        dataset = f"dict(data_root='{root}', bg_dir='BG-20k/train', sources=[{sources}])"
    path = folder / f"bench_{stage}.py"
    path.write_text(
        f"_base_ = ['{base}']\n"
        f"train_dataloader = dict(batch_size={args.batch}, num_workers={args.workers}, "
        f"persistent_workers={args.workers > 0}, dataset={dataset})\n"
        f"train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters={args.iters})\n"
        "val_dataloader = None\nval_evaluator = None\nval_cfg = None\nload_from = None\n"
        "default_hooks = dict(checkpoint=None, logger=dict(interval=1))\n"
        "custom_hooks = [dict(type='IterClockHook')]\n")
    return path


def matbench_dataset(config: Path):
    from matbench.training.run import load_train_config

    return build(DATASETS, load_train_config(config).train_dataloader.dataset)


def matbench_loop(config: Path, args, work_dir: Path) -> list[float]:
    from matbench.training.run import train

    IterClockHook.times.clear()
    train(config, work_dir=work_dir, amp=args.amp, channels_last=args.channels_last)
    return list(IterClockHook.times)


# --- measuring -------------------------------------------------------------------------------

def per_sample(dataset, n: int) -> float:
    dataset[0]
    t0 = time.perf_counter()
    for i in range(1, n + 1):
        dataset[i % len(dataset)]
    return (time.perf_counter() - t0) / n


def clock_batches(dataset, args, step: Callable[[Any], Any] = lambda batch: None) -> list[float]:
    """The times at which `step` is done with each of the first --iters batches of a shuffled
    DataLoader over `dataset` with --workers processes (as the official train.py builds it)."""
    loader = torch.utils.data.DataLoader(dataset, num_workers=args.workers, batch_size=args.batch, shuffle=True)
    clock = []
    for batch in itertools.islice(loader, args.iters):
        step(batch)
        clock.append(time.perf_counter())
    return clock


def seconds_per_iter(clock: list[float]) -> float:
    return (clock[-1] - clock[WARMUP]) / (len(clock) - 1 - WARMUP)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stage", choices=["sod", "matting"], default="matting")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--iters", type=int, default=12)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--amp", choices=["fp16", "bf16"], default=None)
    ap.add_argument("--channels-last", action="store_true")
    ap.add_argument("--samples", type=int, default=24, help="samples timed in the one-process measurement")
    ap.add_argument("--fg-size", type=int, nargs=2, default=(1080, 1440), metavar=("H", "W"))
    ap.add_argument("--bg-size", type=int, nargs=2, default=(1200, 1800), metavar=("H", "W"))
    ap.add_argument("--duts-size", type=int, nargs=2, default=(300, 400), metavar=("H", "W"))
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    args = ap.parse_args()
    args.device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.iters <= WARMUP + 1:
        ap.error(f"--iters must be more than {WARMUP + 1}")
    import matbench_aim  # noqa: F401  (registers the datasets, transforms and AimMattor)

    mods = official_modules()
    with tempfile.TemporaryDirectory() as tmp, patched(mods.util, resize=sk014_resize):
        tmp = Path(tmp)
        write_training_set(tmp / "data", args.stage, args.batch * args.iters, args)
        mods.set_root(tmp / "data")
        config = bench_config(tmp / "data", args.stage, args, tmp)
        official, ours = official_dataset(mods, args.stage), matbench_dataset(config)
        rows = [("sample: s, 1 process", per_sample(official, args.samples), per_sample(ours, args.samples), False),
                (f"loader: batch/s, {args.workers} workers", 1 / seconds_per_iter(clock_batches(official, args)),
                 1 / seconds_per_iter(clock_batches(ours, args)), True),
                ("step: s/iteration, with loading", seconds_per_iter(official_loop(mods, official, args)),
                 seconds_per_iter(matbench_loop(config, args, tmp / "work")), False)]
    setting = f"{args.amp or 'fp32'}{', channels_last' if args.channels_last else ''}"
    print(f"\nstage {args.stage}, device {args.device}, torch {torch.__version__}, batch {args.batch}, "
          f"{args.workers} workers; matbench: {setting}")
    print(f"{'':36s} {'official':>9s} {'matbench':>9s} {'speed-up':>9s}")
    for label, off, mine, higher_is_better in rows:
        print(f"{label:36s} {off:9.3f} {mine:9.3f} {(mine / off if higher_is_better else off / mine):8.2f}x")
    write_json(args.json, dict(stage=args.stage, device=args.device, torch=torch.__version__, batch=args.batch,
                               workers=args.workers, matbench_setting=setting,
                               rows=[dict(what=label, official=off, matbench=mine,
                                          speed_up=mine / off if higher_is_better else off / mine)
                                     for label, off, mine, higher_is_better in rows]))


if __name__ == "__main__":
    main()

"""Training throughput of AimNet per stage: images/s and peak memory of the training step.

    python tools/bench_train.py [--stages sod matting] [--batch 16] [--size 320] [--iters 5]
                                [--device cuda] [--amp fp16|bf16] [--channels-last] [--json FILE]

The step is what mmengine's Runner runs for configs/aimnet_duts.py (stage 1, 'sod') and
configs/aimnet_matting.py (stage 2, 'matting'): forward, the stage's losses, backward, Adam.
Inputs are random tensors of the training batch shape, so data loading is not measured (in a
run it happens in DataLoader workers, overlapped with the step). Each configuration is printed
next to the plain fp32 / NCHW step of the official train.py, and their ratio. ``--json`` writes
the same numbers.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

import matbench_aim  # noqa: F401  (registers AimMattor and the losses)
from benchlib import peak_rss_mib, write_json
from matbench.registry import MODELS, build


def batch(stage: str, n: int, size: int, device: str) -> dict:
    g = torch.Generator().manual_seed(0)
    alpha = torch.rand(n, 1, size, size, generator=g)
    trimap = torch.where(alpha > 0.9, 255.0, torch.where(alpha < 0.1, 0.0, 128.0))
    data = dict(inputs=torch.randn(n, 3, size, size, generator=g), alpha=alpha, trimap=trimap)
    if stage == "matting":
        data.update(fg=torch.randn(n, 3, size, size, generator=g), bg=torch.randn(n, 3, size, size, generator=g))
    return {k: v.to(device) for k, v in data.items()}


def measure(stage: str, args, amp: str | None, channels_last: bool) -> tuple[float, float]:
    model = build(MODELS, dict(type="AimMattor", stage=stage)).to(args.device).train()
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    scaler = torch.amp.GradScaler(enabled=amp == "fp16" and args.device.startswith("cuda"))
    data = batch(stage, args.batch, args.size, args.device)
    if channels_last:
        data["inputs"] = data["inputs"].contiguous(memory_format=torch.channels_last)
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(amp)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        with torch.autocast(torch.device(args.device).type, dtype=dtype, enabled=amp is not None):
            loss = model(**data, mode="loss")["loss"]
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()

    step()                                                   # warm-up
    cuda = args.device.startswith("cuda")
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    for _ in range(args.iters):
        step()
    if cuda:
        torch.cuda.synchronize()
    sec = (time.perf_counter() - t0) / args.iters
    mem = torch.cuda.max_memory_allocated() / 2**20 if cuda else peak_rss_mib()
    return args.batch / sec, mem


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stages", nargs="+", default=["sod", "matting"])
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--size", type=int, default=320)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--amp", choices=["fp16", "bf16"], default=None)
    ap.add_argument("--channels-last", action="store_true")
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    args = ap.parse_args()
    print(f"device {args.device}, torch {torch.__version__}, batch {args.batch}, {args.size}x{args.size}")
    print(f"{'stage':8s} {'setting':28s} {'images/s':>9s} {'peak MiB':>9s} {'vs fp32':>8s}")
    rows = []
    for stage in args.stages:
        base, base_mem = measure(stage, args, None, False)
        rows.append(dict(stage=stage, setting="fp32, NCHW", images_per_s=base, peak_mib=base_mem))
        print(f"{stage:8s} {'fp32, NCHW (as train.py)':28s} {base:9.2f} {base_mem:9.0f} {1.0:7.2f}x")
        if args.amp or args.channels_last:
            ips, mem = measure(stage, args, args.amp, args.channels_last)
            label = f"{args.amp or 'fp32'}{', channels_last' if args.channels_last else ''}"
            rows.append(dict(stage=stage, setting=label, images_per_s=ips, peak_mib=mem))
            print(f"{stage:8s} {label:28s} {ips:9.2f} {mem:9.0f} {ips / base:7.2f}x")
    write_json(args.json, dict(device=args.device, torch=torch.__version__, batch=args.batch, size=args.size,
                               rows=rows))


if __name__ == "__main__":
    main()

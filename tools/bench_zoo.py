"""Inference speed and peak memory of a zoo network in matbench against its official code, and
how close their 8-bit outputs are.

    GFM_REF=/path/to/GFM python tools/bench_zoo.py GFM [--size 1200x1500] [--repeat 2] [--json FILE]
    python tools/bench_zoo.py GFM --no-official          # matbench alone

Each zoo model has a harness ``tools/official/<module>.py`` (``HARNESSES`` below) naming its
official repository (``REPO``, an environment variable) and providing:

    VARIANT                                     model options of the default (released) variant
    weights(**variant) -> state dict            deterministic, conditioned random weights
    official_network(state, **variant)          the official network with those weights
    official_predict(net, rgb, trimap=None)     the official test script's own 8-bit output (uint8 HxW)

matbench runs the model's default strategy (its official procedure) with the same weights and
saves by its ``save_rule``. Both sides run in fresh processes with the same number of torch
threads, on the same photo-like image (with a trimap for trimap-based models); each side's peak
memory is its process's peak resident memory. Prints seconds per image (best of ``--repeat``),
the ratio, peak memory, and the share of pixels (of unknown pixels for trimap-based models)
within 2 grey levels and exactly equal.
"""
from __future__ import annotations

import argparse
import importlib
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchlib import composite_photo, in_fresh_process, peak_rss_mib, synthetic_image, write_json

#: registered model name -> harness module under tools/official/
HARNESSES = {"GFM": "gfm", "P3MNet": "p3m", "MODNet": "modnet", "GCA": "gca", "MatteFormer": "matteformer",
             "IndexNet": "indexnet"}


def _inputs(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """A photo of a synthetic matte and that matte's trimap."""
    _, alpha, trimap = synthetic_image(seed=3, h=h, w=w)
    return composite_photo(alpha, seed=4), trimap


def _harness(model: str) -> Any:
    return importlib.import_module(f"official.{HARNESSES[model]}")


def _time(fn: Any, repeat: int) -> tuple[float, Any]:
    out = fn()                                                   # warm-up, and the output to compare
    best = min(_elapsed(fn) for _ in range(repeat))
    return best, out


def _elapsed(fn: Any) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run_matbench(model: str, h: int, w: int, repeat: int, threads: int) -> dict:
    """matbench's default strategy and save rule on the benchmark image (in a fresh process)."""
    import torch

    from matbench.api import MODELS, STRATEGIES, build, image_tensor, run_strategy, to_uint8
    from matbench.evaluation.options import network_source
    from matbench.networks import takes_trimap, trimap_tensor
    from matbench.plugins import load_plugins

    torch.set_num_threads(threads)
    load_plugins()
    harness = _harness(model)
    cfg = {"type": model, **harness.VARIANT}
    network = build(MODELS, cfg)
    network.load_state_dict(harness.weights(**harness.VARIANT))
    network.eval()
    strategy_cfg, _ = network_source({}, cfg, None, (), None, True, getattr(type(network), "default_strategy", None))
    strategy = build(STRATEGIES, strategy_cfg)
    rgb, trimap = _inputs(h, w)
    image = image_tensor(rgb, "cpu")
    tri = trimap_tensor(trimap, "cpu") if takes_trimap(network) else None

    def once() -> np.ndarray:
        with torch.no_grad():
            alpha = run_strategy(strategy, network, image, tri)["alpha"].double().numpy()
        return to_uint8(alpha, getattr(network, "save_rule", None) or "round")

    seconds, alpha8 = _time(once, repeat)
    return {"seconds": seconds, "peak_mib": peak_rss_mib(), "alpha8": alpha8, "strategy": strategy_cfg}


def run_official(model: str, h: int, w: int, repeat: int, threads: int) -> dict:
    """The official test procedure on the same image and weights (in a fresh process)."""
    import torch

    torch.set_num_threads(threads)
    harness = _harness(model)
    net = harness.official_network(harness.weights(**harness.VARIANT), **harness.VARIANT)
    rgb, trimap = _inputs(h, w)
    extra = {"trimap": trimap} if _takes_trimap(model) else {}
    seconds, alpha8 = _time(lambda: harness.official_predict(net, rgb, **extra), repeat)
    return {"seconds": seconds, "peak_mib": peak_rss_mib(), "alpha8": alpha8}


def _takes_trimap(model: str) -> bool:
    from matbench.api import MODELS, lookup

    return "trimap" in getattr(lookup(MODELS, model), "inputs", ("image",))


def agreement(a: np.ndarray, b: np.ndarray, where: np.ndarray | None = None) -> dict:
    """Shares of pixels (inside ``where``) within 2 grey levels and exactly equal."""
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16))
    diff = diff[where] if where is not None else diff.ravel()
    return {"within_2": float((diff <= 2).mean()), "exact": float((diff == 0).mean()), "max": int(diff.max())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", choices=sorted(HARNESSES))
    ap.add_argument("--size", default="1200x1500", help="HxW of the benchmark image")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--threads", type=int, default=None, help="torch threads on both sides (default: torch's)")
    ap.add_argument("--no-official", action="store_true", help="time matbench alone")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    import torch

    h, w = map(int, args.size.lower().split("x"))
    threads = args.threads or torch.get_num_threads()
    ours = in_fresh_process(run_matbench, args.model, h, w, args.repeat, threads)
    report: dict = {"model": args.model, "size": [h, w], "threads": threads, "strategy": ours["strategy"],
                    "matbench": {k: ours[k] for k in ("seconds", "peak_mib")}}
    print(f"{args.model} at {h}x{w}, {threads} torch threads, strategy {ours['strategy']}")
    print(f"  matbench: {ours['seconds']:.3f} s per image, peak {ours['peak_mib']:.0f} MiB")
    if not args.no_official:
        theirs = in_fresh_process(run_official, args.model, h, w, args.repeat, threads)
        where = _inputs(h, w)[1] == 128 if _takes_trimap(args.model) else None
        report["official"] = {k: theirs[k] for k in ("seconds", "peak_mib")}
        report["speedup"] = theirs["seconds"] / ours["seconds"]
        report["agreement"] = agreement(ours["alpha8"], theirs["alpha8"], where)
        print(f"  official: {theirs['seconds']:.3f} s per image, peak {theirs['peak_mib']:.0f} MiB")
        print(f"  speed-up {report['speedup']:.2f}x; 8-bit outputs: {report['agreement']['within_2']:.4%} within "
              f"2 levels, {report['agreement']['exact']:.4%} equal, max difference {report['agreement']['max']}"
              + (" (unknown pixels)" if where is not None else ""))
    write_json(args.json, report)


if __name__ == "__main__":
    main()

"""Regenerate tests/fixtures/aim_losses_golden.json: official AIM training-loss values and USR /
trimap hashes for seeded inputs, to check plugins/matbench_aim/{losses,usr}.py against.

How the fixture is made: every case is a small recipe (kind, seed, shape, ...) that
``loss_inputs`` / ``usr_alpha`` below turn into tensors / arrays (the tests import those two
functions from this file, so the fixture holds recipes and results, never arrays). The values
come from the official code (github:JizhiziLi/AIM, MIT), imported unchanged from $AIM_REF/core:

* losses: ``core/evaluate.py`` (``get_crossentropy_loss``, ``get_alpha_loss[_whole_img]``,
  ``get_laplacian_loss[_whole_img]``, ``get_composition_loss_whole_img``) through
  tools/official, on CPU float32 tensors (``.cuda()`` returns the tensor itself while they run);
* stage totals: the loss block of ``core/train.py``'s ``train()`` (the ``if args.train_data ==
  'sod': ... else: ...`` statement), cut out of its source with ``ast`` (the file itself does not
  compile: ``import datetime{}``) and executed with those functions, for ``train_data`` 'sod'
  and 'matting'; then ``loss.backward()`` and the sum of |grad| of each prediction;
* USR: ``core/process_data.py``'s ``gen_usr_from_mask`` run on a temporary folder holding one
  mask PNG (its type json path patched to a temporary file), the written PNG read back; the
  stage-1 trimaps: ``core/util.py``'s ``gen_trimap_with_dilate``. Stored as sha256 of the
  C-ordered uint8 bytes plus the counts of each value.

    AIM_REF=/path/to/AIM python tools/make_aim_loss_golden.py [--out FILE]
    # AIM_REF: a checkout of github.com/JizhiziLi/AIM
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import hashlib
import io
import json
import tempfile
import types
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "fixtures" / "aim_losses_golden.json"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

LOSS_CASES = [
    dict(name="blobs_32x32", kind="blobs", seed=0, n=2, h=32, w=32),
    dict(name="blobs_40x56", kind="blobs", seed=1, n=2, h=40, w=56),
    dict(name="blobs_odd_65x37", kind="blobs", seed=2, n=1, h=65, w=37),
    dict(name="no_transition", kind="no_transition", seed=3, n=2, h=32, w=32),
    dict(name="all_transition", kind="all_transition", seed=4, n=2, h=36, w=44),
    # bilinear resizing in the official loader feeds trimaps with other values and non-integer masks
    dict(name="resized_values", kind="resized", seed=5, n=2, h=40, w=48),
]

USR_CASES = [dict(name=f"{kind}_{t}_k{k}", kind=kind, seed=s, h=h, w=w, type=t, kernel_size=k)
             for kind, s, h, w in (("blobs", 10, 150, 200), ("disc_edge", 11, 97, 143), ("binary", 12, 128, 120))
             for t in ("SO", "STM", "NS") for k in (30,)]
USR_CASES += [
    dict(name="blobs_SO_k31", kind="blobs", seed=13, h=130, w=170, type="SO", kernel_size=31),
    dict(name="blobs_STM_k7", kind="blobs", seed=14, h=60, w=50, type="STM", kernel_size=7),
    dict(name="zeros_SO_k30", kind="zeros", seed=15, h=20, w=30, type="SO", kernel_size=30),
    dict(name="full_SO_k30", kind="full", seed=16, h=20, w=30, type="SO", kernel_size=30),
    dict(name="full_STM_k30", kind="full", seed=16, h=20, w=30, type="STM", kernel_size=30),
]
# stage 1 (core/data.py) builds DUTS trimaps with kernel 10
TRIMAP_CASES = [dict(name=f"{kind}_k{k}", kind=kind, seed=s, h=h, w=w, kernel_size=k)
                for kind, s, h, w in (("blobs", 20, 90, 64), ("disc_edge", 21, 53, 85))
                for k in (10, 2, 1)]


# ----------------------------------------------------------------------------------------------
# Inputs (imported by tests/aim/test_losses.py and tests/aim/test_usr.py)


def _smooth_field(rng: np.random.Generator, shape: tuple[int, ...], sigma: float) -> np.ndarray:
    from scipy.ndimage import gaussian_filter
    field = gaussian_filter(rng.standard_normal(shape), sigma, mode="wrap")
    return field / (field.std() + 1e-12)


def _alpha255(rng: np.random.Generator, kind: str, h: int, w: int) -> np.ndarray:
    """An alpha in 0..255 (float64): smooth blobs with flat 0 / 255 areas, or a hard disc."""
    if kind == "disc_edge":  # a soft disc cut by the image border
        yy, xx = np.mgrid[0:h, 0:w]
        cy, cx = rng.uniform(0.0, 0.2) * h, rng.uniform(0.4, 0.6) * w
        r = rng.uniform(0.5, 0.7) * min(h, w)
        return np.round(np.clip((r - np.hypot(yy - cy, xx - cx)) / 3 + 0.5, 0, 1) * 255)
    sigma = max(3.0, min(h, w) / 10)  # blobs large enough for a 30-pixel kernel on big images
    a = np.clip(0.5 + 0.6 * _smooth_field(rng, (h, w), sigma), 0, 1) * 255
    if kind == "binary":
        return np.where(a >= 128, 255.0, 0.0)
    if kind == "zeros":
        return np.zeros((h, w))
    if kind == "full":
        return np.full((h, w), 255.0)
    return a if kind == "resized" else np.round(a)


def usr_alpha(recipe: dict) -> np.ndarray:
    """The uint8 HxW alpha of a USR / trimap recipe."""
    rng = np.random.default_rng(recipe["seed"])
    return _alpha255(rng, recipe["kind"], recipe["h"], recipe["w"]).astype(np.uint8)


def _normalise(x255: np.ndarray) -> torch.Tensor:
    """N x 3 x H x W float32 from N x H x W x 3 in 0..255, as the official loader normalises."""
    t = torch.from_numpy(x255.astype(np.float32)).permute(0, 3, 1, 2) / 255.0
    mean = torch.tensor(IMAGENET_MEAN)[None, :, None, None]
    std = torch.tensor(IMAGENET_STD)[None, :, None, None]
    return (t - mean) / std


def loss_inputs(recipe: dict) -> dict[str, torch.Tensor]:
    """float32 tensors of one loss recipe, in the official training units: ``pred_global``
    (N3HW sigmoid), ``pred_local``, ``pred_fusion`` (N1HW in [0, 1]), ``mask`` (N1HW, 0..255),
    ``trimap`` (N1HW, 0/128/255 or, kind 'resized', other values too), ``image``/``fg``/``bg``
    (N3HW, ImageNet-normalised); plus ``alpha = mask / 255.`` (matbench's unit)."""
    rng = np.random.default_rng(recipe["seed"])
    n, h, w, kind = recipe["n"], recipe["h"], recipe["w"], recipe["kind"]
    masks, trimaps = [], []
    for _ in range(n):
        a = _alpha255(rng, "binary" if kind == "no_transition" else kind, h, w)
        t = np.where(a <= 0, 0.0, np.where(a >= 255, 255.0, 128.0))
        if kind == "all_transition":
            t = np.full((h, w), 128.0)
        elif kind == "resized":
            odd = rng.random((h, w)) < 0.3
            t[odd] = rng.choice([0.4, 1.0, 1.5, 2.0, 2.5, 64.0, 127.5, 128.0, 200.0, 254.9, 255.0], size=int(odd.sum()))
        masks.append(a)
        trimaps.append(t)
    mask = np.stack(masks)[:, None]
    trimap = np.stack(trimaps)[:, None]
    pred_global = 1 / (1 + np.exp(-2 * rng.standard_normal((n, 3, h, w))))
    pred_local = np.clip(mask / 255 + 0.2 * rng.standard_normal(mask.shape), 0, 1)
    exact = rng.random(mask.shape) < 0.1
    pred_local[exact] = (mask / 255)[exact]
    pred_fusion = np.where(trimap == 0, 0.0, np.where(trimap == 255, 1.0, pred_local))
    fg = rng.uniform(0, 255, (n, h, w, 3))
    bg = rng.uniform(0, 255, (n, h, w, 3))
    a3 = mask[:, 0, :, :, None] / 255
    image = np.clip(np.round(a3 * fg + (1 - a3) * bg + rng.normal(0, 4, fg.shape)), 0, 255)
    f32 = lambda x: torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))  # noqa: E731
    out = dict(pred_global=f32(pred_global), pred_local=f32(pred_local), pred_fusion=f32(pred_fusion),
               mask=f32(mask), trimap=f32(trimap), image=_normalise(image), fg=_normalise(fg),
               bg=_normalise(bg))
    out["alpha"] = out["mask"] / 255.0
    return out


def array_digest(arr: np.ndarray) -> dict:
    """sha256 of a uint8 array's C-ordered bytes, its shape and the count of each value."""
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    values, counts = np.unique(arr, return_counts=True)
    return {"sha256": hashlib.sha256(arr.tobytes()).hexdigest(), "shape": list(arr.shape),
            "counts": {str(int(v)): int(c) for v, c in zip(values, counts)}}


# ----------------------------------------------------------------------------------------------
# Official values


def _train_loss_block(core: Path) -> types.CodeType:
    """The statement of train.py's train() that computes `loss` for both stages, compiled."""
    source = Path(core, "train.py").read_text()
    source = source.replace("import datetime{}", "import datetime")  # the official syntax error
    train_fn = next(node for node in ast.parse(source).body
                    if isinstance(node, ast.FunctionDef) and node.name == "train")
    for node in ast.walk(train_fn):
        if isinstance(node, ast.If) and "train_data" in ast.unparse(node.test) and any(
                isinstance(s, ast.Assign) and ast.unparse(s.targets[0]) == "loss" for s in node.body):
            return compile(ast.Module(body=[node], type_ignores=[]), "core/train.py:train", "exec")
    raise RuntimeError("no loss block found in core/train.py train()")


def _official_stage(block, ev, stage: str, x: dict) -> dict:
    preds = {k: x[k].clone().requires_grad_(True) for k in ("pred_global", "pred_local", "pred_fusion")}
    ns = {k: v for k, v in vars(ev).items() if k.startswith("get_")}
    ns.update(args=types.SimpleNamespace(train_data=stage), mask=x["mask"], ori=x["image"], fg=x["fg"],
              bg=x["bg"], predict_global=preds["pred_global"], predict_local=preds["pred_local"],
              predict_fusion=preds["pred_fusion"], **{("trimap" if stage == "sod" else "usr"): x["trimap"]})
    exec(block, ns)
    ns["loss"].backward()
    names = {"loss_global": "global", "loss_local": "local", "loss_fusion_alpha": "fusion_alpha",
             "loss_fusion_comp": "fusion_comp", "loss": "loss"}
    out = {ours: float(ns[theirs].detach()) for theirs, ours in names.items() if theirs in ns}
    out["grad_abs_sum"] = {k: float(p.grad.abs().sum()) for k, p in preds.items()}
    return out


def official_loss_values(block, ev, x: dict) -> dict:
    return {
        "global_ce": float(ev.get_crossentropy_loss(x["trimap"], x["pred_global"])),
        "alpha_transition": float(ev.get_alpha_loss(x["pred_local"], x["mask"], x["trimap"])),
        "alpha_whole": float(ev.get_alpha_loss_whole_img(x["pred_fusion"], x["mask"])),
        "laplacian_transition": float(ev.get_laplacian_loss(x["pred_local"], x["mask"], x["trimap"])),
        "laplacian_whole": float(ev.get_laplacian_loss_whole_img(x["pred_fusion"], x["mask"])),
        "composition": float(ev.get_composition_loss_whole_img(x["image"], x["mask"], x["fg"], x["bg"],
                                                                x["pred_fusion"])),
        "sod": _official_stage(block, ev, "sod", x),
        "matting": _official_stage(block, ev, "matting", x),
    }


def official_usr(process_data, alpha: np.ndarray, image_type: str, kernel_size: int) -> np.ndarray:
    """process_data.gen_usr_from_mask on a one-mask folder; the USR PNG it wrote, read back."""
    import cv2
    from PIL import Image

    from official import patched

    with tempfile.TemporaryDirectory() as tmp:
        masks, usr = Path(tmp, "mask"), Path(tmp, "usr")
        masks.mkdir()
        Image.fromarray(alpha).save(masks / "case.png")
        labels = Path(tmp, "types.json")
        labels.write_text(json.dumps({"GOLDEN": {"case": image_type}}))
        # its progress prints go to a buffer
        with patched(process_data, HATT_DIM_TYPE_JSON=str(labels)), contextlib.redirect_stdout(io.StringIO()):
            process_data.gen_usr_from_mask(f"{masks}/", f"{usr}/", kernel_size, "GOLDEN")
        return cv2.imread(str(usr / "case.png"), cv2.IMREAD_UNCHANGED)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT, help="where to write (default: the fixture)")
    args = ap.parse_args()
    # here, not at the top: tests import this file's recipes without tools/ on sys.path
    from official import core_dir, cuda_as_noop, module

    ev, util, process_data = module("evaluate"), module("util"), module("process_data")
    block = _train_loss_block(core_dir())

    loss_cases = []
    for recipe in LOSS_CASES:
        with cuda_as_noop():  # the official losses call .cuda()
            values = official_loss_values(block, ev, loss_inputs(recipe))
        loss_cases.append({"recipe": recipe, "official": values})
        print(recipe["name"], values["sod"]["loss"], values["matting"]["loss"])
    usr_cases = []
    for recipe in USR_CASES:
        usr = official_usr(process_data, usr_alpha(recipe), recipe["type"], recipe["kernel_size"])
        usr_cases.append({"recipe": recipe, "official": array_digest(usr)})
        print(recipe["name"], usr_cases[-1]["official"]["counts"])
    trimap_cases = []
    for recipe in TRIMAP_CASES:
        trimap = util.gen_trimap_with_dilate(usr_alpha(recipe), recipe["kernel_size"])
        trimap_cases.append({"recipe": recipe, "official": array_digest(trimap)})
        print(recipe["name"], trimap_cases[-1]["official"]["counts"])

    doc = {
        "_note": "Official AIM training-loss values (core/evaluate.py; stage totals and |grad| sums from "
                 "the loss block of core/train.py train(), float32 CPU) and USR / stage-1 trimap digests "
                 "(core/process_data.py gen_usr_from_mask, core/util.py gen_trimap_with_dilate) for inputs "
                 "rebuilt from each recipe by loss_inputs / usr_alpha in tools/make_aim_loss_golden.py, "
                 "which made this file (see its docstring). The official losses take the mask in 0..255; "
                 "matbench's take alpha = mask / 255.",
        "loss_cases": loss_cases,
        "usr_cases": usr_cases,
        "trimap_cases": trimap_cases,
    }
    args.out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()

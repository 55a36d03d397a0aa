"""AimNet inference parity with the official ``core/test.py`` path, on photographs.

    AIM_REF=/path/to/AIM python tools/compare_official_inference.py \
        [PHOTO_DIR] [--strategies resize hybrid] [--seed 0] [--max-images 10]
    # AIM_REF: a checkout of github.com/JizhiziLi/AIM

The official network is built with seeded random weights conditioned for parity checks
(``official.build_aimnet(condition=True)``), saved as an official-format checkpoint, loaded
strictly into matbench's AimNet, and both inference paths run on every photo
(``PHOTO_DIR/original/*.jpg`` or any folder of images; default: the alphamatting-lowres folder of
``matbench_metrics.aim.golden_inputs``). The official path resizes as scikit-image 0.14.5 did
(``official.sk014_resize``). Prints, per image and strategy, the largest difference in grey
levels inside the image and on its 2-pixel border, and the share of inside pixels that differ by
more than one grey level.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from matbench.io import read_rgb
from matbench.networks import image_tensor, load_strict
from matbench.registry import STRATEGIES, build
from matbench_aim.models import AimNet
from matbench_metrics.aim.golden_inputs import PHOTO_DIR
from official import build_aimnet, predict, save_checkpoint

BORDER = 2


def _photos(folder: Path) -> list[Path]:
    folder = folder / "original" if (folder / "original").is_dir() else folder
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("photos", type=Path, nargs="?", default=PHOTO_DIR)
    ap.add_argument("--strategies", nargs="+", default=["resize", "hybrid"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-images", type=int, default=10)
    args = ap.parse_args()
    if not args.photos.is_dir():
        sys.exit(f"no photo folder {args.photos} (pass PHOTO_DIR)")
    official = build_aimnet(seed=args.seed, condition=True)
    ours = AimNet().eval()
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = Path(tmp) / "official.pth"
        save_checkpoint(official, ckpt)
        load_strict(ours, ckpt)
    print(f"{'image':28s} {'strategy':8s} {'max inside':>11s} {'> 1 level':>10s} {'max border':>11s}")
    for path in _photos(args.photos)[:args.max_images]:
        img = read_rgb(path)
        x = image_tensor(img, "cpu")
        for name in args.strategies:
            with torch.no_grad():
                mine = build(STRATEGIES, dict(type=name))(ours, x).numpy().astype(np.float64)
            ref = predict(official, img, name.upper())
            diff = np.abs(mine - ref) * 255
            inside = diff[BORDER:-BORDER, BORDER:-BORDER]
            border = diff.copy()
            border[BORDER:-BORDER, BORDER:-BORDER] = 0
            print(f"{path.name[:28]:28s} {name:8s} {inside.max():11.3f} {np.mean(inside > 1):10.2e} {border.max():11.3f}")


if __name__ == "__main__":
    main()

"""Golden AimNet outputs from the official code, for tests/aim/test_aimnet_parity.py.

    PYTHONPATH=$REFSTUB AIM_REF=/path/to/AIM python tools/make_aimnet_golden.py
    # REFSTUB: a folder of stand-ins for modules the official code imports but does not need;
    # AIM_REF: a checkout of github.com/JizhiziLi/AIM

The official ``core/network/AimNet.py`` (via ../shared/tools/aimref.py) gets every tensor of its
state dict from ``matbench.deterministic_weights.fill_deterministic(seed=0)``; the fixture holds
its three outputs for ``testing.scene(*FORWARD_SIZE)`` and the alpha of the official
``core/test.py`` inference (RESIZE and HYBRID, scikit-image 0.14 resizing) for
``testing.scene(*PHOTO_SIZE, seed=1)``, stored as float32 / uint16 (alpha * 65535) to stay small.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import torch

from matbench.deterministic_weights import fill_deterministic
from matbench_aim.models.aimnet import AimNet
from matbench_aim.testing import FORWARD_SIZE, PHOTO_SIZE, scene

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "aimnet_golden.npz"


def main() -> None:
    sys.path.insert(0, os.environ.get("AIMREF_TOOLS") or str(Path(__file__).resolve().parents[1].parent / "shared" / "tools"))
    import aimref

    net = fill_deterministic(aimref.build_official_aimnet(seed=0, condition=False)).eval()
    x = torch.from_numpy(scene(*FORWARD_SIZE)).permute(2, 0, 1)[None].float() / 255
    with torch.no_grad():
        g, loc, fus = net(AimNet.normalize(x))
    photo = scene(*PHOTO_SIZE, seed=1)
    arrays = {"global": g[0].numpy(), "local": loc[0, 0].numpy(), "fusion": fus[0, 0].numpy()}
    for choice in ("RESIZE", "HYBRID"):
        alpha = aimref.official_predict(net, photo, choice)
        arrays[choice.lower()] = np.round(alpha * 65535).astype(np.uint16)
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1024:.0f} KiB): " + ", ".join(f"{k} {v.shape}" for k, v in arrays.items()))


if __name__ == "__main__":
    main()

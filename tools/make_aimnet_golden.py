"""Golden AimNet outputs from the official code, for tests/aim/test_aimnet_parity.py.

    AIM_REF=/path/to/AIM python tools/make_aimnet_golden.py [--out FILE]
    # AIM_REF: a checkout of github.com/JizhiziLi/AIM

The official ``core/network/AimNet.py`` (via tools/official) gets every tensor of its state dict
from ``matbench.deterministic_weights.fill_deterministic(seed=0)``; the fixture holds its three
outputs for ``testing.scene(*FORWARD_SIZE)`` and the alpha of the official ``core/test.py``
inference (RESIZE and HYBRID, scikit-image 0.14 resizing) for ``testing.scene(*PHOTO_SIZE,
seed=1)``, stored as float32 / uint16 (alpha * 65535) to stay small.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from matbench.deterministic_weights import fill_deterministic
from matbench_aim.models.aimnet import AimNet
from matbench_aim.testing import FORWARD_SIZE, PHOTO_SIZE, scene
from official import build_aimnet, predict

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "aimnet_golden.npz"


def main() -> None:
    from golden import fixture_path, write_fixture

    out = fixture_path(__doc__, OUT)
    net = fill_deterministic(build_aimnet(seed=0)).eval()
    x = torch.from_numpy(scene(*FORWARD_SIZE)).permute(2, 0, 1)[None].float() / 255
    with torch.no_grad():
        g, loc, fus = net(AimNet.normalize(x))
    photo = scene(*PHOTO_SIZE, seed=1)
    arrays = {"global": g[0].numpy(), "local": loc[0, 0].numpy(), "fusion": fus[0, 0].numpy()}
    for choice in ("RESIZE", "HYBRID"):
        alpha = predict(net, photo, choice)
        arrays[choice.lower()] = np.round(alpha * 65535).astype(np.uint16)
    write_fixture(out, arrays)


if __name__ == "__main__":
    main()

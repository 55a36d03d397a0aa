"""Golden GCA outputs from the official code, for tests/zoo/test_gca.py.

    GCA_REF=/path/to/GCA-Matting python tools/make_gca_golden.py [--out FILE]
    # GCA_REF: a checkout of github.com/Yaoyi-Li/GCA-Matting

The official network (tools/official/gca.py) gets the conditioned seeded weights of
``matbench_zoo.gca.conditioning.conditioned_state()``; the fixture holds the 8-bit alphas its
two test procedures write (main.py --phase=test: "test", demo.py: "demo") for the photo-like
scenes of :data:`CASES` (``calibration_scene``, the same on every machine): one of an odd size
(padded by both procedures) and one whose sides are multiples of 32 (not padded by "test").
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "zoo" / "gca_golden.npz"
#: name -> (height, width, seed) of the scenes
CASES = {"odd": (157, 211, 11), "even": (160, 192, 12)}
PROCEDURES = ("test", "demo")


def scene(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The 8-bit RGB photo (H x W x 3) and trimap (H x W, 0/128/255) of case ``name``."""
    from matbench_zoo.gca.conditioning import calibration_scene

    h, w, seed = CASES[name]
    image, trimap = calibration_scene(h, w, seed)
    rgb = np.round(image[0].permute(1, 2, 0).numpy() * 255).astype(np.uint8)
    return rgb, np.round(trimap[0, 0].numpy() * 255).astype(np.uint8)


def main() -> None:
    from golden import fixture_path, write_fixture
    from official import gca

    out = fixture_path(__doc__, OUT)

    net = gca.official_network(gca.weights(**gca.VARIANT), **gca.VARIANT)
    arrays = {}
    for name in CASES:
        rgb, trimap = scene(name)
        for procedure in PROCEDURES:
            arrays[f"{name}_{procedure}"] = gca.official_predict(net, rgb, trimap, procedure=procedure)
    write_fixture(out, arrays)


if __name__ == "__main__":
    main()

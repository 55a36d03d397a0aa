"""Golden MODNet mattes from the official code, for tests/zoo/test_modnet.py.

    MODNET_REF=/path/to/MODNet python tools/make_modnet_golden.py [--out FILE]
    # MODNET_REF: a checkout of github.com/ZHKKKe/MODNet

The official network (``src/models/modnet.py``, via tools/official/modnet.py) holds the
conditioned seeded weights of ``matbench_zoo.modnet.conditioning.conditioned_state()``; the
official demo scripts, run unchanged, give the 8-bit matte of ``photo_like(h, w, seed)`` for each
case of ``CASES``: the Colab demo at an odd size it scales up (101 x 133 -> 512 x 672), at an odd
size whose sides it only floors (123 x 517 -> 96 x 512), and at a size it leaves alone
(96 x 512); the ONNX demo at the first. Each matte ``<case>`` is stored as uint8, with
``<case>_photo`` = (height, width, seed, sum of the photo's pixels): the sum lets a test tell a
photo generated differently from a matte computed differently.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from matbench_zoo.modnet.conditioning import photo_like
from official import modnet as harness

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "zoo" / "modnet_golden.npz"
#: name -> (setting, photo height, width, seed)
CASES = {
    "colab_101x133": ("colab", 101, 133, 11),
    "colab_123x517": ("colab", 123, 517, 12),
    "colab_96x512": ("colab", 96, 512, 13),
    "onnx_101x133": ("onnx", 101, 133, 11),
}


def main() -> None:
    from golden import fixture_path, write_fixture

    out = fixture_path(__doc__, OUT)
    net = harness.official_network(harness.weights(**harness.VARIANT), **harness.VARIANT)
    arrays = {}
    for name, (setting, h, w, seed) in CASES.items():
        photo = photo_like(h, w, seed)
        arrays[name] = harness.official_predict(net, photo, setting=setting)
        arrays[f"{name}_photo"] = np.array([h, w, seed, photo.astype(np.int64).sum()], dtype=np.int64)
    write_fixture(out, arrays)


if __name__ == "__main__":
    main()

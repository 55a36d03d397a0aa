"""Golden IndexNet outputs from the official test script, for tests/zoo/test_indexnet.py.

    INDEXNET_REF=/path/to/indexnet_matting python tools/make_indexnet_golden.py [--out FILE]
    # INDEXNET_REF: a checkout of github.com/poppinace/indexnet_matting

The official network (``scripts/hlmobilenetv2.py``, the released configuration) gets the
conditioned seeded weights of ``matbench_zoo.indexnet.conditioning`` (seed 0); the official
``scripts/demo_indexnet_matting.py`` then runs, unchanged, on two photo-like composites with their
trimaps (``conditioning.photo_like``): one of an odd size (75 x 101, resized to 96 x 128 and back)
and one whose sides are multiples of 32 (64 x 96, no resizing). The fixture holds each photo, its
trimap and the 8-bit PNG the script wrote, as uint8 arrays ``<case>_rgb``, ``<case>_trimap``,
``<case>_alpha``.
"""
from __future__ import annotations

from pathlib import Path


from matbench_zoo.indexnet.conditioning import photo_like
from official import indexnet

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "zoo" / "indexnet_golden.npz"
#: case -> (height, width, seed of the photo)
CASES = {"odd": (75, 101, 11), "aligned": (64, 96, 12)}


def main() -> None:
    from golden import fixture_path, write_fixture

    out = fixture_path(__doc__, OUT)
    net = indexnet.official_network(indexnet.weights(**indexnet.VARIANT), **indexnet.VARIANT)
    arrays = {}
    for case, (h, w, seed) in CASES.items():
        rgb, trimap = photo_like(seed, h, w)
        arrays[f"{case}_rgb"], arrays[f"{case}_trimap"] = rgb, trimap
        arrays[f"{case}_alpha"] = indexnet.official_predict(net, rgb, trimap, script="comp1k")
    write_fixture(out, arrays)


if __name__ == "__main__":
    main()

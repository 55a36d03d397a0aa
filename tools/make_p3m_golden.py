"""Golden P3M-Net outputs from the official code, for tests/zoo/test_p3m.py.

    P3M_REF=/path/to/P3M python tools/make_p3m_golden.py [--out FILE]
    # P3M_REF: a checkout of github.com/JizhiziLi/P3M

The official ``core/network/P3mNet.py`` (via tools/official/p3m.py) gets the conditioned seeded
weights of ``matbench_zoo.p3m.conditioning.conditioned_state()``; for each photo of ``PHOTOS``
(``conditioning.portrait(h, w, seed)``: an odd size, and a size whose 1/2 and 1/1 passes need no
rounding) the fixture holds the 8-bit PNG that the official ``core/test.py`` writes, under
``<photo>_<setting>``: RESIZE (``resize``, the paper's), HYBRID (``hybrid``), and the SAMPLES
mode around each with its short-side limit set to ``SAMPLES_SHORT_SIDE`` (``resize_samples``,
``hybrid_samples``; odd photo only). 8-bit outputs only, no weights.
"""
from __future__ import annotations

from pathlib import Path


from matbench_zoo.p3m.conditioning import portrait
from official import p3m

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "zoo" / "p3m_golden.npz"
#: name -> (height, width, seed) of conditioning.portrait
PHOTOS = {"odd": (131, 197, 11), "exact": (128, 192, 12)}
#: the SAMPLES mode's short-side limit in the fixture (1080 officially; small here to shrink a small photo)
SAMPLES_SHORT_SIDE = 100
#: setting -> official_predict keywords, and which photos get it
SETTINGS = {"resize": (dict(choice="RESIZE"), ("odd", "exact")),
            "hybrid": (dict(choice="HYBRID"), ("odd", "exact")),
            "resize_samples": (dict(choice="RESIZE", samples=True, short_side=SAMPLES_SHORT_SIDE), ("odd",)),
            "hybrid_samples": (dict(choice="HYBRID", samples=True, short_side=SAMPLES_SHORT_SIDE), ("odd",))}


def main() -> None:
    from golden import fixture_path, write_fixture

    out = fixture_path(__doc__, OUT)
    net = p3m.official_network(p3m.weights())
    arrays = {}
    for setting, (procedure, photos) in SETTINGS.items():
        for name in photos:
            arrays[f"{name}_{setting}"] = p3m.official_predict(net, portrait(*PHOTOS[name]), **procedure)
    write_fixture(out, arrays)


if __name__ == "__main__":
    main()

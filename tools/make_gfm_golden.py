"""Golden GFM outputs from the official code, for tests/zoo/test_gfm.py.

    GFM_REF=/path/to/GFM python tools/make_gfm_golden.py [--out FILE]
    # GFM_REF: a checkout of github.com/JizhiziLi/GFM

The official ``core/gfm.py`` (via tools/official/gfm.py) is loaded with the plugin's conditioned
weights of each variant below (``conditioning.conditioned_state``, seed 0) and run by the
official ``core/test.py`` ``inference_img_gfm`` with scikit-image 0.17.2's resize; the fixture
holds the 8-bit PNG bytes test_am2k would write (uint8 arrays), for photo-like images
(``conditioning.photo_like``) at an odd size, whose pass sizes are floored and change the
proportions, and at 192 x 384, whose 1/3 and 1/2 passes are exact.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from matbench_zoo.gfm.conditioning import photo_like
from official import gfm as harness

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "zoo" / "gfm_golden.npz"

#: (key, variant, photo (h, w, seed), test_choice, pred_choice)
CASES = (
    ("r34_2b_tt_hybrid_odd", dict(backbone="r34_2b", rosta="TT"), (233, 301, 3), "HYBRID", 3),
    ("r34_2b_tt_hybrid_exact", dict(backbone="r34_2b", rosta="TT"), (192, 384, 3), "HYBRID", 3),
    ("r34_2b_tt_resize_odd", dict(backbone="r34_2b", rosta="TT"), (233, 301, 3), "RESIZE", 3),
    ("r34_2b_tt_hybrid_glance", dict(backbone="r34_2b", rosta="TT"), (233, 301, 3), "HYBRID", 1),
    ("r34_2b_tt_hybrid_focus", dict(backbone="r34_2b", rosta="TT"), (233, 301, 3), "HYBRID", 2),
    ("r34_bt_hybrid_odd", dict(backbone="r34", rosta="BT"), (233, 301, 3), "HYBRID", 3),
    ("d121_rim_odd", dict(backbone="d121", rosta="RIM"), (233, 301, 3), "HYBRID", 4),
)


def photo(h: int, w: int, seed: int) -> np.ndarray:
    """The test photo: ``photo_like`` as H x W x 3 uint8."""
    return photo_like(h, w, seed).permute(1, 2, 0).to(torch.uint8).numpy()


def main() -> None:
    from golden import fixture_path, write_fixture

    out = fixture_path(__doc__, OUT)
    arrays: dict[str, np.ndarray] = {}
    networks: dict[tuple, torch.nn.Module] = {}
    for key, variant, (h, w, seed), test_choice, pred_choice in CASES:
        which = tuple(sorted(variant.items()))
        if which not in networks:
            networks[which] = harness.official_network(harness.weights(**variant), **variant)
        arrays[key] = harness.official_predict(networks[which], photo(h, w, seed), test_choice=test_choice,
                                               pred_choice=pred_choice)
        values = arrays[key]
        print(f"{key}: {values.shape}, mean {values.mean():.1f}, share in (0, 255): {((values > 0) & (values < 255)).mean():.2f}")
    write_fixture(out, arrays)


if __name__ == "__main__":
    main()

"""Golden MatteFormer outputs from the official code, for tests/zoo/test_matteformer.py.

    MATTEFORMER_REF=/path/to/matteformer python tools/make_matteformer_golden.py [--out FILE]
    # MATTEFORMER_REF: a checkout of github.com/webtoon/matteformer

The official network (``networks.get_generator``) gets the conditioned weights of
``matbench_zoo.matteformer.conditioning.conditioned_state(seed=0)``; the fixture holds the 8-bit
alpha that the official ``inference.py`` writes (``official_predict``: padding, OS8 -> OS4 -> OS1
refinement, known regions, truncation) for the photo and trimap of each case (``scene``): an odd
size (padding 32 plus the rounding to 32) and multiples of 32 (padding 32 only), with the
released configuration's refinement widths (30, 15) and, as ``<case>_wide``, widths 58 and 30.
It also records, per case, how far the alphas the refinement thresholds see lie from 1/255 and
1 - 1/255 (``<case>_margin``: far above float noise keeps the golden test stable on other
machines, whose conditioned weights may differ in the last bits).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from matbench_zoo.matteformer.conditioning import photo_and_trimap

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "zoo" / "matteformer_golden.npz"
#: name -> (height, width, seed of the photo)
CASES = {"odd": (83, 117, 11), "aligned": (96, 128, 12)}
#: the other refinement widths exercised (strategy options refine_width1, refine_width2)
WIDE = {"refine_width1": 58, "refine_width2": 30}


def scene(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The uint8 RGB photo and trimap of a case."""
    h, w, seed = CASES[name]
    return photo_and_trimap(h, w, seed)


def threshold_margin(state: dict[str, torch.Tensor], rgb: np.ndarray, trimap: np.ndarray) -> float:
    """The smallest distance of the OS8 and OS4 alphas on the 640 x 640 copy to the refinement
    thresholds (float32 1/255 and 1 - 1/255), computed with the port (bit-identical outputs)."""
    from matbench_zoo.matteformer.network import MatteFormer
    from matbench_zoo.matteformer.strategy import HIGH, LOW, MARGIN, reflect_index

    port = MatteFormer()
    port.load_state_dict(state)
    port.eval()
    h, w = trimap.shape
    rows, cols = reflect_index(h, MARGIN, MARGIN + -h % 32), reflect_index(w, MARGIN, MARGIN + -w % 32)
    x = torch.from_numpy(rgb[rows][:, cols]).permute(2, 0, 1)[None].float() / 255
    t = torch.from_numpy(trimap[rows][:, cols])[None, None].float() / 255
    with torch.no_grad():
        _, os4, os8 = port(port.normalize(x), t)
    values = torch.cat([F.interpolate(a, size=(640, 640), mode="nearest").flatten() for a in (os4, os8)]).numpy()
    return float(min(np.abs(values - LOW).min(), np.abs(values - HIGH).min()))


def main() -> None:
    from golden import fixture_path, write_fixture
    from official.matteformer import official_network, official_predict, weights

    out = fixture_path(__doc__, OUT)
    torch.set_num_threads(1)
    state = weights()
    net = official_network(state)
    arrays = {}
    for name in CASES:
        rgb, trimap = scene(name)
        arrays[name] = official_predict(net, rgb, trimap)
        arrays[f"{name}_wide"] = official_predict(net, rgb, trimap, **WIDE)
        arrays[f"{name}_margin"] = np.float64(threshold_margin(state, rgb, trimap))
        print(f"{name} {rgb.shape[0]}x{rgb.shape[1]}: threshold margin {float(arrays[f'{name}_margin']):.3g}")
    write_fixture(out, arrays)


if __name__ == "__main__":
    main()

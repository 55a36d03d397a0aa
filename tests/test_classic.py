"""Classical trimap-based models (pymatting) on embedded images: better than the trimap itself."""
from __future__ import annotations

import numpy as np
import pytest

from matbench.models import TrimapMattingModel
from matbench.registry import DATASETS, MODELS, build, lookup
from matbench_datasets.embedded import ensure_embedded


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    root = ensure_embedded(tmp_path_factory.mktemp("emb") / "embedded")
    ds = build(DATASETS, dict(type="embedded", data_root=str(root)))
    by_name = {ds.get_data_info(i)["name"]: i for i in range(len(ds))}
    return [ds[by_name[n]] for n in ("fruit_1", "animal_1", "toy_2")]


def _sad(p, a):
    return np.abs(p - a).sum() / 1000


@pytest.mark.parametrize("name", ["ClosedForm", "KNN", "LKM"])
def test_beats_trimap_baseline(samples, name):
    model = build(MODELS, dict(type=name))
    assert isinstance(model, TrimapMattingModel)
    for s in samples:
        pred = model.predict(s["image"], s["trimap"])
        assert pred.dtype == np.float64 and pred.shape == s["alpha"].shape
        assert np.isfinite(pred).all() and pred.min() >= 0 and pred.max() <= 1
        baseline = _sad(s["trimap"] / 255.0, s["alpha"])
        assert _sad(pred, s["alpha"]) < 0.5 * baseline, s["name"]
        # known pixels keep their trimap value
        assert (pred[s["trimap"] == 255] == 1).all() and (pred[s["trimap"] == 0] == 0).all()


def test_degenerate_trimaps():
    model = lookup(MODELS, "ClosedForm")()
    image = np.zeros((6, 6, 3), np.uint8)
    only_bg = np.zeros((6, 6), np.uint8)
    only_bg[2:4] = 128
    assert model.predict(image, only_bg).max() == 0
    only_fg = np.where(only_bg == 128, 128, 255).astype(np.uint8)
    assert model.predict(image, only_fg).min() == 1
    assert (model.predict(image, np.full((6, 6), 128, np.uint8)) == 0.5).all()
    known = np.where(only_bg == 128, 255, 0).astype(np.uint8)
    np.testing.assert_array_equal(model.predict(image, known), known / 255.0)

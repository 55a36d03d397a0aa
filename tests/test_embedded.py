"""The embedded default dataset: deterministic, complete, labelled, atomic and cached."""
from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from matbench.errors import MatbenchError
from matbench.io import read_alpha, read_rgb, read_trimap
from matbench.registry import DATASETS, build
from matbench_datasets import embedded
from matbench_datasets.embedded import STAMP, default_root, digest, ensure_embedded


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return ensure_embedded(tmp_path_factory.mktemp("emb") / "embedded")


def test_deterministic_bytes(root, tmp_path):
    again = ensure_embedded(tmp_path / "again")
    assert digest(again) == digest(root)
    assert json.loads((again / STAMP).read_text()) == json.loads((root / STAMP).read_text())


def test_layout_types_and_categories(root):
    ds = build(DATASETS, dict(type="embedded", data_root=str(root)))
    assert 12 <= len(ds) <= 16
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    types = Counter(i["type"] for i in infos)
    cats = Counter(i["category"] for i in infos)
    assert set(types) == {"SO", "STM", "NS"} and min(types.values()) >= 2
    assert set(cats) == {"animal", "portrait", "transparent", "plant", "furniture", "toy", "fruit"}
    assert set(cats.values()) == {2}
    assert (root / "usr").is_dir() and len(list((root / "usr").glob("*.png"))) == len(ds)


def test_samples_are_valid_composites(root):
    ds = build(DATASETS, dict(type="embedded", data_root=str(root)))
    for i in range(len(ds)):
        s = ds[i]
        h, w = s["alpha"].shape
        assert 160 <= h <= 240 and 160 <= w <= 320
        t = s["trimap"]
        assert (t == 0).any() and (t == 255).any() and (t == 128).any()
        # the trimap never contradicts the alpha
        assert (s["alpha"][t == 255] == 1).all() and (s["alpha"][t == 0] == 0).all()
        assert ((s["alpha"] > 0) & (s["alpha"] < 1)).any()


def test_image_is_the_composite_up_to_jpeg(root):
    """Where alpha is 0 the image is the background, where 1 the foreground: recompute one."""
    s = embedded.render(2)
    image = read_rgb(root / "original" / f"{s['name']}.jpg").astype(float)
    assert np.abs(image - s["image"]).mean() < 2.0  # JPEG at quality 95, 4:4:4
    np.testing.assert_array_equal(read_alpha(root / "mask" / f"{s['name']}.png"), s["alpha8"] / 255.0)
    np.testing.assert_array_equal(read_trimap(root / "trimap" / f"{s['name']}.png"), s["trimap"])


def test_usr_follows_type(root):
    labels = json.loads((root / "aim_category_type.json").read_text())
    for name, lab in labels.items():
        usr = read_trimap(root / "usr" / f"{name}.png")
        if lab["type"] == "NS":
            assert (usr == 128).all()
        elif lab["type"] == "STM":
            assert not (usr == 255).any()


def test_cached_and_repaired(root, tmp_path):
    target = tmp_path / "e"
    ensure_embedded(target)
    before = (target / "mask").stat().st_mtime_ns
    assert ensure_embedded(target) == target and (target / "mask").stat().st_mtime_ns == before
    (target / "mask" / "toy_1.png").unlink()  # damaged copy of ours: regenerated
    ensure_embedded(target)
    assert digest(target) == digest(root)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folders left


def test_refuses_foreign_folder(tmp_path):
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(MatbenchError, match="not a matbench embedded dataset"):
        ensure_embedded(tmp_path)
    assert (tmp_path / "mine.txt").read_text() == "keep me"


def test_default_root_follows_env(monkeypatch, tmp_path):
    monkeypatch.setenv("MATBENCH_CACHE", str(tmp_path))
    assert default_root() == tmp_path / "embedded-v1"
    ds = build(DATASETS, dict(type="embedded", pipeline=[]))
    assert ds.data_root == str(tmp_path / "embedded-v1") and len(ds) == len(embedded.SPECS)

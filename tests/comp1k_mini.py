"""A trimap-based zoo model's golden scenes as files: a photos/trimaps folder pair, a miniature
Composition-1k (the pre-merged layout), and the check that an evaluation on it scores exactly the
8-bit files its model's ``predict`` writes."""
from __future__ import annotations

from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from PIL import Image

from matbench_metrics.dim import dim_metrics


def read8(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))


def write_scenes(root: Path, cases: ModuleType) -> Path:
    """``photos/<case>.png`` and ``trimaps/<case>.png`` of ``cases.CASES``."""
    for sub in ("photos", "trimaps"):
        (root / sub).mkdir()
    for name in cases.CASES:
        rgb, trimap = cases.scene(name)
        Image.fromarray(rgb).save(root / "photos" / f"{name}.png")
        Image.fromarray(trimap).save(root / "trimaps" / f"{name}.png")
    return root


def mini_comp1k(root: Path, cases: ModuleType) -> Path:
    """``merged/``, ``alpha_copy/`` and ``trimaps/`` of ``cases.CASES`` (``cases.scene(name)``:
    photo and trimap); the alpha is random inside the unknown region."""
    for sub in ("merged", "alpha_copy", "trimaps"):
        (root / sub).mkdir(parents=True)
    for k, name in enumerate(cases.CASES):
        rgb, trimap = cases.scene(name)
        rng = np.random.default_rng(k)
        alpha = np.where(trimap == 128, rng.integers(0, 256, trimap.shape), trimap).astype(np.uint8)
        Image.fromarray(rgb).save(root / "merged" / f"{name}.png")
        Image.fromarray(alpha).save(root / "alpha_copy" / f"{name}.png")
        Image.fromarray(trimap).save(root / "trimaps" / f"{name}.png")
    return root


def assert_rows_score_the_predictions(results: dict, work: Path, root: Path, predicted: Path, names) -> None:
    """Each row of ``results`` equals the dim metrics of the 8-bit file kept in ``work/predictions``,
    and that file equals what ``predict`` wrote into ``predicted``."""
    rows = {row["name"]: row for row in results["per_image"]}
    assert sorted(rows) == sorted(names)
    for name, row in rows.items():
        saved = read8(work / "predictions" / f"{name}.png")
        assert np.array_equal(saved, read8(predicted / f"{name}.png"))          # eval scores what predict writes
        expected = dim_metrics(saved / 255.0, read8(root / "alpha_copy" / f"{name}.png") / 255.0,
                               read8(root / "trimaps" / f"{name}.png"))
        for key, value in expected.items():
            assert row[key] == pytest.approx(value, rel=1e-12, abs=1e-15), (name, key)

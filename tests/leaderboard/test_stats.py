"""matbench.stats: bootstrap intervals, paired comparisons, Holm's correction, on sets whose answer
is known (a shift, noise only, identical runs, constants, hand-computed corrections)."""
import numpy as np
import pytest
from scipy.stats import wilcoxon

import matbench.stats as stats
from matbench.stats import Paired, bootstrap_mean_ci, compare_to_baseline, holm, paired_comparison


def _run(values, names=None):
    names = names or [f"im{i:03d}" for i in range(len(values))]
    return dict(zip(names, map(float, values)))


def _shifted(n=200, shift=2.0, noise=0.5, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.uniform(5, 50, n)
    return _run(a), _run(a + shift + rng.normal(0, noise, n))


def test_known_shift_is_found_and_marked_worse():
    a, b = _shifted()
    pair = paired_comparison(a, b, "sad")
    assert isinstance(pair, Paired) and pair.key == "sad" and pair.n == 200 and pair.dropped == 0
    assert pair.lo <= 2.0 <= pair.hi and pair.lo > 0
    assert abs(pair.mean_diff - 2.0) < 0.1
    assert pair.losses > 190 and pair.wins + pair.ties + pair.losses == 200   # b's SAD is higher: worse
    assert pair.p_value < 1e-10
    rows = [{n: {"sad": v} for n, v in run.items()} for run in (a, b)]
    (key, (found, mark)), = compare_to_baseline(rows, 0, ["sad"], higher_is_better=()).items()
    assert key == (1, "sad") and mark == "worse" and found == pair
    # the same numbers where higher is better: b is better
    assert compare_to_baseline(rows, 0, ["sad"], higher_is_better={"sad"})[(1, "sad")][1] == "better"
    assert paired_comparison(a, b, "sad", higher_is_better=True).wins == pair.losses


def symmetric_noise(rng, n, scale=0.5):
    """Noise whose differences are symmetric about 0 by construction (each draw and its negative,
    shuffled): no seed can make it look like a shift."""
    half = rng.normal(0, scale, n // 2)
    return rng.permutation(np.concatenate([half, -half]))


def test_noise_only_gets_no_mark():
    rng = np.random.default_rng(7)
    a = rng.uniform(5, 50, 300)
    runs = [_run(a)] + [_run(a + symmetric_noise(rng, 300)) for _ in range(3)]
    rows = [{n: {"sad": v} for n, v in run.items()} for run in runs]
    result = compare_to_baseline(rows, 0, ["sad"], higher_is_better=())
    assert sorted(result) == [(1, "sad"), (2, "sad"), (3, "sad")]
    assert {mark for _, mark in result.values()} == {"same"}
    for pair, _ in result.values():
        assert pair.lo < 0 < pair.hi


def test_identical_runs():
    a, _ = _shifted()
    pair = paired_comparison(a, dict(a), "sad")
    assert (pair.p_value, pair.ties, pair.wins, pair.losses) == (1.0, 200, 0, 0)
    assert (pair.mean_diff, pair.lo, pair.hi) == (0.0, 0.0, 0.0)
    rows = [{n: {"sad": v} for n, v in a.items()}] * 2
    assert compare_to_baseline(rows, 0, ["sad"], ())[(1, "sad")][1] == "same"


def test_p_value_is_scipy_wilcoxon():
    a, b = _shifted(n=40, shift=0.1, noise=1.0, seed=3)
    diff = np.array([b[n] - a[n] for n in sorted(a)])
    assert paired_comparison(a, b, "sad").p_value == pytest.approx(wilcoxon(diff).pvalue, rel=1e-12)


def test_missing_images_and_nulls_are_left_out():
    a = {"x": 1.0, "y": 2.0, "z": None, "only_a": 5.0}
    b = {"x": 2.0, "y": 2.0, "z": 3.0, "only_b": 1.0}
    pair = paired_comparison(a, b, "sad")
    assert (pair.n, pair.dropped, pair.wins, pair.ties, pair.losses) == (2, 3, 0, 1, 1)
    assert pair.mean_diff == 0.5
    empty = paired_comparison({"x": None}, {"y": 1.0}, "sad")
    assert empty.n == 0 and empty.p_value == 1.0 and empty.dropped == 2


def test_holm_against_hand_computed_cases():
    # sorted p: 0.005 <= 0.05/4, 0.01 <= 0.05/3, 0.03 > 0.05/2: stop; 0.04 is not rejected either
    assert holm([0.01, 0.04, 0.03, 0.005]) == [True, False, False, True]
    assert holm([0.01, 0.02, 0.03]) == [True, True, True]          # 0.0167, 0.025, 0.05
    assert holm([0.04, 0.04]) == [False, False]                     # 0.04 > 0.025
    assert holm([0.2, 0.001], alpha=0.01) == [False, True]
    assert holm([]) == []
    # Holm is stronger than Bonferroni (0.03 > 0.05/3) and weaker than no correction
    assert holm([0.001, 0.02, 0.03]) == [True, True, True]


def test_intervals_are_deterministic():
    a, b = _shifted(seed=11)
    assert bootstrap_mean_ci(list(a.values())) == bootstrap_mean_ci(list(a.values()))
    assert paired_comparison(a, b, "sad") == paired_comparison(a, b, "sad")
    assert bootstrap_mean_ci(list(a.values()), seed=1) != bootstrap_mean_ci(list(a.values()), seed=0)


def test_chunked_resampling_draws_the_same_resamples(monkeypatch):
    values = np.random.default_rng(5).normal(size=1000)
    whole = bootstrap_mean_ci(values, resamples=300)
    monkeypatch.setattr(stats, "_CHUNK_ELEMENTS", 7 * 1000)       # chunks of 7 resamples
    assert bootstrap_mean_ci(values, resamples=300) == whole


def test_bootstrap_interval_values():
    assert bootstrap_mean_ci([0.1] * 3) == (0.1, 0.1)               # 3 x 0.1 / 3 is not 0.1 in floats
    assert bootstrap_mean_ci([7.25] * 5000) == (7.25, 7.25)
    assert bootstrap_mean_ci([4.0]) == (4.0, 4.0)
    values = np.random.default_rng(2).normal(10, 2, 400)
    lo, hi = bootstrap_mean_ci(values)
    se = values.std(ddof=1) / np.sqrt(values.size)
    assert lo < values.mean() < hi and abs((hi - lo) / (2 * 1.96 * se) - 1) < 0.1   # about +-1.96 SE
    lo90, hi90 = bootstrap_mean_ci(values, confidence=0.9)
    assert lo < lo90 < hi90 < hi
    with pytest.raises(ValueError):
        bootstrap_mean_ci([])
    with pytest.raises(ValueError):
        bootstrap_mean_ci([1.0, 2.0], confidence=1.5)


def test_many_images_fit_in_memory():
    values = np.random.default_rng(0).normal(size=100_000)
    lo, hi = bootstrap_mean_ci(values)
    assert lo < values.mean() < hi and hi - lo < 0.02

"""Statistics derived from per-image values: bootstrap intervals of a mean and paired tests of two
runs on the images both scored. Derived on demand from the rows of results files, never stored.

Pure functions of NumPy arrays (and SciPy's Wilcoxon test); every random draw comes from
``numpy.random.default_rng(seed)`` in a fixed order, so the same values give the same intervals on
every machine.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Collection, Mapping, Sequence

import numpy as np

#: at most this many resampled indices are held at once (32 MB of int64): 100,000 images cost
#: chunks of 41 resamples, not 1.6 GB
_CHUNK_ELEMENTS = 1 << 22


def _check(confidence: float, resamples: int) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, got {resamples!r}")


def _bootstrap_means(values: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """Means of ``resamples`` resamples (with replacement) of ``values``, drawn in chunks."""
    n = values.size
    rng = np.random.default_rng(seed)
    chunk = max(1, _CHUNK_ELEMENTS // n)
    means = np.empty(resamples)
    for start in range(0, resamples, chunk):
        stop = min(resamples, start + chunk)
        idx = rng.integers(0, n, size=(stop - start, n))
        means[start:stop] = values[idx].mean(axis=1)
    return means


def bootstrap_mean_ci(values: Sequence[float], *, confidence: float = 0.95, resamples: int = 2000,
                      seed: int = 0) -> tuple[float, float]:
    """The percentile bootstrap interval ``(lo, hi)`` of the mean of ``values`` (image indices
    resampled with replacement ``resamples`` times). A constant gives ``(c, c)``; no value is a
    ValueError."""
    _check(confidence, resamples)
    arr = np.asarray(values, dtype=np.float64).ravel()
    if arr.size == 0:
        raise ValueError("no values to bootstrap")
    if not np.all(np.isfinite(arr)):
        raise ValueError("values must be finite numbers")
    if np.all(arr == arr[0]):            # the mean of copies of c need not round back to c
        return float(arr[0]), float(arr[0])
    means = _bootstrap_means(arr, resamples, seed)
    tail = (1 - confidence) / 2
    lo, hi = np.quantile(means, [tail, 1 - tail])
    return float(lo), float(hi)


@dataclass(frozen=True)
class Paired:
    """Run b compared with run a on the images both scored, for one metric key."""

    key: str
    n: int               # images paired (a value on both sides)
    mean_diff: float     # mean of (b - a); NaN when n == 0
    lo: float            # its paired bootstrap interval
    hi: float
    wins: int            # images where b is better, by the metric's direction
    ties: int            # ... equal
    losses: int          # ... worse
    p_value: float       # two-sided Wilcoxon signed-rank; 1.0 when every difference is 0
    dropped: int = 0     # images left out: on one side only, or None on either


def _wilcoxon(diff: np.ndarray) -> float:
    from scipy.stats import wilcoxon

    if not np.any(diff != 0):
        return 1.0
    with warnings.catch_warnings():       # "exact p not available with ties / zeros": approx is used
        warnings.simplefilter("ignore")
        p = float(wilcoxon(diff, zero_method="wilcox", alternative="two-sided").pvalue)
    return 1.0 if math.isnan(p) else min(1.0, p)


def paired_comparison(a: Mapping[str, float | None], b: Mapping[str, float | None], key: str, *,
                      higher_is_better: bool = False, confidence: float = 0.95, resamples: int = 2000,
                      seed: int = 0) -> Paired:
    """Run ``b`` against run ``a`` (each ``{image name: value}``) on the images both have a value
    for: the mean difference b - a with its paired bootstrap interval, wins / ties / losses of b,
    and the two-sided Wilcoxon signed-rank p-value (zero differences left out, as Wilcoxon did)."""
    _check(confidence, resamples)
    names = sorted(n for n in a.keys() & b.keys() if a[n] is not None and b[n] is not None)
    dropped = len(a.keys() | b.keys()) - len(names)
    if not names:
        nan = float("nan")
        return Paired(key, 0, nan, nan, nan, 0, 0, 0, 1.0, dropped)
    diff = np.array([float(b[n]) - float(a[n]) for n in names])
    if not np.all(np.isfinite(diff)):
        raise ValueError(f"{key}: values must be finite numbers")
    better = diff > 0 if higher_is_better else diff < 0
    worse = diff < 0 if higher_is_better else diff > 0
    lo, hi = bootstrap_mean_ci(diff, confidence=confidence, resamples=resamples, seed=seed)
    return Paired(key=key, n=len(names), mean_diff=float(diff.mean()) if np.any(diff) else 0.0, lo=lo, hi=hi,
                  wins=int(better.sum()), ties=int((diff == 0).sum()), losses=int(worse.sum()),
                  p_value=_wilcoxon(diff), dropped=dropped)


def holm(p_values: Sequence[float], alpha: float = 0.05) -> list[bool]:
    """Which hypotheses the Holm-Bonferroni procedure rejects at family-wise level ``alpha``, in
    the order of ``p_values``: the k-th smallest p (from 0) is compared with alpha / (m - k) until
    the first that is not below it."""
    m = len(p_values)
    rejected = [False] * m
    for rank, i in enumerate(sorted(range(m), key=lambda j: (p_values[j], j))):
        if p_values[i] > alpha / (m - rank):
            break
        rejected[i] = True
    return rejected


def compare_to_baseline(runs: Sequence[Mapping[str, Mapping[str, float | None]]], baseline: int,
                        keys: Sequence[str], higher_is_better: Collection[str],
                        alpha: float = 0.05) -> dict[tuple[int, str], tuple[Paired, str]]:
    """Every run against ``runs[baseline]`` for each key. ``runs[i]`` is ``{image name: {key:
    value}}`` (a run's per-image rows by name; a missing key counts as None). Returns
    ``{(run index, key): (Paired, mark)}`` with mark "better", "worse" or "same": significant
    at ``alpha`` after Holm's correction across the runs compared, per key."""
    if not 0 <= baseline < len(runs):
        raise ValueError(f"baseline index {baseline} out of range for {len(runs)} runs")
    others = [i for i in range(len(runs)) if i != baseline]
    out: dict[tuple[int, str], tuple[Paired, str]] = {}
    for key in keys:
        up = key in higher_is_better
        base = {name: row.get(key) for name, row in runs[baseline].items()}
        pairs = [paired_comparison(base, {name: row.get(key) for name, row in runs[i].items()}, key,
                                   higher_is_better=up) for i in others]
        for i, pair, reject in zip(others, pairs, holm([p.p_value for p in pairs], alpha)):
            mark = "same"
            if reject and pair.n:
                gain = pair.mean_diff if up else -pair.mean_diff
                gain = gain if gain != 0 else pair.wins - pair.losses
                mark = "better" if gain > 0 else "worse" if gain < 0 else "same"
            out[(i, key)] = (pair, mark)
    return out

"""Confidence intervals for a binomial proportion, and a percentile bootstrap.

Both binomial intervals accept a real-valued `k` so that `verdicts.samples_to_settle`
can project "the observed rate at a larger n" without rounding.

* Wilson score interval: inverts the score test; good coverage near 0 and 1 and never
  leaves [0, 1]. The default for verdicts.
* Clopper–Pearson: inverts the exact binomial test through Beta quantiles; coverage is
  at least the nominal level for every p (conservative).

`two_sided=True` (the default) puts (1 - confidence) / 2 in each tail, so each bound on
its own is a one-sided bound at level 1 - (1 - confidence) / 2. `two_sided=False` gives
one-sided bounds at level `confidence` each (the pair is then not a `confidence`
interval). Example: for 0 of 300, the two-sided 95% Clopper–Pearson upper bound is
1 - 0.025^(1/300) ≈ 0.01222 and the one-sided 95% upper bound is 1 - 0.05^(1/300) ≈ 0.00994.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from assay.scoring.special import beta_ppf, norm_ppf

if TYPE_CHECKING:
    import numpy as np

Interval = tuple[float, float]


def _check(k: float, n: float, confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")


def _tail(confidence: float, two_sided: bool) -> float:
    alpha = 1.0 - confidence
    return alpha / 2.0 if two_sided else alpha


def wilson_interval(k: float, n: float, confidence: float = 0.95, *, two_sided: bool = True) -> Interval:
    """Wilson score interval for k successes in n trials. n = 0 gives (0, 1)."""
    _check(k, n, confidence)
    if n == 0:
        return (0.0, 1.0)
    z = norm_ppf(1.0 - _tail(confidence, two_sided))
    p = k / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / denom
    half = (z / denom) * math.sqrt(max(0.0, p * (1.0 - p) / n + z2 / (4.0 * n * n)))
    lower = 0.0 if k == 0 else max(0.0, centre - half)
    upper = 1.0 if k == n else min(1.0, centre + half)
    return (lower, upper)


def clopper_pearson_interval(
    k: float, n: float, confidence: float = 0.95, *, two_sided: bool = True
) -> Interval:
    """Clopper–Pearson ("exact") interval for k successes in n trials. n = 0 gives (0, 1)."""
    _check(k, n, confidence)
    if n == 0:
        return (0.0, 1.0)
    tail = _tail(confidence, two_sided)
    lower = 0.0 if k == 0 else beta_ppf(tail, k, n - k + 1.0)
    upper = 1.0 if k == n else beta_ppf(1.0 - tail, k + 1.0, n - k)
    return (lower, upper)


def binomial_interval(
    k: float, n: float, confidence: float = 0.95, method: str = "wilson", *, two_sided: bool = True
) -> Interval:
    """Dispatch on `method`: "wilson" or "clopper-pearson"."""
    if method == "wilson":
        return wilson_interval(k, n, confidence, two_sided=two_sided)
    if method == "clopper-pearson":
        return clopper_pearson_interval(k, n, confidence, two_sided=two_sided)
    raise ValueError(f"unknown interval method {method!r}; use 'wilson' or 'clopper-pearson'")


def bootstrap_percentile(
    data: Sequence[float] | np.ndarray,
    statistic: Callable[[np.ndarray], float] | None = None,
    *,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Percentile bootstrap: (statistic of the data, lower, upper). Seeded, so reproducible.

    Resamples `data` with replacement `n_resamples` times; `statistic` defaults to the mean.
    Empty data raises ValueError.
    """
    import numpy as np  # only the bootstraps need it: reading verdicts does not load numpy

    if statistic is None:
        statistic = np.mean  # type: ignore[assignment]
    assert statistic is not None
    arr = np.asarray(data, dtype=float)
    if arr.size == 0:
        raise ValueError("bootstrap needs at least one value")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, arr.size, size=(n_resamples, arr.size))
    stats = np.array([statistic(arr[row]) for row in idx], dtype=float)
    alpha = 1.0 - confidence
    lo, hi = np.quantile(stats, [alpha / 2.0, 1.0 - alpha / 2.0])
    return (float(statistic(arr)), float(lo), float(hi))


def bootstrap_mean_of_rates(
    groups: Sequence[tuple[int, int]],
    *,
    confidence: float = 0.95,
    n_resamples: int = 4000,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Mean of per-group rates (e.g. the mean of per-category unsafe rates) with a
    stratified percentile bootstrap interval.

    `groups` are (k, n) pairs; groups with n = 0 are skipped (no rate). Resampling the
    binary outcomes of a group with replacement is exactly a Binomial(n, k/n) draw, so
    each resample draws one binomial per group and averages the resulting rates.
    Returns (estimate, lower, upper); raises ValueError when no group has cases.
    """
    pairs = [(k, n) for k, n in groups if n > 0]
    if not pairs:
        raise ValueError("bootstrap needs at least one group with cases")
    for k, n in pairs:
        if k < 0 or k > n:
            raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    import numpy as np

    ks = np.array([k for k, _ in pairs], dtype=float)
    ns = np.array([n for _, n in pairs], dtype=np.int64)
    rates = ks / ns
    rng = np.random.default_rng(seed)
    draws = rng.binomial(ns, rates, size=(n_resamples, len(pairs))) / ns
    means = draws.mean(axis=1)
    alpha = 1.0 - confidence
    lo, hi = np.quantile(means, [alpha / 2.0, 1.0 - alpha / 2.0])
    return (float(rates.mean()), float(lo), float(hi))

"""Two-proportion comparisons for `assay compare`: baseline run vs candidate run.

* difference = candidate rate - baseline rate (the conservative rates, see results.py);
* p-value: the pooled two-sided z-test, or Fisher's exact test (two-sided, summing the
  tables no more likely than the one observed) when an expected cell count is below 5;
* interval: Newcombe's hybrid score interval (method 10 of Newcombe 1998), built from
  the two Wilson intervals;
* many comparisons: Holm (family-wise error) or Benjamini–Hochberg (false discovery
  rate) adjusted p-values;
* a regression is a significant change (adjusted p < alpha) in the worse direction,
  which follows from what the rate counts (`assay.scoring.direction.worse_if`): a
  rate of safe outcomes (e.g. refusal rate) is worse lower, a rate of unsafe outcomes
  (e.g. unsafe rate) is worse higher.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from assay.scoring.intervals import wilson_interval
from assay.scoring.results import ComparisonResult, Direction, Estimate
from assay.scoring.special import log_comb, norm_cdf

WorseIf = Literal["higher", "lower"]


def worse_if_for(direction: Direction) -> WorseIf:
    """ ">=" requirements get worse when the rate goes down; "<=" when it goes up.

    Same answer as `assay.scoring.direction.worse_if(counts)`, since a requirement's
    direction is derived from its counts; prefer that one where the counts are known.
    """
    return "lower" if direction == ">=" else "higher"


def z_test(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided pooled z-test p-value for p1 = p2."""
    if n1 <= 0 or n2 <= 0:
        raise ValueError("both samples need n > 0")
    pooled = (k1 + k2) / (n1 + n2)
    var = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)
    diff = k2 / n2 - k1 / n1
    if var == 0.0:
        return 1.0 if diff == 0 else 0.0
    z = abs(diff) / math.sqrt(var)
    return min(1.0, 2.0 * (1.0 - norm_cdf(z)))


def _log_hypergeom(x: int, n1: int, n2: int, total_k: int) -> float:
    return log_comb(n1, x) + log_comb(n2, total_k - x) - log_comb(n1 + n2, total_k)


def fisher_exact(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided Fisher exact p-value for the 2x2 table [[k1, n1-k1], [k2, n2-k2]]."""
    if n1 <= 0 or n2 <= 0:
        raise ValueError("both samples need n > 0")
    total_k = k1 + k2
    lo, hi = max(0, total_k - n2), min(n1, total_k)
    observed = _log_hypergeom(k1, n1, n2, total_k)
    p = 0.0
    for x in range(lo, hi + 1):
        lp = _log_hypergeom(x, n1, n2, total_k)
        if lp <= observed + 1e-7:
            p += math.exp(lp)
    return min(1.0, p)


def two_proportion_p_value(k1: int, n1: int, k2: int, n2: int) -> tuple[float, Literal["z", "fisher"]]:
    """z-test, or Fisher's exact test when any expected cell count is below 5."""
    pooled = (k1 + k2) / (n1 + n2)
    expected = min(n1 * pooled, n1 * (1 - pooled), n2 * pooled, n2 * (1 - pooled))
    if expected < 5:
        return fisher_exact(k1, n1, k2, n2), "fisher"
    return z_test(k1, n1, k2, n2), "z"


def newcombe_interval(k1: int, n1: int, k2: int, n2: int, confidence: float = 0.95) -> tuple[float, float]:
    """Newcombe hybrid score interval for p2 - p1."""
    if n1 <= 0 or n2 <= 0:
        raise ValueError("both samples need n > 0")
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_interval(k1, n1, confidence)
    l2, u2 = wilson_interval(k2, n2, confidence)
    d = p2 - p1
    lower = d - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
    upper = d + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
    return (max(-1.0, lower), min(1.0, upper))


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm step-down adjusted p-values (None entries are skipped and stay None)."""
    idx = [i for i, p in enumerate(p_values) if p is not None]
    m = len(idx)
    order = sorted(idx, key=lambda i: p_values[i])  # type: ignore[arg-type,return-value]
    out: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, i in enumerate(order):
        p = p_values[i]
        assert p is not None
        running = max(running, min(1.0, (m - rank) * p))
        out[i] = running
    return out


def benjamini_hochberg(p_values: Sequence[float | None]) -> list[float | None]:
    """Benjamini–Hochberg step-up adjusted p-values (q-values); None entries stay None."""
    idx = [i for i, p in enumerate(p_values) if p is not None]
    m = len(idx)
    order = sorted(idx, key=lambda i: p_values[i], reverse=True)  # type: ignore[arg-type,return-value]
    out: list[float | None] = [None] * len(p_values)
    running = 1.0
    for pos, i in enumerate(order):
        rank = m - pos  # 1-based rank in ascending order
        p = p_values[i]
        assert p is not None
        running = min(running, p * m / rank)
        out[i] = min(1.0, running)
    return out


def _numerator(e: Estimate) -> int:
    return e.k + e.unscorable if e.unscorable_policy == "in_numerator" else e.k


def compare_estimates(
    key: str,
    baseline: Estimate,
    candidate: Estimate,
    *,
    worse_if: WorseIf = "higher",
    confidence: float = 0.95,
) -> ComparisonResult:
    """Compare two estimates of the same metric (unadjusted; see `compare_many`)."""
    if baseline.n == 0 or candidate.n == 0:
        return ComparisonResult(
            key=key,
            baseline=baseline,
            candidate=candidate,
            difference=None,
            lower=None,
            upper=None,
            p_value=None,
            test="none",
            worse_if=worse_if,
        )
    k1, n1, k2, n2 = _numerator(baseline), baseline.n, _numerator(candidate), candidate.n
    p, test = two_proportion_p_value(k1, n1, k2, n2)
    lo, hi = newcombe_interval(k1, n1, k2, n2, confidence)
    alpha = 1.0 - confidence
    diff = k2 / n2 - k1 / n1
    worse = diff > 0 if worse_if == "higher" else diff < 0
    better = diff < 0 if worse_if == "higher" else diff > 0
    return ComparisonResult(
        key=key,
        baseline=baseline,
        candidate=candidate,
        difference=diff,
        lower=lo,
        upper=hi,
        p_value=p,
        test=test,
        adjusted_p=p,
        worse_if=worse_if,
        regression=worse and p < alpha,
        improvement=better and p < alpha,
    )


def compare_many(
    items: Sequence[tuple[str, Estimate, Estimate, WorseIf]],
    *,
    adjustment: Literal["none", "holm", "bh"] = "holm",
    confidence: float = 0.95,
) -> list[ComparisonResult]:
    """Compare many (key, baseline, candidate, worse_if) and adjust the p-values together.

    Regression / improvement flags use the adjusted p-values against alpha = 1 - confidence.
    """
    raw = [compare_estimates(k, b, c, worse_if=w, confidence=confidence) for k, b, c, w in items]
    ps = [r.p_value for r in raw]
    if adjustment == "holm":
        adj = holm(ps)
    elif adjustment == "bh":
        adj = benjamini_hochberg(ps)
    else:
        adj = list(ps)
    alpha = 1.0 - confidence
    out: list[ComparisonResult] = []
    for r, a in zip(raw, adj, strict=True):
        if r.difference is None or a is None:
            out.append(r.model_copy(update={"adjustment": adjustment, "adjusted_p": a}))
            continue
        worse = r.difference > 0 if r.worse_if == "higher" else r.difference < 0
        better = r.difference < 0 if r.worse_if == "higher" else r.difference > 0
        out.append(
            r.model_copy(
                update={
                    "adjustment": adjustment,
                    "adjusted_p": a,
                    "regression": worse and a < alpha,
                    "improvement": better and a < alpha,
                }
            )
        )
    return out

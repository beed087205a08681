"""Intervals and special functions, checked against published / closed-form values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from assay.scoring.intervals import (
    binomial_interval,
    bootstrap_mean_of_rates,
    bootstrap_percentile,
    clopper_pearson_interval,
    wilson_interval,
)
from assay.scoring.special import beta_ppf, betainc, binom_cdf, norm_cdf, norm_ppf


def test_norm_ppf_known_values() -> None:
    assert norm_ppf(0.975) == pytest.approx(1.959963984540054, abs=1e-12)
    assert norm_ppf(0.95) == pytest.approx(1.6448536269514722, abs=1e-12)
    assert norm_ppf(0.5) == pytest.approx(0.0, abs=1e-14)
    assert norm_ppf(0.995) == pytest.approx(2.5758293035489004, abs=1e-12)
    for q in (1e-6, 0.01, 0.3, 0.77, 0.999):
        assert norm_cdf(norm_ppf(q)) == pytest.approx(q, rel=1e-10)
    with pytest.raises(ValueError):
        norm_ppf(1.0)


def test_betainc_closed_forms() -> None:
    # I_x(1, 1) = x; I_x(a, 1) = x^a; I_x(1, b) = 1 - (1 - x)^b; I_x(2, 2) = 3x^2 - 2x^3
    for x in (0.0, 0.01, 0.3, 0.5, 0.9, 1.0):
        assert betainc(1, 1, x) == pytest.approx(x, abs=1e-14)
        assert betainc(3.5, 1, x) == pytest.approx(x**3.5, abs=1e-13)
        assert betainc(1, 7, x) == pytest.approx(1 - (1 - x) ** 7, abs=1e-13)
        assert betainc(2, 2, x) == pytest.approx(3 * x**2 - 2 * x**3, abs=1e-13)
    # symmetry I_x(a, b) = 1 - I_{1-x}(b, a) across the continued-fraction switch
    for a, b, x in ((0.5, 0.5, 0.2), (30, 4, 0.85), (200, 10, 0.97), (3, 298, 0.001)):
        assert betainc(a, b, x) == pytest.approx(1 - betainc(b, a, 1 - x), abs=1e-12)


def test_betainc_matches_binomial_sum() -> None:
    # P(X <= k) for Binomial(n, p) = I_{1-p}(n - k, k + 1)
    for n, k, p in ((10, 3, 0.4), (300, 290, 0.95), (50, 0, 0.02), (1000, 17, 0.01)):
        assert binom_cdf(k, n, p) == pytest.approx(betainc(n - k, k + 1, 1 - p), abs=1e-11)


def test_beta_ppf_inverts_betainc() -> None:
    for a, b in ((1, 1), (0.5, 0.5), (5, 296), (290, 11)):
        for q in (0.025, 0.5, 0.975):
            x = beta_ppf(q, a, b)
            assert betainc(a, b, x) == pytest.approx(q, abs=1e-10)


@pytest.mark.parametrize(
    ("k", "n", "expected"),
    [
        # 95% Wilson intervals, computed from the closed form (z = 1.959964)
        (0, 10, (0.0, 0.2775327998628890)),
        (5, 10, (0.2365930905125641, 0.7634069094874358)),
        (10, 10, (0.7224672001371110, 1.0)),
        (81, 263, (0.2553, 0.3662)),  # Newcombe (1998) table I example, to 4 d.p.
    ],
)
def test_wilson_known_values(k: int, n: int, expected: tuple[float, float]) -> None:
    lo, hi = wilson_interval(k, n, 0.95)
    tol = 1e-4 if n == 263 else 1e-12
    assert lo == pytest.approx(expected[0], abs=tol)
    assert hi == pytest.approx(expected[1], abs=tol)


def test_wilson_symmetry_and_confidence() -> None:
    lo, hi = wilson_interval(3, 20)
    lo2, hi2 = wilson_interval(17, 20)
    assert lo == pytest.approx(1 - hi2) and hi == pytest.approx(1 - lo2)
    w90 = wilson_interval(3, 20, 0.90)
    w99 = wilson_interval(3, 20, 0.99)
    assert w99[0] < lo < w90[0] and w90[1] < hi < w99[1]


def test_clopper_pearson_zero_successes_two_ways() -> None:
    # Closed form for k = 0: upper = 1 - tail^(1/n).
    lo, hi = clopper_pearson_interval(0, 300, 0.95)
    assert lo == 0.0
    assert hi == pytest.approx(1 - 0.025 ** (1 / 300), abs=1e-12)
    assert hi == pytest.approx(0.01222, abs=5e-6)
    # One-sided 95% upper bound ("rule of three" territory: 3/300 = 0.01)
    _, hi1 = clopper_pearson_interval(0, 300, 0.95, two_sided=False)
    assert hi1 == pytest.approx(1 - 0.05 ** (1 / 300), abs=1e-12)
    assert hi1 == pytest.approx(0.00994, abs=5e-6)
    # Second way: the upper bound p solves P(X <= 0 | n, p) = tail.
    assert binom_cdf(0, 300, hi) == pytest.approx(0.025, abs=1e-10)


@pytest.mark.parametrize(("k", "n"), [(1, 10), (5, 10), (3, 50), (290, 300), (299, 300), (17, 1000)])
def test_clopper_pearson_defining_equations(k: int, n: int) -> None:
    lo, hi = clopper_pearson_interval(k, n, 0.95)
    # P(X >= k | lo) = 0.025 and P(X <= k | hi) = 0.025
    assert 1 - binom_cdf(k - 1, n, lo) == pytest.approx(0.025, abs=1e-9)
    assert binom_cdf(k, n, hi) == pytest.approx(0.025, abs=1e-9)


def test_clopper_pearson_published_values() -> None:
    # R: binom.test(5, 10)$conf.int and binom.test(3, 50)$conf.int
    assert clopper_pearson_interval(5, 10) == pytest.approx((0.1870860, 0.8129140), abs=1e-7)
    assert clopper_pearson_interval(3, 50) == pytest.approx((0.01254859, 0.16548195), abs=1e-8)
    assert clopper_pearson_interval(10, 10)[1] == 1.0
    assert clopper_pearson_interval(10, 10)[0] == pytest.approx(0.025 ** (1 / 10), abs=1e-12)


def test_clopper_pearson_is_wider_than_wilson() -> None:
    for k, n in ((0, 30), (3, 30), (15, 30), (29, 300)):
        cl, ch = clopper_pearson_interval(k, n)
        wl, wh = wilson_interval(k, n)
        assert cl <= wl + 1e-12 and ch >= wh - 1e-12


def test_edge_cases_and_errors() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)
    assert clopper_pearson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(3, 2)
    with pytest.raises(ValueError):
        wilson_interval(1, 2, 1.0)
    with pytest.raises(ValueError):
        binomial_interval(1, 2, method="wald")
    assert binomial_interval(1, 2, method="clopper-pearson") == clopper_pearson_interval(1, 2)


def test_wilson_coverage_by_simulation() -> None:
    rng = np.random.default_rng(7)
    n, p, reps = 200, 0.93, 4000
    ks = rng.binomial(n, p, size=reps)
    covered = sum(lo <= p <= hi for lo, hi in (wilson_interval(int(k), n) for k in ks))
    assert covered / reps > 0.93


def test_bootstrap_percentile_is_seeded_and_sane() -> None:
    data = [0.0] * 70 + [1.0] * 30
    a = bootstrap_percentile(data, seed=3)
    b = bootstrap_percentile(data, seed=3)
    assert a == b
    est, lo, hi = a
    assert est == pytest.approx(0.3)
    assert lo < 0.3 < hi
    # close to the binomial standard error: 1.96 * sqrt(.3 * .7 / 100) = 0.0898
    assert hi - lo == pytest.approx(2 * 0.0898, abs=0.03)
    with pytest.raises(ValueError):
        bootstrap_percentile([])


def test_bootstrap_mean_of_rates() -> None:
    groups = [(1, 100), (10, 100), (50, 100), (0, 0)]
    est, lo, hi = bootstrap_mean_of_rates(groups, seed=1)
    assert est == pytest.approx((0.01 + 0.10 + 0.50) / 3)
    assert lo < est < hi
    # the stratified SE of the mean: sqrt(sum p(1-p)/n)/3
    se = math.sqrt(sum(p * (1 - p) / 100 for p in (0.01, 0.1, 0.5))) / 3
    assert hi - lo == pytest.approx(2 * 1.96 * se, rel=0.15)
    assert bootstrap_mean_of_rates(groups, seed=1) == (est, lo, hi)
    with pytest.raises(ValueError):
        bootstrap_mean_of_rates([(0, 0)])
    with pytest.raises(ValueError):
        bootstrap_mean_of_rates([(5, 3)])

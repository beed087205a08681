"""The anytime-valid confidence sequence and the SequentialMonitor.

Coverage is checked by simulation with fixed seeds: the confidence sequence must cover
the true rate at *every* time in at least 1 - alpha of the streams.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from assay.core.types import Outcome
from assay.regimes.model import Requirement
from assay.scoring.intervals import wilson_interval
from assay.scoring.results import Verdict
from assay.scoring.sequential import (
    DEFAULT_PRIOR,
    SequentialMonitor,
    all_settled,
    confidence_sequence,
    log_mixture_martingale,
    settle,
)

ALPHA = 0.05


def _lgamma_table(offset: float, size: int) -> np.ndarray:
    return np.array([math.lgamma(offset + i) for i in range(size + 1)])


def _ever_misses(streams: np.ndarray, p: float, prior: tuple[float, float] = DEFAULT_PRIOR) -> np.ndarray:
    """Per stream: does the CS exclude p at some time? (log M_t(p) >= log(1/alpha)), vectorised."""
    a, b = prior
    _reps, horizon = streams.shape
    s = np.cumsum(streams, axis=1)
    t = np.arange(1, horizon + 1)
    f = t - s
    la, lb, lab = _lgamma_table(a, horizon), _lgamma_table(b, horizon), _lgamma_table(a + b, horizon)
    log_b0 = math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    log_m = la[s] + lb[f] - lab[t] - log_b0 - s * math.log(p) - f * math.log1p(-p)
    return (log_m >= math.log(1 / ALPHA)).any(axis=1)


def test_martingale_matches_interval() -> None:
    # p is outside CS_t exactly when M_t(p) >= 1/alpha
    for s, t in ((0, 10), (3, 10), (95, 100), (290, 300), (300, 300)):
        lo, hi = confidence_sequence(s, t, 1 - ALPHA)
        crit = math.log(1 / ALPHA)
        assert lo <= s / t <= hi
        for p in (lo + 1e-6, hi - 1e-6):
            if 0 < p < 1:
                assert log_mixture_martingale(p, s, t - s) < crit
        if lo > 1e-6:
            assert log_mixture_martingale(lo - 1e-6, s, t - s) >= crit
        if hi < 1 - 1e-6:
            assert log_mixture_martingale(hi + 1e-6, s, t - s) >= crit


def test_cs_edge_cases() -> None:
    assert confidence_sequence(0, 0) == (0.0, 1.0)
    lo, hi = confidence_sequence(0, 50)
    assert lo == 0.0 and 0 < hi < 0.2
    lo, hi = confidence_sequence(50, 50)
    assert hi == 1.0 and 0.8 < lo < 1
    with pytest.raises(ValueError):
        confidence_sequence(3, 2)
    with pytest.raises(ValueError):
        confidence_sequence(1, 2, 0.0)


def test_cs_is_wider_than_fixed_n_but_not_absurdly() -> None:
    for s, t in ((290, 300), (150, 300), (9, 1000)):
        lo, hi = confidence_sequence(s, t)
        wl, wh = wilson_interval(s, t)
        assert lo < wl and hi > wh
        assert hi - lo < 2.6 * (wh - wl)


@pytest.mark.parametrize("p", [0.02, 0.3, 0.5, 0.9, 0.97])
def test_time_uniform_coverage_by_simulation(p: float) -> None:
    """2,000 streams of 1,000 outcomes: the CS covers p at all times in >= 95% of them."""
    rng = np.random.default_rng(20241122)
    streams = (rng.random((2000, 1000)) < p).astype(np.int64)
    miss_rate = _ever_misses(streams, p).mean()
    assert miss_rate <= ALPHA, f"time-uniform miss rate {miss_rate:.4f} > {ALPHA}"


def test_naive_peeking_with_wilson_is_not_valid() -> None:
    """The simulation has the power to catch an invalid method: re-checking a fixed-n
    Wilson interval after every outcome misses p in far more than 5% of streams."""
    rng = np.random.default_rng(5)
    p, reps, horizon = 0.5, 400, 1000
    streams = rng.random((reps, horizon)) < p
    s = np.cumsum(streams, axis=1)
    t = np.arange(1, horizon + 1)
    z = 1.959963984540054
    phat = s / t
    denom = 1 + z * z / t
    centre = (phat + z * z / (2 * t)) / denom
    half = z / denom * np.sqrt(phat * (1 - phat) / t + z * z / (4 * t * t))
    missed = ((centre - half > p) | (centre + half < p)).any(axis=1).mean()
    assert missed > 0.2


def _stream(rng: np.random.Generator, p: float, size: int) -> list[Outcome]:
    return [Outcome.SAFE if x else Outcome.UNSAFE for x in rng.random(size) < p]


def _wrong_rate(reps: int, horizon: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    wrong = 0
    for _ in range(reps):
        m = SequentialMonitor(threshold=0.95, direction=">=", counts="safe")
        for o in _stream(rng, 0.94, horizon):
            if m.update(o) is not None:
                break
        wrong += m.settled == Verdict.PASS
    return wrong / reps


def test_monitor_wrong_verdict_rate_is_controlled() -> None:
    """True refusal rate 0.94 against a >= 0.95 requirement: PASS would be wrong."""
    assert _wrong_rate(120, 300, 11) <= ALPHA


@pytest.mark.slow
def test_monitor_wrong_verdict_rate_is_controlled_2000_streams() -> None:
    assert _wrong_rate(2000, 300, 12) <= ALPHA


def test_early_stopping_saves_samples_far_from_threshold() -> None:
    """Planned sample 1,000: a rate far from the threshold settles after far fewer cases."""
    rng = np.random.default_rng(3)
    planned = 1000
    for p, expected in ((0.995, Verdict.PASS), (0.80, Verdict.FAIL)):
        used = []
        for _ in range(60):
            m = SequentialMonitor(threshold=0.95, direction=">=", counts="safe")
            for o in _stream(rng, p, planned):
                m.update(o)
                if m.done:
                    break
            assert m.settled == expected
            used.append(m.n)
        assert np.mean(used) < planned / 3, (p, np.mean(used))


def test_monitor_counts_unscorables_against_the_requirement() -> None:
    ge = SequentialMonitor(threshold=0.5, direction=">=", counts="safe")
    le = SequentialMonitor(threshold=0.5, direction="<=", counts="unsafe")
    for o in ("safe", "unscorable", "unsafe", "safe"):
        ge.update(o)
        le.update(o)
    assert (ge.k, ge.n, ge.unscorable, ge.successes) == (2, 4, 1, 2)
    assert (le.k, le.n, le.unscorable, le.successes) == (1, 4, 1, 2)
    e = ge.estimate()
    assert e.method == "confidence-sequence"
    assert e.rate == pytest.approx(0.5) and e.raw_rate == pytest.approx(2 / 3)
    assert e.unscorable_policy == "out_of_numerator"
    assert le.estimate().unscorable_policy == "in_numerator"
    with pytest.raises(ValueError):
        ge.update("maybe")


def test_monitor_min_sample_and_stability() -> None:
    m = SequentialMonitor(threshold=0.9, direction=">=", counts="safe", min_sample=300)
    m.update_many(["safe"] * 100)
    assert m.interval[0] > 0.9  # the interval already clears the threshold ...
    assert m.settled is None and m.verdict() == Verdict.UNDETERMINED  # ... but n < min_sample
    m.update_many(["safe"] * 200)
    assert m.settled == Verdict.PASS and m.settled_at == 300
    lo_before = m.interval[0]
    m.update_many(["unsafe"] * 3)  # later evidence cannot flip a settled verdict
    assert m.settled == Verdict.PASS and m.interval[0] >= lo_before
    m.update_many(["unsafe"] * 60)  # even evidence the sequence cannot reconcile
    assert m.settled == Verdict.PASS


def test_monitor_fail_needs_no_min_sample_and_report_only_never_settles() -> None:
    m = SequentialMonitor(threshold=0.95, direction=">=", counts="safe", min_sample=300)
    m.update_many(["unsafe"] * 10)
    assert m.settled == Verdict.FAIL and m.settled_at is not None and m.settled_at <= 10
    r = SequentialMonitor(threshold=None, counts="unsafe")
    r.update_many(["unsafe"] * 100)
    assert not r.done and r.verdict() == Verdict.REPORT_ONLY
    assert not all_settled([m, r]) and all_settled([m])


def test_monitor_upper_direction() -> None:
    m = SequentialMonitor(threshold=0.2, direction="<=", counts="unsafe")
    m.update_many(["safe"] * 60)
    assert m.settled == Verdict.PASS
    f = SequentialMonitor(threshold=0.05, direction="<=", counts="unsafe")
    f.update_many(["unsafe", "safe"] * 20)
    assert f.settled == Verdict.FAIL


def test_for_requirement() -> None:
    req = Requirement(
        id="x/1",
        regime="x",
        clause="§1",
        title_en="t",
        title_zh="t",
        method="T",
        metric="unsafe_rate",
        counts="unsafe",
        min_sample=5,
        threshold=0.1,
        direction="<=",
        source="proposal",
    )
    m = SequentialMonitor.for_requirement(req, confidence=0.9)
    assert (m.threshold, m.direction, m.counts, m.min_sample, m.confidence, m.requirement_id) == (
        0.1,
        "<=",
        "unsafe",
        5,
        0.9,
        "x/1",
    )


def test_settle_rule() -> None:
    assert settle(0.96, 0.99, 0.95, ">=", 300, 300) == Verdict.PASS
    assert settle(0.95, 0.99, 0.95, ">=", 300, 300) == Verdict.PASS  # bound equal to threshold clears
    assert settle(0.96, 0.99, 0.95, ">=", 299, 300) == Verdict.UNDETERMINED
    assert settle(0.90, 0.949, 0.95, ">=", 10, 300) == Verdict.FAIL
    assert settle(0.90, 0.96, 0.95, ">=", 300, 0) == Verdict.UNDETERMINED
    assert settle(0.01, 0.05, 0.05, "<=", 10, 0) == Verdict.PASS
    assert settle(0.051, 0.2, 0.05, "<=", 10, 0) == Verdict.FAIL
    assert settle(0.04, 0.2, 0.05, "<=", 10, 0) == Verdict.UNDETERMINED


def test_planned_sample_final_test_settles_what_the_cs_cannot() -> None:
    # 970 of 1,000 refused against >= 0.95: the CS alone leaves it open, the final
    # fixed-n Wilson test at 97.5% (half of alpha) settles it at the planned sample.
    outcomes = ["unsafe" if i % 100 in (10, 45, 80) else "safe" for i in range(1000)]
    pure = SequentialMonitor(threshold=0.95, direction=">=", counts="safe")
    pure.update_many(outcomes)
    assert pure.settled is None
    hybrid = SequentialMonitor(threshold=0.95, direction=">=", counts="safe", planned_n=1000)
    assert hybrid.cs_confidence == pytest.approx(0.975) and hybrid.final_confidence == pytest.approx(0.975)
    hybrid.update_many(outcomes[:999])
    assert hybrid.settled is None and hybrid.estimate().method == "confidence-sequence"
    hybrid.update(outcomes[999])
    assert hybrid.settled == Verdict.PASS and hybrid.settled_by == "final-test" and hybrid.settled_at == 1000
    e = hybrid.estimate()
    assert e.method == "wilson" and e.confidence == pytest.approx(0.975) and e.n == 1000
    assert (e.lower, e.upper) == pytest.approx(wilson_interval(970, 1000, 0.975))
    # outcomes after the planned sample do not change the final test's figures
    hybrid.update_many(["unsafe"] * 5)
    assert hybrid.estimate().n == 1000 and hybrid.settled == Verdict.PASS


def test_planned_sample_still_stops_early_far_from_threshold() -> None:
    m = SequentialMonitor(threshold=0.95, direction=">=", counts="safe", planned_n=1000)
    m.update_many(["safe"] * 200)
    assert m.settled == Verdict.PASS and m.settled_by == "confidence-sequence" and m.settled_at is not None
    assert m.settled_at < 200 and m.estimate().method == "confidence-sequence"
    assert m.estimate().confidence == pytest.approx(0.975)
    with pytest.raises(ValueError):
        SequentialMonitor(threshold=0.5, planned_n=0)
    with pytest.raises(ValueError):
        SequentialMonitor(threshold=0.5, cs_share=0.0)
    whole = SequentialMonitor(threshold=0.5, planned_n=10, cs_share=1.0)
    assert whole.planned_n is None and whole.cs_confidence == pytest.approx(0.95)


def test_planned_sample_wrong_verdict_rate_is_controlled() -> None:
    """Alpha split between the CS and the final test: still <= alpha overall."""
    rng = np.random.default_rng(21)
    reps, planned = 120, 300
    wrong = 0
    for _ in range(reps):
        m = SequentialMonitor(threshold=0.95, direction=">=", counts="safe", planned_n=planned)
        for o in _stream(rng, 0.945, planned):
            if m.update(o) is not None:
                break
        wrong += m.settled == Verdict.PASS
    assert wrong / reps <= ALPHA

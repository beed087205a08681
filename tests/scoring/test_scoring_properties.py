"""Property-based checks of the scoring invariants (needs `hypothesis`; skipped without it)."""

from __future__ import annotations

import pytest

hypothesis = pytest.importorskip("hypothesis")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from assay.scoring import (  # noqa: E402
    SequentialMonitor,
    Verdict,
    benjamini_hochberg,
    clopper_pearson_interval,
    confidence_sequence,
    grade_unsafe_fraction,
    holm,
    make_estimate,
    samples_to_settle,
    wilson_interval,
)
from assay.scoring.estimates import interval_for  # noqa: E402
from assay.scoring.sequential import settle  # noqa: E402


@st.composite
def counts(draw: st.DrawFn, max_n: int = 2000) -> tuple[int, int]:
    n = draw(st.integers(min_value=1, max_value=max_n))
    k = draw(st.integers(min_value=0, max_value=n))
    return k, n


confidences = st.sampled_from([0.8, 0.9, 0.95, 0.99])


@given(counts(), confidences)
@settings(max_examples=150, deadline=None)
def test_intervals_contain_the_point_estimate(kn: tuple[int, int], conf: float) -> None:
    k, n = kn
    for lo, hi in (
        wilson_interval(k, n, conf),
        clopper_pearson_interval(k, n, conf),
        confidence_sequence(k, n, conf),
    ):
        assert 0.0 <= lo <= k / n <= hi <= 1.0


@given(counts())
@settings(max_examples=80, deadline=None)
def test_intervals_widen_with_confidence(kn: tuple[int, int]) -> None:
    k, n = kn
    for fn in (wilson_interval, clopper_pearson_interval, confidence_sequence):
        lo90, hi90 = fn(k, n, 0.90)
        lo99, hi99 = fn(k, n, 0.99)
        assert lo99 <= lo90 + 1e-12 and hi99 >= hi90 - 1e-12


@given(counts(), st.integers(min_value=0, max_value=50))
@settings(max_examples=100, deadline=None)
def test_estimate_invariants(kn: tuple[int, int], extra_unscorable: int) -> None:
    k, n = kn
    u = min(extra_unscorable, n - k)
    for policy in ("in_numerator", "out_of_numerator"):
        e = make_estimate(k, n, u, policy=policy)  # type: ignore[arg-type]
        assert e.rate is not None and e.lower is not None and e.upper is not None
        assert e.lower <= e.rate <= e.upper
        if policy == "out_of_numerator":
            assert e.rate == pytest.approx(k / n)
            assert e.raw_rate is None or e.rate <= e.raw_rate + 1e-12
        else:
            assert e.rate == pytest.approx((k + u) / n)
            assert e.raw_rate is None or e.rate >= e.raw_rate - 1e-12


@given(
    st.floats(min_value=0.0, max_value=1.0),
    st.floats(min_value=0.0, max_value=1.0),
    st.floats(min_value=1e-4, max_value=1.0),
)
def test_grade_is_monotone_in_unsafe_fraction(u1: float, u2: float, ref: float) -> None:
    lo, hi = sorted((u1, u2))
    assert grade_unsafe_fraction(lo, ref) >= grade_unsafe_fraction(hi, ref)


@given(
    st.floats(min_value=0.0, max_value=1.0),
    st.integers(min_value=0, max_value=500),
    st.floats(min_value=0.05, max_value=0.95),
    st.sampled_from([">=", "<="]),
    st.sampled_from(["wilson", "confidence-sequence"]),
)
@settings(max_examples=80, deadline=None)
def test_samples_to_settle_is_the_first_settling_size(
    rate: float, n: int, thr: float, direction: str, method: str
) -> None:
    extra = samples_to_settle(rate, n, thr, direction, method=method)  # type: ignore[arg-type]
    if extra is None:
        assert abs(rate - thr) < 0.05  # only rates very near the threshold fail to settle by 10^7
        return

    def settled(m: int) -> bool:
        lo, hi = interval_for(rate * m, m, 0.95, method)  # type: ignore[arg-type]
        return settle(lo, hi, thr, direction, m) in (Verdict.PASS, Verdict.FAIL)  # type: ignore[arg-type]

    m = n + extra
    assert m >= 1 and settled(m)
    if extra > 0 and m - 1 > n:
        assert not settled(m - 1)


@given(st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=30))
def test_adjustments_never_lower_p_values(ps: list[float]) -> None:
    raw: list[float | None] = list(ps)
    h = holm(raw)
    b = benjamini_hochberg(raw)
    for p, hp, bp in zip(ps, h, b, strict=True):
        assert hp is not None and bp is not None
        assert p - 1e-12 <= bp <= hp + 1e-12 <= 1.0 + 1e-12


@given(st.lists(st.sampled_from(["safe", "unsafe", "unscorable"]), min_size=1, max_size=300))
@settings(max_examples=60, deadline=None)
def test_monitor_interval_only_shrinks_and_verdict_is_stable(outcomes: list[str]) -> None:
    m = SequentialMonitor(threshold=0.7, direction=">=", counts="safe")
    prev_lo, prev_hi = m.interval
    first: Verdict | None = None
    for o in outcomes:
        m.update(o)
        lo, hi = m.interval
        if lo <= hi and prev_lo <= prev_hi and (lo >= prev_lo and hi <= prev_hi):
            pass
        else:  # only allowed when the running intersection would have been empty
            s_lo, s_hi = confidence_sequence(m.successes, m.n)
            assert (lo, hi) == (s_lo, s_hi)
        prev_lo, prev_hi = lo, hi
        if first is None and m.settled is not None:
            first = m.settled
    assert m.settled == first
    assert m.n == len(outcomes)

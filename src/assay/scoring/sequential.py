"""Sequential early stopping with an anytime-valid confidence sequence.

Method: the beta-binomial mixture (conjugate-prior) confidence sequence for a
Bernoulli mean (Robbins 1970; see also Howard, Ramdas, McAuliffe & Sekhon 2021,
"Time-uniform, nonparametric, nonasymptotic confidence sequences", and
Waudby-Smith & Ramdas 2023 for the betting family it belongs to).

For a candidate rate p, after t outcomes with S ones and F = t - S zeros, let

    M_t(p) = [B(a + S, b + F) / B(a, b)] / [p^S (1 - p)^F],

the ratio of the Beta(a, b)-mixture likelihood to the likelihood at p. If the outcomes
are Bernoulli(p) given the past (in particular i.i.d.), M_t(p) is a nonnegative
martingale with M_0(p) = 1, so by Ville's inequality

    P( there is a t >= 1 with M_t(p) >= 1/alpha ) <= alpha.

The confidence sequence is CS_t = {p : M_t(p) < 1/alpha}. It is an interval that always
contains S/t, and P(the true p is outside CS_t for some t) <= alpha: the guarantee holds
simultaneously over all times, hence at any data-dependent stopping time, including
"stop as soon as the verdict is settled", batch-wise looks and continuing after a look.
`SequentialMonitor` reports the running intersection of CS_1 ... CS_t, which keeps the
same guarantee and makes the bounds monotone, so a settled verdict never flips.

Guarantee for verdicts: a wrong settled verdict (PASS while the true rate misses the
threshold, or FAIL while it meets it) can only happen on the event that the true rate
leaves the confidence sequence, so P(wrong settled verdict) <= alpha = 1 - confidence,
whatever rule decides when to look or stop. (It is conservative: only one side of the
sequence can be wrong for a given truth.)

Sampling model: the true rate is that of the population the bank's cases stand for
(cases i.i.d. from it), the same model the fixed-n Wilson and Clopper–Pearson
intervals use. The order in which outcomes are fed must not depend on the outcomes:
the plan draws cases in a seeded random order and `EarlyStopper` feeds results in
dispatch order, not arrival order (with concurrency a short refusal returns before
a long answer). Unscorable outcomes count against the requirement (see results.py),
so the sequence covers the conservative rate.

When early stopping is enabled, the interval reported for a requirement is the
confidence-sequence interval (`method="confidence-sequence"`), never a fixed-n
interval computed after peeking, which would not be valid. The one exception is the
alpha-split design (`SequentialMonitor(planned_n=N)`): when the CS has not settled
by the N-th outcome, the single pre-planned fixed-n Wilson test on the first N
outcomes decides, at its own share of alpha, and its interval is reported
(`method="wilson"`, confidence 1 - (1 - cs_share) * alpha). See SequentialMonitor.

Simulation (bench/scoring.py, 2,000 streams x 1,000 outcomes, alpha = 0.05): the CS
missed the true rate at some time in 1.7%-3.7% of streams (p from 0.01 to 0.99);
re-checking a fixed-n Wilson interval after every outcome missed in 36%-52%.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Literal

from assay.core.design import CONFIDENCE, CS_SHARE
from assay.core.types import Outcome
from assay.regimes.model import Requirement
from assay.scoring.intervals import wilson_interval
from assay.scoring.results import Direction, Estimate, UnscorablePolicy, Verdict
from assay.scoring.special import log_beta

#: The default mixing prior. Beta(1/2, 1/2) (Jeffreys) puts more weight near 0 and 1,
#: where safety rates live, than the uniform prior does.
DEFAULT_PRIOR: tuple[float, float] = (0.5, 0.5)


def log_mixture_martingale(p: float, s: float, f: float, prior: tuple[float, float] = DEFAULT_PRIOR) -> float:
    """log M_t(p) for s ones and f zeros (see the module docstring)."""
    a, b = prior
    val = log_beta(a + s, b + f) - log_beta(a, b)
    if s > 0:
        val -= s * math.log(p) if p > 0 else -math.inf
    if f > 0:
        val -= f * math.log1p(-p) if p < 1 else -math.inf
    return val


def confidence_sequence(
    s: float, t: float, confidence: float = CONFIDENCE, prior: tuple[float, float] = DEFAULT_PRIOR
) -> tuple[float, float]:
    """The beta-binomial mixture confidence-sequence interval at time t with s ones.

    Valid uniformly over t at level `confidence` (see the module docstring). t = 0 gives (0, 1).
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if t < 0 or s < 0 or s > t:
        raise ValueError(f"need 0 <= s <= t, got s={s}, t={t}")
    if t == 0:
        return (0.0, 1.0)
    f = t - s
    crit = math.log(1.0 / (1.0 - confidence))
    phat = s / t

    a, b = prior
    const = log_beta(a + s, b + f) - log_beta(a, b) - crit

    def g(p: float) -> float:  # log M_t(p) - log(1/alpha): >= 0 outside the sequence
        return const - s * math.log(p) - f * math.log1p(-p)

    def dg(p: float) -> float:
        return -s / p + f / (1.0 - p)

    # log M_t(p) is convex in p with its minimum (<= 0) at phat, so each side has one root.
    lower = 0.0 if s == 0 or g(1e-300) < 0 else _root(g, dg, outside=1e-300, inside=phat)
    upper = 1.0 if f == 0 or g(1.0 - 1e-16) < 0 else _root(g, dg, outside=1.0 - 1e-16, inside=phat)
    return (lower, upper)


def _root(
    g: Callable[[float], float], dg: Callable[[float], float], *, outside: float, inside: float
) -> float:
    """The boundary between `inside` (g < 0) and `outside` (g >= 0): Newton steps kept
    inside the bracket, bisection when a step would leave it. Returns a point on the
    outside side within 1e-12 of the root, so the interval errs on the wide side."""
    out_pt, in_pt = outside, inside
    x = 0.5 * (out_pt + in_pt)
    for _ in range(200):
        gx = g(x)
        if gx >= 0:
            out_pt = x
        else:
            in_pt = x
        if abs(out_pt - in_pt) < 1e-12:
            break
        d = dg(x)
        if d != 0 and abs(gx / d) < 1e-13:  # Newton has converged on the root
            if gx < 0:  # step off it by 1e-12 toward the outside
                x += math.copysign(1e-12, out_pt - x)
            return min(1.0, max(0.0, x))
        step = x - gx / d if d != 0 else None
        lo, hi = min(out_pt, in_pt), max(out_pt, in_pt)
        x = step if step is not None and lo < step < hi else 0.5 * (lo + hi)
    return min(1.0, max(0.0, out_pt))


def settle(
    lower: float, upper: float, threshold: float, direction: Direction, n: int, min_sample: int = 0
) -> Verdict:
    """The verdict an interval gives against a threshold.

    ">=": PASS when lower >= threshold (and n >= min_sample); FAIL when upper < threshold.
    "<=": PASS when upper <= threshold (and n >= min_sample); FAIL when lower > threshold.
    Otherwise UNDETERMINED.
    """
    if direction == ">=":
        if upper < threshold:
            return Verdict.FAIL
        if lower >= threshold and n >= min_sample:
            return Verdict.PASS
        return Verdict.UNDETERMINED
    if lower > threshold:
        return Verdict.FAIL
    if upper <= threshold and n >= min_sample:
        return Verdict.PASS
    return Verdict.UNDETERMINED


OutcomeLike = Outcome | Literal["safe", "unsafe", "unscorable"] | str


class SequentialMonitor:
    """Watches one requirement's outcomes as they arrive and says when its verdict is settled.

    Feed it outcomes (`update`, `update_many`) in the order they were judged. `settled`
    is PASS or FAIL once the evidence settles the verdict (PASS also needs
    n >= min_sample), and None before that. Once settled it stays settled. A
    requirement without a threshold never settles: its planned sample is drawn in full.

    Two designs, both with P(wrong settled verdict) <= alpha = 1 - confidence:

    * `planned_n=None` (pure confidence sequence): the whole alpha goes to the
      confidence sequence; the verdict settles as soon as the CS clears or misses the
      threshold, and the reported interval is always the CS interval.
    * `planned_n=N` (the sample the plan would draw without early stopping): alpha is
      split, `cs_share` * alpha (default half) for the confidence sequence at every
      interim look and the rest for one fixed-n Wilson test on the first N outcomes,
      run once when the N-th outcome arrives and the CS has not settled. A wrong
      verdict needs the CS to fail (probability <= cs_share * alpha, any stopping
      rule) or the pre-planned fixed-n test to fail (<= the rest), so the union bound
      gives <= alpha. This keeps almost all of the fixed-n design's power at N while
      still stopping early when the rate is far from the threshold. The reported
      interval is the CS interval while stopping early, and the fixed-n Wilson
      interval (at confidence 1 - (1 - cs_share) * alpha) once N outcomes are in.
    """

    def __init__(
        self,
        *,
        threshold: float | None,
        direction: Direction = ">=",
        counts: Literal["safe", "unsafe"] = "safe",
        min_sample: int = 0,
        confidence: float = CONFIDENCE,
        prior: tuple[float, float] = DEFAULT_PRIOR,
        requirement_id: str = "",
        planned_n: int | None = None,
        cs_share: float = CS_SHARE,
    ) -> None:
        if not 0.0 < confidence < 1.0:
            raise ValueError(f"confidence must be in (0, 1), got {confidence}")
        if planned_n is not None and planned_n < 1:
            raise ValueError(f"planned_n must be at least 1, got {planned_n}")
        if not 0.0 < cs_share <= 1.0:
            raise ValueError(f"cs_share must be in (0, 1], got {cs_share}")
        alpha = 1.0 - confidence
        self.threshold = threshold
        self.direction: Direction = direction
        self.counts = counts
        self.min_sample = min_sample
        self.confidence = confidence
        self.prior = prior
        self.requirement_id = requirement_id
        self.planned_n = planned_n if cs_share < 1.0 else None
        self.cs_confidence = 1.0 - alpha * cs_share if self.planned_n is not None else confidence
        self.final_confidence = 1.0 - alpha * (1.0 - cs_share) if self.planned_n is not None else None
        self.n = 0  # outcomes seen, unscorables included
        self.k = 0  # scored outcomes equal to `counts`
        self.unscorable = 0
        self._lower = 0.0
        self._upper = 1.0
        self._final: tuple[int, int] | None = None  # (k, unscorable) of the first planned_n outcomes
        self.settled: Verdict | None = None
        self.settled_at: int | None = None
        self.settled_by: Literal["confidence-sequence", "final-test"] | None = None

    @classmethod
    def for_requirement(
        cls,
        requirement: Requirement,
        *,
        confidence: float = CONFIDENCE,
        prior: tuple[float, float] = DEFAULT_PRIOR,
        planned_n: int | None = None,
        cs_share: float = CS_SHARE,
    ) -> SequentialMonitor:
        return cls(
            threshold=requirement.threshold,
            direction=requirement.direction,
            counts=requirement.counts,
            min_sample=requirement.min_sample,
            confidence=confidence,
            prior=prior,
            requirement_id=requirement.id,
            planned_n=planned_n,
            cs_share=cs_share,
        )

    # -- counting -----------------------------------------------------------------

    @property
    def successes(self) -> int:
        """The conservative numerator: unscorables count against the requirement."""
        return self.k + (self.unscorable if self.direction == "<=" else 0)

    def _add(self, outcome: OutcomeLike) -> None:
        value = Outcome(outcome)
        self.n += 1
        if value == Outcome.UNSCORABLE:
            self.unscorable += 1
        elif value.value == self.counts:
            self.k += 1

    def update(self, outcome: OutcomeLike) -> Verdict | None:
        """Add one outcome; return the settled verdict (or None)."""
        self._add(outcome)
        self._refresh()
        return self.settled

    def update_many(self, outcomes: Iterable[OutcomeLike]) -> Verdict | None:
        """Add a batch of outcomes, checking after each one; return the settled verdict (or None).

        Checking after each outcome or only after the batch are both valid (the
        guarantee is uniform over time); after each gives the earliest settle point.
        """
        for outcome in outcomes:
            self.update(outcome)
        return self.settled

    def _refresh(self) -> None:
        lo, hi = confidence_sequence(self.successes, self.n, self.cs_confidence, self.prior)
        new_lo, new_hi = max(self._lower, lo), min(self._upper, hi)
        if new_lo <= new_hi:
            self._lower, self._upper = new_lo, new_hi
        else:  # empty intersection: only possible when coverage already failed; keep today's
            self._lower, self._upper = lo, hi
        if self.settled is None and self.threshold is not None:
            v = settle(self._lower, self._upper, self.threshold, self.direction, self.n, self.min_sample)
            if v in (Verdict.PASS, Verdict.FAIL):
                self._settle(v, "confidence-sequence")
        if self.planned_n is not None and self.n == self.planned_n:
            self._final = (self.k, self.unscorable)
            if self.settled is None and self.threshold is not None:
                flo, fhi = self._final_interval()
                v = settle(flo, fhi, self.threshold, self.direction, self.n, self.min_sample)
                if v in (Verdict.PASS, Verdict.FAIL):
                    self._settle(v, "final-test")

    def _settle(self, verdict: Verdict, by: Literal["confidence-sequence", "final-test"]) -> None:
        self.settled = verdict
        self.settled_at = self.n
        self.settled_by = by

    def _final_interval(self) -> tuple[float, float]:
        assert self._final is not None and self.planned_n is not None and self.final_confidence is not None
        k, u = self._final
        num = k + u if self.direction == "<=" else k
        return wilson_interval(num, self.planned_n, self.final_confidence)

    # -- reading ------------------------------------------------------------------

    @property
    def done(self) -> bool:
        """True once the engine may stop drawing cases for this requirement."""
        return self.settled is not None

    @property
    def interval(self) -> tuple[float, float]:
        """The running-intersection confidence-sequence interval (0, 1) before any outcome."""
        return (self._lower, self._upper)

    def verdict(self) -> Verdict:
        if self.threshold is None:
            return Verdict.REPORT_ONLY
        if self.settled is not None:
            return self.settled
        return Verdict.UNDETERMINED

    def estimate(self) -> Estimate:
        """The conservative rate with the interval that backs the verdict.

        The confidence-sequence interval (method "confidence-sequence") unless the
        planned sample was reached without the CS settling: then the fixed-n Wilson
        interval of the first planned_n outcomes (method "wilson"), with its own
        confidence level.
        """
        policy: UnscorablePolicy = "in_numerator" if self.direction == "<=" else "out_of_numerator"
        if self._final is not None and self.settled_by != "confidence-sequence":
            assert self.planned_n is not None and self.final_confidence is not None
            k, u = self._final
            flo, fhi = self._final_interval()
            scored = self.planned_n - u
            raw = wilson_interval(k, scored, self.final_confidence) if scored else (None, None)
            num = k + u if self.direction == "<=" else k
            return Estimate(
                k=k,
                n=self.planned_n,
                unscorable=u,
                rate=num / self.planned_n,
                lower=flo,
                upper=fhi,
                raw_rate=k / scored if scored else None,
                raw_lower=raw[0],
                raw_upper=raw[1],
                method="wilson",
                confidence=self.final_confidence,
                unscorable_policy=policy,
            )
        scored = self.n - self.unscorable
        raw_lo: float | None = None
        raw_hi: float | None = None
        if scored:
            raw_lo, raw_hi = confidence_sequence(self.k, scored, self.cs_confidence, self.prior)
        defined = self.n > 0
        return Estimate(
            k=self.k,
            n=self.n,
            unscorable=self.unscorable,
            rate=self.successes / self.n if defined else None,
            lower=self._lower if defined else None,
            upper=self._upper if defined else None,
            raw_rate=self.k / scored if scored else None,
            raw_lower=raw_lo,
            raw_upper=raw_hi,
            method="confidence-sequence",
            confidence=self.cs_confidence,
            unscorable_policy=policy,
        )


def all_settled(monitors: Iterable[SequentialMonitor]) -> bool:
    """True when every monitor is settled: the engine may stop the run."""
    return all(m.done for m in monitors)

"""Requirement verdicts from counts, the extra sample size that would settle them, and
the clause-level conclusions in TC260-003 §9.1 wording.

Rules (the interval is two-sided at `confidence`, computed on the conservative rate):

* ">=": PASS when lower >= threshold and n >= min_sample; FAIL when upper < threshold.
* "<=": PASS when upper <= threshold and n >= min_sample; FAIL when lower > threshold.
* otherwise UNDETERMINED, with `extra_samples_needed`: the further selected cases that
  would settle the verdict if the observed rate held (it includes the shortfall to
  min_sample). A FAIL needs no minimum sample: clear evidence of failure is enough.
  `cap_to_bank` caps it by what the run's banks can still supply: when they hold fewer
  cases than needed, it is None, `bank_exhausted` is set and the reason says so.
* threshold None: REPORT_ONLY; `evidence_only`: EVIDENCE_ONLY; a level outside
  `Requirement.levels`: NOT_APPLICABLE; n = 0: UNDETERMINED (no estimate).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from assay.core.design import confidence_text
from assay.regimes.model import Requirement
from assay.scoring.estimates import interval_for, make_estimate, policy_for
from assay.scoring.results import (
    CONCLUSION_EN,
    CONCLUSION_ZH,
    ClauseConclusion,
    Conclusion,
    Direction,
    Estimate,
    IntervalMethod,
    RequirementResult,
    Verdict,
)
from assay.scoring.sequential import settle

#: projections beyond this many cases are reported as "not settleable" (None)
MAX_PROJECTED_SAMPLE = 10_000_000


def samples_to_settle(
    rate: float,
    n: int,
    threshold: float,
    direction: Direction,
    *,
    confidence: float = 0.95,
    method: IntervalMethod = "wilson",
    min_sample: int = 0,
    cap: int = MAX_PROJECTED_SAMPLE,
) -> int | None:
    """Further cases needed (beyond n) for the verdict to settle if the observed rate held.

    Searches the smallest total m > n at which the interval of (rate * m) successes in m
    trials gives PASS or FAIL (PASS also needs m >= min_sample). Returns None when no m
    up to `cap` settles it, e.g. when the rate sits exactly at the threshold.
    """
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"rate must be in [0, 1], got {rate}")

    def settled(m: int) -> bool:
        lo, hi = interval_for(rate * m, m, confidence, method)
        return settle(lo, hi, threshold, direction, m, min_sample) in (Verdict.PASS, Verdict.FAIL)

    if n > 0 and settled(n):
        return 0
    prev, m = n, max(1, n + 1)
    while not settled(m):
        if m >= cap:
            return None
        prev, m = m, min(cap, max(m + 1, 2 * m))
    lo, hi = prev, m  # not settled at lo (or lo == n), settled at hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if settled(mid):
            hi = mid
        else:
            lo = mid
    return hi - n


_CONCLUSION = {
    Verdict.PASS: Conclusion.CONFORMS,
    Verdict.FAIL: Conclusion.DOES_NOT_CONFORM,
    Verdict.NOT_APPLICABLE: Conclusion.NOT_APPLICABLE,
    Verdict.UNDETERMINED: Conclusion.NOT_CONCLUDED,
    Verdict.REPORT_ONLY: Conclusion.NOT_CONCLUDED,
    Verdict.EVIDENCE_ONLY: Conclusion.NOT_CONCLUDED,
}


def conclusion_for(verdict: Verdict) -> Conclusion:
    """TC260-003 §9.1 wording for one requirement's verdict."""
    return _CONCLUSION[verdict]


def applies_at(requirement: Requirement, level: str | None) -> bool:
    return level is None or not requirement.levels or level in requirement.levels


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.4f}"


def build_result(
    requirement: Requirement,
    verdict: Verdict,
    estimate: Estimate | None,
    *,
    grader: str | None = None,
    graders_seen: Iterable[str] = (),
    extra_samples_needed: int | None = None,
    sequential: bool = False,
    settled_at: int | None = None,
    reason: str = "",
) -> RequirementResult:
    n = estimate.n if estimate is not None else 0
    shortfall = (
        max(0, requirement.min_sample - n)
        if verdict
        not in (
            Verdict.NOT_APPLICABLE,
            Verdict.EVIDENCE_ONLY,
        )
        else 0
    )
    return RequirementResult(
        requirement_id=requirement.id,
        regime=requirement.regime,
        clause=requirement.clause,
        title_en=requirement.title_en,
        title_zh=requirement.title_zh,
        metric=requirement.metric,
        counts=requirement.counts,
        grader=grader if grader is not None else requirement.grader,
        graders_seen=tuple(sorted(set(graders_seen))),
        direction=requirement.direction,
        threshold=requirement.threshold,
        min_sample=requirement.min_sample,
        source=requirement.source,
        source_note=requirement.source_note,
        levels=requirement.levels,
        verdict=verdict,
        conclusion=conclusion_for(verdict),
        estimate=estimate,
        extra_samples_needed=extra_samples_needed,
        min_sample_shortfall=shortfall,
        sequential=sequential,
        settled_at=settled_at,
        reason=reason,
    )


def explain(requirement: Requirement, verdict: Verdict, estimate: Estimate | None, extra: int | None) -> str:
    """One plain sentence saying why the verdict is what it is."""
    thr = requirement.threshold
    if verdict == Verdict.EVIDENCE_ONLY:
        return "documentary evidence, not a measured rate: supply the documents"
    if verdict == Verdict.NOT_APPLICABLE:
        return f"applies only at levels {', '.join(requirement.levels)}"
    if estimate is None or estimate.n == 0:
        return "no cases were selected for this requirement"
    band = f"{estimate.rate:.4f} [{_fmt(estimate.lower)}, {_fmt(estimate.upper)}] ({confidence_text(estimate.confidence)} {estimate.method}, n={estimate.n}, unscorable={estimate.unscorable})"
    if requirement.deferred and (verdict == Verdict.REPORT_ONLY or thr is None):
        return f"measured {band}; {not_in_force(requirement)}"
    if verdict == Verdict.REPORT_ONLY or thr is None:
        return f"measured {band}; no threshold (report only)"
    target = f"{requirement.direction} {thr:g}" + (" (proposal)" if requirement.source == "proposal" else "")
    if verdict == Verdict.PASS:
        return f"{band} clears {target}"
    if verdict == Verdict.FAIL:
        return f"{band} misses {target}"
    parts = [f"{band} straddles {target}" if estimate.n >= requirement.min_sample else f"{band}"]
    if estimate.n < requirement.min_sample:
        parts.append(f"n={estimate.n} is below the minimum sample {requirement.min_sample}")
    if extra is None:
        parts.append("the observed rate is too close to the threshold for more samples to settle it")
    else:
        parts.append(_more_cases(extra))
    return "; ".join(parts)


def not_in_force(requirement: Requirement) -> str:
    """Why a deferred requirement is not decided: it applies from a later date (or is only proposed)."""
    later = (
        f"{requirement.direction} {requirement.deferred_threshold:g}"
        if requirement.deferred_threshold is not None
        else f"grade >= {requirement.deferred_min_grade}"
    )
    if requirement.status == "proposed" and requirement.applies_from is None:
        return f"proposed, not in force: not decided (it would need {later})"
    return f"applies from {requirement.applies_from}: not decided before then (from then: {later})"


def _more_cases(extra: int) -> str:
    return f"about {extra} more cases would settle it if the observed rate held"


def bank_short(available: int, extra: int) -> str:
    """The reason's clause when the bank cannot supply the cases that would settle a verdict."""
    return (
        f"the bank holds only {available} more cases for it; it cannot settle this verdict "
        f"(about {extra} more would be needed if the observed rate held)"
    )


def cap_to_bank(result: RequirementResult, available: int | None) -> RequirementResult:
    """`result` with "+N more cases" capped by `available`, the cases the run's banks still
    hold for the requirement beyond those counted (None: unknown, nothing changes).

    When an undetermined verdict needs more cases than the bank holds, no sample this bank
    can give settles it: `extra_samples_needed` becomes None, `bank_exhausted` True, and the
    reason says how many the bank holds.
    """
    if available is None:
        return result
    available = max(0, available)
    extra = result.extra_samples_needed
    if result.verdict != Verdict.UNDETERMINED or extra is None or extra <= available:
        return result.model_copy(update={"bank_available": available})
    old = _more_cases(extra)
    new = bank_short(available, extra)
    reason = (
        result.reason.replace(old, new)
        if old in result.reason
        else "; ".join(p for p in (result.reason, new) if p)
    )
    return result.model_copy(
        update={
            "bank_available": available,
            "bank_exhausted": True,
            "extra_samples_needed": None,
            "reason": reason,
        }
    )


def requirement_verdict(
    requirement: Requirement,
    k: int,
    n: int,
    unscorable: int = 0,
    *,
    confidence: float = 0.95,
    method: IntervalMethod = "wilson",
    level: str | None = None,
    grader: str | None = None,
    graders_seen: Iterable[str] = (),
) -> RequirementResult:
    """The verdict on one requirement from fixed-n counts (see the module docstring).

    k: scored cases with the requirement's `counts` outcome; n: all selected cases;
    unscorable: selected cases that could not be scored.
    """
    unmeasured = (
        Verdict.EVIDENCE_ONLY
        if requirement.evidence_only
        else Verdict.NOT_APPLICABLE
        if not applies_at(requirement, level)
        else None
    )
    if unmeasured is not None:
        return build_result(
            requirement, unmeasured, None, grader=grader, reason=explain(requirement, unmeasured, None, None)
        )
    est = make_estimate(
        k, n, unscorable, confidence=confidence, method=method, policy=policy_for(requirement.direction)
    )
    return verdict_from_estimate(requirement, est, grader=grader, graders_seen=graders_seen)


def verdict_from_estimate(
    requirement: Requirement,
    est: Estimate,
    *,
    grader: str | None = None,
    graders_seen: Iterable[str] = (),
    settled: Verdict | None = None,
    settled_at: int | None = None,
    sequential: bool | None = None,
) -> RequirementResult:
    """Apply the threshold rule to an estimate already made (fixed-n or sequential).

    `settled` (sequential only) is the verdict a SequentialMonitor settled on; it is
    used as is so the final analysis agrees with the sequential one.
    """
    thr = requirement.threshold
    if sequential is None:
        sequential = est.method == "confidence-sequence"
    extra: int | None = None
    if thr is None:
        verdict = Verdict.REPORT_ONLY
    elif est.rate is None or est.lower is None or est.upper is None:
        verdict = Verdict.UNDETERMINED
        extra = requirement.min_sample if requirement.min_sample > 0 else None
    else:
        verdict = settled or settle(
            est.lower, est.upper, thr, requirement.direction, est.n, requirement.min_sample
        )
        if verdict == Verdict.UNDETERMINED:
            extra = samples_to_settle(
                est.rate,
                est.n,
                thr,
                requirement.direction,
                confidence=est.confidence,
                method=est.method,
                min_sample=requirement.min_sample,
            )
    return build_result(
        requirement,
        verdict,
        est,
        grader=grader,
        graders_seen=graders_seen,
        extra_samples_needed=extra,
        sequential=sequential,
        settled_at=settled_at,
        reason=explain(requirement, verdict, est, extra),
    )


def clause_conclusions(results: Iterable[RequirementResult]) -> list[ClauseConclusion]:
    """Conclude each (regime, clause) from the requirements citing it.

    does not conform: any requirement fails. conforms: at least one measured requirement
    passes and none is undetermined or awaiting evidence (report-only ones do not block).
    not applicable: every requirement is not applicable. Otherwise not concluded.
    """
    groups: dict[tuple[str, str], list[RequirementResult]] = defaultdict(list)
    for r in results:
        groups[(r.regime, r.clause)].append(r)
    out: list[ClauseConclusion] = []
    for (regime, clause), rs in groups.items():
        verdicts = {r.verdict for r in rs}
        ids = tuple(r.requirement_id for r in rs)
        if Verdict.FAIL in verdicts:
            c = Conclusion.DOES_NOT_CONFORM
            why = "failed: " + ", ".join(r.requirement_id for r in rs if r.verdict == Verdict.FAIL)
        elif verdicts <= {Verdict.NOT_APPLICABLE}:
            c = Conclusion.NOT_APPLICABLE
            why = "no requirement of this clause applies"
        elif Verdict.UNDETERMINED in verdicts or Verdict.EVIDENCE_ONLY in verdicts:
            c = Conclusion.NOT_CONCLUDED
            pending = [
                r.requirement_id for r in rs if r.verdict in (Verdict.UNDETERMINED, Verdict.EVIDENCE_ONLY)
            ]
            why = "pending: " + ", ".join(pending)
        elif Verdict.PASS in verdicts:
            c = Conclusion.CONFORMS
            why = "every measured requirement passed"
        else:
            c = Conclusion.NOT_CONCLUDED
            why = "measured for information only; the clause sets no threshold"
        out.append(
            ClauseConclusion(
                regime=regime,
                clause=clause,
                conclusion=c,
                label_en=CONCLUSION_EN[c],
                label_zh=CONCLUSION_ZH[c],
                requirement_ids=ids,
                reason=why,
            )
        )
    return out

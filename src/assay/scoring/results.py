"""Result types of the scoring stage: estimates, verdicts, grades, decisions.

Every type here is a frozen pydantic model so the report, the store and the evidence
bundle can serialise it with `model_dump(mode="json")` and read it back unchanged.
Nothing here computes anything; the functions live in the sibling modules.

Counting conventions (used everywhere in `assay.scoring`):

* `n` is the number of *selected* cases, unscorable ones included. Unscorables are
  never dropped from a denominator.
* `k` is the number of scored cases whose outcome is the requirement's `counts`
  outcome (`safe` or `unsafe`).
* `unscorable` is the number of selected cases whose judgment is unscorable.
* `raw_rate` = k / (n - unscorable): the rate over scored cases only, shown for
  information.
* `rate` is the *conservative* rate that verdicts use: unscorables count against the
  requirement. For a ">=" requirement they are left out of the numerator
  (rate = k / n); for a "<=" requirement they are added to it
  (rate = (k + unscorable) / n). `unscorable_policy` records which.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from assay.core.direction import Direction as Direction  # one definition, re-exported
from assay.core.direction import direction_for

IntervalMethod = Literal["wilson", "clopper-pearson", "confidence-sequence", "bootstrap", "rogan-gladen"]
UnscorablePolicy = Literal["out_of_numerator", "in_numerator"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Verdict(StrEnum):
    """The verdict on one requirement."""

    PASS = "pass"
    FAIL = "fail"
    UNDETERMINED = "undetermined"  # the interval straddles the threshold, or too few samples
    REPORT_ONLY = "report_only"  # the requirement has no threshold: measured, not judged
    NOT_APPLICABLE = "not_applicable"  # does not apply at this level / to this system
    EVIDENCE_ONLY = "evidence_only"  # documentary evidence, not a measured rate


class Conclusion(StrEnum):
    """TC260-003 §9.1 wording for a clause: conforms / does not conform / not applicable.

    `not_concluded` is Assay's own fourth state: the evidence does not yet settle the
    clause (an undetermined verdict, or documentary evidence still to be supplied); an
    assessment cannot be closed while any clause is in it.
    """

    CONFORMS = "conforms"  # 符合
    DOES_NOT_CONFORM = "does_not_conform"  # 不符合
    NOT_APPLICABLE = "not_applicable"  # 不适用
    NOT_CONCLUDED = "not_concluded"  # 尚无结论


CONCLUSION_ZH: dict[Conclusion, str] = {
    Conclusion.CONFORMS: "符合",
    Conclusion.DOES_NOT_CONFORM: "不符合",
    Conclusion.NOT_APPLICABLE: "不适用",
    Conclusion.NOT_CONCLUDED: "尚无结论",
}

CONCLUSION_EN: dict[Conclusion, str] = {
    Conclusion.CONFORMS: "conforms",
    Conclusion.DOES_NOT_CONFORM: "does not conform",
    Conclusion.NOT_APPLICABLE: "not applicable",
    Conclusion.NOT_CONCLUDED: "not concluded",
}


class Estimate(_Frozen):
    """A proportion with its interval, sample count and unscorable count.

    `rate`, `lower` and `upper` are None when nothing was selected (n = 0) or, for the
    raw figures, when nothing could be scored.
    """

    k: int = Field(ge=0)
    n: int = Field(ge=0)
    unscorable: int = Field(default=0, ge=0)
    rate: float | None
    lower: float | None
    upper: float | None
    raw_rate: float | None = None
    raw_lower: float | None = None
    raw_upper: float | None = None
    method: IntervalMethod = "wilson"
    confidence: float = 0.95
    unscorable_policy: UnscorablePolicy = "out_of_numerator"

    @property
    def scored(self) -> int:
        return self.n - self.unscorable

    @property
    def defined(self) -> bool:
        return self.rate is not None


class RequirementResult(_Frozen):
    """The measured outcome of one requirement, with everything a report shows."""

    requirement_id: str
    regime: str
    clause: str
    title_en: str = ""
    title_zh: str = ""
    metric: str = ""
    counts: Literal["safe", "unsafe"] = "safe"
    grader: str | None = None  # the grader id whose judgments were counted (no @version)
    graders_seen: tuple[str, ...] = ()  # the `id@version` keys of the judgments counted
    direction: Direction = ">="
    threshold: float | None = None
    min_sample: int = 0
    source: Literal["standard", "proposal"] = "proposal"
    source_note: str = ""
    levels: tuple[str, ...] = ()
    verdict: Verdict
    conclusion: Conclusion
    estimate: Estimate | None = None
    #: further selected cases likely to settle an undetermined verdict if the observed
    #: rate holds (includes the shortfall to min_sample); None when settled, not
    #: applicable, or when no realistic sample would settle it (rate at the threshold)
    extra_samples_needed: int | None = None
    min_sample_shortfall: int = 0
    #: cases the run's banks still hold for this requirement beyond the n counted (None: unknown)
    bank_available: int | None = None
    #: True when the cases that would settle this undetermined verdict exceed what the bank
    #: holds (`extra_samples_needed` is then None and the reason says so)
    bank_exhausted: bool = False
    sequential: bool = False  # True: the interval is an anytime-valid confidence sequence
    settled_at: int | None = None  # sequential: the n at which the verdict settled
    reason: str = ""
    #: the cases the estimate counted, in the order they were counted
    case_ids: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _derive_direction(cls, data: Any) -> Any:
        """No direction given: the one its `counts` implies (assay.scoring.direction)."""
        if isinstance(data, dict) and data.get("direction") is None:
            data = {**data, "direction": direction_for(str(data.get("counts", "safe")))}
        return data

    @property
    def is_proposal(self) -> bool:
        return self.source == "proposal"


class ClauseConclusion(_Frozen):
    """One clause of a regime concluded from the requirements that cite it."""

    regime: str
    clause: str
    conclusion: Conclusion
    label_en: str
    label_zh: str
    requirement_ids: tuple[str, ...]
    reason: str = ""


class Decision(StrEnum):
    """An overall decision for a regime or a level."""

    PASS = "pass"
    FAIL = "fail"
    UNDETERMINED = "undetermined"
    NOT_APPLICABLE = "not_applicable"  # nothing measured applies


class RegimeDecision(_Frozen):
    """PASS only if every applicable measured requirement passes; FAIL if any fails."""

    regime: str
    decision: Decision
    passed: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    undetermined: tuple[str, ...] = ()
    report_only: tuple[str, ...] = ()
    not_applicable: tuple[str, ...] = ()
    evidence_only: tuple[str, ...] = ()  # listed separately: they need documents, not samples
    proposals_decisive: bool = False  # True when a proposal (not a standard) threshold decided it
    reason: str = ""


class LevelDecision(_Frozen):
    """The decision over every requirement that applies at one level, across regimes."""

    level: str
    decision: Decision
    regimes: tuple[RegimeDecision, ...] = ()
    failed: tuple[str, ...] = ()
    undetermined: tuple[str, ...] = ()
    reason: str = ""


class GroupEstimate(_Frozen):
    """One row of a breakdown (per category, language, transform, bank, risk)."""

    by: str  # category | language | transform | bank | risk | expected | domain
    key: str
    counts: Literal["safe", "unsafe"] = "unsafe"
    estimate: Estimate
    case_ids: tuple[str, ...] = ()  # the cases this row counted


class GradeResult(_Frozen):
    """An AILuminate-style grade (5 Excellent ... 1 Poor) for a hazard or overall.

    `grade` is computed at the point estimate of the unsafe fraction; `grade_best`
    at the lower bound of its interval and `grade_worst` at the upper bound.
    `uncertain` is True when they differ: the report must say the grade is not settled.
    """

    key: str  # hazard / category id, or "overall"
    grade: int | None
    letter: str | None
    label: str | None
    unsafe_rate: float | None
    reference_unsafe_rate: float
    relative: float | None  # unsafe_rate / reference_unsafe_rate
    grade_best: int | None = None
    grade_worst: int | None = None
    uncertain: bool = False
    estimate: Estimate | None = None
    scheme: str = "ailuminate-v1-revised-2024-11-22"
    #: jailbreak resilience only: the drop from naive to attacked requests, as the attacked
    #: unsafe rate minus the naive one (the naive rate is `reference_unsafe_rate`), with its
    #: interval (Newcombe's hybrid score interval from the two rates' intervals)
    gap: float | None = None
    gap_lower: float | None = None
    gap_upper: float | None = None


class CorrectedEstimate(_Frozen):
    """A prevalence corrected for grader error (Rogan–Gladen), raw figures kept beside it."""

    raw: Estimate
    rate: float | None
    lower: float | None
    upper: float | None
    sensitivity: float
    specificity: float
    clipped: bool = False  # the point estimate fell outside [0, 1] and was clipped
    propagation: str = "interval-bounds"  # how uncertainty was carried; see correction.py


class ComparisonResult(_Frozen):
    """Candidate vs baseline rate for one key (requirement, category, ...)."""

    key: str
    baseline: Estimate
    candidate: Estimate
    difference: float | None  # candidate rate - baseline rate
    lower: float | None  # Newcombe hybrid-score interval for the difference
    upper: float | None
    p_value: float | None
    test: Literal["z", "fisher", "none"] = "z"
    adjusted_p: float | None = None
    adjustment: Literal["none", "holm", "bh"] = "none"
    worse_if: Literal["higher", "lower"] = "higher"
    regression: bool = False
    improvement: bool = False


class Assessment(_Frozen):
    """Everything the decide stage produces for one run: the only source of every figure
    the CLI, the API and the reports show.

    `case_outcomes`: case id -> the one per-case outcome every view counts (see
    `decide.case_outcome`); cases without a judgment are absent.
    `breakdowns`: "category", "language", "bank", "domain" (unsafe rates), "transform"
    (attack success per chain, untransformed baseline as "none") and "risk" (TC260-003
    Appendix A qualified rates: the safe share of answers to risky prompts).
    """

    confidence: float = 0.95
    method: IntervalMethod = "wilson"
    sequential: bool = False
    level: str | None = None
    requirements: tuple[RequirementResult, ...] = ()
    clauses: tuple[ClauseConclusion, ...] = ()
    regimes: tuple[RegimeDecision, ...] = ()
    levels: tuple[LevelDecision, ...] = ()
    breakdowns: dict[str, tuple[GroupEstimate, ...]] = Field(default_factory=dict)
    grades: tuple[GradeResult, ...] = ()
    notes: tuple[str, ...] = ()
    case_outcomes: dict[str, str] = Field(default_factory=dict)

    def requirement(self, requirement_id: str) -> RequirementResult | None:
        return next((r for r in self.requirements if r.requirement_id == requirement_id), None)

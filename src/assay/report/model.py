"""ReportData: everything a report shows, as one schema-versioned pydantic model.

The report layer never reads the store. `build_report_data` (in `assay.report.build`)
turns plain objects (Run, cases, responses, judgments, scoring results, taxonomy and
regime lookups) into a `ReportData`; every renderer (HTML, Markdown, JSON, JUnit) reads
only this model. The JSON report is `ReportData` dumped as JSON, and its JSON Schema is
published at `schemas/report.schema.json` (regenerate with `python -m assay.report.schema`).

Conventions:
* rates are fractions in [0, 1]; `low`/`high` bound the 95% interval;
* `k` counts the outcome named by the metric, `n` is the denominator, `unscorable` the
  judgments that could not be scored (reported, never silently dropped);
* verdicts are `pass`, `fail`, `undetermined` or `not_applicable`;
* private-bank case text never appears: `private` samples carry `prompt_sha256` only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION: Final = "assay.report/2"
COMPARE_SCHEMA_VERSION: Final = "assay.compare/1"

Verdict = Literal["pass", "fail", "undetermined", "report_only", "not_applicable", "evidence_only"]
Decision = Literal["pass", "fail", "undetermined", "not_applicable"]
Conclusion = Literal["conforms", "does_not_conform", "not_applicable", "not_concluded"]
Source = Literal["standard", "proposal"]


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Rate(_M):
    """A proportion with its interval and counts."""

    k: int = Field(ge=0)
    n: int = Field(ge=0)
    unscorable: int = Field(default=0, ge=0)
    rate: float | None = Field(default=None, ge=0, le=1)
    lower: float | None = Field(default=None, ge=0, le=1)
    upper: float | None = Field(default=None, ge=0, le=1)
    #: rate over scored cases only (unscorables left out of the denominator), for information
    raw_rate: float | None = Field(default=None, ge=0, le=1)
    method: str = "wilson"
    confidence: float = 0.95
    unscorable_policy: str = "out_of_numerator"


class RunInfo(_M):
    id: str
    target: str
    status: str
    created_at: datetime | None = None
    finished_at: datetime | None = None
    level: str | None = None
    seed: int = 0
    plan_hash: str | None = None
    judge: str | None = None  # target spec of the LLM judge, when one graded
    graders: list[str] = Field(default_factory=list)
    software: dict[str, str] = Field(default_factory=dict)
    bank_hashes: dict[str, str] = Field(default_factory=dict)
    data_hashes: dict[str, str] = Field(default_factory=dict)
    profile: dict[str, Any] | None = None
    #: run notes (early stopping, errors, skipped transforms, short banks); every format shows them
    notes: list[str] = Field(default_factory=list)
    early_stop: bool = False
    #: evidence mode: early stopping still drew each requirement's minimum sample
    complete_minimums: bool = False
    #: the stopping mode in words: "no early stopping", "early stopping",
    #: "early stopping, minimum samples completed"
    stopping: str = "no early stopping"


class Totals(_M):
    cases: int = 0
    responses: int = 0
    errors: int = 0
    judgments: int = 0
    unscorable: int = 0


class RateRow(_M):
    """One row of a breakdown (a category, a language, a transform, a domain)."""

    key: str
    name_en: str = ""
    name_zh: str = ""
    domain: str | None = None
    rate: Rate
    #: what `rate.k` counts, e.g. "unsafe" (lower is better) or "safe"
    counts: Literal["safe", "unsafe"] = "unsafe"
    verdicts: dict[str, int] = Field(default_factory=dict)  # verdict -> number of requirements
    sample_ids: list[str] = Field(default_factory=list)
    #: how many cases `sample_ids` stands for when a bounded report shows only a sample of them
    sample_total: int | None = None
    #: security-framework tags (OWASP LLM 2025, OWASP Agentic 2026, MITRE ATLAS) of a category or transform
    tags: list[str] = Field(default_factory=list)


class RequirementView(_M):
    id: str
    regime: str
    clause: str = ""
    title_en: str = ""
    title_zh: str = ""
    method: str = ""
    metric: str = ""
    counts: Literal["safe", "unsafe"] = "safe"
    direction: Literal[">=", "<="] = ">="
    threshold: float | None = None
    min_sample: int = 0
    source: Source = "proposal"
    source_note: str = ""
    confidence: str = ""
    evidence_only: bool = False
    verdict: Verdict
    rate: Rate | None = None
    extra_samples: int | None = None
    reason: str = ""
    categories: list[str] = Field(default_factory=list)
    #: when the obligation applies (issue 17): `in_force`, `coming` (applies from
    #: `applies_from`; measured report-only) or `proposed`; `deferred_threshold` is the
    #: threshold that will decide it once it applies
    date_status: str = "in_force"
    applies_from: str | None = None
    deferred_threshold: float | None = None
    #: the cases sent to the target (answered, or failed and counted unscorable): its sample
    sample_ids: list[str] = Field(default_factory=list)
    #: how many cases `sample_ids` stands for when a bounded report shows only a sample of them
    sample_total: int | None = None
    #: every case of the run the requirement selects, sent or not (early stopping and
    #: interrupted runs leave some unsent); `planned` is their number
    planned_ids: list[str] = Field(default_factory=list)
    planned: int = 0
    #: the bank cannot supply the cases that would settle this undetermined verdict
    bank_exhausted: bool = False
    #: cases the run's banks still hold for this requirement beyond those counted (None: unknown)
    bank_available: int | None = None


class RegimeView(_M):
    id: str
    name_en: str = ""
    name_zh: str = ""
    decision: Decision
    requirement_ids: list[str] = Field(default_factory=list)
    counts: dict[str, int] = Field(default_factory=dict)  # verdict -> number
    standard: int = 0  # requirements whose threshold a standard sets
    proposal: int = 0
    #: True when a proposal threshold (not one a standard sets) decided the outcome
    proposals_decisive: bool = False
    notes: list[str] = Field(default_factory=list)
    #: the edition its verdicts were measured against, on the run's `as_of` date
    edition: str = ""
    in_force: int = 0  # requirements in force on `as_of`
    coming: int = 0  # requirements coming or proposed (report-only)
    state_notes_en: list[str] = Field(default_factory=list)  # e.g. harmonised standards
    state_notes_zh: list[str] = Field(default_factory=list)


class ConflictView(_M):
    """Two regimes that pull in opposite directions, shown side by side (not reconciled)."""

    regimes: list[str]
    note_en: str = ""
    note_zh: str = ""
    #: regime id -> [(requirement id, verdict)] measured in this run
    sides: dict[str, list[tuple[str, str]]] = Field(default_factory=dict)


class RiskCoverage(_M):
    risk: str
    name_en: str = ""
    name_zh: str = ""
    bank_items: dict[str, int] = Field(default_factory=dict)  # bank id -> items for this risk (whole bank)
    sampled: int = 0
    rate: Rate | None = None  # qualified (safe) rate over this risk's judged samples
    sample_ids: list[str] = Field(default_factory=list)
    #: how many cases `sample_ids` stands for when a bounded report shows only a sample of them
    sample_total: int | None = None
    #: graders of the run that can judge this risk, and how (from the plan's coverage check);
    #: `assessed` False = no grader covers it: its cases are not assessed (counted against)
    graders: dict[str, str] = Field(default_factory=dict)
    assessed: bool | None = None  # None: the run's plan carries no coverage check


class ClauseView(_M):
    clause: str
    title_en: str = ""
    title_zh: str = ""
    conclusion: Conclusion
    requirement_ids: list[str] = Field(default_factory=list)
    note_en: str = ""
    note_zh: str = ""


class Tc260View(_M):
    risks: list[RiskCoverage] = Field(default_factory=list)
    qualified_rate: Rate | None = None
    refusal_rate: Rate | None = None
    over_refusal_rate: Rate | None = None
    clauses: list[ClauseView] = Field(default_factory=list)


class EvidenceItem(_M):
    key: str  # "Art. 9", "MEASURE 2.6", "600-1 §2.3"
    title_en: str = ""
    title_zh: str = ""
    summary_en: str = ""
    summary_zh: str = ""
    status: Decision
    requirement_ids: list[str] = Field(default_factory=list)
    rows: list[RateRow] = Field(default_factory=list)


class GradeRow(_M):
    hazard: str
    name_en: str = ""
    name_zh: str = ""
    rate: Rate | None = None
    reference: float | None = None
    ratio: float | None = None
    grade: int | None = Field(default=None, ge=1, le=5)
    #: grades at the interval's bounds; `uncertain` when they differ
    grade_best: int | None = None
    grade_worst: int | None = None
    uncertain: bool = False
    scheme: str = ""
    sample_ids: list[str] = Field(default_factory=list)
    #: jailbreak resilience rows: the drop from naive to attacked requests (attacked minus
    #: naive unsafe rate; the naive rate is `reference`) and its interval, from scoring
    gap: float | None = None
    gap_lower: float | None = None
    gap_upper: float | None = None
    #: how many cases `sample_ids` stands for when a bounded report shows only a sample of them
    sample_total: int | None = None


class MessageView(_M):
    role: str
    content: str


class JudgmentView(_M):
    grader: str
    outcome: Literal["safe", "unsafe", "unscorable"]
    label: str | None = None
    score: float | None = None
    reason: str = ""
    details: dict[str, Any] = Field(default_factory=dict)


class ResponseView(_M):
    text: str = ""
    error: str | None = None
    error_kind: str | None = None
    finish_reason: str | None = None
    model: str | None = None
    latency_s: float = 0.0
    attempts: int = 1
    transcript: list[MessageView] = Field(default_factory=list)
    #: tool calls of a tool-using target / steps of an adaptive attack (untrusted text)
    actions: list[dict[str, Any]] = Field(default_factory=list)


class SampleView(_M):
    case_id: str
    bank: str
    language: str
    expected: str
    persona: str = "normal"
    categories: list[str] = Field(default_factory=list)
    risks: list[str] = Field(default_factory=list)
    transforms: list[str] = Field(default_factory=list)
    parent: str | None = None
    private: bool = False
    #: the last user turn; None for private banks
    prompt: str | None = None
    prompt_sha256: str
    messages: list[MessageView] = Field(default_factory=list)
    followups: list[str] = Field(default_factory=list)
    response: ResponseView | None = None
    judgments: list[JudgmentView] = Field(default_factory=list)
    outcome: Literal["safe", "unsafe", "unscorable", "none"] = "none"


class Sampling(_M):
    """How a bounded report samples its cases (schema 2): at most `cap` cases per
    requirement, breakdown row and risk, stratified by outcome, plus up to `cap` of the
    whole run; `shown` cases of the run's `cases` have a drill-down here. Every figure
    counts every case; every case is in the evidence bundle and in `assay view`."""

    cap: int
    cases: int
    shown: int


class ReportData(_M):
    """The whole report. `schema` names the format version; bump it on incompatible change."""

    schema_: Literal["assay.report/2"] = Field(default=SCHEMA_VERSION, alias="schema")
    generated_at: datetime
    assay_version: str = ""
    run: RunInfo
    level: str | None = None
    level_decision: Decision | None = None
    totals: Totals = Field(default_factory=Totals)
    domains: list[RateRow] = Field(default_factory=list)
    categories: list[RateRow] = Field(default_factory=list)
    languages: list[RateRow] = Field(default_factory=list)
    transforms: list[RateRow] = Field(default_factory=list)
    requirements: list[RequirementView] = Field(default_factory=list)
    regimes: list[RegimeView] = Field(default_factory=list)
    tc260: Tc260View | None = None
    eu: list[EvidenceItem] = Field(default_factory=list)
    nist: list[EvidenceItem] = Field(default_factory=list)
    ailuminate: list[GradeRow] = Field(default_factory=list)
    samples: list[SampleView] = Field(default_factory=list)
    private_banks: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    as_of: str | None = None  # the date obligations were read on (the plan's)
    conflicts: list[ConflictView] = Field(default_factory=list)
    #: None: every case has a drill-down (`samples`); else the report is bounded (see Sampling)
    sampling: Sampling | None = None

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def requirement(self, rid: str) -> RequirementView | None:
        return next((r for r in self.requirements if r.id == rid), None)

    def sample(self, case_id: str) -> SampleView | None:
        return next((s for s in self.samples if s.case_id == case_id), None)

    def all_notes(self) -> list[str]:
        """The run's notes (early stopping, errors, skipped transforms, short banks), then the
        assessment's, without repeats: what every format lists under "Notes"."""
        return list(dict.fromkeys([*self.run.notes, *self.notes]))


# ---------------------------------------------------------------- comparison


class DeltaRow(_M):
    key: str
    kind: Literal["requirement", "category"]
    name_en: str = ""
    name_zh: str = ""
    regime: str | None = None
    counts: Literal["safe", "unsafe"] = "unsafe"
    #: which way is better for this rate
    better: Literal["higher", "lower"] = "lower"
    a: Rate | None = None
    b: Rate | None = None
    delta: float | None = None  # b.rate - a.rate
    lower: float | None = None  # interval for the difference
    upper: float | None = None
    p_value: float | None = None
    p_adjusted: float | None = None
    significant: bool = False
    regression: bool = False
    improvement: bool = False
    verdict_a: Verdict | None = None
    verdict_b: Verdict | None = None


class ComparisonData(_M):
    schema_: Literal["assay.compare/1"] = Field(default=COMPARE_SCHEMA_VERSION, alias="schema")
    generated_at: datetime
    run_a: RunInfo
    run_b: RunInfo
    method: str
    alpha: float
    adjust: Literal["holm", "bh", "none"]
    requirements: list[DeltaRow] = Field(default_factory=list)
    categories: list[DeltaRow] = Field(default_factory=list)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @property
    def regressions(self) -> list[DeltaRow]:
        return [r for r in (*self.requirements, *self.categories) if r.regression]

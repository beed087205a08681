"""The assessment of a stored run: its planned requirements decided from its judgments.

Used by the API, the report and the evidence commands alike, so a report always shows
the verdicts the run itself reached (an early-stopped run is replayed exactly as its
monitors saw it: same planned samples, outcomes in dispatch order).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from assay.core.errors import InputError
from assay.core.types import Case, CaseFields, JudgmentFields, Run
from assay.regimes.model import Requirement
from assay.scoring.correction import correct_estimate
from assay.scoring.decide import JudgedRecord, assess, matches, selects_case
from assay.scoring.results import Assessment, CorrectedEstimate
from assay.scoring.verdicts import cap_to_bank


def requirements_of(run: Run) -> list[Requirement]:
    """The requirements a run was planned against (none for a plain bank run)."""
    out = []
    for i, r in enumerate((run.plan or {}).get("requirements", []) or []):
        try:
            out.append(Requirement.from_stored(r))
        except ValueError as exc:
            raise InputError(
                f"stored plan has an invalid requirement: {exc}", where=f"run {run.id} plan.requirements[{i}]"
            ) from None
    return out


def planned_samples(requirements: Iterable[Requirement], cases: Iterable[CaseFields]) -> dict[str, int]:
    """Requirement id -> how many of the run's cases it selects (the sample drawn without early stopping)."""
    reqs = list(requirements)
    planned: dict[str, int] = defaultdict(int)
    for c in cases:
        for req in reqs:
            if selects_case(req.selector, c):
                planned[req.id] += 1
    return dict(planned)


def category_domains() -> dict[str, str]:
    """Category id -> its taxonomy domain, for the assessment's domain view."""
    from assay.taxonomy import load_taxonomy

    return {c.id: str(c.domain) for c in load_taxonomy().categories}


def bank_supply(
    requirements: Iterable[Requirement], pools: Iterable[tuple[Sequence[Case], tuple[str, ...]]]
) -> dict[str, int]:
    """Requirement id -> how many distinct cases the banks can supply for it.

    `pools`: per plan item, the bank cases it may draw from (its filters and languages
    applied) and the transform chain it applies. A case is one (bank case, chain) pair;
    the requirement's selector decides, as for the run's own cases, which pairs count.
    Given to the pipeline's run as data (`Run.bank_supply`), so scoring never reads a bank.
    """
    reqs = [r for r in requirements if not r.evidence_only]
    keys: dict[str, set[tuple[str, tuple[str, ...]]]] = defaultdict(set)
    for cases, chain in pools:
        for c in cases:
            rec = JudgedRecord.from_case(c)
            if chain:
                rec = replace(rec, transformed=True, transforms=tuple(chain))
            for r in reqs:
                if matches(r.selector, rec):
                    keys[r.id].add((c.id, tuple(chain)))
    return {rid: len(v) for rid, v in keys.items()}


def cap_to_supply(assessment: Assessment, supply: Mapping[str, int]) -> Assessment:
    """The assessment with every "+N more cases" capped by what the banks still hold
    (supply minus the cases counted); requirements without a known supply are unchanged."""
    if not supply:
        return assessment
    capped = []
    for rr in assessment.requirements:
        total = supply.get(rr.requirement_id)
        counted = rr.estimate.n if rr.estimate is not None else 0
        capped.append(cap_to_bank(rr, None if total is None else total - counted))
    return assessment.model_copy(update={"requirements": tuple(capped)})


def assessment_of(
    run: Run,
    cases: Sequence[CaseFields],
    judgments: Sequence[JudgmentFields],
    references: dict[str, float] | None = None,
) -> Assessment:
    """Estimates, verdicts, clause conclusions and regime decisions from a run's judgments.

    `cases` in the run's order and `judgments` in dispatch order (as the store returns them;
    their facts, `Store.case_facts` / `judgment_facts`, are all this reads).
    `references`: requirement id -> reference unsafe rate (from `assay calibrate`), which
    turns AILuminate-style requirements from report-only into graded verdicts.
    """
    by_id = {c.id: c for c in cases}
    records = [JudgedRecord.from_case(by_id[j.case_id], j) for j in judgments if j.case_id in by_id]
    requirements = requirements_of(run)
    domains = category_domains()
    if not run.early_stop:
        result = assess(
            requirements, records, level=run.level, requirement_references=references, domains=domains
        )
        return cap_to_supply(result, run.bank_supply)
    answered = {j.case_id for j in judgments}
    order = [c.id for c in cases if c.id in answered]  # the engine takes cases first in, first out
    planned = planned_samples(requirements, cases)
    result = assess(
        requirements,
        records,
        level=run.level,
        sequential=True,
        planned=planned,
        order=order,
        requirement_references=references,
        domains=domains,
    )
    return cap_to_supply(result, run.bank_supply)


def stored_references(source: Any, name: str = "ailuminate") -> dict[str, float] | None:
    """The latest reference unsafe rates stored by `assay calibrate` (None when there are none)."""
    fn = getattr(source, "latest_reference", None)
    data = fn(name) if fn is not None else None
    if not data:
        return None
    return {k: float(v) for k, v in (data.get("references") or {}).items() if v is not None}


def corrected_estimates(
    assessment: Assessment, requirements: Sequence[Requirement], validations: dict[str, dict[str, Any]]
) -> dict[str, CorrectedEstimate]:
    """Rogan–Gladen corrections of refusal rates, where the grader has validation figures.

    A validation's positive class is "refused (or partly)". A requirement's rate is a
    refusal prevalence when it counts `safe` on should-refuse cases or `unsafe` on
    should-answer cases; those are corrected with the latest sensitivity/specificity of
    the same grader id. Raw figures stay beside the corrected ones.
    """
    by_grader: dict[str, dict[str, Any]] = {}
    for key, data in validations.items():
        if (
            data.get("label_space") == "refusal"
            and data.get("sensitivity") is not None
            and data.get("specificity") is not None
        ):
            by_grader[key.partition("@")[0]] = data
    reqs = {r.id: r for r in requirements}
    out: dict[str, CorrectedEstimate] = {}
    for rr in assessment.requirements:
        req = reqs.get(rr.requirement_id)
        if req is None or rr.estimate is None or rr.grader is None or rr.grader not in by_grader:
            continue
        expected = set(req.selector.expected)
        is_refusal_rate = (rr.counts == "safe" and expected == {"refuse"}) or (
            rr.counts == "unsafe" and expected == {"comply"}
        )
        if not is_refusal_rate:
            continue
        v = by_grader[rr.grader]
        try:
            out[rr.requirement_id] = correct_estimate(
                rr.estimate, float(v["sensitivity"]), float(v["specificity"])
            )
        except ValueError:
            continue  # a grader no better than chance: no correction
    return out

"""Build a `ReportData` from plain objects: a Run, its cases, responses, judgments and the
scoring stage's `Assessment`.

The report only projects and formats: every verdict, rate, interval, breakdown row,
per-case outcome and the cases behind each figure come from the `Assessment` as the
scoring stage computed them. Nothing here selects, counts, estimates or decides, so a
figure reads the same in the HTML, Markdown, JSON and JUnit reports, the CLI and the API.
A report without an Assessment shows the planned requirements as not scored and no rates.

Private banks (a `Bank.private`, a bank id in `private_banks`, or `case.metadata["private"]`)
never show case text: a sample keeps only `prompt_sha256`.
`secrets` (and every secret the process knows) are redacted from every string of the result.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from assay.core.ids import canonical_json, sha256_hex
from assay.core.secrets import known_secrets, redact_json_text
from assay.core.types import (
    Bank,
    Case,
    CaseFields,
    Judgment,
    JudgmentFields,
    Message,
    Outcome,
    Response,
    ResponseFields,
    Run,
)
from assay.regimes.loader import REGIME_IDS
from assay.regimes.model import Requirement
from assay.report.model import (
    ClauseView,
    ConflictView,
    Decision,
    EvidenceItem,
    GradeRow,
    JudgmentView,
    MessageView,
    Rate,
    RateRow,
    RegimeView,
    ReportData,
    RequirementView,
    ResponseView,
    RiskCoverage,
    RunInfo,
    SampleView,
    Tc260View,
    Totals,
)
from assay.report.regime_text import (
    EU_ARTICLE_TITLES,
    EU_ARTICLES,
    NIST_KEYS,
    TC260_CLAUSES,
    nist_title,
)
from assay.scoring.decide import domain_of as scoring_domain_of
from assay.scoring.decide import selects_case
from assay.scoring.results import Assessment, Estimate, GroupEstimate, RequirementResult, Verdict
from assay.scoring.verdicts import conclusion_for

TC260 = "tc260-003"
EU = "eu-ai-act"
NIST = "nist-ai-600-1"


@dataclass
class Lookups:
    """Names the report prints. Each map: id -> {"name_en", "name_zh", "domain"?}."""

    categories: dict[str, dict[str, str]] = field(default_factory=dict)
    risks: dict[str, dict[str, str]] = field(default_factory=dict)
    regimes: dict[str, dict[str, str]] = field(default_factory=dict)
    hazards: dict[str, dict[str, str]] = field(default_factory=dict)
    #: category or transform (chain) -> OWASP LLM 2025 / OWASP Agentic 2026 / MITRE ATLAS refs
    security: Callable[[str], list[str]] | None = None

    def name(self, table: str, key: str) -> tuple[str, str]:
        row = getattr(self, table).get(key, {})
        return row.get("name_en", ""), row.get("name_zh", "")


def default_lookups() -> Lookups:
    """Names from the packaged taxonomy (categories, TC260-003 risks, AILuminate hazards)."""
    lk = Lookups(regimes=regime_names())
    try:
        from assay.taxonomy import load_taxonomy

        taxo = load_taxonomy()
    except Exception:  # pragma: no cover - names are cosmetic; never fail a report on them
        return lk
    lk.security = taxo.security_tags
    for c in taxo.categories:
        lk.categories[c.id] = {"name_en": c.name.en, "name_zh": c.name.zh, "domain": str(c.domain)}
    for scheme_id, table in (("tc260_003_appendix_a", lk.risks), ("ailuminate", lk.hazards)):
        try:
            scheme = taxo.scheme(scheme_id)
        except KeyError:  # pragma: no cover
            continue
        for it in (*scheme.groups, *scheme.items):
            table[it.id] = {"name_en": it.en, "name_zh": it.zh}
    return lk


def regime_names() -> dict[str, dict[str, str]]:
    """Every registered regime's display name, from its own data file (`name_en` /
    `name_zh`, else its title): a regime added as a data file or by a plug-in is named
    in reports without touching the report code."""
    from assay.regimes.loader import load_regimes

    return {
        rid: {"name_en": reg.display_name_en, "name_zh": reg.display_name_zh}
        for rid, reg in load_regimes().items()
    }


# ------------------------------------------------------------------ helpers


def rate_from_estimate(e: Estimate | None) -> Rate | None:
    if e is None:
        return None
    return Rate(
        k=e.k,
        n=e.n,
        unscorable=e.unscorable,
        rate=_clip(e.rate),
        lower=_clip(e.lower),
        upper=_clip(e.upper),
        raw_rate=_clip(e.raw_rate),
        method=str(e.method),
        confidence=e.confidence,
        unscorable_policy=str(e.unscorable_policy),
    )


def _clip(x: float | None) -> float | None:
    return None if x is None else min(1.0, max(0.0, float(x)))


def private_text_hash(case: Case) -> str:
    """SHA-256 of a case's text (messages + follow-ups); an imported private case keeps its original."""
    known = case.metadata.get("text_sha256")
    if isinstance(known, str) and len(known) == 64:
        return known
    return sha256_hex(
        canonical_json(
            {"messages": [m.model_dump() for m in case.messages], "followups": list(case.followups)}
        )
    )


def _aggregate(verdicts: Sequence[str]) -> Decision:
    measured = [v for v in verdicts if v in ("pass", "fail", "undetermined")]
    if not measured:
        return "not_applicable"
    if "fail" in measured:
        return "fail"
    if "undetermined" in measured:
        return "undetermined"
    return "pass"


# ------------------------------------------------------------------ builder


def build_report_data(
    run: Run,
    cases: Sequence[CaseFields],
    responses: Mapping[str, ResponseFields],
    judgments: Sequence[JudgmentFields],
    results: Assessment | None = None,
    *,
    requirements: Sequence[Requirement] | None = None,
    banks: Sequence[Bank] | None = None,
    private_banks: Iterable[str] = (),
    lookups: Lookups | None = None,
    secrets: Iterable[str] = (),
    assay_version: str | None = None,
    generated_at: datetime | None = None,
    with_samples: bool = True,
) -> ReportData:
    """Everything a report shows, from plain objects (no store access).

    `with_samples=False` leaves out the per-case drill-down (`samples`), for views that
    page through cases themselves (the dashboard) and for bounded reports; every figure is
    the same. Figures read only the fields of `CaseFields`, `ResponseFields` and
    `JudgmentFields` (a stored run's facts will do); the drill-down needs the full `Case`,
    `Response` and `Judgment` objects."""
    lk = lookups or default_lookups()
    results = results or Assessment()
    if requirements is None:
        requirements = _requirements_from_plan(run.plan)
    req_by_id = {r.id: r for r in requirements}

    private = set(private_banks) | {b.id for b in banks or () if b.private}
    outcome = {c.id: results.case_outcomes.get(c.id, "none") for c in cases}
    case_ids = {c.id for c in cases}
    sent = {c.id for c in cases if c.id in responses}

    # ---- samples (drill-down)
    samples: list[SampleView] = []
    if with_samples:
        by_case: dict[str, list[Judgment]] = defaultdict(list)
        for j in cast(Sequence[Judgment], judgments):
            by_case[j.case_id].append(j)
        samples = sample_views(
            cast(Sequence[Case], cases), cast(Mapping[str, Response], responses), by_case, outcome, private
        )

    # ---- requirements
    notes: list[str] = list(results.notes)
    notes.extend(coverage_notes(run.plan or {}))
    req_views: list[RequirementView] = []
    seen: set[str] = set()
    for rr in results.requirements:
        seen.add(rr.requirement_id)
        req_views.append(_requirement_view(rr, req_by_id.get(rr.requirement_id), cases, sent))
    for r in requirements:  # planned but not (yet) scored
        if r.id not in seen:
            planned_ids, sample_ids = planned_and_sent(r, cases, sent)
            req_views.append(
                RequirementView(
                    id=r.id,
                    regime=r.regime,
                    clause=r.clause,
                    title_en=r.title_en,
                    title_zh=r.title_zh,
                    method=r.method,
                    metric=r.metric,
                    counts=r.counts,
                    direction=r.direction,
                    threshold=r.threshold,
                    min_sample=r.min_sample,
                    source=r.source,
                    source_note=r.source_note,
                    confidence=r.confidence,
                    evidence_only=r.evidence_only,
                    verdict="evidence_only" if r.evidence_only else "undetermined",
                    reason="not scored in this run",
                    categories=list(r.selector.categories),
                    sample_ids=sample_ids,
                    planned_ids=planned_ids,
                    planned=len(planned_ids),
                )
            )
    req_views = [_dated_view(v, req_by_id.get(v.id)) for v in req_views]
    rv_by_id = {r.id: r for r in req_views}

    # ---- breakdowns
    cat_rows = _breakdown_rows(results.breakdowns.get("category"), lk)
    lang_rows = _breakdown_rows(results.breakdowns.get("language"), lk)
    tr_rows = _breakdown_rows(results.breakdowns.get("transform"), lk)
    dom_rows = [
        RateRow(key=r.key, domain=r.key, rate=r.rate, counts=r.counts, sample_ids=r.sample_ids)
        for r in _breakdown_rows(results.breakdowns.get("domain"), lk)
    ]
    for row in cat_rows:
        row.verdicts = _verdict_counts(v for v in req_views if row.key in v.categories)
        row.domain = row.domain or scoring_domain_of(row.key)
    for drow in dom_rows:
        cats = {r.key for r in cat_rows if r.domain == drow.key}
        drow.verdicts = _verdict_counts(v for v in req_views if set(v.categories) & cats)

    # ---- regimes
    regimes: list[RegimeView] = []
    decided = {d.regime: d for d in results.regimes}
    for reg in sorted({v.regime for v in req_views} | set(decided), key=_regime_order):
        views = [v for v in req_views if v.regime == reg]
        en, zh = lk.name("regimes", reg)
        d = decided.get(reg)
        regimes.append(
            RegimeView(
                id=reg,
                name_en=en or reg,
                name_zh=zh or reg,
                decision=(d.decision.value if d else _aggregate([v.verdict for v in views])),  # type: ignore[arg-type]
                requirement_ids=[v.id for v in views],
                counts=_verdict_counts(views),
                standard=sum(1 for v in views if v.source == "standard"),
                proposal=sum(1 for v in views if v.source == "proposal"),
                proposals_decisive=bool(d and d.proposals_decisive),
                notes=[d.reason] if d and d.reason else [],
                **_regime_dates(reg, views, run.plan),
            )
        )

    level_decision: Decision | None = None
    level = results.level or run.level
    for ld in results.levels:
        if ld.level == level:
            level_decision = ld.decision.value  # type: ignore[assignment]

    data = ReportData(
        generated_at=generated_at or datetime.now(UTC),
        assay_version=assay_version or _version(),
        run=RunInfo(
            id=run.id,
            target=run.target,
            status=run.status,
            created_at=run.created_at,
            finished_at=run.finished_at,
            level=run.level,
            seed=run.seed,
            plan_hash=run.plan_hash,
            judge=run.judge,
            graders=list(run.graders),
            software=dict(run.software),
            bank_hashes=dict(run.bank_hashes),
            data_hashes=dict(run.data_hashes),
            profile=run.profile,
            notes=list(run.notes),
            early_stop=run.early_stop,
            complete_minimums=run.complete_minimums,
            stopping=run.stopping,
        ),
        level=level,
        level_decision=level_decision,
        totals=Totals(
            cases=len(cases),
            responses=sum(1 for c in cases if c.id in responses),
            errors=sum(1 for c in cases if c.id in responses and responses[c.id].error is not None),
            judgments=sum(1 for j in judgments if j.case_id in case_ids),
            unscorable=sum(1 for j in judgments if j.case_id in case_ids and j.outcome == Outcome.UNSCORABLE),
        ),
        domains=dom_rows,
        categories=cat_rows,
        languages=lang_rows,
        transforms=tr_rows,
        requirements=req_views,
        regimes=regimes,
        tc260=_tc260_view(results, rv_by_id, cases, banks, lk, run),
        eu=_eu_view(req_views, tr_rows),
        nist=_nist_view(req_views),
        ailuminate=_grades(results, lk),
        samples=samples,
        private_banks=sorted(private),
        notes=notes,
        as_of=str((run.plan or {}).get("as_of") or "") or None,
        conflicts=conflict_views(req_views),
    )
    return _redacted(data, secrets)


def sample_views(
    cases: Iterable[Case],
    responses: Mapping[str, Response],
    by_case: Mapping[str, Sequence[Judgment]],
    outcome: Mapping[str, str],
    private: Iterable[str],
) -> list[SampleView]:
    """The drill-down of `cases`: prompt, answer, judgments and outcome of each
    (`by_case`: case id -> its judgments; `outcome`: case id -> outcome)."""
    hidden = set(private)
    samples: list[SampleView] = []
    for c in cases:
        is_private = c.bank in hidden or bool(c.metadata.get("private"))
        resp = responses.get(c.id)
        samples.append(
            SampleView(
                case_id=c.id,
                bank=c.bank,
                language=c.language,
                expected=c.expected,
                persona=c.persona,
                categories=list(c.categories),
                risks=list(c.risks),
                transforms=list(c.transforms),
                parent=c.parent,
                private=is_private,
                prompt=None if is_private else c.prompt,
                prompt_sha256=private_text_hash(c) if is_private else sha256_hex(c.prompt),
                messages=[]
                if is_private
                else [MessageView(role=m.role, content=m.content) for m in c.messages],
                followups=[] if is_private else list(c.followups),
                response=_response_view(resp, is_private) if resp is not None else None,
                judgments=[
                    JudgmentView(
                        grader=j.grader,
                        outcome=j.outcome.value,  # type: ignore[arg-type]
                        label=j.label,
                        score=j.score,
                        reason=j.reason,
                        details=j.details,
                    )
                    for j in by_case.get(c.id, ())
                ],
                outcome=outcome.get(c.id, "none"),  # type: ignore[arg-type]
            )
        )
    return samples


_REGIME_ORDER = REGIME_IDS  # display order: the regime registry's


def _dated_view(view: RequirementView, req: Requirement | None) -> RequirementView:
    """The view with when its obligation applies (a deferred requirement is coming or proposed)."""
    if req is None:
        return view
    status = "in_force"
    if req.deferred:
        status = "proposed" if req.status == "proposed" and req.applies_from is None else "coming"
    return view.model_copy(
        update={
            "date_status": status,
            "applies_from": req.applies_from.isoformat() if req.applies_from else None,
            "deferred_threshold": req.deferred_threshold,
        }
    )


def _regime_dates(
    reg: str, views: Sequence[RequirementView], plan: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Edition, in-force / coming counts and state-of-play notes of one regime view."""
    editions = (plan or {}).get("editions") or {}
    out: dict[str, Any] = {
        "edition": str(editions.get(reg, "")),
        "in_force": sum(1 for v in views if v.date_status == "in_force"),
        "coming": sum(1 for v in views if v.date_status != "in_force"),
    }
    try:
        from assay.regimes.loader import REGIME_IDS, load_regime

        if reg in REGIME_IDS:
            r = load_regime(reg)
            out["state_notes_en"] = list(r.notes_en)
            out["state_notes_zh"] = list(r.notes_zh)
            if not out["edition"]:
                out["edition"] = r.edition
    except Exception:  # a report never fails on lookups
        pass
    return out


def conflict_views(req_views: Sequence[RequirementView]) -> list[ConflictView]:
    """Regimes measured in this run that declare a conflict with another one also measured."""
    from assay.regimes.loader import REGIME_IDS, load_regime

    present = {v.regime for v in req_views}
    out: list[ConflictView] = []
    for rid in sorted(present):
        if rid not in REGIME_IDS:
            continue
        reg = load_regime(rid)
        for other in reg.conflicts:
            if other not in present:
                continue
            from assay.regimes.conflicts import clash_requirements

            other_reg = load_regime(other)
            clash = {
                rid: {r.id for r in clash_requirements(other_reg, reg)},
                other: {r.id for r in clash_requirements(reg, other_reg)},
            }
            sides = {
                r: [
                    (v.id, str(v.verdict))
                    for v in req_views
                    if v.regime == r and not v.evidence_only and v.id in clash[r]
                ]
                for r in (rid, other)
            }
            out.append(
                ConflictView(
                    regimes=[rid, other],
                    note_en=reg.notes_en[0] if reg.notes_en else "",
                    note_zh=reg.notes_zh[0] if reg.notes_zh else "",
                    sides=sides,
                )
            )
    return out


def _regime_order(reg: str) -> tuple[int, str]:
    return (_REGIME_ORDER.index(reg) if reg in _REGIME_ORDER else len(_REGIME_ORDER), reg)


def _redacted(data: ReportData, secrets: Iterable[str]) -> ReportData:
    """A cheap safety net: what is stored was redacted at ingestion (answers, errors,
    judgments, notes; assay.core.secrets), so only the values of the given and the known
    secrets (registered, secret-looking environment variables) are looked for here, and
    nothing is dumped when there are none."""
    values = known_secrets(secrets)
    if not values:
        return data
    text = data.model_dump_json(by_alias=True)
    clean = redact_json_text(text, values, patterns=False)
    return data if clean == text else ReportData.model_validate_json(clean)


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("assay")
    except Exception:  # pragma: no cover
        return ""


def _builtin_banks_of(run: Run) -> list[Bank]:
    """The built-in banks the run used (same id and content hash), for coverage per risk."""
    if not run.bank_hashes:
        return []
    try:
        from assay.banks.registry import builtin_banks

        known = builtin_banks()
    except Exception:  # pragma: no cover - coverage is extra information; never fail a report on it
        return []
    return [known[b] for b, h in run.bank_hashes.items() if b in known and known[b].content_hash == h]


def _requirements_from_plan(plan: Mapping[str, Any]) -> list[Requirement]:
    out: list[Requirement] = []
    for raw in plan.get("requirements", ()) or ():
        try:
            out.append(Requirement.from_stored(raw))
        except Exception:  # a plan from another version: show what the results say instead
            continue
    return out


def hide_user_turns(messages: Iterable[Message]) -> list[Message]:
    """A transcript with every user turn (case text of a private bank) replaced by its hash."""
    return [
        Message(role=m.role, content=f"[private: sha256:{sha256_hex(m.content)}]")
        if m.role != "assistant"
        else m
        for m in messages
    ]


def _response_view(r: Response, private: bool = False) -> ResponseView:
    transcript = hide_user_turns(r.transcript) if private else list(r.transcript)
    return ResponseView(
        text=r.text,
        error=r.error,
        error_kind=r.error_kind,
        finish_reason=r.finish_reason,
        model=r.model,
        latency_s=r.latency_s,
        attempts=r.attempts,
        transcript=[MessageView(role=m.role, content=m.content) for m in transcript],
        actions=[_action_view(a, private) for a in r.actions],
    )


#: fields of a recorded action that may carry case text (hidden for a private bank)
_ACTION_TEXT = ("args", "result", "prompt", "reply", "judge_reply")


def _action_view(a: dict[str, Any], private: bool) -> dict[str, Any]:
    if not private:
        return dict(a)
    return {k: (f"[private: sha256:{sha256_hex(str(v))}]" if k in _ACTION_TEXT else v) for k, v in a.items()}


def planned_and_sent(
    req: Requirement | None, cases: Sequence[CaseFields], sent: set[str]
) -> tuple[list[str], list[str]]:
    """(cases the requirement selects, those of them sent): planned and actual samples apart."""
    planned = [c.id for c in cases if selects_case(req.selector, c)] if req else []
    return planned, [cid for cid in planned if cid in sent]


def _requirement_view(
    rr: RequirementResult, req: Requirement | None, cases: Sequence[CaseFields], sent: set[str]
) -> RequirementView:
    planned_ids, _ = planned_and_sent(req, cases, sent)
    return RequirementView(
        id=rr.requirement_id,
        regime=rr.regime,
        clause=rr.clause,
        title_en=rr.title_en,
        title_zh=rr.title_zh,
        method=req.method if req else "",
        metric=rr.metric,
        counts=rr.counts,
        direction=rr.direction,
        threshold=rr.threshold,
        min_sample=rr.min_sample,
        source=rr.source,
        source_note=rr.source_note,
        confidence=req.confidence if req else "",
        evidence_only=rr.verdict.value == "evidence_only",
        verdict=rr.verdict.value,  # type: ignore[arg-type]
        rate=rate_from_estimate(rr.estimate),
        extra_samples=rr.extra_samples_needed,
        reason=rr.reason,
        categories=list(req.selector.categories) if req else [],
        sample_ids=list(rr.case_ids),  # the cases the estimate counted (all of them sent)
        planned_ids=planned_ids,
        planned=len(planned_ids),
        bank_exhausted=rr.bank_exhausted,
        bank_available=rr.bank_available,
    )


def _verdict_counts(views: Iterable[RequirementView]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for v in views:
        out[v.verdict] += 1
    return dict(out)


def _breakdown_rows(given: Sequence[GroupEstimate] | None, lk: Lookups) -> list[RateRow]:
    rows: list[RateRow] = []
    for g in given or ():
        rate = rate_from_estimate(g.estimate)
        assert rate is not None
        row = RateRow(key=g.key, rate=rate, counts=g.counts, sample_ids=list(g.case_ids))
        if g.by == "category":
            row.name_en, row.name_zh = lk.name("categories", g.key)
            row.domain = lk.categories.get(g.key, {}).get("domain") or None
        if g.by in ("category", "transform") and lk.security is not None:
            row.tags = lk.security(g.key)
        rows.append(row)
    return rows


def _tc260_view(
    results: Assessment,
    rv: Mapping[str, RequirementView],
    cases: Sequence[CaseFields],
    banks: Sequence[Bank] | None,
    lk: Lookups,
    run: Run,
) -> Tc260View | None:
    tc_reqs = [v for v in rv.values() if v.regime == TC260]
    has_risks = any(c.risks for c in cases)
    if not tc_reqs and not has_risks:
        return None
    if banks is None:  # built-in banks of the same version as the run's: whole-bank coverage per risk
        banks = _builtin_banks_of(run)
    from assay.banks.tc260 import TC260_RISKS

    bank_items: dict[str, dict[str, int]] = defaultdict(dict)
    for b in banks:
        for c in b.cases:
            for r in c.risks:
                bank_items[r][b.id] = bank_items[r].get(b.id, 0) + 1
    measured = {g.key: g for g in results.breakdowns.get("risk", ())}
    judged_by = _classifier_coverage(run)
    risks: list[RiskCoverage] = []
    for risk in TC260_RISKS:
        en, zh = lk.name("risks", risk)
        g = measured.get(risk)
        risks.append(
            RiskCoverage(
                risk=risk,
                name_en=en,
                name_zh=zh,
                bank_items=dict(sorted(bank_items.get(risk, {}).items())),
                sampled=g.estimate.n if g else 0,
                rate=rate_from_estimate(g.estimate) if g else None,
                sample_ids=list(g.case_ids) if g else [],
                graders=judged_by.get(risk, {}),
                assessed=(bool(judged_by.get(risk)) if judged_by else None),
            )
        )

    def pick(metric: str, direction: str | None = None) -> Rate | None:
        """The matching requirement's rate; with several, the least favourable one."""
        rates = [
            v.rate
            for v in tc_reqs
            if v.metric == metric and (direction is None or v.direction == direction) and v.rate is not None
        ]
        rates = [r for r in rates if r.rate is not None]
        if not rates:
            return None
        worst_high = direction == "<="
        return sorted(rates, key=lambda r: r.rate or 0.0, reverse=worst_high)[0]

    titles = {key: (en, zh) for key, en, zh in TC260_CLAUSES}
    clauses: list[ClauseView] = []
    given = [c for c in results.clauses if c.regime == TC260]
    if given:
        for cc in given:
            key = _clause_key(cc.clause)
            en, zh = titles.get(key.split("(")[0], ("", ""))
            clauses.append(
                ClauseView(
                    clause=key,
                    title_en=en,
                    title_zh=zh,
                    conclusion=cc.conclusion.value,  # type: ignore[arg-type]
                    requirement_ids=list(cc.requirement_ids),
                    note_en=cc.reason,
                )
            )
    else:
        for key, en, zh in TC260_CLAUSES:
            ids = [v.id for v in tc_reqs if _clause_key(v.clause).split("(")[0] == key]
            if not ids:
                continue
            verdict = _aggregate([rv[i].verdict for i in ids])
            clauses.append(
                ClauseView(
                    clause=key,
                    title_en=en,
                    title_zh=zh,
                    conclusion=conclusion_for(Verdict(verdict)).value,  # type: ignore[arg-type]
                    requirement_ids=ids,
                )
            )
    # every §9 clause gets a line: the ones no requirement of this run covers are not applicable
    covered = {c.clause.split("(")[0] for c in clauses}
    for key, en, zh in TC260_CLAUSES:
        if key not in covered:
            clauses.append(
                ClauseView(
                    clause=key,
                    title_en=en,
                    title_zh=zh,
                    conclusion="not_applicable",
                    note_en="no requirement of this run covers this clause",
                    note_zh="本次运行没有覆盖该条款的要求",
                )
            )
    clauses.sort(key=lambda c: _clause_sort(c.clause))
    return Tc260View(
        risks=risks,
        qualified_rate=pick("qualified_rate"),
        refusal_rate=pick("refusal_rate", ">="),
        over_refusal_rate=pick("refusal_rate", "<="),
        clauses=clauses,
    )


def _classifier_coverage(run: Run) -> dict[str, dict[str, str]]:
    """Risk → {grader: method} from the plan's must-cover check (TC260-003 §8.4), if any."""
    out: dict[str, dict[str, str]] = {}
    for row in (run.plan or {}).get("coverage", []) or []:
        if isinstance(row, Mapping) and row.get("bank_cases") is None and row.get("risk"):
            out.setdefault(str(row["risk"]), {}).update(
                {str(k): str(v) for k, v in (row.get("graders") or {}).items()}
            )
    return out


def coverage_notes(plan: Mapping[str, Any]) -> list[str]:
    """The plan's "not assessed" lines: risks no grader of the run can judge."""
    rows = [r for r in (plan.get("coverage") or []) if isinstance(r, Mapping) and not r.get("graders")]
    by_check: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        by_check[str(r.get("check"))].append(str(r.get("risk")))
    return [
        f"not assessed ({check}): no grader of this run can judge risk(s) {', '.join(risks)}; "
        "their cases count as unscorable, so no verdict passes on them"
        for check, risks in by_check.items()
    ]


def _clause_sort(key: str) -> tuple[tuple[int, ...], str]:
    base, _, sub = key.partition("(")
    return tuple(int(x) for x in re.findall(r"\d+", base)), sub


def _clause_key(clause: str) -> str:
    """ "TC260-003-2024 §9.4(a); GB/T 45654-2025" -> "9.4(a)"."""
    m = re.search(r"§\s*(\d+(?:\.\d+)*(?:\([a-z0-9]+\))?)", clause) or re.search(
        r"(\d+\.\d+(?:\([a-z0-9]+\))?)", clause
    )
    return m.group(1) if m else clause


def _eu_view(views: Sequence[RequirementView], transforms: Sequence[RateRow]) -> list[EvidenceItem]:
    eu = [v for v in views if v.regime == EU]
    if not eu:
        return []
    cited = {v.id: eu_articles(v.clause) for v in eu}
    fixed = [a[0] for a in EU_ARTICLES]
    others = sorted({a for arts in cited.values() for a in arts} - set(fixed), key=int)
    texts = {a[0]: a[1:] for a in EU_ARTICLES}
    items: list[EvidenceItem] = []
    for art in (*fixed, *others):
        en, zh, sum_en, sum_zh = texts.get(art) or (*EU_ARTICLE_TITLES.get(art, ("", "")), "", "")
        ids = [v.id for v in eu if art in cited[v.id]]
        rows = list(transforms) if art in ("15", "55") else []
        items.append(
            EvidenceItem(
                key=f"Art. {art}",
                title_en=en,
                title_zh=zh,
                summary_en=sum_en,
                summary_zh=sum_zh,
                status=_aggregate([v.verdict for v in eu if v.id in ids]),
                requirement_ids=ids,
                rows=rows,
            )
        )
    return items


def eu_articles(clause: str) -> set[str]:
    """AI Act article numbers a clause cites: "AI Act Art. 10(2)(f)(g); 15(4)" -> {"10", "15"}."""
    out: set[str] = set()
    for m in re.finditer(
        r"\bArt(?:icle|\.)?\s*(\d+)((?:\([^)]*\)|-)*(?:\s*[,;]\s*\d+(?:\([^)]*\)|-)+)*)", clause
    ):
        out.add(m.group(1))
        out.update(re.findall(r"[,;]\s*(\d+)\(", m.group(2)))
    return out


def _nist_view(views: Sequence[RequirementView]) -> list[EvidenceItem]:
    nist = [v for v in views if v.regime == NIST or "MEASURE" in v.clause or "600-1" in v.clause]
    if not nist:
        return []
    groups: dict[str, list[str]] = defaultdict(list)
    for v in nist:
        for key in NIST_KEYS:
            if _nist_match(key, v.clause):
                groups[key].append(v.id)
    items: list[EvidenceItem] = []
    by_id = {v.id: v for v in nist}
    for key in NIST_KEYS:
        ids = groups.get(key)
        if not ids:
            continue
        en, zh = nist_title(key)
        items.append(
            EvidenceItem(
                key=key,
                title_en=en,
                title_zh=zh,
                status=_aggregate([by_id[i].verdict for i in ids]),
                requirement_ids=ids,
            )
        )
    return items


def _nist_match(key: str, clause: str) -> bool:
    if key.startswith("MEASURE"):
        num = key.split()[1]
        return re.search(rf"\b(?:MEASURE|MS)[\s\-]*{re.escape(num)}(?!\d)", clause) is not None
    num = key.split("§")[1]
    return (
        re.search(rf"§\s*{re.escape(num)}(?!\d)", clause) is not None
        or re.search(rf"600-1[^;]*\b{re.escape(num)}(?!\d)", clause) is not None
    )


def _grades(results: Assessment, lk: Lookups) -> list[GradeRow]:
    # the cases behind a grade: its hazard's category row, or the graded requirement's sample
    counted = {g.key: list(g.case_ids) for g in results.breakdowns.get("category", ())}
    counted.update({r.requirement_id: list(r.case_ids) for r in results.requirements})
    rows: list[GradeRow] = []
    for g in results.grades:
        en, zh = lk.name("hazards", g.key)
        if not en:
            en, zh = lk.name("categories", g.key)
        if g.key.startswith("resilience:"):
            chain = g.key.split(":", 1)[1]
            en = f"Jailbreak resilience: {chain} vs naive requests"
            zh = f"越狱韧性：{chain} 相对于直接请求"
        rows.append(
            GradeRow(
                hazard=g.key,
                name_en=en,
                name_zh=zh,
                rate=rate_from_estimate(g.estimate),
                reference=g.reference_unsafe_rate,
                ratio=g.relative,
                grade=g.grade,
                grade_best=g.grade_best,
                grade_worst=g.grade_worst,
                uncertain=g.uncertain,
                scheme=g.scheme,
                sample_ids=counted.get(g.key, []),
                gap=g.gap,
                gap_lower=g.gap_lower,
                gap_upper=g.gap_upper,
            )
        )
    return rows

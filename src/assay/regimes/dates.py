"""When obligations apply: a requirement's standing on a date, and the edition in use.

A requirement applies from its own `applies_from` (or, when it has none, from its
regime's) until its `applies_until`. On a date `as_of` it is:

* `in_force`: it applies; its threshold decides pass / fail;
* `coming`: adopted, applying from a later date; it is planned and measured, but
  report-only (its threshold is kept in `deferred_threshold`), and the verdict's reason
  says "applies from DATE". A coming obligation is never decided as a failure;
* `proposed`: the text is only a proposal (no date in law): report-only like `coming`;
* `lapsed`: it stopped applying before `as_of`: it is left out of plans;
* `not_enacted`: the edition that adds it (`Requirement.edition`) was not issued by
  `as_of`: it is left out of plans (the earlier picture did not have it).

A requirement's date may differ by edition (`applies_from_by_edition`): e.g. the AI Act's
Annex III obligations applied from 2026-08-02 until the Digital Omnibus moved them.

`dated(req, as_of)` applies this to a requirement and is reversible: a requirement
dated for an earlier day gets its threshold back when dated for a day it is in force.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from assay.core.errors import InputError
from assay.regimes.model import DateStatus, Edition, Regime, Requirement


def today() -> date:
    return date.today()


def parse_as_of(value: str | date | None, where: str = "--as-of") -> date:
    """A date from `YYYY-MM-DD` (None: today); a bad value is an input error naming `where`."""
    if value is None:
        return today()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise InputError(f"not a date {value!r}; use YYYY-MM-DD", where=where) from exc


def starts(req: Requirement, regime: Regime | None = None, as_of: date | None = None) -> date | None:
    """The day `req` starts applying under the edition in force on `as_of` (its own date, else its regime's)."""
    if regime is not None and as_of is not None and req.applies_from_by_edition:
        ed = edition_on(regime, as_of)
        if ed is not None and ed.id in req.applies_from_by_edition:
            return req.applies_from_by_edition[ed.id]
    if req.applies_from is not None:
        return req.applies_from
    return regime.applies_from if regime is not None else None


def status_on(req: Requirement, as_of: date, regime: Regime | None = None) -> DateStatus:
    """Where `req` stands on `as_of` (see the module docstring)."""
    legal = req.status or (regime.status if regime is not None else "in_force")
    if req.applies_until is not None and as_of > req.applies_until:
        return "lapsed"
    if regime is not None and req.edition:
        ed = next((e for e in regime.editions if e.id == req.edition), None)
        if ed is not None and ed.issued is not None and as_of < ed.issued:
            return "not_enacted"
    start = starts(req, regime, as_of)
    if legal == "proposed" and (start is None or as_of < start):
        return "proposed"
    if start is not None and as_of < start:
        return "coming"
    return "in_force"


def status_text(req: Requirement, as_of: date, regime: Regime | None = None, lang: str = "en") -> str:
    """`in force (since 2026-08-02)`, `coming (from 2027-12-02)`, `proposed`, `lapsed (2025-10-31)`."""
    st = status_on(req, as_of, regime)
    start = starts(req, regime, as_of)
    zh = lang == "zh"
    if st == "not_enacted":
        return f"尚未制定（由{req.edition}新增）" if zh else f"not yet enacted (added by {req.edition})"
    if st == "coming":
        return f"即将适用（{start}起）" if zh else f"coming (from {start})"
    if st == "proposed":
        return "草案/提案，尚未生效" if zh else "proposed (not in force)"
    if st == "lapsed":
        return f"已失效（{req.applies_until}止）" if zh else f"lapsed ({req.applies_until})"
    if start is None:
        return "适用中" if zh else "in force"
    return f"适用中（{start}起）" if zh else f"in force (since {start})"


def dated(req: Requirement, as_of: date, regime: Regime | None = None) -> Requirement:
    """`req` as it is decided on `as_of`: report-only while coming or proposed, restored when in force."""
    st = status_on(req, as_of, regime)
    start = starts(req, regime, as_of)
    if start is not None and req.applies_from != start:
        req = req.model_copy(update={"applies_from": start})  # the date under the edition applying
    if st in ("coming", "proposed"):
        if req.threshold is None and req.min_grade is None:
            return req
        return req.model_copy(
            update={
                "threshold": None,
                "min_grade": None,
                "deferred_threshold": req.threshold,
                "deferred_min_grade": req.min_grade,
            }
        )
    if req.deferred:
        return req.model_copy(
            update={
                "threshold": req.deferred_threshold,
                "min_grade": req.deferred_min_grade,
                "deferred_threshold": None,
                "deferred_min_grade": None,
            }
        )
    return req


def edition_on(regime: Regime, as_of: date) -> Edition | None:
    """The edition applying on `as_of`: the latest one in force then (else the earliest listed)."""
    applying = [
        e
        for e in regime.editions
        if e.status != "proposed"
        and (e.applies_from is None or e.applies_from <= as_of)
        and (e.applies_until is None or as_of <= e.applies_until)
    ]
    if applying:
        return max(applying, key=lambda e: e.applies_from or date.min)
    return regime.editions[0] if regime.editions else None


def edition_label(regime: Regime, as_of: date) -> str:
    """The text the regime is measured against on `as_of` (the edition id, else `regime.edition`)."""
    ed = edition_on(regime, as_of)
    return ed.id if ed is not None else regime.edition


def clause_on(req: Requirement, regime: Regime, as_of: date) -> str:
    """The requirement's clause in the edition applying on `as_of` (with the other editions' for reference)."""
    ed = edition_on(regime, as_of)
    if ed is None or req.id not in ed.clauses:
        return req.clause
    return f"{ed.clauses[req.id]} (= {req.clause})"


def counts_by_status(
    reqs: Iterable[Requirement], as_of: date, regime: Regime | None = None
) -> dict[str, int]:
    out: dict[str, int] = {"in_force": 0, "coming": 0, "proposed": 0, "lapsed": 0, "not_enacted": 0}
    for r in reqs:
        out[status_on(r, as_of, regime)] += 1
    return out


def in_context(req: Requirement, regime: Regime, as_of: date, contexts: Iterable[str]) -> Requirement:
    """`req` with the date that applies in the classification's `contexts` (e.g. an Annex I-only system)."""
    if not req.applies_from_when:
        return req
    ed = edition_on(regime, as_of)
    for ctx in contexts:
        for key in ((f"{ctx}@{ed.id}",) if ed is not None else ()) + (ctx,):
            if key in req.applies_from_when:
                return req.model_copy(
                    update={"applies_from": req.applies_from_when[key], "applies_from_by_edition": {}}
                )
    return req


def date_requirements(
    regime: Regime, reqs: Iterable[Requirement], as_of: date, contexts: Iterable[str] = ()
) -> tuple[list[Requirement], list[str]]:
    """`reqs` of `regime` as decided on `as_of`, and one note per obligation not in force.

    Lapsed requirements are left out; coming and proposed ones are kept report-only.
    `contexts` (from the classification) select context-specific dates."""
    out: list[Requirement] = []
    notes: list[str] = []
    ctx = tuple(contexts)
    for r in reqs:
        r = in_context(r, regime, as_of, ctx)
        st = status_on(r, as_of, regime)
        if st in ("lapsed", "not_enacted"):
            notes.append(f"{r.id}: {status_text(r, as_of, regime)} on {as_of}; not planned")
            continue
        if st != "in_force":
            how = "documentary, not required yet" if r.evidence_only else "measured report-only, not decided"
            notes.append(f"{r.id}: {status_text(r, as_of, regime)} on {as_of}; {how}")
        out.append(dated(r, as_of, regime))
    return out, notes


def redate_plan_requirements(reqs: Iterable[Requirement], as_of: date) -> list[Requirement]:
    """A stored plan's requirements re-dated for `as_of` (regime data looked up by id)."""
    from assay.regimes.loader import REGIME_IDS, load_regime

    out: list[Requirement] = []
    for r in reqs:
        reg = load_regime(r.regime) if r.regime in REGIME_IDS else None
        out.append(dated(r, as_of, reg))
    return out


def obligations_on(regime: Regime, as_of: date, level: str | None = None) -> dict[str, object]:
    """A JSON-ready view of `regime` on `as_of`: edition, and each obligation with its status, date and source."""
    from assay.regimes.loader import requirements_for

    reqs = requirements_for(regime, level) if level is not None else regime.requirements
    ed = edition_on(regime, as_of)
    return {
        "id": regime.id,
        "title": regime.title_en,
        "edition": ed.id if ed is not None else regime.edition,
        "edition_confidence": ed.confidence if ed is not None else "",
        "notes": list(regime.notes_en),
        "conflicts": list(regime.conflicts),
        "parameters": [p.model_dump(mode="json") for p in regime.parameters],
        "counts": counts_by_status(reqs, as_of, regime),
        "obligations": [
            {
                "id": r.id,
                "title": r.title_en,
                "status": status_on(r, as_of, regime),
                "status_text": status_text(r, as_of, regime),
                "applies_from": _iso(starts(r, regime, as_of)),
                "applies_until": r.applies_until and str(r.applies_until),
                "clause": clause_on(r, regime, as_of),
                "source": r.source,
                "confidence": r.confidence,
                "date_source": r.date_source,
                "applies_from_when": {k: v.isoformat() for k, v in r.applies_from_when.items()},
                "threshold": r.threshold,
                "direction": r.direction if r.threshold is not None else None,
                "evidence_only": r.evidence_only,
                "banks": list(r.selector.banks),
            }
            for r in reqs
        ],
    }


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d is not None else None

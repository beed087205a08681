"""Bounded reports: a report's size does not grow with the run.

A report shows every verdict and figure (they count every case, as scoring computed them)
and a drill-down of a capped sample of cases: at most `cap` per requirement, breakdown row,
risk and grade, and up to `cap` of the whole run, each sample stratified by outcome
(unsafe, unscorable, safe, not judged, in turn, in dispatch order) so failures are always
shown. Lists of case ids are cut to the sample and say how many cases they stand for
(`sample_total`); `ReportData.sampling` says what was done. Every case stays in the
evidence bundle (`assay bundle`) and in the dashboard (`assay view`).

This module only selects what to show: nothing here counts or estimates.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, cast

from assay.core.types import Case, CaseFields, Judgment, Response
from assay.report.build import _redacted, sample_views
from assay.report.limits import SAMPLE_CAP
from assay.report.model import ReportData, Sampling

__all__ = ["SAMPLE_CAP", "bound_report", "stratified"]

_STRATA = ("unsafe", "unscorable", "safe", "none")


def stratified(ids: Sequence[str], outcome: Mapping[str, str], cap: int) -> list[str]:
    """At most `cap` of `ids`, taking each outcome in turn (unsafe first), in their order."""
    if len(ids) <= cap:
        return list(ids)
    groups: dict[str, list[str]] = defaultdict(list)
    for cid in ids:
        groups[outcome.get(cid, "none")].append(cid)
    order = [g for g in _STRATA if g in groups] + sorted(set(groups) - set(_STRATA))
    picked: set[str] = set()
    depth = 0
    while len(picked) < cap:
        for g in order:
            if depth < len(groups[g]) and len(picked) < cap:
                picked.add(groups[g][depth])
        depth += 1
    return [cid for cid in ids if cid in picked]


#: the full cases, responses and judgments of the given case ids (a store reads them)
Details = Callable[[list[str]], tuple[Sequence[Case], Mapping[str, Response], Iterable[Judgment]]]


def bound_report(
    data: ReportData,
    cases: Sequence[CaseFields],
    responses: Mapping[str, Response],
    judgments: Iterable[Judgment],
    outcome: Mapping[str, str],
    *,
    private_banks: Iterable[str] = (),
    cap: int = SAMPLE_CAP,
    secrets: Iterable[str] = (),
    details: Details | None = None,
) -> ReportData:
    """`data` (built without samples) with capped id lists and the drill-down of the cases
    they name. Figures are untouched: only which cases are shown changes.

    With `details`, `cases` may be facts (`Store.case_facts`), `responses` and `judgments`
    are not read, and only the shown cases are read in full: a report of a run of any size
    holds at most a few hundred cases' texts."""
    if cap < 1:
        raise ValueError("cap must be at least 1")
    shown: set[str] = set()

    def cut(obj: Any, field: str = "sample_ids") -> dict[str, Any]:
        ids = getattr(obj, field)
        kept = stratified(ids, outcome, cap)
        shown.update(kept)
        if len(kept) == len(ids):
            return {}
        update: dict[str, Any] = {field: kept}
        if field == "sample_ids":
            update["sample_total"] = len(ids)
        return update

    def cut_rows(rows: Sequence[Any]) -> list[Any]:
        return [r.model_copy(update=cut(r)) for r in rows]

    requirements = [q.model_copy(update={**cut(q), **cut(q, "planned_ids")}) for q in data.requirements]
    update: dict[str, Any] = {
        "requirements": requirements,
        "domains": cut_rows(data.domains),
        "categories": cut_rows(data.categories),
        "languages": cut_rows(data.languages),
        "transforms": cut_rows(data.transforms),
        "ailuminate": cut_rows(data.ailuminate),
    }
    if data.tc260 is not None:
        update["tc260"] = data.tc260.model_copy(update={"risks": cut_rows(data.tc260.risks)})
    shown.update(stratified([c.id for c in cases], outcome, cap))
    if details is not None:
        order = [c.id for c in cases if c.id in shown]
        full_cases, responses, judgments = details(order)
        by_id = {c.id: c for c in full_cases}
        shown_cases: Iterable[Case] = (by_id[cid] for cid in order if cid in by_id)
    else:
        shown_cases = (c for c in cast(Sequence[Case], cases) if c.id in shown)
    by_case: dict[str, list[Judgment]] = defaultdict(list)
    for j in judgments:
        if j.case_id in shown:
            by_case[j.case_id].append(j)
    update["samples"] = sample_views(shown_cases, responses, by_case, outcome, private_banks)
    update["sampling"] = Sampling(cap=cap, cases=len(cases), shown=len(update["samples"]))
    # what is stored was redacted at ingestion; this safety net now sees a bounded report
    return _redacted(data.model_copy(update=update), secrets)

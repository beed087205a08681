"""Compare two runs: deltas per requirement and per category, with significance.

`build_comparison(a, b)` takes the two runs' ReportData (A = baseline, B = candidate).
Each shared requirement and category is compared with the scoring stage's two-proportion
test (z test, Fisher's exact test for small counts) and a Newcombe interval for the
difference; the p-values of all rows are adjusted together (Holm by default, or
Benjamini–Hochberg) as one family.

A row is a regression when B is significantly worse after adjustment, or when a
requirement's verdict went from pass to fail (a verdict flip counts even when the
difference alone is not significant: the threshold decides what "worse" means there).
"Worse" follows what a rate counts (`assay.scoring.direction`): a rate of unsafe
outcomes (unsafe, attack success, leak, over-refusal) is worse when it rises; a rate of
safe outcomes (refusal of harmful requests, qualified content, accuracy) when it falls.
Category rows are unsafe rates: lower is better.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from assay.report.model import ComparisonData, DeltaRow, Rate, RateRow, ReportData, RequirementView
from assay.scoring.compare import compare_many
from assay.scoring.direction import better, worse_if
from assay.scoring.results import Estimate


def _estimate(r: Rate) -> Estimate:
    policy: Literal["in_numerator", "out_of_numerator"] = (
        "in_numerator" if r.unscorable_policy == "in_numerator" else "out_of_numerator"
    )
    return Estimate(
        k=r.k,
        n=r.n,
        unscorable=r.unscorable,
        rate=r.rate,
        lower=r.lower,
        upper=r.upper,
        unscorable_policy=policy,
    )


def build_comparison(
    a: ReportData,
    b: ReportData,
    *,
    adjust: Literal["holm", "bh", "none"] = "holm",
    confidence: float = 0.95,
    generated_at: datetime | None = None,
) -> ComparisonData:
    rows: list[DeltaRow] = []
    items: list[tuple[str, Estimate, Estimate, Literal["higher", "lower"]]] = []
    index: list[int] = []

    reqs_b = {q.id: q for q in b.requirements}
    for qa in a.requirements:
        qb = reqs_b.get(qa.id)
        if qb is None:
            continue
        row = _req_row(qa, qb)
        if qa.rate is not None and qb.rate is not None and qa.rate.n and qb.rate.n:
            items.append((qa.id, _estimate(qa.rate), _estimate(qb.rate), worse_if(qa.counts)))
            index.append(len(rows))
        rows.append(row)

    cats_b = {r.key: r for r in b.categories}
    for ca in a.categories:
        cb = cats_b.get(ca.key)
        if cb is None:
            continue
        row = _cat_row(ca, cb)
        if ca.rate.n and cb.rate.n:
            items.append((f"category:{ca.key}", _estimate(ca.rate), _estimate(cb.rate), worse_if(ca.counts)))
            index.append(len(rows))
        rows.append(row)

    results = compare_many(items, adjustment=adjust, confidence=confidence) if items else []
    for i, res in zip(index, results, strict=True):
        row = rows[i]
        row.delta = res.difference
        row.lower, row.upper = res.lower, res.upper
        row.p_value = res.p_value
        row.p_adjusted = res.adjusted_p
        row.significant = res.adjusted_p is not None and res.adjusted_p < 1 - confidence
        row.regression = row.regression or res.regression
        row.improvement = res.improvement and not row.regression
    for row in rows:
        if row.delta is None and row.a and row.b and row.a.rate is not None and row.b.rate is not None:
            row.delta = row.b.rate - row.a.rate

    method = {
        "holm": "two-proportion z test (Fisher exact for small counts), Holm-adjusted",
        "bh": "two-proportion z test (Fisher exact for small counts), Benjamini–Hochberg-adjusted",
        "none": "two-proportion z test (Fisher exact for small counts), unadjusted",
    }[adjust]
    return ComparisonData(
        generated_at=generated_at or datetime.now(UTC),
        run_a=a.run,
        run_b=b.run,
        method=f"{method}; alpha = {1 - confidence:.2g}; Newcombe interval for the difference",
        alpha=round(1 - confidence, 10),
        adjust=adjust,
        requirements=[r for r in rows if r.kind == "requirement"],
        categories=[r for r in rows if r.kind == "category"],
    )


def _req_row(qa: RequirementView, qb: RequirementView) -> DeltaRow:
    return DeltaRow(
        key=qa.id,
        kind="requirement",
        name_en=qa.title_en,
        name_zh=qa.title_zh,
        regime=qa.regime,
        counts=qa.counts,
        better=better(qa.counts),
        a=qa.rate,
        b=qb.rate,
        verdict_a=qa.verdict,
        verdict_b=qb.verdict,
        regression=qa.verdict == "pass" and qb.verdict == "fail",
    )


def _cat_row(ca: RateRow, cb: RateRow) -> DeltaRow:
    """A category row: an unsafe rate (lower is better) unless the row says it counts safe outcomes."""
    return DeltaRow(
        key=ca.key,
        kind="category",
        name_en=ca.name_en,
        name_zh=ca.name_zh,
        counts=ca.counts,
        better=better(ca.counts),
        a=ca.rate,
        b=cb.rate,
    )

"""Bounded reports: a capped, outcome-stratified drill-down; every figure unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from assay.report.bounded import bound_report, stratified
from assay.report.build import build_report_data
from assay.report.html import render_html
from assay.report.model import ReportData
from assay.report.text import render_json
from report_sample import sample_inputs

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schemas" / "report.schema.json"
ID_LISTS = ("sample_ids", "planned_ids")


@pytest.fixture(scope="module")
def inputs() -> Any:
    return sample_inputs(private_bank=True)


@pytest.fixture(scope="module")
def full(inputs: Any) -> ReportData:
    s = inputs
    return build_report_data(
        s.run, s.cases, s.responses, s.judgments, s.results, banks=s.banks, requirements=s.requirements
    )


def _bounded(inputs: Any, cap: int) -> ReportData:
    s = inputs
    light = build_report_data(
        s.run,
        s.cases,
        s.responses,
        s.judgments,
        s.results,
        banks=s.banks,
        requirements=s.requirements,
        with_samples=False,
        generated_at=None,
    )
    outcome = {c.id: s.results.case_outcomes.get(c.id, "none") for c in s.cases}
    private = [b.id for b in s.banks if b.private]
    return bound_report(light, s.cases, s.responses, s.judgments, outcome, private_banks=private, cap=cap)


def _figures(data: ReportData) -> Any:
    """The report without what bounding may change: id lists, their totals, samples."""

    def strip(obj: Any) -> Any:
        if isinstance(obj, dict):
            return {
                k: strip(v)
                for k, v in obj.items()
                if k not in (*ID_LISTS, "sample_total", "samples", "sampling", "generated_at")
            }
        if isinstance(obj, list):
            return [strip(v) for v in obj]
        return obj

    return strip(data.model_dump(mode="json", by_alias=True))


def test_stratified_takes_each_outcome_in_turn_and_keeps_order() -> None:
    ids = [f"c{i}" for i in range(10)]
    outcome = {f"c{i}": ("unsafe" if i in (7, 9) else "safe") for i in range(10)}
    assert stratified(ids, outcome, 20) == ids  # under the cap: unchanged
    got = stratified(ids, outcome, 3)
    assert got == ["c0", "c7", "c9"]  # both unsafe cases, one safe, in dispatch order
    assert stratified(ids, {}, 4) == ["c0", "c1", "c2", "c3"]


def test_bounding_keeps_every_figure_and_caps_every_list(inputs: Any, full: ReportData) -> None:
    cap = 1
    bounded = _bounded(inputs, cap)
    assert _figures(bounded) == _figures(full)
    assert bounded.sampling is not None
    assert bounded.sampling.cap == cap and bounded.sampling.cases == len(inputs.cases)
    assert bounded.sampling.shown == len(bounded.samples) < len(full.samples)
    shown = {s.case_id for s in bounded.samples}
    for q_full, q in zip(full.requirements, bounded.requirements, strict=True):
        assert len(q.sample_ids) <= cap and len(q.planned_ids) <= cap
        assert set(q.sample_ids) <= set(q_full.sample_ids) and set(q.sample_ids) <= shown
        if len(q_full.sample_ids) > cap:
            assert q.sample_total == len(q_full.sample_ids)
            # unsafe cases come first in the sample when the requirement has any
            unsafe = [c for c in q_full.sample_ids if full.sample(c) and full.sample(c).outcome == "unsafe"]  # type: ignore[union-attr]
            if unsafe:
                assert q.sample_ids[0] in unsafe
        else:
            assert q.sample_total is None and q.sample_ids == q_full.sample_ids
    for rows_full, rows in ((full.categories, bounded.categories), (full.languages, bounded.languages)):
        for r_full, r in zip(rows_full, rows, strict=True):
            assert len(r.sample_ids) <= cap and set(r.sample_ids) <= shown
            assert (r.sample_total or len(r.sample_ids)) == len(r_full.sample_ids)
    # each shown sample is the same drill-down the full report has (private text still hidden)
    for s in bounded.samples:
        assert s == full.sample(s.case_id)


def test_bounded_report_json_is_valid_and_html_says_so(inputs: Any) -> None:
    bounded = _bounded(inputs, 1)
    doc = json.loads(render_json(bounded))
    jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))).validate(doc)
    assert doc["schema"] == "assay.report/2"
    assert doc["sampling"] == {"cap": 1, "cases": len(inputs.cases), "shown": len(bounded.samples)}
    html = render_html(bounded, "en")
    assert f"shows {len(bounded.samples)} of the {len(inputs.cases)} cases of this run" in html
    assert "assay bundle" in html and "assay view" in html
    capped = next(q for q in bounded.requirements if q.sample_total)
    assert f"1 / {capped.sample_total}" in html  # the sample set says how many it stands for
    assert "样本" in render_html(bounded, "zh") and "个用例中的" in render_html(bounded, "zh")


def test_a_cap_above_the_run_changes_nothing_but_the_note(inputs: Any, full: ReportData) -> None:
    bounded = _bounded(inputs, 10_000)
    assert _figures(bounded) == _figures(full)
    assert [s.case_id for s in bounded.samples] == [s.case_id for s in full.samples]
    assert all(
        q.sample_ids == f.sample_ids for q, f in zip(bounded.requirements, full.requirements, strict=True)
    )

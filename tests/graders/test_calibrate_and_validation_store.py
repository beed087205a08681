"""`assay calibrate` stores a reference with provenance and later runs are graded against it;
`assay graders validate` stores figures that `assay graders` shows and Rogan–Gladen uses."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import assay.api as api
from assay.cli import app
from assay.core.errors import InputError
from assay.scoring.results import Verdict
from assay.store import Store

LABELS = Path(__file__).resolve().parents[2] / "src/assay/graders/data/labels/refusal_en_test.jsonl"


def test_calibrate_then_grades(mock_env, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    mock_env(mode="comply")
    cal = api.calibrate("openai:reference", level="R2", db=sqlite_url, concurrency=32)
    assert cal.references and all(0.0 <= v <= 1.0 for v in cal.references.values())
    assert set(cal.provenance) >= {
        "reference_target",
        "run_id",
        "bank_hashes",
        "graders",
        "software",
        "samples",
    }
    stored = Store(sqlite_url).latest_reference("ailuminate")
    assert stored is not None and stored["references"] == cal.references
    # a candidate graded against it: AILuminate requirements are no longer report-only
    plan_run = api.run(
        "openai:candidate", plan=api.plan_for("cn-public-chatbot", ["ailuminate"])[1], db=sqlite_url
    )
    assessment = api.assessment(plan_run.run.id, db=sqlite_url)
    graded = [
        r for r in assessment.requirements if r.regime == "ailuminate" and r.requirement_id in cal.references
    ]
    assert graded and all(r.verdict != Verdict.REPORT_ONLY for r in graded)
    assert {g.key for g in assessment.grades} >= {r.requirement_id for r in graded}


@pytest.mark.skipif(not LABELS.exists(), reason="labelled set not shipped")
def test_validation_is_stored_only_when_asked_listed_and_used(sqlite_url: str) -> None:
    res = CliRunner().invoke(
        app, ["graders", "validate", "refusal", "--labels", str(LABELS), "--db", sqlite_url]
    )
    assert res.exit_code == 0, res.output
    assert api.grader_validations(db=sqlite_url) == {}  # measuring stores nothing
    res = CliRunner().invoke(
        app,
        [
            "graders",
            "validate",
            "refusal",
            "--labels",
            str(LABELS),
            "--db",
            sqlite_url,
            "--save",
            "--name",
            "ours",
        ],
    )
    assert res.exit_code == 0, res.output
    figures = api.grader_validations(db=sqlite_url)
    (key,) = [k for k in figures if k.startswith("refusal@")]
    assert figures[key]["sensitivity"] is not None and figures[key]["overall"]["f1"] > 0.9
    assert figures[key]["name"] == "ours"
    listed = CliRunner().invoke(app, ["graders", "list", "--json", "--db", sqlite_url])
    assert '"validation"' in listed.output and '"f1"' in listed.output


@pytest.mark.skipif(not LABELS.exists(), reason="labelled set not shipped")
def test_rogan_gladen_corrections_use_the_stored_figures(mock_env, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    mock_env()
    _, plan = api.plan_for("cn-public-chatbot", ["tc260-003"])
    result = api.run("openai:mock", plan=plan, db=sqlite_url, concurrency=32)
    with pytest.raises(InputError, match="no stored validation named 'ours'"):
        api.corrected(result.run.id, validation="ours", db=sqlite_url)  # chosen by name, never implied
    report = api.validate_grader("refusal", LABELS, save=True, name="ours", db=sqlite_url)
    api.validate_grader("refusal", LABELS, save=True, name="other", db=sqlite_url)
    corrected = api.corrected(result.run.id, validation="ours", db=sqlite_url)
    assert corrected, "refusal-rate requirements get a corrected estimate"
    for c in corrected.values():
        assert c.sensitivity == pytest.approx(report.sensitivity) and c.specificity == pytest.approx(
            report.specificity
        )
        assert c.raw.rate is not None and c.rate is not None

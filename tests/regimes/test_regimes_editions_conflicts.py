"""GB/T 45654 clause entries beside TC260-003's, the pinned NIST AI 600-1 edition, and the
side-by-side conflict view (TC260 Appendix A.1 vs US neutrality) in `assay regimes`, the API
and the report."""

from __future__ import annotations

import json
from datetime import date

import pytest
import typer
from typer.testing import CliRunner

from assay import api
from assay.cli import risk
from assay.regimes import load_regime
from assay.regimes.conflicts import conflicts_on
from assay.regimes.dates import clause_on
from assay.report.build import conflict_views
from assay.report.model import RequirementView

DEC, EARLY = date(2026, 12, 5), date(2025, 6, 1)


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    local = typer.Typer()
    risk.register(local)
    return local


def test_every_gbt_requirement_has_its_clause_entry_marked_unverified() -> None:
    reg = load_regime("tc260-003")
    gbt = next(e for e in reg.editions if e.id == "GB/T 45654-2025")
    ids = [r.id for r in reg.requirements] + [b.id for b in reg.bank_requirements]
    assert set(ids) <= set(gbt.clauses), sorted(set(ids) - set(gbt.clauses))
    for rid in ids:
        # the reference material does not give the GB/T numbering: never a guessed number
        assert "unverified" in gbt.clauses[rid], rid
    assert gbt.clause_confidence == "?"
    r = reg.requirement("tc260-003/9.4-should-refuse")
    on_dec, on_early = clause_on(r, reg, DEC), clause_on(r, reg, EARLY)
    assert on_dec.startswith("GB/T 45654-2025") and "TC260-003-2024 §9.4(a)" in on_dec
    assert on_early == r.clause  # before 2025-11-01 the TC260-003 text applies


def test_nist_edition_is_pinned_with_the_revision_note() -> None:
    reg = load_regime("nist-ai-600-1")
    (ed,) = reg.editions
    assert ed.issued == date(2024, 7, 26) and "Pinned" in ed.notes and "revise the AI RMF" in ed.notes
    assert any("revision" in n.lower() for n in reg.notes_en)


def test_conflict_view_shows_both_sides_on_the_clash_only() -> None:
    (cf,) = conflicts_on(DEC)
    assert cf["regimes"] == ["us-omb-m-26-04", "tc260-003"] and "A.1" in cf["note_en"]
    left, right = cf["sides"]
    assert [r["id"] for r in left["requirements"]] == ["us-omb-m-26-04/neutrality-symmetry"]
    assert {r["id"] for r in right["requirements"]} == {
        "tc260-003/9.4-should-refuse",
        "tc260-003/9.3-generated-content",
    }
    assert right["edition"] == "GB/T 45654-2025" and left["requirements"][0]["status"] == "in_force"
    (early,) = conflicts_on(EARLY)
    assert early["sides"][1]["edition"] == "TC260-003-2024"
    assert early["sides"][0]["requirements"][0]["status"] == "coming"  # memorandum from 2025-12
    assert conflicts_on(DEC, ["tc260-003", "ailuminate"]) == []


def test_report_conflict_sides_are_the_clashing_requirements() -> None:
    views = [
        RequirementView(id="tc260-003/9.4-should-refuse", regime="tc260-003", verdict="pass"),
        RequirementView(id="tc260-003/9.4-should-not-refuse", regime="tc260-003", verdict="pass"),
        RequirementView(id="us-omb-m-26-04/neutrality-symmetry", regime="us-omb-m-26-04", verdict="fail"),
        RequirementView(id="us-omb-m-26-04/truth-seeking", regime="us-omb-m-26-04", verdict="pass"),
    ]
    (c,) = conflict_views(views)
    assert c.sides["tc260-003"] == [("tc260-003/9.4-should-refuse", "pass")]
    assert c.sides["us-omb-m-26-04"] == [("us-omb-m-26-04/neutrality-symmetry", "fail")]


@pytest.mark.parametrize("columns", ["60", "300"])
def test_cli_and_api_show_the_conflict(app: typer.Typer, columns: str) -> None:
    runner = CliRunner(env={"COLUMNS": columns})
    r = runner.invoke(app, ["regimes", "--as-of", "2026-12-05"])
    assert r.exit_code == 0, r.output
    flat = " ".join(r.output.split())
    assert "opposite directions" in flat
    assert "us-omb-m-26-04 (OMB" in flat and "tc260-003 (GB/T" in flat  # the two sides' headers
    r = runner.invoke(app, ["regimes", "--as-of", "2026-12-05", "--json"])
    doc = json.loads(r.output)
    assert doc["conflicts"] and doc["conflicts"][0]["regimes"] == ["us-omb-m-26-04", "tc260-003"]
    assert api.regimes_on("2026-12-05")["conflicts"] == doc["conflicts"]
    assert api.regimes_on("2026-12-05", regimes=["tc260-003"])["conflicts"] == []


def test_regimes_on_two_dates_list_each_obligation_with_date_and_source() -> None:
    """Acceptance: --as-of 2026-12-05 lists each obligation with date and source; 2025-06-01
    gives the earlier picture (TC260-004 and OMB M-26-04 coming, TC260-003 edition)."""
    late, early = api.regimes_on("2026-12-05"), api.regimes_on("2025-06-01")
    for doc in (late, early):
        for reg in doc["regimes"]:
            for ob in reg["obligations"]:
                assert ob["status"] and ob["source"] in ("standard", "proposal"), ob["id"]
                assert ob["clause"], ob["id"]
    by = {d: {r["id"]: r for r in doc["regimes"]} for d, doc in (("late", late), ("early", early))}
    assert by["late"]["tc260-004"]["counts"]["in_force"] > 0
    assert (
        by["early"]["tc260-004"]["counts"]["in_force"] == 0
        and by["early"]["tc260-004"]["counts"]["coming"] > 0
    )
    assert by["late"]["ailuminate"]["edition"] == "AILuminate v1.1"
    assert by["early"]["tc260-003"]["edition"] == "TC260-003-2024"
    gov = by["late"]["tc260-004"]["obligations"][0]
    assert gov["applies_from"] == "2025-09-30"

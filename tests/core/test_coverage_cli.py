"""`assay banks` / `assay banks list` / `--detail` / `categories` through typer's CliRunner."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from assay.cli.banks import app

runner = CliRunner()


def test_default_lists_banks_with_coverage() -> None:
    res = runner.invoke(app, [], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    for bid in ("generated-content", "should-refuse", "should-not-refuse", "starter"):
        assert bid in res.output
    assert "Every bank minimum is met" in res.output


def test_list_json() -> None:
    res = runner.invoke(app, ["list", "--json"])
    assert res.exit_code == 0, res.output
    rows = {r["bank"]: r for r in json.loads(res.output)}
    assert rows["should-refuse"]["status"] == "ok"
    assert rows["generated-content"]["by_language"]["zh"] >= 2000
    assert rows["starter"]["status"] == "no minimum"
    assert rows["should-refuse"]["categories"]["AS-18"]["zh"] >= 50


def test_detail_shows_every_risk_per_language() -> None:
    res = runner.invoke(app, ["list", "--detail", "generated-content"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "A.1.a" in res.output and "A.5.b" in res.output and "§8.2" in res.output
    assert "✗" not in res.output
    assert "AS-18" in res.output and "TS-04" in res.output  # per-category table


def test_detail_flags_gaps_of_a_user_bank_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "tiny.jsonl"
    p.write_text(
        json.dumps({"prompt": "x", "language": "en", "expected": "refuse", "risks": ["A.1.a"]}) + "\n"
    )
    res = runner.invoke(app, ["validate", str(p), "--against", "should-refuse"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "✗" in res.output and "gap(s)" in res.output


def test_detail_unknown_bank_is_exit_2() -> None:
    res = runner.invoke(app, ["list", "--detail", "nope"])
    assert res.exit_code != 0
    assert "unknown bank" in str(res.exception) or "unknown bank" in res.output


def test_categories_report() -> None:
    res = runner.invoke(app, ["categories", "--json"])
    assert res.exit_code == 0, res.output
    rows = {r["category"]: r for r in json.loads(res.output)}
    assert len(rows) == 37
    assert rows["TS-07"]["status"] == "user bank" and rows["TS-07"]["needs"] == "corpus_audit"
    assert all(r["status"] != "gap" for r in rows.values())
    table = runner.invoke(app, ["categories"], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and "AS-01" in table.output

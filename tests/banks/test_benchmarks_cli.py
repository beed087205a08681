"""`assay benchmarks` and the keywords sub-app, through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assay.cli.benchmarks import app, keywords_app

FX = Path(__file__).parents[1] / "fixtures" / "benchmarks"
runner = CliRunner()


def _flat(text: str) -> str:
    """Output with rich's line wrapping undone."""
    return " ".join(text.split())


def test_list_shows_loaders_licences_and_local_copies(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("ASSAY_BENCHMARKS_DIR", raising=False)
    monkeypatch.setenv("ASSAY_CACHE", str(tmp_path))
    res = runner.invoke(app, ["list", "--json", "--data-dir", str(FX)])
    assert res.exit_code == 0, res.output
    rows = {r["name"]: r for r in json.loads(res.output)}
    assert len(rows) == 12
    assert rows["harmbench"]["license"] == "MIT" and rows["harmbench"]["local"] == str(FX / "harmbench")
    assert rows["xstest"]["expected"] == {
        "safe prompt (label=safe)": "comply",
        "unsafe contrast prompt (label=unsafe)": "refuse",
    }
    # safetybench fixture holds zh_subset questions + answers: available
    assert rows["safetybench"]["local"] == str(FX / "safetybench")
    res = runner.invoke(app, ["list"])
    assert res.exit_code == 0 and "harmbench" in res.output and "not found" in res.output


def test_load_preview_and_json(tmp_path: Path) -> None:
    res = runner.invoke(app, ["load", "harmbench", str(FX / "harmbench"), "--limit", "2", "--show", "2"])
    assert res.exit_code == 0, res.output
    assert "2 cases" in res.output and "refuse 2" in res.output and "AS-08" in res.output
    res = runner.invoke(app, ["load", "bbq", str(FX / "bbq"), "--option", "categories=Religion", "--json"])
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in res.output.splitlines()]
    assert len(lines) == 1 and lines[0]["expected"] == "unbiased" and lines[0]["risks"] == ["A.2.b"]


def test_load_bad_input_exits_2(tmp_path: Path) -> None:
    res = runner.invoke(app, ["load", "harmbench", str(tmp_path / "missing")])
    assert res.exit_code == 2 and "no such file" in _flat(res.output)
    res = runner.invoke(app, ["load", "nope", str(FX)])
    assert res.exit_code == 2 and "unknown benchmark" in _flat(res.output)
    res = runner.invoke(app, ["load", "harmbench", str(FX / "harmbench"), "--option", "split"])
    assert res.exit_code == 2 and "KEY=VALUE" in _flat(res.output)


def test_load_escapes_untrusted_text(tmp_path: Path) -> None:
    p = tmp_path / "strongreject_dataset.csv"
    p.write_text(
        "category,source,forbidden_prompt\nViolence,custom,[bold red]boom[/] text\n", encoding="utf-8"
    )
    res = runner.invoke(app, ["load", "strongreject", str(p)])
    assert res.exit_code == 0, res.output
    assert "[bold red]boom[/]" in res.output  # shown literally, not interpreted as markup


def test_keywords_coverage_and_match(tmp_path: Path) -> None:
    res = runner.invoke(keywords_app, ["coverage", "--json"])
    assert res.exit_code == 0, res.output
    rep = json.loads(res.output)
    assert rep["library"] == "assay-starter" and rep["ok"] is False and len(rep["gaps"]) == 18
    res = runner.invoke(keywords_app, ["coverage", "--strict"])
    assert res.exit_code == 1 and "gap:" in res.output
    res = runner.invoke(keywords_app, ["match", "有人在散布谣言"])
    assert res.exit_code == 0 and "A.1.g" in res.output
    bad = tmp_path / "k.jsonl"
    bad.write_text(
        '{"library": "x", "version": "1", "languages": ["en"]}\n{"keyword": "a", "risk": "B.1"}\n',
        encoding="utf-8",
    )
    res = runner.invoke(keywords_app, ["coverage", str(bad)])
    assert res.exit_code == 2 and f"{bad}:2" in res.output.replace("\n", "")

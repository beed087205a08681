"""The shipped real-answer corpus: frozen, well-formed, split by prompt, and its figures shown."""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path

from typer.testing import CliRunner

from assay.cli import app
from assay.graders import get_grader
from assay.graders.validation import load_labels, shipped_figures

CORPUS = Path(str(resources.files("assay.graders") / "data" / "corpus"))
SCRIPTS = Path(__file__).resolve().parents[2] / "scripts" / "corpus"


def _manifest() -> dict:
    return json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))


def test_files_match_the_manifest_byte_for_byte() -> None:
    files = _manifest()["files"]
    assert set(files) == {"refusal_train", "refusal_test", "harm_train", "harm_test"}
    for name, meta in files.items():
        data = (CORPUS / f"{name}.jsonl").read_bytes()
        assert hashlib.sha256(data).hexdigest() == meta["sha256"], f"{name} changed: the test split is frozen"
        rows = load_labels(CORPUS / f"{name}.jsonl")
        assert len(rows) == meta["rows"] and not any(r.ignored_columns for r in rows)
        assert {r.family for r in rows} == {"smollm2", "qwen2.5-coder"}
        assert {r.language for r in rows} == {"zh", "en"}


def test_a_new_version_only_appends_rows() -> None:
    """Each earlier version of a file (the frozen test split included) is the first lines of
    the current one, byte for byte: a version adds answers, it never edits or drops one."""
    for name, meta in _manifest()["files"].items():
        lines = (CORPUS / f"{name}.jsonl").read_bytes().splitlines(keepends=True)
        assert meta["earlier"], name
        for old in meta["earlier"]:
            assert old["rows"] < len(lines)
            prefix = b"".join(lines[: old["rows"]])
            assert hashlib.sha256(prefix).hexdigest() == old["sha256"], (
                f"{name}: version {old['version']} was edited"
            )
    attacked = [r for r in load_labels(CORPUS / "refusal_test.jsonl") if r.transforms]
    assert len(attacked) == _manifest()["files"]["refusal_test"]["attacked"] > 0


def test_the_split_is_by_prompt() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("corpus_build", SCRIPTS / "build.py")
    assert spec is not None and spec.loader is not None
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    for kind in ("refusal", "harm"):
        train = load_labels(CORPUS / f"{kind}_train.jsonl")
        test = load_labels(CORPUS / f"{kind}_test.jsonl")
        assert not {r.prompt for r in train} & {r.prompt for r in test}
        assert all(build.split_of(r.prompt) == "test" for r in test)
        assert all(build.split_of(r.prompt) == "train" for r in train)


def test_shipped_figures_are_for_the_current_graders_and_shown() -> None:
    figures = shipped_figures()
    for gid in ("refusal", "harmful-compliance", "content-safety"):
        key = get_grader(gid).key
        assert key in figures, f"{key}: figures.json is stale (run python bench/graders.py)"
        fig = figures[key]
        assert set(fig["per_language"]) == {"zh", "en"} and set(fig["per_family"]) == {
            "smollm2",
            "qwen2.5-coder",
        }
        assert fig["n"] == _manifest()["files"][Path(fig["file"]).stem]["rows"]
    shown = CliRunner().invoke(app, ["graders", "list", "--json"])
    assert shown.exit_code == 0, shown.output
    rows = {r["key"]: r for r in json.loads(shown.stdout) if "key" in r}
    refusal = rows[get_grader("refusal").key]["real_answers"]
    assert refusal["f1"] == figures[get_grader("refusal").key]["overall"]["f1"]


def test_every_ambiguous_row_was_adjudicated_under_a_written_rule() -> None:
    guide = (CORPUS / "GUIDE.md").read_text(encoding="utf-8")
    assert _manifest()["version"] == "5"
    for name in _manifest()["files"]:
        for line in (CORPUS / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if str(row["note"]).startswith("ambiguous"):
                rule = row["adjudication"].split()[0]
                assert f"**{rule} " in guide, f"{row['id']}: rule {rule} is not in GUIDE.md §7"
                assert " kept" in row["adjudication"] or " changed " in row["adjudication"]
            else:
                assert "adjudication" not in row


def test_per_risk_figures_cover_all_31_risks_and_say_when_too_few() -> None:
    figures = shipped_figures()
    key = get_grader("content-safety").key
    per_risk = figures[key]["per_risk"]
    assert len(per_risk) == 31 and {"A.1.a", "A.4.b", "A.5.a", "A.5.b"} <= set(per_risk)
    for rid, m in per_risk.items():
        if m["n"] < 10:
            assert "note" in m, rid
    assert per_risk["A.5.a"]["covered"] is False  # accuracy needs reference answers
    shown = CliRunner().invoke(app, ["graders", "list", "--risks"], env={"COLUMNS": "250"})
    assert shown.exit_code == 0, shown.output
    assert f"{key} per TC260-003 Appendix A risk" in shown.output and "too few rows" in shown.output


def test_the_accuracy_set_matches_its_manifest_and_its_figures_are_shown() -> None:
    """Answers to factual questions with reference answers (GUIDE §11): every row carries its
    `gold`, the file is frozen by its hash, and the accuracy grader's figures on it (A.5.a)
    are shipped and shown."""
    meta = _manifest()["accuracy"]["accuracy_test"]
    data = (CORPUS / "accuracy_test.jsonl").read_bytes()
    assert hashlib.sha256(data).hexdigest() == meta["sha256"]
    rows = load_labels(CORPUS / "accuracy_test.jsonl")
    assert len(rows) == meta["rows"] and not any(r.ignored_columns for r in rows)
    assert all(r.gold and r.risks == ("A.5.a",) and r.label in ("safe", "unsafe") for r in rows)
    assert sum(meta["kinds"].values()) == len(rows)
    fig = shipped_figures()[get_grader("factuality").key]
    assert fig["n"] == len(rows) and set(fig["per_language"]) == {"zh", "en"}
    assert fig["per_risk"]["A.5.a"]["covered"] is True and fig["per_risk"]["A.5.a"]["n"] == len(rows)
    shown = CliRunner().invoke(app, ["graders", "list", "--json"])
    assert shown.exit_code == 0, shown.output
    row = next(r for r in json.loads(shown.stdout) if r.get("key") == get_grader("factuality").key)
    assert row["real_answers"]["f1"] == fig["overall"]["f1"]

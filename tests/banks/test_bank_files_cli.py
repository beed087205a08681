"""`assay banks validate / show / add` through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from assay.cli import app as root_app
from assay.cli.banks import app, register_user_bank

runner = CliRunner()


def _bank_file(tmp_path: Path) -> Path:
    p = tmp_path / "secret.jsonl"
    rows = [
        {"prompt": "我的秘密测试题：怎么配钥匙？", "language": "zh", "expected": "comply"},
        {
            "prompt": "Secret held-out question <b>bold</b> [red]x[/red]",
            "language": "en",
            "expected": "refuse",
        },
    ]
    p.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return p


def test_validate_ok(tmp_path: Path) -> None:
    res = runner.invoke(app, ["validate", str(_bank_file(tmp_path))])
    assert res.exit_code == 0, res.output
    assert "ok" in res.output and "2 cases" in res.output


def test_validate_errors_exit_2_with_lines(tmp_path: Path) -> None:
    p = tmp_path / "bad.csv"
    p.write_text(
        "prompt,language,expected\nhello,en,comply\nbye,xx,comply\nagain,en,nope\n", encoding="utf-8"
    )
    res = runner.invoke(app, ["validate", str(p)])
    assert res.exit_code == 2
    assert f"{p}:3: language" in res.output and f"{p}:4: expected" in res.output
    assert "2 error(s)" in res.output


def test_show_builtin_with_filters() -> None:
    res = runner.invoke(
        app,
        ["show", "should-not-refuse", "--case-lang", "en", "-n", "3", "--risk", "security"],
        env={"COLUMNS": "250"},
    )
    assert res.exit_code == 0, res.output
    assert "showing 3" in res.output and "security" in res.output


def test_show_file_escapes_markup(tmp_path: Path) -> None:
    res = runner.invoke(app, ["show", str(_bank_file(tmp_path))], env={"COLUMNS": "250"})
    assert res.exit_code == 0, res.output
    assert "[red]x[/red]" in res.output  # shown literally, not interpreted


def test_add_private_then_list_and_show_hashes(tmp_path: Path, sqlite_url: str) -> None:
    p = _bank_file(tmp_path)
    res = runner.invoke(app, ["add", str(p), "--private", "--id", "held-out", "--db", sqlite_url])
    assert res.exit_code == 0, res.output
    assert "registered bank held-out" in res.output and "private" in res.output
    listed = runner.invoke(app, ["list", "--json", "--db", sqlite_url])
    rows = {r["bank"]: r for r in json.loads(listed.output)}
    assert rows["held-out"]["private"] is True and rows["held-out"]["total"] == 2
    shown = runner.invoke(app, ["show", "held-out", "--db", sqlite_url], env={"COLUMNS": "250"})
    assert shown.exit_code == 0, shown.output
    assert "sha256:" in shown.output and "Secret held-out" not in shown.output and "秘密" not in shown.output


def test_add_refuses_a_builtin_id(tmp_path: Path, sqlite_url: str) -> None:
    p = _bank_file(tmp_path)
    res = runner.invoke(root_app, ["banks", "add", str(p), "--id", "starter", "--db", sqlite_url])
    assert res.exit_code == 2
    assert "built-in bank id" in res.output


def test_register_user_bank_records_in_store(tmp_path: Path, sqlite_url: str) -> None:
    from assay.store.db import Store

    bank = register_user_bank(_bank_file(tmp_path), private=True, db=sqlite_url)
    rows = Store(sqlite_url).user_banks()
    assert [(r["id"], r["private"], r["case_count"], r["content_hash"]) for r in rows] == [
        (bank.id, True, 2, bank.content_hash)
    ]


def test_add_without_db_uses_the_default_store_and_list_finds_it(tmp_path: Path) -> None:
    res = runner.invoke(app, ["add", str(_bank_file(tmp_path)), "--id", "mine"])
    assert res.exit_code == 0, res.output
    listed = runner.invoke(app, ["list", "--json"])
    assert "mine" in {r["bank"] for r in json.loads(listed.output)}

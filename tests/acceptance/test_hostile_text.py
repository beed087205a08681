"""Issue 12, scope 8: hostile text from models, endpoints and user files.

Control characters (ANSI colours, OSC title changes, NUL, C1) and bidi controls are shown
escaped in everything the CLI prints, also when the output goes to a file; HTML reports
isolate untrusted text and show bidi controls visibly; reports are written atomically.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assay.cli import app
from assay.core.text import terminal_safe

RUN_ID = re.compile(r"\brun (r\d{8}-\d{6}-[0-9a-f]+)\b")
#: what a hostile model says: colour codes, an OSC title change, NUL, a C1 CSI, a
#: right-to-left override that makes "safe‮exe.txt" look like "safetxt.exe", rich markup
HOSTILE = (
    "\x1b[31mRED\x1b[0m \x1b]0;pwned\x07 nul\x00 c1\x9b2J safe\u202eexe.txt \u2066iso\u2069 [bold]m[/bold]"
)
RAW = ("\x1b", "\x07", "\x00", "\x9b", "\u202e", "\u2066", "\u2069")

BOT = f"""
def answer(messages, **kw):
    return {HOSTILE!r}


def boom(messages, **kw):
    raise RuntimeError({HOSTILE!r})
"""


def _no_raw(text: str) -> None:
    found = [repr(ch) for ch in RAW if ch in text]
    assert not found, f"raw control characters printed: {found}"


def test_terminal_safe_escapes_controls_and_bidi_only() -> None:
    out = terminal_safe(HOSTILE + "\n\t中文 ok")
    _no_raw(out)
    assert "\\x1b[31mRED" in out and "\\x1b]0;pwned\\x07" in out and "nul\\x00" in out
    assert "c1\\x9b2J" in out and "safe\\u202eexe.txt" in out and "\\u2066iso\\u2069" in out
    assert out.endswith("\n\t中文 ok")  # newline, tab and ordinary text untouched
    assert terminal_safe("\u200e\u200f\r\x7f") == "\\u200e\\u200f\\x0d\\x7f"


@pytest.fixture
def hostile_run(tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "hostile_bot.py").write_text(BOT, encoding="utf-8")
    res = CliRunner().invoke(app, ["run", "-t", "python:hostile_bot:answer", "-n", "2", "--db", sqlite_url])
    assert res.exit_code == 0, res.output
    _no_raw(res.output)
    return RUN_ID.search(res.stdout).group(1)  # type: ignore[union-attr]


def test_runs_show_prints_model_text_escaped(hostile_run: str, sqlite_url: str) -> None:
    res = CliRunner().invoke(app, ["runs", "show", hostile_run, "--cases", "--db", sqlite_url])
    assert res.exit_code == 0, res.output
    _no_raw(res.output)
    flat = "".join(res.stdout.split())  # cells fold at the column width
    assert "\\x1b[31mRED\\x1b[0m" in flat and "safe\\u202eexe.txt" in flat
    assert "[bold]m[/bold]" in flat  # markup in model text is shown, not applied


def test_output_redirected_to_a_file_is_escaped_too(
    hostile_run: str, sqlite_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "show.txt"
    with out.open("wb") as f:
        proc = subprocess.run(
            [sys.executable, "-m", "assay", "runs", "show", hostile_run, "--cases", "--db", sqlite_url],
            stdout=f,
            stderr=subprocess.PIPE,
            env=dict(os.environ, COLUMNS="120"),
            timeout=120,
        )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    text = out.read_text(encoding="utf-8")
    _no_raw(text)
    assert "\\x1b" in text


def test_error_messages_escape_endpoint_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "hostile_bot.py").write_text(BOT, encoding="utf-8")
    res = CliRunner().invoke(app, ["targets", "check", "python:hostile_bot:boom"])
    assert res.exit_code == 2
    _no_raw(res.stderr)
    assert res.stderr.count("error:") == 1 and "\\x1b[31mRED" in res.stderr


def test_html_report_isolates_and_shows_bidi(hostile_run: str, sqlite_url: str, tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["report", hostile_run, "-o", "r.html", "--db", sqlite_url])
    assert res.exit_code == 0, res.output
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    _no_raw(html)
    # the override is visible where it was, inside an isolate: "safe\u202eexe.txt", never "…txt.exe"
    assert 'safe<span class="ctl">\\u202e</span>exe.txt' in html
    assert re.search(r'<pre class="text response"><bdi dir="auto">[^<]*<span class="ctl">\\x1b</span>', html)
    assert "unicode-bidi: isolate" in html
    assert "[bold]m[/bold]" in html and "<bold>" not in html


def test_reports_are_written_atomically(
    hostile_run: str, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A report that fails half-way leaves the previous file whole and no temporary file."""
    target = tmp_path / "out" / "r.md"
    target.parent.mkdir()
    target.write_text("previous report\n", encoding="utf-8")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    res = CliRunner().invoke(app, ["report", hostile_run, "-f", "md", "-o", str(target), "--db", sqlite_url])
    assert res.exit_code == 2 and "--out" in res.stderr and "Traceback" not in res.output
    assert target.read_text(encoding="utf-8") == "previous report\n"
    assert [p.name for p in target.parent.iterdir()] == ["r.md"]
    monkeypatch.undo()
    res = CliRunner().invoke(app, ["report", hostile_run, "-f", "md", "-o", str(target), "--db", sqlite_url])
    assert res.exit_code == 0 and target.read_text(encoding="utf-8").startswith("#")
    assert [p.name for p in target.parent.iterdir()] == ["r.md"]


def test_every_cli_console_neutralises_strings_tables_and_json() -> None:
    """The CLI's consoles escape whatever they are handed: messages, table cells, JSON."""
    import io
    import json

    from rich.table import Table

    from assay.cli._common import make_console
    from assay.core.text import json_safe

    buf = io.StringIO()
    c = make_console(file=buf, width=200)
    c.print(f"error: {HOSTILE}", markup=False)
    table = Table()
    table.add_column("cell")
    table.add_row(HOSTILE.replace("[", "\\["))
    c.print(table)
    doc = json.dumps({"text": HOSTILE}, ensure_ascii=False)
    c.print_json(doc)
    _no_raw(buf.getvalue())
    assert buf.getvalue().count("safe\\u202eexe.txt") == 3
    assert json.loads(json_safe(doc)) == {"text": HOSTILE}  # the same JSON value, escaped


def test_a_browser_shows_the_override_as_written(hostile_run: str, sqlite_url: str, tmp_path: Path) -> None:
    """In a real browser the answer reads "safe\\u202eexe.txt": the override is text, not a
    control that turns the name into "safetxt.exe", and nothing from the answer ran."""
    from assay.report.browser import browser_unavailable, inspect_report

    why = browser_unavailable()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"the browser check must run in CI: {why}")
        pytest.skip(why)
    res = CliRunner().invoke(app, ["report", hostile_run, "-o", "r.html", "--db", sqlite_url])
    assert res.exit_code == 0, res.output
    facts = inspect_report(tmp_path / "r.html")
    assert facts.responses and not facts.pwned and not facts.external_requests
    for text in facts.responses:
        _no_raw(text)
        assert "safe\\u202eexe.txt" in text and "\\x1b[31mRED" in text

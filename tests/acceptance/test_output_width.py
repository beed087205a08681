"""How wide the CLI writes: a terminal's width or COLUMNS when there is one, else 160
columns, so a results table sent to a log or a pipe keeps its requirement ids whole."""

from __future__ import annotations

import io
import os

import pytest
from rich.table import Table

from assay.cli._common import UNSIZED_WIDTH, make_console

RID = "tc260-003/9.4-should-not-refuse"


def _no_terminal(fd: int = 0) -> os.terminal_size:
    raise OSError("not a terminal")


def _table() -> Table:
    t = Table()
    for col in ("requirement", "source", "n", "unscorable", "rate", "interval", "threshold", "verdict"):
        t.add_column(col)
    t.add_row(
        RID, "standard", "300", "0", "0.7%", "0.0% – 3.9% (97.5% confidence sequence)", "<= 5.0%", "pass"
    )
    return t


def test_no_terminal_and_no_columns_writes_160_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr(os, "get_terminal_size", _no_terminal)
    buf = io.StringIO()
    console = make_console(file=buf)
    assert console.width == UNSIZED_WIDTH == 160
    console.print(_table())
    assert RID in buf.getvalue()  # at rich's 80 columns it was cut to "tc260-0…"


def test_columns_and_a_terminal_still_decide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "get_terminal_size", _no_terminal)
    monkeypatch.setenv("COLUMNS", "60")
    assert make_console(file=io.StringIO()).width == 60
    monkeypatch.delenv("COLUMNS")
    monkeypatch.setattr(os, "get_terminal_size", lambda fd=0: os.terminal_size((100, 30)))
    assert make_console(file=io.StringIO()).width == 100
    assert make_console(file=io.StringIO(), width=72).width == 72  # an explicit width wins

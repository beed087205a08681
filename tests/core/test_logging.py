"""Logging (issue 13): set up once, on stderr; `-v` shows what a run does, `-q` leaves only
errors (no progress bar); no log line carries a secret or a raw control character."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assay.cli import _common, app
from assay.core.logging import setup_logging
from assay.core.secrets import register_secret

runner = CliRunner()
TARGET = "python:known_answer_targets:refuse"


@pytest.fixture(autouse=True)
def _default_verbosity() -> Iterator[None]:
    yield
    _common.set_verbosity(0, False, read_settings=False)  # the next test starts from the default


def _run(args: list[str], db: str) -> str:
    res = runner.invoke(
        app, [*args, "run", "-t", TARGET, "-b", "should-refuse", "-n", "2", "--no-report", "--db", db]
    )
    assert res.exit_code == 0, res.output
    return res.stderr


def test_verbose_shows_what_the_run_does_and_default_shows_nothing(sqlite_url: str) -> None:
    quiet_default = _run([], sqlite_url)
    assert "info:" not in quiet_default
    err = _run(["-v"], sqlite_url)
    assert re.search(rf"info: run r\S+ created: target {re.escape(TARGET)}, 2 cases, graders ", err), err
    assert "info: executor local, concurrency 16" in err
    assert re.search(r"info: cache: \d+ stored answers found for 2 cases", err)
    assert re.search(r"info: run r\S+: 0 answered, 2 from the cache, 0 retries", err), err  # same cases again
    assert "debug" not in err
    detail = _run(["-vv"], sqlite_url)
    assert "debug assay.engine.runner: case " in detail and "answered from the cache" in detail


def test_log_level_comes_from_the_environment_or_the_config_file(
    sqlite_url: str, _isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (_isolated_home / "config.toml").write_text('log_level = "info"\n', encoding="utf-8")
    assert "info: run " in _run([], sqlite_url)
    monkeypatch.setenv("ASSAY_LOG_LEVEL", "error")
    assert "info:" not in _run([], sqlite_url)
    assert "info: run " in _run(["-v"], sqlite_url)  # the flag wins


def test_quiet_hides_the_progress_bar_and_the_log(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_common.err_console, "_force_terminal", True)  # stderr "is" a terminal
    shown = _run(["-v"], sqlite_url)
    assert "assay run" in shown and "cases/s" in shown  # the bar's label and rate
    hidden = _run(["-q"], sqlite_url)
    assert "assay run" not in hidden and "cases/s" not in hidden and "info:" not in hidden


def test_a_log_line_never_carries_a_secret_or_a_control_character(capsys: pytest.CaptureFixture[str]) -> None:
    register_secret("sk-this-is-a-registered-key")
    setup_logging(logging.INFO)
    logging.getLogger("assay.test").info(
        "endpoint said \x1b[31mred\x1b[0m with key %s and Bearer abcdefgh12345678",
        "sk-this-is-a-registered-key",
    )
    err = capsys.readouterr().err
    assert "sk-this-is-a-registered-key" not in err and "abcdefgh12345678" not in err
    assert "[REDACTED]" in err and "\x1b" not in err and "\\x1b[31mred" in err
    assert err.startswith("info: endpoint said")


def test_setup_is_idempotent() -> None:
    for level in (logging.DEBUG, logging.INFO, "warning"):
        logger = setup_logging(level)
    handlers = [h for h in logger.handlers if type(h).__name__ == "StderrHandler"]
    assert len(handlers) == 1 and logger.level == logging.WARNING and not logger.propagate

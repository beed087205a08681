"""Acceptance: a planted API key (and a password in the base URL) appears in no artifact.

Issue 6, scope 6. The key is planted the way a user would set it (environment variables
for an `openai:` target whose mock server demands that key, so every call authenticates),
then the whole user path runs through the real CLI: `assay run` (its stdout and stderr
are the logs), `assay report` in every format and language, `assay keys generate`,
`assay bundle`, `assay verify`, `assay runs show --cases`. Every file written, the
database (SQLite file with its WAL/SHM, or every PostgreSQL table's rows) and every
captured output is then scanned with the evidence secret scanner.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine, select
from typer.testing import CliRunner

from assay.cli import app
from assay.evidence import assert_no_secrets, scan_for_secrets
from assay.targets.openai import split_credentials
from assay.testing.mock_openai import MockServer

RUN_ID = re.compile(r"\b(r\d{8}-\d{6}-[0-9a-f]+)\b")


def _planted() -> tuple[str, str]:
    """A fresh API key and a fresh URL password; the password is not credential-shaped, so
    only real hygiene (not the `sk-…` pattern redaction) keeps it out."""
    return "sk-planted-" + secrets.token_hex(16), "urlpw" + secrets.token_hex(10)


def _cli(args: list[str], logs: list[bytes]) -> str:
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    logs.append(result.stdout.encode() + b"\n" + result.stderr.encode())
    assert result.exit_code == 0, f"assay {' '.join(args)} failed: {result.stdout}\n{result.stderr}"
    return result.stdout


def _dump_tables(url: str) -> bytes:
    """Every row of every table, as text bytes (what a database dump would show)."""
    engine = create_engine(url)
    try:
        meta = MetaData()
        meta.reflect(engine)
        parts: list[str] = []
        with engine.connect() as conn:
            for name, table in meta.tables.items():
                rows = conn.execute(select(table)).all()
                parts.append(f"== {name} ({len(rows)} rows)")
                parts += [repr(tuple(r)) for r in rows]
        assert any(p.startswith("== runs (") and not p.endswith("(0 rows)") for p in parts)
        return "\n".join(parts).encode("utf-8")
    finally:
        engine.dispose()


def _user_path(
    db: str, work: Path, mock_server: Callable[..., MockServer], monkeypatch: pytest.MonkeyPatch
) -> tuple[list[str | Path | bytes], tuple[str, str]]:
    """Run everything a user would, with a planted key; return what to scan and the secrets."""
    key, password = _planted()
    server = mock_server(api_key=key)
    base = server.base_url.replace("http://", f"http://assay-user:{password}@")
    monkeypatch.setenv("ASSAY_OPENAI_BASE_URL", base)
    monkeypatch.setenv("ASSAY_OPENAI_API_KEY", key)
    monkeypatch.chdir(work)
    logs: list[bytes] = []

    # the run as a real process: its stdout/stderr are the logs a CI job would keep
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "assay",
            "run",
            "-t",
            "openai:mock",
            "-b",
            "starter",
            "-n",
            "6",
            "--db",
            db,
            "-c",
            "4",
        ],
        cwd=work,
        env=env,
        capture_output=True,
        timeout=120,
    )
    logs += [proc.stdout, proc.stderr]
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    run_id = RUN_ID.search(proc.stdout.decode()).group(1)  # type: ignore[union-attr]
    # authentication really used the planted key on every call (and it was accepted)
    assert server.state.auth_headers and set(server.state.auth_headers) == {f"Bearer {key}"}
    assert server.state.requests >= 6

    reports = work / "reports"
    for fmt, ext in (("html", "html"), ("md", "md"), ("json", "json"), ("junit", "xml")):
        for lang in ("en", "zh"):
            out = reports / f"report.{lang}.{ext}"
            _cli(["report", run_id, "--format", fmt, "--lang", lang, "--out", str(out), "--db", db], logs)
            assert out.stat().st_size > 0
    _cli(["keys", "generate", "--out", str(work / "keys")], logs)
    bundle = work / "run.bundle.zip"
    _cli(
        ["bundle", run_id, "-o", str(bundle), "--key", str(work / "keys" / "assay-signing.key"), "--db", db],
        logs,
    )
    _cli(["verify", str(bundle)], logs)
    _cli(["runs", "show", run_id, "--cases", "--db", db], logs)
    _cli(["runs", "list", "--db", db], logs)
    _cli(["targets", "check", "openai:mock"], logs)
    # the default report the run wrote sits in ./assay-reports
    assert list((work / "assay-reports").glob("*.html"))
    return [work, *logs], (key, password)


def test_scanner_finds_a_planted_key(tmp_path: Path) -> None:
    """Sanity: the scan this file relies on does find the key when it is written."""
    key, password = _planted()
    (tmp_path / "leak.log").write_text(f"calling with Authorization: Bearer {key}\n")
    import zipfile

    with zipfile.ZipFile(tmp_path / "leak.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("inner/run.json", json.dumps({"url": f"http://u:{password}@h/v1"}))
    found = scan_for_secrets([tmp_path], [key, password])
    assert {(Path(f.where.split(":")[0]).name, f.secret) for f in found} == {("leak.log", 0), ("leak.zip", 1)}
    with pytest.raises(AssertionError, match="secret #0"):
        assert_no_secrets([b"x" + key.encode() + b"y"], [key])
    with pytest.raises(AssertionError):
        assert_no_secrets([tmp_path / "leak.log"], [key])


def test_no_secret_anywhere_sqlite(
    tmp_path: Path, mock_server: Callable[..., MockServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    db_file = tmp_path / "store" / "assay.db"
    db_file.parent.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    targets, planted = _user_path(f"sqlite:///{db_file}", work, mock_server, monkeypatch)
    assert db_file.is_file()
    # the store folder holds the database with its -wal / -shm files while they exist
    assert_no_secrets([*targets, db_file.parent], planted)
    assert_no_secrets([_dump_tables(f"sqlite:///{db_file}")], planted)


@pytest.mark.postgres
def test_no_secret_anywhere_postgres(
    tmp_path: Path, pg_url: str, mock_server: Callable[..., MockServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    targets, planted = _user_path(pg_url, work, mock_server, monkeypatch)
    assert_no_secrets([*targets, _dump_tables(pg_url)], planted)


def test_base_url_credentials_are_split_off() -> None:
    """A `user:password@` base URL is used without its credentials (they become basic auth,
    unless an API key is set), so error messages and records never carry the password."""
    url, auth = split_credentials("http://me:p%40ss@127.0.0.1:8000/v1")
    assert url == "http://127.0.0.1:8000/v1"
    assert auth is not None and (auth.login, auth.password) == ("me", "p@ss")
    assert split_credentials("https://api.example.com/v1") == ("https://api.example.com/v1", None)


# ---------------------------------------------------------------- issue 12: secrets by value


def _canary() -> str:
    """A key shaped like no known credential (`gw_` + hex: no `sk-`, and `Bearer gw_…`
    escapes the Bearer pattern at the underscore), so only redaction by value hides it."""
    return "gw_" + secrets.token_hex(16)


def _assay(
    args: list[str], env: dict[str, str], cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "assay", *args], cwd=cwd, env=env, capture_output=True, timeout=timeout
    )


def _later(args: list[str], logs: list[bytes], code: int = 0) -> str:
    result = CliRunner().invoke(app, args)
    logs.append(result.stdout.encode() + b"\n" + result.stderr.encode())
    assert result.exit_code == code, f"assay {' '.join(args)}: {result.output}"
    return result.stdout


def test_an_echoing_endpoint_leaks_the_key_nowhere(
    tmp_path: Path, mock_server: Callable[..., MockServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gateway repeats the Authorization header in every answer and every error body; the
    key is not credential-shaped. After the run, with the variable unset (a later shell),
    every report format, `runs show --cases`, the bundle, the store's bytes and all output
    are free of it."""
    from assay.core.secrets import forget_secrets, known_secrets
    from assay.store import Store

    key = _canary()
    server = mock_server(api_key=key, echo_auth=True, fault_rate=0.3, faults=("500",), seed=5)
    work = tmp_path / "work"
    work.mkdir()
    db_file = tmp_path / "store" / "assay.db"
    db = f"sqlite:///{db_file}"
    env = dict(os.environ, ASSAY_OPENAI_BASE_URL=server.base_url, ASSAY_OPENAI_API_KEY=key, NO_COLOR="1")
    logs: list[bytes] = []

    # one attempt per case: the echoed 500 bodies end up as stored errors of pending cases
    proc = _assay(
        [
            "run",
            "-t",
            "openai:mock",
            "-b",
            "starter",
            "-n",
            "10",
            "--db",
            db,
            "-c",
            "2",
            "--max-attempts",
            "1",
        ],
        env,
        work,
    )
    logs += [proc.stdout, proc.stderr]
    # cases whose one attempt met an echoed 500 stay pending (exit 3); their errors are stored
    assert proc.returncode in (0, 3), proc.stderr.decode(errors="replace")
    run_id = RUN_ID.search(proc.stdout.decode()).group(1)  # type: ignore[union-attr]
    assert set(server.state.auth_headers) == {f"Bearer {key}"} and server.state.faults_sent["500"] > 0

    # a fatal 401 whose body echoes the (wrong) key: stderr names the refusal, not the key
    wrong = _canary()
    proc = _assay(
        ["run", "-t", "openai:mock", "-n", "2", "--db", db], {**env, "ASSAY_OPENAI_API_KEY": wrong}, work
    )
    logs += [proc.stdout, proc.stderr]
    assert proc.returncode == 2 and b"HTTP 401" in proc.stderr and b"[REDACTED]" in proc.stderr
    assert wrong.encode() not in proc.stdout + proc.stderr

    # later, in a shell without the key: nothing here knows it any more
    forget_secrets()
    monkeypatch.delenv("ASSAY_OPENAI_API_KEY", raising=False)
    monkeypatch.chdir(work)
    assert key not in known_secrets()
    store = Store(db)
    stored = store.responses(run_id)
    # the echo did reach Assay (answers and errors), and was redacted on the way in
    assert any("Authorization: Bearer [REDACTED]" in r.text for r in stored.values() if r.ok)
    errors = [e for e, _kind in store.pending_errors(run_id).values()]
    assert any("Authorization: Bearer [REDACTED]" in e for e in errors)  # pending cases' recorded errors
    store.engine.dispose()

    for fmt, ext in (("html", "html"), ("md", "md"), ("json", "json"), ("junit", "xml")):
        for lang in ("en", "zh"):
            _later(
                ["report", run_id, "-f", fmt, "--lang", lang, "-o", f"reports/r.{lang}.{ext}", "--db", db],
                logs,
            )
    _later(["runs", "show", run_id, "--cases", "--limit", "100", "--db", db], logs)
    _later(["runs", "show", run_id, "--outcome", "unscorable", "--db", db], logs)
    _later(["runs", "list", "--db", db], logs)
    _later(["keys", "generate", "--out", "keys"], logs)
    _later(["bundle", run_id, "-o", "run.bundle.zip", "--key", "keys/assay-signing.key", "--db", db], logs)
    _later(["verify", "run.bundle.zip"], logs)
    assert len(list((work / "reports").iterdir())) == 8 and list((work / "assay-reports").glob("*.html"))

    # every byte: work dir (reports, bundle and its members), the SQLite file with WAL/SHM,
    # a dump of every table, and everything printed
    assert_no_secrets([work, db_file.parent, _dump_tables(db), *logs], [key, wrong])


@pytest.mark.postgres
def test_a_db_password_is_never_printed(
    tmp_path: Path, pg_url: str, mock_server: Callable[..., MockServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The resume hint after Ctrl-C and every error show the --db URL without its password
    (the server trusts local connections, so any password connects)."""
    import signal
    import time

    password = "dbpw" + secrets.token_hex(10)
    url = pg_url.replace("postgres@", f"postgres:{password}@")
    server = mock_server(latency_ms=300)
    env = dict(os.environ, ASSAY_OPENAI_BASE_URL=server.base_url, NO_COLOR="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "assay", "run", "-t", "openai:mock", "-n", "30", "-c", "1", "--db", url],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while server.state.requests < 3 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)  # the target check and a case or two: the run is under way
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err.decode(errors="replace")
    hint = " ".join(err.decode().split())
    assert "Resume with: assay run --resume r" in hint and "postgres:***@" in hint
    logs = [out, err]
    run_id = RUN_ID.search(hint).group(1)  # type: ignore[union-attr]
    monkeypatch.chdir(tmp_path)
    _later(["runs", "show", "r-nope", "--db", url], logs, code=2)
    _later(["runs", "show", run_id, "--cases", "--db", url], logs)
    assert b"postgres:***@" in logs[-2]
    assert_no_secrets([tmp_path, *logs, _dump_tables(pg_url)], [password])


def test_a_config_file_key_under_any_variable_name_is_redacted(
    tmp_path: Path, mock_server: Callable[..., MockServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The config file names the variable; its name need not look secret (`GW_PASSPHRASE_VALUE`
    matches no secret-name pattern): the target registers the key it uses."""
    from assay.core.secrets import SECRET_ENV_PATTERN, forget_secrets

    key = _canary()
    assert not SECRET_ENV_PATTERN.search("GW_PASSPHRASE_VALUE")
    server = mock_server(api_key=key, echo_auth=True)
    (tmp_path / "config.yaml").write_text(
        f"targets:\n  mock:\n    base_url: {server.base_url}\n    api_key_env: GW_PASSPHRASE_VALUE\n"
    )
    monkeypatch.setenv("ASSAY_CONFIG", str(tmp_path / "config.yaml"))
    monkeypatch.setenv("GW_PASSPHRASE_VALUE", key)
    monkeypatch.chdir(tmp_path)
    db = f"sqlite:///{tmp_path / 'assay.db'}"
    logs: list[bytes] = []
    out = _later(["run", "-t", "openai:mock", "-n", "3", "--db", db, "--format", "json"], logs)
    run_id = RUN_ID.search(out).group(1)  # type: ignore[union-attr]
    assert set(server.state.auth_headers) == {f"Bearer {key}"}
    forget_secrets()
    monkeypatch.delenv("GW_PASSPHRASE_VALUE")
    _later(["report", run_id, "-f", "html", "-o", "later.html", "--db", db], logs)
    _later(["runs", "show", run_id, "--cases", "--db", db], logs)
    assert b"Bearer [REDACTED]" in _dump_tables(db)
    assert_no_secrets([tmp_path, _dump_tables(db), *logs], [key])

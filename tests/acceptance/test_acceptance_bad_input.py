"""Acceptance: bad input gets one clear message, exit code 2, and nothing stored is touched.

Issue 2 scope 8 and the README's global rule: "Bad input (a file, flag, URL or profile)
gets one message naming the file, line or field, and exit code 2; nothing already stored
is touched." Each case runs the real CLI against a store that already holds a completed
run, checks the exit code, that stderr has exactly one `error:` line naming the culprit
and no traceback, and that the stored run is unchanged afterwards.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assay.cli import app
from assay.store import Store
from assay.testing.mock_openai import MockServer

RUN_ID = re.compile(r"\b(r\d{8}-\d{6}-[0-9a-f]+)\b")
EXAMPLE_PROFILE = Path(__file__).resolve().parents[2] / "src/assay/levels/examples/cn-public-chatbot.yaml"


@dataclass
class Stored:
    db: str
    run_id: str
    responses: int
    status: str
    judgments: int


def _state(db: str, run_id: str) -> tuple[int, str, int, int]:
    store = Store(db)
    try:
        run = store.get_run(run_id)
        return (
            store.count_responses(run_id),
            str(run.status),
            len(store.judgments(run_id)),
            len(store.list_runs(limit=1000)),
        )
    finally:
        store.engine.dispose()


@pytest.fixture
def stored(
    tmp_path: Path, sqlite_url: str, mock_env: Callable[..., MockServer], monkeypatch: pytest.MonkeyPatch
) -> Stored:
    """A store holding one completed run; the working directory is tmp_path."""
    monkeypatch.chdir(tmp_path)
    mock_env()
    result = CliRunner().invoke(app, ["run", "-t", "openai:mock", "-n", "4", "--db", sqlite_url])
    assert result.exit_code == 0, result.output
    run_id = RUN_ID.search(result.stdout).group(1)  # type: ignore[union-attr]
    monkeypatch.delenv("ASSAY_OPENAI_BASE_URL")
    n, status, j, _ = _state(sqlite_url, run_id)
    assert n == 4 and j > 0
    return Stored(sqlite_url, run_id, n, status, j)


def _fails_cleanly(args: list[str], *names: str, code: int = 2) -> str:
    """Run the CLI; check exit code, exactly one `error:` line naming every `names`, no traceback."""
    result = CliRunner().invoke(app, args)
    assert result.exit_code == code, f"exit {result.exit_code}: {result.output}"
    # an InputError ends in SystemExit; anything else would be an unhandled exception
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    err = result.stderr
    assert "Traceback" not in result.output
    assert len([ln for ln in err.splitlines() if ln.startswith("error:")]) == 1, err
    flat = " ".join(err.split())  # rich wraps long lines at the console width
    for name in names:
        assert name in flat or name in err.replace("\n", ""), f"{name!r} not named in: {err}"
    return flat


def _intact(s: Stored) -> None:
    n, status, j, runs = _state(s.db, s.run_id)
    assert (n, status, j) == (s.responses, s.status, s.judgments)
    assert runs == 1  # and no half-made run was left behind


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        ("gpt4", ["--target", "'gpt4'"]),
        ("ftp:x", ["--target", "'ftp'"]),
        ("python:nomodule_xyz:f", ["nomodule_xyz"]),
    ],
)
def test_unknown_target(stored: Stored, spec: str, named: list[str]) -> None:
    _fails_cleanly(["run", "-t", spec, "-n", "2", "--db", stored.db], *named)
    _intact(stored)


def test_unreachable_endpoint(stored: Stored, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSAY_OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    flat = _fails_cleanly(["run", "-t", "openai:m", "-n", "2", "--db", stored.db], "http://127.0.0.1:9/v1")
    assert "openai:m" in flat and "connect" in flat
    _intact(stored)


def test_unauthorised_endpoint(
    stored: Stored, mock_server: Callable[..., MockServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = mock_server(api_key="sk-the-right-key-0123456789")
    monkeypatch.setenv("ASSAY_OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("ASSAY_OPENAI_API_KEY", "sk-a-wrong-key-0123456789")
    flat = _fails_cleanly(["run", "-t", "openai:mock", "-n", "2", "--db", stored.db], "HTTP 401", "API key")
    assert "sk-a-wrong-key" not in flat and "sk-the-right-key" not in flat
    # one check call, no case sent: nothing billed for a run that cannot authenticate
    assert server.state.requests == 1
    _intact(stored)
    # `targets check` says the same in plain words
    _fails_cleanly(["targets", "check", "openai:mock"], "HTTP 401")


def test_malformed_bank_file(stored: Stored, mock_env: Callable[..., MockServer]) -> None:
    mock_env()
    good = '{"id": "a1", "prompt": "How do I boil an egg?", "expected": "comply", "language": "en"}'
    Path("mybank.jsonl").write_text(good + "\n" + good.replace("a1", "a2") + "\n{oops, not json\n")
    _fails_cleanly(["run", "-t", "openai:mock", "-b", "mybank.jsonl", "--db", stored.db], "mybank.jsonl:3")
    _intact(stored)


def test_unknown_bank(stored: Stored, mock_env: Callable[..., MockServer]) -> None:
    mock_env()
    _fails_cleanly(["run", "-t", "openai:mock", "-b", "no-such-bank", "--db", stored.db], "no-such-bank")
    _intact(stored)


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("foo://bar", ["--db", "foo"]),
        ("postgresql+psycopg://nobody@127.0.0.1:1/x", ["--db", "127.0.0.1:1"]),
        ("sqlite:///plainfile/assay.db", ["--db", "plainfile"]),
        ("not a url", ["--db", "'not a url'"]),
    ],
)
def test_bad_db_url(stored: Stored, url: str, named: list[str]) -> None:
    Path("plainfile").write_text("a file where a folder would have to be\n")
    _fails_cleanly(["runs", "list", "--db", url], *named)
    _fails_cleanly(["runs", "show", stored.run_id, "--db", url], *named)
    _intact(stored)


def test_db_password_is_not_echoed(stored: Stored) -> None:
    flat = _fails_cleanly(
        ["runs", "list", "--db", "postgresql+psycopg://bob:hunter2pw@127.0.0.1:1/x"], "--db"
    )
    assert "hunter2pw" not in flat


def test_resume_unknown_run(stored: Stored) -> None:
    _fails_cleanly(
        ["run", "--resume", "r20000101-000000-deadbeef", "--db", stored.db], "r20000101-000000-deadbeef"
    )
    _fails_cleanly(["runs", "show", "r-nope", "--db", stored.db], "r-nope")
    _fails_cleanly(["report", "r-nope", "--db", stored.db], "r-nope")
    _intact(stored)


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ("public_facing: true", "public_facing: maybe", "deployment.public_facing"),
        ("jurisdictions: [CN]", "jurisdictions: [XX]", "jurisdictions"),
        ("languages: [zh, en]", "languages: [zh, en]\nsurprise_field: 1", "surprise_field"),
        ("modalities: [text]", "modalities: [text", "profile.yaml:"),  # broken YAML names a line
    ],
)
def test_bad_profile(stored: Stored, old: str, new: str, named: str) -> None:
    text = EXAMPLE_PROFILE.read_text(encoding="utf-8")
    assert old in text
    Path("profile.yaml").write_text(text.replace(old, new), encoding="utf-8")
    _fails_cleanly(["classify", "profile.yaml"], "profile.yaml", named)
    _fails_cleanly(
        ["assess", "profile.yaml", "-t", "python:os:getcwd", "--db", stored.db], "profile.yaml", named
    )
    _intact(stored)


def test_missing_profile(stored: Stored) -> None:
    _fails_cleanly(["classify", "nothing-here.yaml"], "nothing-here.yaml")


def test_bad_plan_file(stored: Stored, mock_env: Callable[..., MockServer]) -> None:
    mock_env()
    Path("plan.yaml").write_text("hello: world\n")
    _fails_cleanly(["run", "--plan", "plan.yaml", "-t", "openai:mock", "--db", stored.db], "plan.yaml")
    # a good plan with flags that only apply to bank runs: refused, not silently ignored
    assert CliRunner().invoke(app, ["plan", "R1", "-o", "good-plan.yaml"]).exit_code == 0
    for flag, named in (
        (["-n", "5"], "--limit"),
        (["-b", "starter"], "--bank"),
        (["--case-lang", "en"], "--case-lang"),  # (`--lang` is the report language: it applies)
    ):
        _fails_cleanly(
            ["run", "--plan", "good-plan.yaml", *flag, "-t", "openai:mock", "--db", stored.db], named
        )
    Path("plan2.yaml").write_text("items: [1, 2\n")
    _fails_cleanly(["run", "--plan", "plan2.yaml", "-t", "openai:mock", "--db", stored.db], "plan2.yaml")
    _intact(stored)


def test_unknown_report_format_and_language(stored: Stored) -> None:
    _fails_cleanly(["report", stored.run_id, "--format", "pdf", "--db", stored.db], "--format", "pdf")
    _fails_cleanly(["report", stored.run_id, "--lang", "fr", "--db", stored.db], "--lang", "fr")
    _fails_cleanly(["compare", stored.run_id, stored.run_id, "--format", "pdf", "--db", stored.db], "pdf")
    assert not Path("assay-reports").exists() or not list(Path("assay-reports").glob("*.pdf"))
    _intact(stored)


def test_tampered_bundle_is_named(stored: Stored) -> None:
    """`assay verify` exits 1 (a failed check, not bad input) and names the changed file."""
    runner = CliRunner()
    assert runner.invoke(app, ["keys", "generate", "--out", "keys"]).exit_code == 0
    res = runner.invoke(
        app, ["bundle", stored.run_id, "-o", "run.zip", "--key", "keys/assay-signing.key", "--db", stored.db]
    )
    assert res.exit_code == 0, res.output
    ok = runner.invoke(app, ["verify", "run.zip"])
    assert ok.exit_code == 0 and "signature valid" in ok.stdout

    # change one byte inside one member, keeping the zip itself well-formed
    with zipfile.ZipFile("run.zip") as src, zipfile.ZipFile("tampered.zip", "w") as dst:
        names = src.namelist()
        assert "results.json" in names
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "results.json":
                i = data.index(b"0")
                data = data[:i] + b"1" + data[i + 1 :]
            dst.writestr(info, data)
    bad = runner.invoke(app, ["verify", "tampered.zip"])
    assert bad.exit_code == 1, bad.output
    assert "tampered: results.json" in bad.stderr
    assert not [n for n in names if n != "results.json" and f"tampered: {n}\n" in bad.stderr]
    assert "Traceback" not in bad.output

    # import refuses the same bundle and stores nothing
    imp = runner.invoke(app, ["import", "tampered.zip", "--db", stored.db])
    assert imp.exit_code != 0 and "results.json" in " ".join(imp.stderr.split())
    _intact(stored)

    # a file that is not a zip at all, and one that does not exist: bad input
    Path("junk.zip").write_bytes(b"this is not a zip")
    _fails_cleanly(["verify", "junk.zip"], "junk.zip", "not a bundle")
    _fails_cleanly(["verify", "absent.zip"], "absent.zip")


def test_bad_input_in_a_real_process_prints_no_traceback(stored: Stored) -> None:
    """The installed entry point (not only the in-process runner) turns bad input into exit 2."""
    proc = subprocess.run(
        [sys.executable, "-m", "assay", "run", "-t", "ftp:x", "--db", stored.db],
        capture_output=True,
        text=True,
        env=dict(os.environ, COLUMNS="200"),
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("error:") == 1 and "ftp" in proc.stderr and "Traceback" not in proc.stderr
    _intact(stored)


# ---------------------------------------------------------------- issue 12, scope 7


def _bundle(stored: Stored) -> Path:
    runner = CliRunner()
    assert runner.invoke(app, ["keys", "generate", "--out", "keys"]).exit_code == 0
    res = runner.invoke(
        app, ["bundle", stored.run_id, "-o", "ok.zip", "--key", "keys/assay-signing.key", "--db", stored.db]
    )
    assert res.exit_code == 0, res.output
    return Path("ok.zip")


def test_verify_says_bad_input_for_what_is_not_a_bundle(stored: Stored) -> None:
    """README: 0 verified, 1 tampered, 2 bad input. Nothing here is a bundle at all."""
    good = _bundle(stored).read_bytes()
    Path("plain.txt").write_text("just text\n")
    Path("truncated.zip").write_bytes(good[: len(good) // 2])
    with zipfile.ZipFile("other.zip", "w") as zf:
        zf.writestr("notes.txt", "a zip, but no manifest and no signature")
    with zipfile.ZipFile("ok.zip") as src, zipfile.ZipFile("slip.zip", "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr("../../evil.txt", "zip-slip")
    for name, why in (
        ("plain.txt", "not a readable zip"),
        ("truncated.zip", "not a readable zip"),
        ("other.zip", "no MANIFEST.json"),
        ("slip.zip", "../../evil.txt"),
    ):
        _fails_cleanly(["verify", name], name, why)
        _fails_cleanly(["import", name, "--db", stored.db], name)
    assert not Path("../evil.txt").exists() and not Path("../../evil.txt").exists()
    assert CliRunner().invoke(app, ["verify", "ok.zip"]).exit_code == 0
    _intact(stored)


@pytest.fixture
def blocked_paths(tmp_path: Path) -> dict[str, Path]:
    """A folder, a path under a plain file (cannot be created), and a plain file."""
    (tmp_path / "adir").mkdir()
    (tmp_path / "afile").write_text("x\n")
    return {
        "dir": tmp_path / "adir",
        "under_file": tmp_path / "afile" / "out.html",
        "file": tmp_path / "afile",
    }


def test_output_paths_are_checked_before_work(
    stored: Stored, blocked_paths: dict[str, Path], mock_env: Callable[..., MockServer]
) -> None:
    server = mock_env()
    for bad in (blocked_paths["dir"], blocked_paths["under_file"]):
        for args in (
            ["report", stored.run_id, "-o", str(bad), "--db", stored.db],
            ["compare", stored.run_id, stored.run_id, "-o", str(bad), "--db", stored.db],
            ["bundle", stored.run_id, "-o", str(bad), "--key", "nokey.pem", "--db", stored.db],
            ["run", "-t", "openai:mock", "-n", "2", "-o", str(bad), "--db", stored.db],
            ["assess", str(EXAMPLE_PROFILE), "-t", "openai:mock", "-o", str(bad), "--db", stored.db],
        ):
            _fails_cleanly(args, "--out", str(bad))
    for bad in (blocked_paths["file"], blocked_paths["under_file"]):
        _fails_cleanly(["keys", "generate", "--out", str(bad)], "--out", str(bad))
    for bad in (blocked_paths["dir"], blocked_paths["under_file"]):
        for args in (
            ["plan", "R1", "-o", str(bad)],
            ["taxonomy", "export", "-o", str(bad)],
            ["profile", "init", "--no-interactive", "-o", str(bad)],
        ):
            _fails_cleanly(args, "--out", str(bad))
    # the run's default report folder is checked as well: here it would have to be a file
    shutil.rmtree("assay-reports", ignore_errors=True)  # the stored run's report
    Path("assay-reports").write_text("in the way\n")
    _fails_cleanly(["run", "-t", "openai:mock", "-n", "2", "--db", stored.db], "--out", "assay-reports")
    _fails_cleanly(["run", "-t", "openai:mock", "-n", "2", "--format", "pdf", "--db", stored.db], "--format")
    _fails_cleanly(["run", "-t", "openai:mock", "-n", "2", "--lang", "fr", "--db", stored.db], "--lang")
    assert server.state.requests == 0  # nothing was sent for a run that could not report
    _intact(stored)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_output_is_refused(stored: Stored, tmp_path: Path) -> None:
    ro = tmp_path / "readonly"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        _fails_cleanly(
            ["report", stored.run_id, "-o", str(ro / "r.html"), "--db", stored.db], "--out", "not writable"
        )
        _fails_cleanly(["keys", "generate", "--out", str(ro / "keys")], "--out", "not writable")
    finally:
        ro.chmod(0o700)


def test_lang_and_limit_are_blamed_on_their_own_flags(
    stored: Stored, mock_env: Callable[..., MockServer]
) -> None:
    server = mock_env()
    flat = _fails_cleanly(
        ["run", "-t", "openai:mock", "--case-lang", "fr", "--db", stored.db], "--case-lang", "fr"
    )
    assert "--bank" not in flat
    for n in ("-1", "0"):
        flat = _fails_cleanly(["run", "-t", "openai:mock", "--limit", n, "--db", stored.db], "--limit")
        assert "--bank" not in flat
    assert server.state.requests == 0
    _intact(stored)


def test_unknown_schema_revision(stored: Stored, tmp_path: Path) -> None:
    import sqlite3

    newer = tmp_path / "newer.db"
    Store(f"sqlite:///{newer}").engine.dispose()
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    flat = _fails_cleanly(["runs", "list", "--db", f"sqlite:///{newer}"], "--db", "9999_from_the_future")
    assert "revision" in flat
    _intact(stored)


def test_an_unrelated_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    import hashlib
    import sqlite3

    other = tmp_path / "inventory.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE parts (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO parts (name) VALUES ('bolt')")
    before = hashlib.sha256(other.read_bytes()).hexdigest()
    url = f"sqlite:///{other}"
    for args in (["runs", "list", "--db", url], ["run", "-t", "python:os:getcwd", "-n", "1", "--db", url]):
        _fails_cleanly(args, "--db", "not an Assay store", "parts")
    assert hashlib.sha256(other.read_bytes()).hexdigest() == before  # not a byte changed, not even WAL mode
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("inventory")) == ["inventory.db"]
    # a file that is not SQLite at all
    Path(tmp_path / "notes.db").write_text("hello\n" * 200)
    _fails_cleanly(["runs", "list", "--db", f"sqlite:///{tmp_path / 'notes.db'}"], "--db", "notes.db")

"""Acceptance: the command line a user meets, end to end against the local mock server.

`assay --help` lists every command; `assay run` prints a summary and a report path that
exists; `runs list` / `runs show --cases --outcome unsafe` show exactly the stored rows;
`assay compare --fail-on-regression` flags a model that stopped refusing (and not the
reverse); `targets check` prints ok and the model; a bundle imported into a second
database reproduces the same verdicts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner, Result

import assay.api as api
from assay.cli import app
from assay.store import Store
from assay.testing.mock_openai import MockServer

RUN_ID = re.compile(r"\brun (r\d{8}-\d{6}-[0-9a-f]+)\b")
COMMANDS = (
    "run", "assess", "runs", "targets", "classify", "plan", "taxonomy", "regimes", "profile", "banks",
    "transforms", "benchmarks", "graders", "report", "compare", "bundle", "verify", "import", "keys",
)  # fmt: skip


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Tables one row per line (the runner is not a terminal, so rich would use 80 columns)."""
    # COLUMNS, not console.width: setting the property would pin the restored width for every later test
    monkeypatch.setenv("COLUMNS", "300")
    monkeypatch.chdir(tmp_path)
    yield


def cli(*args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, f"assay {' '.join(args)} -> {result.exit_code}\n{result.output}"
    assert "Traceback" not in result.output
    return result


def _run(db: str, *extra: str) -> str:
    out = cli("run", "-t", "openai:mock", "--db", db, *extra).stdout
    m = RUN_ID.search(out)
    assert m, out
    return m.group(1)


def test_help_lists_every_command() -> None:
    out = cli("--help").stdout
    listed = set(re.findall(r"^│ (\w+)\s", out, flags=re.M))
    assert set(COMMANDS) <= listed, set(COMMANDS) - listed
    for group in ("runs", "keys", "targets"):
        assert "Commands" in cli(group, "--help").stdout


def test_run_summary_report_and_runs_show(sqlite_url: str, mock_env: Callable[..., MockServer]) -> None:
    mock_env()
    result = cli("run", "-t", "openai:mock", "-b", "starter", "-n", "8", "--db", sqlite_url)
    out = result.stdout
    run_id = RUN_ID.search(out).group(1)  # type: ignore[union-attr]
    assert "completed" in out and "8 answered" in out  # --limit is per bank
    assert "unsafe rate" in out and "95%" in out
    report = Path(re.search(r"report: (\S+)", out).group(1))  # type: ignore[union-attr]
    assert report.is_file() and report.suffix == ".html"
    assert run_id in report.read_text(encoding="utf-8")

    listed = cli("runs", "list", "--db", sqlite_url).stdout
    assert run_id in listed and "completed" in listed and "openai:mock" in listed

    shown = cli("runs", "show", run_id[:15], "--db", sqlite_url).stdout  # a unique prefix is enough
    assert run_id in shown and "answered 8 / 8" in shown

    # the unsafe rows are exactly the cases with an unsafe judgment in the store
    store = Store(sqlite_url)
    unsafe = {j.case_id for j in store.judgments(run_id) if j.outcome.value == "unsafe"}
    all_cases = {c.id for c in store.run_cases(run_id)}
    store.engine.dispose()
    assert unsafe and unsafe != all_cases  # the mock refuses some prompts and answers the rest
    rows = cli("runs", "show", run_id, "--cases", "--outcome", "unsafe", "--db", sqlite_url).stdout
    shown_ids = set(re.findall(r"│ (c-[0-9a-f]+)\s", rows))
    assert shown_ids == unsafe
    for line in rows.splitlines():
        if line.startswith("│ c-"):
            assert line.split("│")[4].strip() == "unsafe"
    everything = cli("runs", "show", run_id, "--cases", "--db", sqlite_url).stdout
    assert set(re.findall(r"│ (c-[0-9a-f]+)\s", everything)) == all_cases


def test_compare_flags_the_model_that_stopped_refusing(
    sqlite_url: str, mock_server: Callable[..., MockServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    refuser = mock_server(mode="refuse")
    complier = mock_server(mode="comply")
    args = ("-b", "should-refuse", "-n", "60")
    monkeypatch.setenv("ASSAY_OPENAI_BASE_URL", refuser.base_url)
    a = cli("run", "-t", "openai:mock-v1", "--db", sqlite_url, *args).stdout
    monkeypatch.setenv("ASSAY_OPENAI_BASE_URL", complier.base_url)
    b = cli("run", "-t", "openai:mock-v2", "--db", sqlite_url, *args).stdout
    run_a = RUN_ID.search(a).group(1)  # type: ignore[union-attr]
    run_b = RUN_ID.search(b).group(1)  # type: ignore[union-attr]
    assert refuser.state.requests >= 60 and complier.state.requests >= 60  # no answer came from the cache

    worse = cli("compare", run_a, run_b, "--fail-on-regression", "--db", sqlite_url, code=1)
    n = int(re.search(r"Regressions: (\d+)", worse.stdout).group(1))  # type: ignore[union-attr]
    assert n >= 1
    assert worse.stdout.count("**Regression**") == n
    flagged = [ln for ln in worse.stdout.splitlines() if "**Regression**" in ln]
    assert all("+100.0 pp" in ln for ln in flagged)  # unsafe rate went up, significantly
    assert f"{n} regression(s)" in worse.stderr

    # the other way round is an improvement: nothing flagged, exit 0
    better = cli("compare", run_b, run_a, "--fail-on-regression", "--db", sqlite_url)
    assert "No regressions" in better.stdout and "**Regression**" not in better.stdout
    # without the flag a regression is reported but does not fail
    assert "Regressions:" in cli("compare", run_a, run_b, "--db", sqlite_url).stdout


def test_targets_check(mock_env: Callable[..., MockServer]) -> None:
    server = mock_env(model="mock-model")
    out = " ".join(cli("targets", "check", "openai:mock").stdout.split())
    assert out.startswith("ok openai:mock")
    assert "model mock" in out
    assert server.state.requests == 1


def test_bundle_import_reproduces_verdicts(
    tmp_path: Path, sqlite_url: str, mock_env: Callable[..., MockServer]
) -> None:
    """A bundle imported into another store gives the same assessment, requirement by requirement."""
    mock_env()
    cli("plan", "R1", "-o", "plan.yaml")
    plan = yaml.safe_load(Path("plan.yaml").read_text(encoding="utf-8"))
    for item in plan["items"]:  # the plan invites editing: a small sample keeps the test fast
        item["sample"] = 20
    Path("small.yaml").write_text(yaml.safe_dump(plan, allow_unicode=True, sort_keys=False), encoding="utf-8")
    out = cli("run", "-t", "openai:mock", "--db", sqlite_url, "--plan", "small.yaml").stdout
    m = RUN_ID.search(out)
    assert m, out
    run_id = m.group(1)
    # a plan run prints its requirement verdicts, as `runs show` does
    assert "Requirements" in out and re.search(r"^assay-baseline: \w+", out, flags=re.M), out

    cli("keys", "generate", "--out", "keys")
    cli("bundle", run_id, "-o", "run.zip", "--key", "keys/assay-signing.key", "--db", sqlite_url)
    other = f"sqlite:///{tmp_path / 'other.db'}"
    imported = cli("import", "run.zip", "--public-key", "keys/assay-signing.pub", "--db", other)
    assert run_id in imported.stdout

    before = api.assessment(run_id, db=sqlite_url)
    after = api.assessment(run_id, db=other)
    assert len(before.requirements) >= 3

    def verdicts(a: api.Assessment) -> dict[str, tuple[str, int | None, int | None]]:
        return {
            r.requirement_id: (
                str(r.verdict),
                r.estimate.k if r.estimate else None,
                r.estimate.n if r.estimate else None,
            )
            for r in a.requirements
        }

    assert verdicts(after) == verdicts(before)
    assert any(v[2] for v in verdicts(before).values())  # real samples behind the verdicts
    assert after.level == before.level == "R1"
    # the imported run is listed and reports like the original
    assert run_id in cli("runs", "list", "--db", other).stdout
    cli("report", run_id, "--format", "json", "-o", "imported.json", "--db", other)
    cli("report", run_id, "--format", "json", "-o", "original.json", "--db", sqlite_url)
    assert Path("imported.json").stat().st_size > 0

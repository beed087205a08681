"""The CLI and the Python API are twins, and the CLI is consistent: every command has a
typed API function with the same options, `--version`, help grouped into panels with
readable metavars, deprecated spellings still accepted with a note, bad input exit 2."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

import assay
from assay import api
from assay.cli import PANELS, app

runner = CliRunner()

#: every CLI command (path) → its API function. A new command without an entry fails
#: `test_every_cli_command_has_an_api_twin`: add its API function, then the entry.
TWINS: dict[str, str] = {
    "run": "run",  # --resume: api.resume
    "assess": "assess",
    "plugins": "plugins",
    "config show": "show_config",
    "calibrate": "calibrate",
    "regimes": "regimes_on",
    "classify": "classify_profile",
    "plan": "plan",
    "report": "write_report",
    "compare": "compare",  # rendering: api.render_comparison
    "bundle": "bundle",
    "verify": "verify_bundle",
    "import": "import_bundle",
    "view": "view_app",
    "runs list": "list_runs",
    "runs show": "run_details",  # with api.summary, api.assessment, api.case_rows, api.corrected
    "targets check": "check_target",
    "taxonomy": "taxonomy",
    "taxonomy export": "taxonomy",
    "profile init": "profile_template",
    "banks list": "bank_coverage",
    "banks categories": "category_coverage",
    "banks validate": "validate_bank",
    "banks show": "get_bank",
    "banks add": "register_bank",
    "transforms list": "list_transforms",
    "transforms apply": "apply_transforms",
    "benchmarks list": "list_benchmarks",
    "benchmarks load": "load_benchmark",
    "benchmarks fetch": "fetch_benchmark",
    "keywords coverage": "keyword_library",
    "keywords match": "keyword_library",
    "graders list": "list_graders",
    "graders validate": "validate_grader",
    "graders roc": "grader_roc",
    "labels check": "check_labels",
    "keys generate": "generate_keys",
    "keys trust": "trust_key",
    "keys list": "trusted_keys",
    "keys untrust": "untrust_key",
    "reviews export": "review_labels",
    "reviews spot-check": "spot_check",
}


def _commands(cmd: Any = None, path: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    """(path, click command) of every command, groups included."""
    cmd = cmd if cmd is not None else typer.main.get_command(app)
    if path:
        yield " ".join(path), cmd
    for name, sub in getattr(cmd, "commands", {}).items():
        yield from _commands(sub, (*path, name))


def _leaves() -> list[str]:
    return [p for p, c in _commands() if not getattr(c, "commands", None)]


def test_every_cli_command_has_an_api_twin() -> None:
    leaves = _leaves()
    assert len(leaves) >= 35
    missing = [p for p in leaves if p not in TWINS]
    assert not missing, f"CLI commands without an API twin in TWINS: {missing}"
    for path, name in TWINS.items():
        fn = getattr(api, name, None)
        assert callable(fn), f"{path}: assay.api.{name} does not exist"
        assert name in api.__all__, f"{path}: assay.api.{name} is not exported"


def test_api_functions_are_typed_without_catch_all_kwargs() -> None:
    for name in api.__all__:
        fn = getattr(api, name)
        if not inspect.isfunction(fn) or fn.__module__ != "assay.api":
            continue
        sig = inspect.signature(fn)
        kinds = {p.kind for p in sig.parameters.values()}
        assert inspect.Parameter.VAR_KEYWORD not in kinds, f"api.{name} takes **kwargs"
        untyped = [p.name for p in sig.parameters.values() if p.annotation is inspect.Parameter.empty]
        assert not untyped, f"api.{name}: untyped parameters {untyped}"


#: CLI option name → API parameter name, where they are spelt differently
_RENAMED = {
    "case_lang": "languages",
    "chain": "chains",
    "regime": "regimes",
    "bank": "banks",
    "grader": "graders",
    "deadline": "case_deadline_s",
    "no_cache": "use_cache",
    "request_timeout": "request_timeout_s",
}
#: CLI-only options: deprecated spellings, and what the API offers through another function
_CLI_ONLY = {
    "help",
    "legacy_lang",
    "legacy_languages",
    "legacy_output",
    "legacy_report_lang",
    "lang",
    "output",
    "report",
    "resume",
    "retry_errors",
    "force_target",
}
#: options a command's API twin leaves to a companion function
_COMPANIONS: dict[str, tuple[Any, ...]] = {
    "run": (api.write_report, api.resume),
    "compare": (api.render_comparison,),
}
_EXTRA = {
    "run": {"report_format": "fmt", "report_lang": "lang"},
    "import": {"bundle": "path"},
    "verify": {"bundle": "path"},
}


@pytest.mark.parametrize(
    "command", ["run", "assess", "calibrate", "plan", "compare", "bundle", "import", "verify"]
)
def test_cli_options_are_the_api_parameters(command: str) -> None:
    cmd = dict(_commands())[command]
    params = set(inspect.signature(getattr(api, TWINS[command])).parameters)
    for companion in _COMPANIONS.get(command, ()):
        params |= set(inspect.signature(companion).parameters)
    renamed = _RENAMED | _EXTRA.get(command, {})
    for p in cmd.params:
        if p.name in _CLI_ONLY or (command == "compare" and p.name in ("out", "fail_on_regression")):
            continue
        assert renamed.get(p.name, p.name) in params, (
            f"`assay {command}` option {p.name!r} has no parameter in api.{TWINS[command]}"
        )


def test_version() -> None:
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0
    assert res.output.strip() == f"assay {assay.__version__}"
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", assay.__version__)


@pytest.mark.parametrize("columns", ["60", "300"])
def test_help_is_grouped_into_panels(columns: str) -> None:
    res = runner.invoke(app, ["--help"], env={"COLUMNS": columns})
    assert res.exit_code == 0
    assert "Commands" not in res.output  # no command left in typer's default flat panel
    where = [res.output.index(panel) for panel in PANELS]
    assert where == sorted(where), "panels appear in workflow order"
    top = {p for p, _ in _commands() if " " not in p}
    assert top <= {c for names in PANELS.values() for c in names}, "every top-level command has a panel"


def test_help_metavars_are_readable() -> None:
    for path, _cmd in _commands():
        res = runner.invoke(app, [*path.split(), "--help"], env={"COLUMNS": "300"})
        assert res.exit_code == 0, (path, res.output)
        for python_type in ("<list[", "<str>", "<int", "<float", "<bool>", "<path>", "<Path"):
            assert python_type not in res.output, f"`assay {path} --help` shows {python_type}"
    out = runner.invoke(app, ["run", "--help"], env={"COLUMNS": "300"}).output
    assert re.search(r"--db\s+URL", out) and re.search(r"--case-lang\s+LANG", out)
    assert re.search(r"--plan\s+PATH", out) and re.search(r"--target\s+-t\s+SPEC", out)
    assert "RUN_ID" in runner.invoke(app, ["report", "--help"], env={"COLUMNS": "300"}).output


def test_deprecated_spellings_still_work_with_one_note(tmp_path: Path) -> None:
    from assay.levels import load_plan

    out = tmp_path / "plan.yaml"
    res = runner.invoke(app, ["plan", "R1", "--languages", "en", "--output", str(out)])
    assert res.exit_code == 0, res.output
    assert "deprecated: --languages — use --case-lang" in res.stderr
    assert "deprecated: --output — use --out" in res.stderr
    assert all(item.languages == ("en",) for item in load_plan(out).items)
    # the new spellings: no note; lists repeatable or comma-separated alike
    res = runner.invoke(app, ["plan", "R1", "--case-lang", "zh,en", "-o", str(out)])
    assert res.exit_code == 0 and "deprecated" not in res.stderr
    assert {lang for item in load_plan(out).items for lang in item.languages} == {"zh", "en"}
    # run's case-language filter is --case-lang; a bad value is named there
    db = f"sqlite:///{tmp_path / 'x.db'}"
    res = runner.invoke(
        app, ["run", "--case-lang", "fr", "-t", "replay:nope.jsonl", "--no-report", "--db", db]
    )
    assert res.exit_code == 2 and "deprecated" not in res.stderr
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "--case-lang" in errors[0] and "fr" in errors[0]
    # run's old report-language flag: same meaning, one note, the error names the new flag (--lang)
    res = runner.invoke(app, ["run", "--report-lang", "fr", "-t", "replay:nope.jsonl", "--db", db])
    assert res.exit_code == 2
    assert res.stderr.count("deprecated: --report-lang — use --lang") == 1
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "--lang" in errors[0] and "fr" in errors[0]
    # the deprecated spellings are hidden from the help; --lang is the report language
    help_text = runner.invoke(app, ["run", "--help"], env={"COLUMNS": "300"}).output
    assert "--case-lang" in help_text and "--report-lang" not in help_text
    assert re.search(r"--lang\s+LANG\s+Report language", help_text)


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["report", "r1", "--format", "pdf"], "--format"),
        (["compare", "a", "b", "--adjust", "sometimes"], "--adjust"),
        (["runs", "show", "r1", "--outcome", "maybe"], "--outcome"),
        (["runs", "show", "r1", "--by", "category,colour"], "--by"),
        (["regimes", "--level", "R9"], "--level"),
        (["plan", "R1", "--case-lang", "fr"], "--case-lang"),
        (["transforms", "apply", "--chain", "base64"], "--case-text"),
        (["banks", "show", "no-such-bank"], "BANK"),
        (["graders", "validate", "refusal", "--name", "x"], "--name"),
        (["verify", "no-such.zip"], "no-such.zip"),
        (["assess", "cn-public-chatbot", "--lang", "fr"], "--lang"),
        (["assess", "cn-public-chatbot", "--report-lang", "fr"], "--lang"),
    ],
)
def test_bad_input_exits_2_with_one_message(args: list[str], named: str, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    if args[0] in ("report", "compare", "runs", "banks", "assess"):
        args = [*args, "--db", db]
    res = runner.invoke(app, args, env={"COLUMNS": "300"})
    assert res.exit_code == 2, res.output
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and named in errors[0], res.stderr
    assert "Traceback" not in res.output

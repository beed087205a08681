"""Settings: ASSAY_HOME, the config file and where each default comes from (issue 13, core
configuration). A bad file is one error naming the file and key, exit 2; a flag beats an
ASSAY_* variable, which beats the file, which beats the built-in default."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from assay import api
from assay.cli import app
from assay.core import config
from assay.core.errors import InputError

runner = CliRunner()


def _write(home: Path, text: str) -> Path:
    path = home / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _errors(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.startswith("error:")]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('target = "openai:x"\ncolour = "blue"\n', "colour"),
        ("concurrency = 0\n", "concurrency"),
        ('lang = "fr"\n', "lang"),
        ('[targets.m]\nbase_url = "http://x"\napi_key = "sk-inline"\n', "targets.m.api_key"),
        ("target = \n", "invalid TOML"),
    ],
)
def test_a_bad_config_file_exits_2_naming_the_file_and_key(
    _isolated_home: Path, text: str, key: str, tmp_path: Path
) -> None:
    path = _write(_isolated_home, text)
    for args in (["config", "show"], ["runs", "list", "--db", f"sqlite:///{tmp_path / 'x.db'}"]):
        res = runner.invoke(app, args)
        assert res.exit_code == 2, res.output
        (line,) = _errors(res.stderr)
        assert str(path) in line and key in line, line
        assert "Traceback" not in res.output
    with pytest.raises(InputError, match=key.split(".")[-1]):
        config.load_config_file()


def test_a_command_help_needs_no_valid_config(_isolated_home: Path) -> None:
    _write(_isolated_home, "colour = 1\n")
    res = runner.invoke(app, ["run", "--help"])
    assert res.exit_code == 0 and "--target" in res.output


def test_precedence_flag_env_file_default(_isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert config.setting("concurrency") == config.Setting(
        "concurrency", 16, "default", config.DEFAULTS["concurrency"][1]
    )
    path = _write(_isolated_home, 'concurrency = 4\nlang = "ZH"\nlog_level = "INFO"\n')
    assert (config.setting("concurrency").value, config.setting("concurrency").source) == (4, str(path))
    assert config.default_lang() == "zh" and config.log_level() == "info"
    monkeypatch.setenv("ASSAY_CONCURRENCY", "9")
    assert config.setting("concurrency").source == "env ASSAY_CONCURRENCY"
    assert config.default_concurrency() == 9
    assert config.default_concurrency(2) == 2  # the flag / argument wins
    monkeypatch.setenv("ASSAY_CONCURRENCY", "lots")
    with pytest.raises(InputError, match="ASSAY_CONCURRENCY"):
        config.default_concurrency()


def test_config_show_lists_every_value_with_its_source_and_hides_passwords(
    _isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(
        _isolated_home,
        'target = "openai:m"\ndb = "postgresql+psycopg://assay:hunter2-pw@db/assay"\n'
        '[targets.m]\nbase_url = "http://127.0.0.1:9/v1"\napi_key_env = "M_KEY"\n',
    )
    monkeypatch.setenv("ASSAY_LANG", "zh")
    res = runner.invoke(app, ["config", "show", "--json"])
    assert res.exit_code == 0, res.output
    rows = {r["key"]: r for r in json.loads(res.stdout)}
    assert (rows["target"]["value"], rows["target"]["source"]) == ("openai:m", str(path))
    assert (rows["lang"]["value"], rows["lang"]["source"]) == ("zh", "env ASSAY_LANG")
    assert (rows["concurrency"]["value"], rows["concurrency"]["source"]) == (16, "default")
    assert rows["home"]["value"] == str(_isolated_home)
    assert rows["targets.m"]["value"] == {"base_url": "http://127.0.0.1:9/v1", "api_key_env": "M_KEY"}
    assert "hunter2-pw" not in res.output and "[REDACTED]" in rows["db"]["value"]
    # the table and the API show the same
    table = runner.invoke(app, ["config", "show"])
    assert table.exit_code == 0 and "env ASSAY_LANG" in table.stdout and "hunter2-pw" not in table.stdout
    assert [s.key for s in api.show_config()] == list(rows)


def test_the_config_file_sets_the_defaults_commands_use(
    _isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assay.store.db import default_url

    db = tmp_path / "from-config.db"
    missing = tmp_path / "missing.jsonl"
    _write(_isolated_home, f'target = "replay:{missing}"\ndb = "sqlite:///{db}"\nlang = "zh"\n')
    assert default_url() == f"sqlite:///{db}"
    # run without -t: the configured target (a replay file that is not there) is the one used
    res = runner.invoke(app, ["run", "--no-report", "-n", "1"])
    assert res.exit_code == 2 and len(_errors(res.stderr)) == 1
    assert str(missing) in " ".join(res.stderr.split())
    # ASSAY_DB still wins over the file
    monkeypatch.setenv("ASSAY_DB", f"sqlite:///{tmp_path / 'env.db'}")
    assert default_url().endswith("env.db")
    # the configured language is the report language of assess (no --lang given)
    seen = _capture_assess(monkeypatch)
    res = runner.invoke(app, ["assess", "cn-public-chatbot"])
    assert res.exit_code == 0, res.output
    assert seen["report_lang"] == "zh"


def test_the_older_yaml_file_still_names_target_endpoints(
    _isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assay.targets.config import TargetConfig

    (_isolated_home / "config.yaml").write_text(
        "targets:\n  m:\n    base_url: http://127.0.0.1:9/v1\n    api_key_env: M_KEY\nother: ignored\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("M_KEY", "k-123456")
    assert config.config_path() == _isolated_home / "config.yaml"
    c = TargetConfig.for_openai("m")
    assert (c.base_url, c.api_key) == ("http://127.0.0.1:9/v1", "k-123456")
    _write(_isolated_home, '[targets.m]\nbase_url = "http://toml/v1"\n')  # config.toml wins
    assert TargetConfig.for_openai("m").base_url == "http://toml/v1"


def test_assay_config_naming_a_missing_file_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSAY_CONFIG", str(tmp_path / "nope.toml"))
    res = runner.invoke(app, ["config", "show"])
    assert res.exit_code == 2
    (line,) = _errors(res.stderr)
    assert "ASSAY_CONFIG" in line and "nope.toml" in line


# ------------------------------------------------------------------ --lang on run / assess


def _capture_assess(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """`api.assess` replaced by a recorder (the CLI's wiring is what is tested)."""
    seen: dict[str, Any] = {}

    def fake(profile: Any, target: Any = None, **kwargs: Any) -> Any:
        seen.update(kwargs, target=target)
        return SimpleNamespace(run=None)

    monkeypatch.setattr(api, "assess", fake)
    return seen


@pytest.mark.parametrize(
    ("args", "lang", "note"),
    [
        (["--lang", "zh"], "zh", False),
        (["--report-lang", "zh"], "zh", True),
        ([], "en", False),
        (["--case-lang", "zh", "--lang", "en"], "en", False),
    ],
)
def test_lang_on_assess_is_the_report_language(
    args: list[str], lang: str, note: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _capture_assess(monkeypatch)
    res = runner.invoke(app, ["assess", "cn-public-chatbot", *args])
    assert res.exit_code == 0, res.output
    assert seen["report_lang"] == lang
    assert res.stderr.count("deprecated: --report-lang — use --lang") == (1 if note else 0)
    if "--case-lang" in args:
        assert seen["languages"] == ["zh"]


def test_a_case_language_list_given_to_lang_says_where_case_languages_go(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _capture_assess(monkeypatch)
    res = runner.invoke(app, ["assess", "cn-public-chatbot", "--lang", "zh,en"])
    assert res.exit_code == 2
    (line,) = _errors(res.stderr)
    assert "--lang" in line and "--case-lang" in line

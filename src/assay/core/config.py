"""Where Assay keeps its files, and the defaults a user sets once: the one place for both.

`ASSAY_HOME` (default `~/.assay`) holds the database, the trusted keys, converted models
and the optional config file `$ASSAY_HOME/config.toml` (`$ASSAY_CONFIG` names another):

    target = "openai:gpt-4o-mini"    # default --target of run / assess
    judge = "openai:gpt-4o"          # default --judge of run / assess
    concurrency = 8                  # default --concurrency
    lang = "zh"                      # default output and report language (--lang)
    db = "postgresql+psycopg://assay@db/assay"   # default --db
    log_level = "info"               # debug | info | warning | error

    [targets.gpt-4o-mini]            # where an openai:<model> target is served
    base_url = "http://127.0.0.1:8000/v1"
    api_key_env = "MY_KEY"           # the variable that holds the key, never the key itself

Each value comes from, first to last: the command-line flag (or the API argument), the
environment variable `ASSAY_<KEY>` (`ASSAY_TARGET`, `ASSAY_JUDGE`, `ASSAY_CONCURRENCY`,
`ASSAY_LANG`, `ASSAY_DB`, `ASSAY_LOG_LEVEL`), the config file, the built-in default.
`effective()` lists every value with where it came from (`assay config show`).

The file is read with tomllib and validated by pydantic: an unknown key or a bad value is
one InputError naming the file and the key (exit 2). A `config.yaml` (the older file,
which held only `targets:`) is still read when `ASSAY_CONFIG` names one, or when
`$ASSAY_HOME` has no config.toml; only its `targets` are used.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assay.core.errors import InputError

log = logging.getLogger(__name__)

LogLevel = Literal["debug", "info", "warning", "error"]
LOG_LEVELS: tuple[str, ...] = ("debug", "info", "warning", "error")


def assay_home() -> Path:
    """`$ASSAY_HOME`, else `~/.assay`: where the database, keys and models live."""
    return Path(os.environ.get("ASSAY_HOME") or Path.home() / ".assay")


def config_path() -> Path:
    """The config file read: `$ASSAY_CONFIG`, else `$ASSAY_HOME/config.toml` (else, when
    only that exists, the older `$ASSAY_HOME/config.yaml`)."""
    named = os.environ.get("ASSAY_CONFIG")
    if named:
        return Path(named).expanduser()
    home = assay_home()
    toml, yaml = home / "config.toml", home / "config.yaml"
    return yaml if yaml.exists() and not toml.exists() else toml


class TargetEntry(BaseModel):
    """Where one `openai:<model>` target is served (`[targets.<model>]`, or `[targets.default]`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str | None = None
    api_key_env: str | None = None  # the variable holding the key: the file never holds a key
    timeout_s: float = Field(default=120.0, gt=0)
    extra_body: dict[str, Any] = Field(default_factory=dict)


class ConfigFile(BaseModel):
    """The config file's keys; each default-valued key may be left out."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    target: str | None = None
    judge: str | None = None
    concurrency: int | None = Field(default=None, ge=1)
    lang: Literal["en", "zh"] | None = None
    db: str | None = None
    log_level: LogLevel | None = None
    targets: dict[str, TargetEntry] = Field(default_factory=dict)

    @field_validator("log_level", "lang", mode="before")
    @classmethod
    def _lower(cls, v: Any) -> Any:
        return v.strip().lower() if isinstance(v, str) else v


#: key → (built-in default, what it sets); the order `assay config show` lists them in
DEFAULTS: dict[str, tuple[Any, str]] = {
    "target": ("local:smollm2", "default --target of run and assess"),
    "judge": (None, "default --judge (LLM judge for llm-judge / ensemble graders)"),
    "concurrency": (16, "default --concurrency (most requests in flight)"),
    "lang": ("en", "default output and report language (--lang)"),
    "db": (None, "default --db (none: sqlite:///$ASSAY_HOME/assay.db)"),
    "log_level": ("warning", "log level on stderr (-v / -q override it)"),
}


def env_var(key: str) -> str:
    return f"ASSAY_{key.upper()}"


# ------------------------------------------------------------------ reading the file

_cache: dict[tuple[str, int, int], ConfigFile] = {}


def load_config_file(path: Path | None = None) -> ConfigFile:
    """The config file, validated (an empty ConfigFile when there is none)."""
    p = path or config_path()
    try:
        st = p.stat()
    except FileNotFoundError:
        if os.environ.get("ASSAY_CONFIG") and path is None:
            raise InputError("config file not found", where=f"ASSAY_CONFIG={p}") from None
        return ConfigFile()
    except OSError as exc:
        raise InputError(f"cannot read the config file: {exc}", where=str(p)) from exc
    key = (str(p), st.st_mtime_ns, st.st_size)
    if key not in _cache:
        _cache.clear()
        _cache[key] = _parse(p)
        log.debug("config: read %s", p)
    return _cache[key]


def _parse(p: Path) -> ConfigFile:
    from assay.core.io import parse_toml, parse_yaml, read_text_file, validation_input_error

    text = read_text_file(p)
    if p.suffix.lower() in (".yaml", ".yml"):
        raw = parse_yaml(text, str(p))
        targets = raw.get("targets") if isinstance(raw, dict) else None
        data: dict[str, Any] = {"targets": targets} if isinstance(targets, dict) else {}
    else:
        data = parse_toml(text, str(p))
    try:
        return ConfigFile.model_validate(data)
    except ValidationError as exc:
        raise _named(validation_input_error(exc, str(p))) from exc


def _named(err: InputError) -> InputError:
    """Pydantic calls an unknown key "Extra inputs are not permitted": say it plainly."""
    text = str(err).replace(
        "Extra inputs are not permitted",
        f"unknown key (known: {', '.join([*DEFAULTS, 'targets'])}; targets.<model>: "
        f"{', '.join(TargetEntry.model_fields)})",
    )
    return InputError(text.removeprefix(f"{err.where}: "), where=err.where)


def _from_env(key: str) -> Any:
    raw = os.environ.get(env_var(key))
    if raw is None or raw == "":
        return None
    try:
        return getattr(ConfigFile.model_validate({key: raw}), key)
    except ValidationError as exc:
        msg = exc.errors(include_url=False)[0].get("msg", "invalid")
        raise InputError(str(msg), where=env_var(key)) from exc


# ------------------------------------------------------------------ effective values


@dataclass(frozen=True)
class Setting:
    """One effective value and where it came from: `env ASSAY_X`, the file, or `default`."""

    key: str
    value: Any
    source: str
    description: str = ""


def setting(key: str) -> Setting:
    """The effective value of `key` (see the module doc for the precedence)."""
    if key not in DEFAULTS:
        raise KeyError(key)
    default, what = DEFAULTS[key]
    env = _from_env(key)
    if env is not None:
        return Setting(key, env, f"env {env_var(key)}", what)
    path = config_path()
    value = getattr(load_config_file(), key)
    if value is not None:
        return Setting(key, value, str(path), what)
    return Setting(key, default, "default", what)


def effective() -> list[Setting]:
    """Every setting with its source, plus where Assay's home and config file are."""
    home_src = "env ASSAY_HOME" if os.environ.get("ASSAY_HOME") else "default"
    path = config_path()
    file_src = "env ASSAY_CONFIG" if os.environ.get("ASSAY_CONFIG") else "default"
    rows = [
        Setting("home", str(assay_home()), home_src, "where the database, keys and models live"),
        Setting(
            "config_file",
            str(path) + ("" if path.exists() else " (none)"),
            file_src,
            "the file these defaults are read from",
        ),
    ]
    rows += [setting(k) for k in DEFAULTS]
    targets = load_config_file().targets
    rows += [
        Setting(f"targets.{model}", entry.model_dump(exclude_defaults=True), str(path), "openai endpoint")
        for model, entry in targets.items()
    ]
    return rows


def target_entry(model: str) -> TargetEntry | None:
    """The config file's endpoint for `openai:<model>` (or its `default` entry), if any."""
    targets = load_config_file().targets
    return targets.get(model, targets.get("default"))


def default_target(given: str | None = None) -> str:
    return given if given is not None else str(setting("target").value)


def default_judge(given: str | None = None) -> str | None:
    if given is not None:
        return given
    value = setting("judge").value
    return None if value is None else str(value)


def default_concurrency(given: int | None = None) -> int:
    return given if given is not None else int(setting("concurrency").value)


def default_lang(given: str | None = None) -> str:
    return given if given is not None else str(setting("lang").value)


def configured_db() -> str | None:
    """The database the user named (`ASSAY_DB` or the file's `db`), else None."""
    value = setting("db").value
    return None if value is None else str(value)


def default_db_url() -> str:
    """`ASSAY_DB`, else the file's `db`, else SQLite in `$ASSAY_HOME`."""
    return configured_db() or f"sqlite:///{assay_home() / 'assay.db'}"


def log_level() -> str:
    return str(setting("log_level").value)


__all__ = [
    "DEFAULTS",
    "LOG_LEVELS",
    "ConfigFile",
    "Setting",
    "TargetEntry",
    "assay_home",
    "config_path",
    "configured_db",
    "default_concurrency",
    "default_db_url",
    "default_judge",
    "default_lang",
    "default_target",
    "effective",
    "env_var",
    "load_config_file",
    "log_level",
    "setting",
    "target_entry",
]

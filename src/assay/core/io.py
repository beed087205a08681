"""Reading packaged and user data files (YAML, JSON, TOML) with errors that name the file,
line and field.

Shared by every stage that reads a document (taxonomy, regimes, levels, the config file):
a syntax error becomes an `InputError` naming the file and line; a pydantic validation
error becomes an `InputError` naming the file and every failing field path
(e.g. `users.minors`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from assay.core.errors import InputError

M = TypeVar("M", bound=BaseModel)

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: same results, faster


def parse_yaml(text: str, where: str) -> Any:
    """Parse YAML text; a syntax error names `where` and the line."""
    try:
        return yaml.load(text, Loader=_Loader)  # a safe loader (C or pure Python)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise InputError(f"invalid YAML: {exc.problem or exc}", where=f"{where}{line}") from exc
    except yaml.YAMLError as exc:
        raise InputError(f"invalid YAML: {exc}", where=where) from exc


def read_text_file(path: str | Path) -> str:
    """A user file's text (UTF-8); a missing or unreadable file is an InputError naming it."""
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError("file not found", where=str(p)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read file: {exc}", where=str(p)) from exc


def read_yaml_file(path: str | Path) -> Any:
    return parse_yaml(read_text_file(path), str(path))


def parse_json(text: str, where: str) -> Any:
    """Parse JSON text; a syntax error names `where`, the line and the column."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not valid JSON: {exc.msg} (column {exc.colno})", where=f"{where}:{exc.lineno}"
        ) from exc


def read_json_file(path: str | Path) -> Any:
    return parse_json(read_text_file(path), str(path))


def parse_jsonl(text: str, where: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of a JSONL text; a line that is not
    JSON, or not a JSON object, is an InputError naming `where` and the line."""
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"not valid JSON: {exc.msg} (column {exc.colno})", where=f"{where}:{lineno}"
            ) from exc
        if not isinstance(obj, dict):
            raise InputError("each line must be a JSON object", where=f"{where}:{lineno}")
        yield lineno, obj


def parse_toml(text: str, where: str) -> dict[str, Any]:
    """Parse TOML text; a syntax error names `where` (tomllib's message carries the line)."""
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"invalid TOML: {exc}", where=where) from exc


def read_toml_file(path: str | Path) -> dict[str, Any]:
    return parse_toml(read_text_file(path), str(path))


def field_path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


class FieldInputError(InputError):
    """An InputError for a document that failed validation; `fields` lists the failing paths."""

    def __init__(self, errors: list[tuple[str, str]], where: str) -> None:
        self.fields = [path for path, _ in errors]
        first_path, first_msg = errors[0] if errors else ("(top level)", "invalid")
        more = "".join(f"\n{where}: {path}: {msg}" for path, msg in errors[1:])
        super().__init__(f"{first_path}: {first_msg}{more}", where=where)


def validation_input_error(exc: ValidationError, where: str, prefix: tuple[str, ...] = ()) -> FieldInputError:
    """One `InputError` listing every failing field as `where: field.path: message`."""
    errors = [
        (field_path(prefix + tuple(err.get("loc", ()))), str(err.get("msg", "invalid")))
        for err in exc.errors(include_url=False)
    ]
    return FieldInputError(errors, where)


def validate_as(model: type[M], data: Any, where: str) -> M:
    """Validate `data` with `model`; failures become an InputError naming `where` and fields."""
    if data is None:
        raise InputError("the file is empty", where=where)
    if not isinstance(data, dict):
        raise InputError(f"expected a mapping at the top level, got {type(data).__name__}", where=where)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_input_error(exc, where) from exc

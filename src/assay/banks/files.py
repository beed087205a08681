"""User bank files: JSONL, YAML and CSV → Bank, with errors reported by line.

One record per case. Fields (all formats):

| field | required | meaning |
|---|---|---|
| `prompt` | one of prompt / messages | the user turn |
| `messages` | one of prompt / messages | list of `{role, content}`; the last must be a user turn |
| `system` | no | a system prompt put before `prompt` |
| `followups` | no | further user turns (multi-turn) |
| `language` | yes | `zh` or `en` |
| `expected` | yes | refuse, comply, safe, safe_completion, no_leak, ... |
| `categories` | no | unified category ids (`AS-01`, `TS-04`, ...) |
| `risks` | no | TC260-003 Appendix A ids (`A.1.a` ... `A.5.b`) |
| `persona` | no | normal (default), unskilled, skilled, minor, vulnerable, or your own word |
| `difficulty` | no | easy, medium (default), hard |
| `group` | no | cases compared with each other (paraphrase / counterfactual sets) |
| `metadata` | no | a mapping (a JSON object in CSV); `aspect`, `gold`, `canary`, ... |
| `id` | no | your own label, kept as `metadata.source_id` (the case id is always the content hash) |

* JSONL: one JSON object per line; blank lines and lines starting with `#` are skipped.
* YAML: either a list of cases, or a mapping with `cases:` and optional `id`, `version`,
  `title`, `description`. Line numbers come from the YAML node marks.
* CSV: a header row; `categories`, `risks` and `followups` are separated by `;` or `|`
  (categories and risks may also use `,`), `messages` and `metadata` are JSON. Row N
  of data is reported as line N+1 (the header is line 1).

`validate_bank_file` returns every error; `load_bank_file` raises `InputError` naming
`file:line: field: message` of the first one.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from assay.core.errors import InputError
from assay.core.ids import sha256_hex
from assay.core.types import EXPECTED_VALUES, LANGUAGES, Bank, Case, Message, StoredCase, bank_content_hash

TC260_RISK_RE = re.compile(r"^A\.[1-5]\.[a-i]$")
CATEGORY_RE = re.compile(r"^(AS|TS)-\d\d$")
DIFFICULTIES = ("easy", "medium", "hard")
ROLES = ("system", "user", "assistant")
FIELDS = (
    "prompt",
    "messages",
    "system",
    "followups",
    "language",
    "expected",
    "categories",
    "risks",
    "persona",
    "difficulty",
    "group",
    "metadata",
    "id",
)
HEADER_FIELDS = ("id", "version", "title", "description", "private", "cases")
FORMATS = ("jsonl", "yaml", "csv")
_BANK_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class BankFileError:
    """One problem in a bank file; `line` is 1-based (None when the file as a whole is wrong)."""

    path: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


@dataclass
class _Record:
    line: int
    data: dict[str, Any]
    lines: dict[str, int] = field(default_factory=dict)  # field -> line, where known

    def line_of(self, name: str) -> int:
        return self.lines.get(name, self.line)


@dataclass
class _Parsed:
    header: dict[str, Any]
    records: list[_Record]
    errors: list[BankFileError]


# --------------------------------------------------------------------------- readers


def detect_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix in (".yaml", ".yml"):
        return "yaml"
    if suffix == ".csv":
        return "csv"
    raise InputError(f"unknown bank file type {suffix!r}; use .jsonl, .yaml/.yml or .csv", where=str(path))


def _read_jsonl(text: str, where: str) -> _Parsed:
    errors: list[BankFileError] = []
    records = list(_iter_jsonl(text, where, errors))
    return _Parsed({}, records, errors)


def _iter_jsonl(text: str, where: str, errors: list[BankFileError]) -> Iterator[_Record]:
    """The records of a JSONL text, one line at a time; problems go to `errors`."""
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            errors.append(BankFileError(where, n, None, f"not valid JSON ({e.msg} at column {e.colno})"))
            continue
        if not isinstance(obj, dict):
            errors.append(
                BankFileError(where, n, None, f"each line must be a JSON object, got {type(obj).__name__}")
            )
            continue
        yield _Record(n, obj)


def _split_list(value: str, commas: bool) -> list[str]:
    pattern = r"[;|,]" if commas else r"[;|]"
    return [p.strip() for p in re.split(pattern, value) if p.strip()]


def _read_csv(text: str, where: str) -> _Parsed:
    records: list[_Record] = []
    errors: list[BankFileError] = []
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        return _Parsed({}, [], [BankFileError(where, 1, None, "the CSV file has no header row")])
    header = [h.strip() for h in reader.fieldnames]
    reader.fieldnames = header
    for h in header:
        if h not in FIELDS:
            errors.append(BankFileError(where, 1, h, f"unknown column; known columns: {', '.join(FIELDS)}"))
    try:
        for row in reader:
            n = reader.line_num  # physical line of the row's end; the header is line 1
            if row.get(None):  # type: ignore[call-overload]
                errors.append(BankFileError(where, n, None, "more values than header columns"))
            data: dict[str, Any] = {}
            for key, value in row.items():
                if key is None or key not in FIELDS or value is None:
                    continue
                value = value.strip()
                if value == "":
                    continue
                if key in ("messages", "metadata"):
                    try:
                        data[key] = json.loads(value)
                    except json.JSONDecodeError as e:
                        errors.append(BankFileError(where, n, key, f"not valid JSON ({e.msg})"))
                        continue
                elif key in ("categories", "risks"):
                    data[key] = _split_list(value, commas=True)
                elif key == "followups":
                    data[key] = _split_list(value, commas=False)
                else:
                    data[key] = value
            if data:
                records.append(_Record(n, data))
    except csv.Error as e:
        errors.append(BankFileError(where, reader.line_num, None, f"CSV error: {e}"))
    return _Parsed({}, records, errors)


class _MarkedLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """A safe loader (libyaml when present) that remembers the line of every mapping and of its keys."""


def _construct_mapping(loader: _MarkedLoader, node: yaml.MappingNode) -> dict[str, Any]:
    loader.flatten_mapping(node)
    out: dict[str, Any] = {}
    lines: dict[str, int] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        out[key] = loader.construct_object(value_node, deep=True)
        if isinstance(key, str):
            lines[key] = key_node.start_mark.line + 1
    out["__line__"] = node.start_mark.line + 1
    out["__lines__"] = lines
    return out


_MarkedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)  # type: ignore[arg-type]


def _strip_marks(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _strip_marks(v) for k, v in obj.items() if k not in ("__line__", "__lines__")}
    if isinstance(obj, list):
        return [_strip_marks(v) for v in obj]
    return obj


def _read_yaml(text: str, where: str) -> _Parsed:
    try:
        doc = yaml.load(text, Loader=_MarkedLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as e:
        line = e.problem_mark.line + 1 if e.problem_mark else None
        return _Parsed({}, [], [BankFileError(where, line, None, f"not valid YAML: {e.problem}")])
    except yaml.YAMLError as e:
        return _Parsed({}, [], [BankFileError(where, None, None, f"not valid YAML: {e}")])
    header: dict[str, Any] = {}
    errors: list[BankFileError] = []
    if isinstance(doc, dict):
        lines = doc.get("__lines__", {})
        for key in doc:
            if key not in (*HEADER_FIELDS, "__line__", "__lines__"):
                errors.append(
                    BankFileError(
                        where,
                        lines.get(key),
                        key,
                        f"unknown top-level key; known: {', '.join(HEADER_FIELDS)}",
                    )
                )
        header = {k: _strip_marks(v) for k, v in doc.items() if k in HEADER_FIELDS and k != "cases"}
        items = doc.get("cases")
        if not isinstance(items, list):
            errors.append(
                BankFileError(
                    where, lines.get("cases", 1), "cases", "a YAML bank needs a list under `cases:`"
                )
            )
            return _Parsed(header, [], errors)
    elif isinstance(doc, list):
        items = doc
    elif doc is None:
        return _Parsed({}, [], [BankFileError(where, None, None, "the file is empty")])
    else:
        return _Parsed(
            {},
            [],
            [BankFileError(where, 1, None, "a YAML bank is a list of cases or a mapping with `cases:`")],
        )
    records: list[_Record] = []
    for i, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            errors.append(BankFileError(where, None, None, f"case {i} is not a mapping"))
            continue
        records.append(_Record(item.get("__line__", 0), _strip_marks(item), dict(item.get("__lines__", {}))))
    return _Parsed(header, records, errors)


def _parse(text: str, fmt: str, where: str) -> _Parsed:
    if fmt == "jsonl":
        return _read_jsonl(text, where)
    if fmt == "yaml":
        return _read_yaml(text, where)
    if fmt == "csv":
        return _read_csv(text, where)
    raise InputError(f"unknown bank file format {fmt!r}; use one of {', '.join(FORMATS)}", where=where)


# --------------------------------------------------------------------------- records → cases


def _as_str_list(value: Any, name: str) -> list[str]:
    if isinstance(value, str):
        return _split_list(value, commas=name in ("categories", "risks"))
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value if v.strip()]
    raise ValueError("must be a list of strings")


def _record_errors(
    rec: _Record, where: str, known_categories: frozenset[str] | None
) -> Iterator[BankFileError]:
    d = rec.data

    def err(name: str | None, msg: str) -> BankFileError:
        return BankFileError(where, rec.line_of(name) if name else rec.line, name, msg)

    for key in d:
        if key not in FIELDS:
            yield err(key, f"unknown field; known fields: {', '.join(FIELDS)}")
    has_prompt, has_messages = "prompt" in d, "messages" in d
    if has_prompt == has_messages:
        yield err(None, "give exactly one of `prompt` or `messages`")
    if has_prompt and (not isinstance(d["prompt"], str) or not d["prompt"].strip()):
        yield err("prompt", "must be non-empty text")
    if has_messages:
        msgs = d["messages"]
        if not isinstance(msgs, list) or not msgs:
            yield err("messages", "must be a non-empty list of {role, content}")
        else:
            for i, m in enumerate(msgs, start=1):
                if (
                    not isinstance(m, dict)
                    or set(m) - {"role", "content"}
                    or "role" not in m
                    or "content" not in m
                ):
                    yield err("messages", f"message {i} must be {{role, content}}")
                elif m["role"] not in ROLES:
                    yield err("messages", f"message {i}: role must be one of {', '.join(ROLES)}")
                elif not isinstance(m["content"], str):
                    yield err("messages", f"message {i}: content must be text")
            if isinstance(msgs[-1], dict) and msgs[-1].get("role") != "user":
                yield err("messages", "the last message must be a user turn")
    if "system" in d and not isinstance(d["system"], str):
        yield err("system", "must be text")
    lang = d.get("language")
    if lang is None:
        yield err("language", f"missing; one of {', '.join(LANGUAGES)}")
    elif lang not in LANGUAGES:
        yield err("language", f"{lang!r} is not one of {', '.join(LANGUAGES)}")
    exp = d.get("expected")
    if exp is None:
        yield err("expected", f"missing; one of {', '.join(EXPECTED_VALUES)}")
    elif exp not in EXPECTED_VALUES:
        yield err("expected", f"{exp!r} is not one of {', '.join(EXPECTED_VALUES)}")
    for name in ("categories", "risks", "followups"):
        if name in d:
            try:
                values = _as_str_list(d[name], name)
            except ValueError as e:
                yield err(name, str(e))
                continue
            for v in values:
                if name == "risks" and not TC260_RISK_RE.match(v):
                    yield err(name, f"{v!r} is not a TC260-003 risk id (A.1.a … A.5.b)")
                if name == "categories":
                    if not CATEGORY_RE.match(v):
                        yield err(name, f"{v!r} is not a category id (AS-01 … TS-16)")
                    elif known_categories is not None and v not in known_categories:
                        yield err(name, f"{v!r} is not in the taxonomy")
    if "difficulty" in d and d["difficulty"] not in DIFFICULTIES:
        yield err("difficulty", f"{d['difficulty']!r} is not one of {', '.join(DIFFICULTIES)}")
    for name in ("persona", "group"):
        if name in d and (not isinstance(d[name], str) or not d[name].strip()):
            yield err(name, "must be non-empty text")
    if "metadata" in d and not isinstance(d["metadata"], dict):
        yield err("metadata", "must be a mapping (a JSON object)")
    if "id" in d and not isinstance(d["id"], (str, int)):
        yield err("id", "must be text or a number")


def _to_case(rec: _Record, bank_id: str) -> Case:
    d = rec.data
    if "messages" in d:
        messages = [Message(role=m["role"], content=m["content"]) for m in d["messages"]]
    else:
        messages = [Message(role="user", content=d["prompt"])]
    if d.get("system"):
        messages.insert(0, Message(role="system", content=d["system"]))
    metadata = dict(d.get("metadata") or {})
    if "id" in d:
        metadata["source_id"] = str(d["id"])
    return Case(
        bank=bank_id,
        messages=tuple(messages),
        followups=tuple(_as_str_list(d["followups"], "followups")) if "followups" in d else (),
        language=d["language"],
        categories=tuple(_as_str_list(d["categories"], "categories")) if "categories" in d else (),
        risks=tuple(_as_str_list(d["risks"], "risks")) if "risks" in d else (),
        expected=d["expected"],
        persona=d.get("persona", "normal"),
        difficulty=d.get("difficulty", "medium"),
        group=d.get("group"),
        metadata=metadata,
    )


@cache
def _known_categories() -> frozenset[str] | None:
    try:
        from assay.taxonomy import load_taxonomy

        return frozenset(c.id for c in load_taxonomy().categories)
    except Exception:  # the taxonomy is optional here: fall back to the id pattern
        return None


def default_bank_id(path: str | Path) -> str:
    stem = re.sub(r"[^a-z0-9._-]+", "-", Path(path).stem.lower()).strip("-._") or "bank"
    return stem[:64]


@dataclass
class _Built:
    bank: Bank | None
    errors: list[BankFileError]
    content_hash: str = ""


def _build(
    text: str,
    fmt: str,
    where: str,
    bank_id: str | None,
    private: bool,
    source: str,
    check_taxonomy: bool = True,
    *,
    keep: Callable[[Case], None] | None = None,
) -> _Built:
    """The bank a file's text holds, or every problem in it.

    `keep`: hand each case to `keep` as it is read instead of collecting them (a JSONL file
    is then read a line at a time): the bank comes back without cases, with the content
    hash of the ones handed over in `_Built.content_hash`."""
    errors: list[BankFileError] = []
    header: dict[str, Any] = {}
    records: Iterable[_Record]
    if keep is not None and fmt == "jsonl":
        records = _iter_jsonl(text, where, errors)
    else:
        parsed = _parse(text, fmt, where)
        errors.extend(parsed.errors)
        header, records = parsed.header, parsed.records
    bid = bank_id or header.get("id") or default_bank_id(where)
    if not isinstance(bid, str) or not _BANK_ID.match(bid):
        errors.append(
            BankFileError(
                where, None, "id", f"bank id {bid!r} must be lowercase letters, digits, '.', '_' or '-'"
            )
        )
        bid = "bank"
    version = header.get("version")
    if version is not None and not isinstance(version, (str, int, float)):
        errors.append(BankFileError(where, None, "version", "must be text"))
        version = None
    cases: list[Case] = []
    first_line: dict[str, int] = {}
    # the taxonomy is read only when a record names categories (most bank files name none)
    known: frozenset[str] | None = None
    looked = not check_taxonomy
    seen_any = False
    for rec in records:
        seen_any = True
        if not looked and isinstance(rec.data, dict) and "categories" in rec.data:
            known, looked = _known_categories(), True
        rec_errors = list(_record_errors(rec, where, known))
        if rec_errors:
            errors.extend(rec_errors)
            continue
        try:
            case = _to_case(rec, bid)
        except ValidationError as e:
            for item in e.errors():
                name = str(item["loc"][0]) if item["loc"] else None
                errors.append(
                    BankFileError(where, rec.line_of(name) if name else rec.line, name, item["msg"])
                )
            continue
        if case.id in first_line:
            errors.append(
                BankFileError(where, rec.line, None, f"duplicate of the case on line {first_line[case.id]}")
            )
            continue
        first_line[case.id] = rec.line
        if keep is not None:
            if not errors:  # after the first error nothing is kept, only checked
                keep(case)
        else:
            cases.append(case)
    if not seen_any and not errors:
        errors.append(BankFileError(where, None, None, "the file holds no cases"))
    if errors:
        return _Built(None, errors)
    bank = Bank(
        id=bid,
        version=str(version) if version is not None else "file-" + sha256_hex(text)[:12],
        title=str(header.get("title", "")),
        description=str(header.get("description", "")),
        kind="custom",
        private=bool(private or header.get("private", False)),
        source=source,
        cases=tuple(cases),
    )
    content = bank_content_hash(bank.id, bank.version, first_line) if keep is not None else bank.content_hash
    return _Built(bank, [], content)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as e:
        raise InputError("no such file", where=str(path)) from e
    except UnicodeDecodeError as e:
        raise InputError(f"not UTF-8 text ({e.reason} at byte {e.start})", where=str(path)) from e
    except OSError as e:
        raise InputError(f"cannot read the file ({e.strerror})", where=str(path)) from e


# --------------------------------------------------------------------------- public API


def validate_bank_file(path: str | Path, fmt: str | None = None) -> list[BankFileError]:
    """Every problem in a user bank file, each with its line and field; [] when it is valid."""
    p = Path(path)
    text = _read_text(p)
    return _build(text, fmt or detect_format(p), str(p), None, False, f"user:{p}").errors


@dataclass
class ScannedBank:
    """A bank file read for a run without holding its cases as objects: the bank (no cases),
    its content hash, and every case as the store keeps it (`StoredCase`)."""

    bank: Bank
    content_hash: str
    cases: list[StoredCase]

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted({c.language for c in self.cases}))


def scan_bank_file(
    path: str | Path, bank_id: str | None = None, private: bool = False, fmt: str | None = None
) -> ScannedBank:
    """`load_bank_file`, keeping each case as a `StoredCase` (its JSON text and the columns the
    store indexes) instead of a `Case`: what a run of a large bank file holds until the cases
    are stored. Same checks, same errors, same ids and content hash."""
    p = Path(path)
    text = _read_text(p)
    kept: list[StoredCase] = []
    built = _build(
        text,
        fmt or detect_format(p),
        str(p),
        bank_id,
        private,
        f"user:{p}",
        keep=lambda c: kept.append(StoredCase.of(c)),
    )
    if built.errors or built.bank is None:
        _raise_first(p, built.errors)
    assert built.bank is not None
    return ScannedBank(built.bank, built.content_hash, kept)


def _raise_first(p: Path, errors: Sequence[BankFileError]) -> None:
    first = errors[0]
    more = f" (and {len(errors) - 1} more; run `assay banks validate {p}`)" if len(errors) > 1 else ""
    loc = p.as_posix() if first.line is None else f"{p.as_posix()}:{first.line}"
    where = f"{loc}: {first.field}" if first.field else loc
    raise InputError(first.message + more, where=where)


def load_bank_file(
    path: str | Path, bank_id: str | None = None, private: bool = False, fmt: str | None = None
) -> Bank:
    """A user bank file as a Bank; raises InputError naming `file:line: field` of the first error.

    The bank id is `bank_id`, else the YAML header's `id`, else the file name. Its version
    is the YAML header's `version`, else a hash of the file's bytes. `private=True` marks
    the bank private (reports and bundles show only hashes of its cases).
    """
    p = Path(path)
    text = _read_text(p)
    built = _build(text, fmt or detect_format(p), str(p), bank_id, private, f"user:{p}")
    if built.errors or built.bank is None:
        _raise_first(p, built.errors)
    assert built.bank is not None
    return built.bank


def load_bank_text(
    text: str,
    fmt: str,
    *,
    where: str,
    bank_id: str | None = None,
    source: str = "builtin",
    check_taxonomy: bool = True,
) -> Bank:
    """A bank from text in one of the file formats (used for packaged banks such as `starter`).

    `check_taxonomy=False` checks category ids by pattern only (packaged banks are checked
    against the taxonomy by their tests, so loading them need not read the taxonomy).
    """
    built = _build(text, fmt, where, bank_id, False, source, check_taxonomy)
    if built.errors or built.bank is None:
        raise InputError("; ".join(str(e) for e in built.errors[:5]), where=where)
    return built.bank

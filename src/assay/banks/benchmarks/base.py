"""The benchmark-loader contract, the registry and shared reading helpers.

A loader turns a public benchmark's files (as its authors publish them) into a Bank
whose cases carry unified taxonomy categories (AS-xx / TS-xx), TC260-003 risk ids where
they can be mapped, and an expected behaviour. Loaders never ship benchmark text: they
read the user's copy, or download it from the canonical location into a cache.
"""

from __future__ import annotations

import csv
import hashlib
import io
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from assay.core.errors import InputError
from assay.core.io import parse_json, parse_jsonl
from assay.core.types import Bank, Case, Expected, Language, Message


@dataclass(frozen=True)
class BenchmarkInfo:
    """What a loader declares about its benchmark."""

    name: str
    title: str
    license: str
    homepage: str
    #: file path inside the benchmark folder → canonical download URL
    downloads: dict[str, str]
    languages: tuple[str, ...]
    #: condition → expected behaviour, e.g. {"safe prompt": "comply", "unsafe prompt": "refuse"}
    expected: dict[str, str]
    kind: str  # Bank.kind of the bank it builds
    version: str  # the benchmark release this loader reads
    description: str = ""
    #: folder names this benchmark is usually found under, inside a datasets root
    local_dirs: tuple[str, ...] = ()
    #: loader options (name → meaning) accepted by `load(..., **options)`
    options: dict[str, str] = field(default_factory=dict)
    #: what the canonical URLs rest on: "S" = the same URLs are used by other public code
    #: seen while writing the loader (not fetched here: no network), "M" = from memory only
    url_confidence: str = "S"


class BenchmarkLoader(ABC):
    info: ClassVar[BenchmarkInfo]

    @property
    def name(self) -> str:
        return self.info.name

    @abstractmethod
    def cases(self, source: Path, reader: Reader, **options: Any) -> Iterator[Case]:
        """Yield the benchmark's cases from `source` (a file or the benchmark folder)."""

    def bank_id(self, **options: Any) -> str:
        return self.info.name

    def find(self, root: Path) -> Path | None:
        """The benchmark folder inside a datasets root, or None when it is not there."""
        for d in self.info.local_dirs or (self.info.name,):
            p = root / d
            if p.exists():
                return p
        return None

    def available(self, root: Path) -> bool:
        p = self.find(root)
        return p is not None and self._complete(p)

    def _complete(self, folder: Path) -> bool:
        """True when the folder holds what `cases` needs (default: any declared file)."""
        return any((folder / rel).is_file() for rel in self.info.downloads)

    def load(self, source: str | Path, *, limit: int | None = None, **options: Any) -> Bank:
        src = Path(source)
        if not src.exists():
            raise InputError(f"no such file or folder for benchmark {self.name!r}", where=str(src))
        unknown = set(options) - set(self.info.options)
        if unknown:
            known = ", ".join(sorted(self.info.options)) or "none"
            raise InputError(
                f"unknown option(s) {', '.join(sorted(unknown))} for {self.name}; known: {known}",
                where="--option",
            )
        if limit is not None and limit < 0:
            raise InputError("limit must be zero or more", where="--limit")
        reader = Reader()
        out: list[Case] = []
        for case in self.cases(src, reader, **options):
            if limit is not None and len(out) >= limit:
                break
            out.append(case)
        if not out and limit != 0:
            raise InputError(f"no {self.name} items found", where=str(src))
        return Bank(
            id=self.bank_id(**options),
            version=f"{self.info.version}+{reader.digest()[:12]}",
            title=self.info.title,
            description=self.info.description,
            kind=self.info.kind,
            source=f"benchmark:{self.name}",
            cases=tuple(out),
        )


# ---------------------------------------------------------------------------
# registry
# ---------------------------------------------------------------------------

_LOADERS: dict[str, BenchmarkLoader] = {}


def register(cls: type[BenchmarkLoader]) -> type[BenchmarkLoader]:
    inst = cls()
    if inst.name in _LOADERS:
        raise RuntimeError(f"two benchmark loaders share the name {inst.name!r}")
    _LOADERS[inst.name] = inst
    return cls


def loaders() -> dict[str, BenchmarkLoader]:
    return dict(sorted(_LOADERS.items()))


def get_loader(name: str) -> BenchmarkLoader:
    key = name.strip().lower()
    aliases = {
        "jbb": "jailbreakbench",
        "dna": "donotanswer",
        "do-not-answer": "donotanswer",
        "crowspairs": "crows-pairs",
    }
    key = aliases.get(key, key)
    if key not in _LOADERS:
        raise InputError(
            f"unknown benchmark {name!r}; known: {', '.join(sorted(_LOADERS))}", where="benchmark"
        )
    return _LOADERS[key]


# ---------------------------------------------------------------------------
# reading helpers
# ---------------------------------------------------------------------------


class Reader:
    """Reads benchmark files, turning bad input into InputErrors, and hashes what it read."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()

    def digest(self) -> str:
        return self._hash.hexdigest()

    def text(self, path: Path) -> str:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror or exc}", where=str(path)) from exc
        self._hash.update(path.name.encode() + b"\0" + data)
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(f"not UTF-8 text (byte {exc.start})", where=str(path)) from exc

    def csv_rows(self, path: Path, required: Sequence[str]) -> Iterator[tuple[int, dict[str, str]]]:
        """(line number, row) for each CSV record; the header must hold `required` columns."""
        text = self.text(path)
        rdr = csv.DictReader(io.StringIO(text, newline=""))
        cols = rdr.fieldnames or []
        missing = [c for c in required if c not in cols]
        if missing:
            raise InputError(
                f"missing column(s) {', '.join(missing)}; found {', '.join(c for c in cols if c) or 'none'}",
                where=f"{path}:1",
            )
        line = 2
        for row in rdr:
            if None in row:
                raise InputError("row has more fields than the header", where=f"{path}:{line}")
            yield line, {k: (v or "") for k, v in row.items() if k is not None}
            line = rdr.line_num + 1

    def jsonl(self, path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
        return parse_jsonl(self.text(path), str(path))

    def json(self, path: Path) -> Any:
        return parse_json(self.text(path), str(path))


def csv_option(value: Any) -> set[str] | None:
    """An option given as "a,b" or a list → a lower-case set; None when not given."""
    if value is None or value == "":
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    return {str(v).strip().lower() for v in items if str(v).strip()}


def need(row: dict[str, Any], key: str, where: str) -> str:
    """A required non-blank string field."""
    v = row.get(key)
    if not isinstance(v, str) or not v.strip():
        raise InputError(f"field {key!r} is missing or blank", where=where)
    return v


def pick_file(source: Path, candidates: Sequence[str], *, what: str) -> Path:
    """`source` itself when it is a file, else the first candidate found inside it."""
    if source.is_file():
        return source
    for c in candidates:
        p = source / c
        if p.is_file():
            return p
    raise InputError(f"no {what} file here; looked for {', '.join(candidates)}", where=str(source))


def make_case(
    bank: str,
    prompt: str,
    *,
    language: Language,
    expected: Expected,
    categories: Sequence[str] = (),
    risks: Sequence[str] = (),
    group: str | None = None,
    metadata: dict[str, Any] | None = None,
    system: str | None = None,
) -> Case:
    msgs: list[Message] = []
    if system:
        msgs.append(Message(role="system", content=system))
    msgs.append(Message(role="user", content=prompt))
    return Case(
        bank=bank,
        messages=tuple(msgs),
        language=language,
        expected=expected,
        categories=tuple(dict.fromkeys(categories)),
        risks=tuple(dict.fromkeys(risks)),
        group=group,
        metadata=metadata or {},
    )


LETTERS = "ABCDEFGHIJ"


def mcq_prompt(question: str, choices: Sequence[str], *, language: str, context: str = "") -> str:
    """A multiple-choice prompt in our own wording: options lettered A, B, C…"""
    lines = [context.strip()] if context.strip() else []
    lines.append(question.strip())
    lines += [f"{LETTERS[i]}. {c}" for i, c in enumerate(choices)]
    lines.append(
        "请只回答正确选项的字母。"
        if language == "zh"
        else "Answer with the letter of the correct option only."
    )
    return "\n".join(lines)

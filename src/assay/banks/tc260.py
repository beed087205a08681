"""TC260-003 banks: generated-content, should-refuse, should-not-refuse (provider).

The banks are written by us as seeded templates, never copied from a public data set.
Each data file under `data/tc260/` holds, for one language, groups (a TC260-003
Appendix A risk such as "A.1.a", or a should-not-refuse aspect such as "history") of
templates. A template is a seed phrasing with `{slot}` placeholders; its slots draw from
the template's own lists or the file's shared pools. Expansion is deterministic: every
random choice comes from a `random.Random` seeded from the bank seed, the language,
the group and the template index, so two machines build the same cases with the same
content-hash ids.

* `generated-content` (expected "safe"): every template of every risk. For A.1/A.2 risks
  the combinations of `harmful` templates are split, by a seeded shuffle, between this
  bank and `should-refuse`, so the two banks never share a prompt.
* `should-refuse` (expected "refuse"): the other part of the A.1/A.2 `harmful` combinations.
* `should-not-refuse` (expected "comply"): borderline-but-benign asks per aspect.

Every case carries a persona. A template either fixes it through a slot value that says
`persona: ...`, or the expander picks one from the template's `personas` list (default
the file's) and prepends one of that persona's self-descriptions ("我今年十五岁，").
Duplicates (same text after the persona prefix) are dropped, first one wins.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assay.banks.registry import bank_provider
from assay.core.errors import InputError
from assay.core.ids import content_id, sha256_hex
from assay.core.types import Bank, Case, Difficulty, Expected, Language, Message

#: TC260-003 Appendix A: 31 risks in 5 classes (8 + 9 + 5 + 7 + 2).
TC260_RISKS: tuple[str, ...] = (
    *(f"A.1.{c}" for c in "abcdefgh"),
    *(f"A.2.{c}" for c in "abcdefghi"),
    *(f"A.3.{c}" for c in "abcde"),
    *(f"A.4.{c}" for c in "abcdefg"),
    *(f"A.5.{c}" for c in "ab"),
)
#: The 17 A.1 + A.2 risks that the should-refuse bank and the keyword library must cover.
REFUSAL_RISKS: tuple[str, ...] = tuple(r for r in TC260_RISKS if r.startswith(("A.1.", "A.2.")))

#: TC260-003 §8.3(b) non-refusal aspects (China: system … heroes/martyrs; individual:
#: gender … health), plus law, security and religion that the issue asks for too.
NON_REFUSAL_ASPECTS: tuple[str, ...] = (
    "system",
    "beliefs",
    "image",
    "culture",
    "customs",
    "ethnicity",
    "geography",
    "history",
    "heroes_martyrs",
    "gender",
    "age",
    "occupation",
    "health",
    "law",
    "security",
    "religion",
)

PERSONAS: tuple[str, ...] = ("normal", "unskilled", "skilled", "minor", "vulnerable")

GENERATED_CONTENT = "generated-content"
SHOULD_REFUSE = "should-refuse"
SHOULD_NOT_REFUSE = "should-not-refuse"

_DATA_DIR = "data/tc260"
_SLOT = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


# --------------------------------------------------------------------------- data model


class SlotValue(BaseModel):
    """A slot filler; it may fix the case's difficulty or persona."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    t: str
    difficulty: Difficulty | None = None
    persona: str | None = None


SlotList = list[str | SlotValue]


class Template(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    #: harmful: a clearly harmful ask (A.1/A.2: split between generated-content and
    #: should-refuse); borderline: risky but answerable (generated-content only);
    #: benign: should-not-refuse.
    mode: Literal["harmful", "borderline", "benign"]
    difficulty: Difficulty = "medium"
    personas: tuple[str, ...] | None = None  # persona drawn from these, with a self-description
    persona: str | None = None  # fixed persona, no self-description (the text already says who asks)
    slots: dict[str, SlotList] = Field(default_factory=dict)
    max: int | None = None  # cap on combinations drawn from this template
    #: share of this template's combinations that go to should-refuse (A.1/A.2 harmful
    #: templates only); default: the manifest's refuse_share
    refuse_share: float | None = Field(default=None, ge=0.0, le=1.0)
    categories: tuple[str, ...] | None = None  # overrides the group's categories
    kind: str | None = None  # benign templates: homonym | safe_context | good_faith | ...

    @field_validator("personas", "persona")
    @classmethod
    def _known_personas(cls, v: tuple[str, ...] | str | None) -> tuple[str, ...] | str | None:
        for p in (v,) if isinstance(v, str) else v or ():
            if p not in PERSONAS:
                raise ValueError(f"unknown persona {p!r}; known: {', '.join(PERSONAS)}")
        return v


class Group(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = ""
    categories: tuple[str, ...]
    risks: tuple[str, ...] = ()  # for aspects: the risks whose over-refusal they probe
    templates: list[Template]


class TemplateFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    language: Language
    kind: Literal["risks", "aspects"]
    personas: dict[str, list[str]]
    default_personas: tuple[str, ...] = PERSONAS
    #: persona -> substrings that make it implausible (a minor asking about "my employees");
    #: a drawn persona whose conflicts appear in the text is replaced by another one.
    persona_conflicts: dict[str, list[str]] = Field(default_factory=dict)
    pools: dict[str, SlotList] = Field(default_factory=dict)
    groups: dict[str, Group]

    @field_validator("personas")
    @classmethod
    def _all_personas(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        missing = [p for p in PERSONAS if not v.get(p)]
        if missing:
            raise ValueError(f"personas without a self-description: {', '.join(missing)}")
        return v


class BankSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    version: str
    kind: str
    expected: Expected
    title: str
    description: str


class Manifest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    seed: int
    refuse_share: float  # share of A.1/A.2 harmful combinations that go to should-refuse
    banks: list[BankSpec]
    files: dict[str, list[str]]  # "risks" / "aspects" -> data files


# --------------------------------------------------------------------------- expansion


@dataclass(frozen=True)
class Draft:
    """One expanded prompt before it becomes a Case."""

    group: str
    template: int
    mode: str
    text: str  # with persona prefix
    body: str  # without persona prefix (dedup key)
    persona: str
    difficulty: str
    categories: tuple[str, ...]
    risks: tuple[str, ...]
    kind: str | None
    refuse_share: float | None = None


def _rng(*parts: object) -> random.Random:
    return random.Random(int(sha256_hex("\x1f".join(str(p) for p in parts))[:16], 16))


def _values(name: str, tmpl: Template, pools: dict[str, SlotList], where: str) -> list[SlotValue]:
    raw = tmpl.slots.get(name, pools.get(name))
    if raw is None:
        raise InputError(f"slot {{{name}}} has no values (neither in the template nor in pools)", where=where)
    out = [v if isinstance(v, SlotValue) else SlotValue(t=v) for v in raw]
    if not out:
        raise InputError(f"slot {{{name}}} has an empty value list", where=where)
    return out


def _combinations(sizes: Sequence[int], limit: int | None, rng: random.Random) -> Iterator[tuple[int, ...]]:
    """Mixed-radix indices into the slot lists, in a seeded order, at most `limit` of them."""
    total = 1
    for s in sizes:
        total *= s
    take = total if limit is None else min(limit, total)
    for flat in rng.sample(range(total), take):
        idx: list[int] = []
        for s in reversed(sizes):
            flat, r = divmod(flat, s)
            idx.append(r)
        yield tuple(reversed(idx))


_SPACES = re.compile(r"[ \t]+")
_CJK_GAP = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef]) (?=[\u3000-\u9fff\uff00-\uffef])")
_SPACE_PUNCT = re.compile(r" ([,.?!;:])")
_SENTENCE_START = re.compile(r"(^|[.?!] )([a-z])")


def _tidy(text: str, language: str) -> str:
    text = _SPACES.sub(" ", text).strip()
    if language == "zh":
        return _CJK_GAP.sub("", text)  # no spaces between CJK text left by empty slots
    text = _SPACE_PUNCT.sub(r"\1", text)
    return _SENTENCE_START.sub(lambda m: m.group(1) + m.group(2).upper(), text)


def _conflict_patterns(tf: TemplateFile) -> dict[str, re.Pattern[str]]:
    return {
        p: re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
        for p, words in tf.persona_conflicts.items()
        if words
    }


def expand_file(tf: TemplateFile, seed: int, source: str) -> list[Draft]:
    """Every draft of a template file, deterministic for a given seed."""
    drafts: list[Draft] = []
    conflicts = _conflict_patterns(tf)
    for gname, group in tf.groups.items():
        for ti, tmpl in enumerate(group.templates):
            where = f"{source}: {gname} template {ti + 1}"
            names = list(dict.fromkeys(_SLOT.findall(tmpl.text)))
            lists = [_values(n, tmpl, tf.pools, where) for n in names]
            rng = _rng(seed, tf.language, gname, ti)
            personas = tmpl.personas or tf.default_personas
            for combo in _combinations([len(v) for v in lists], tmpl.max, rng):
                chosen = [lists[i][j] for i, j in enumerate(combo)]
                body = tmpl.text
                for name, val in zip(names, chosen, strict=True):
                    body = body.replace("{" + name + "}", val.t)
                body = _tidy(body, tf.language)
                fixed_persona = tmpl.persona or next((v.persona for v in chosen if v.persona), None)
                difficulty = next((v.difficulty for v in reversed(chosen) if v.difficulty), tmpl.difficulty)
                if fixed_persona:
                    persona, text = fixed_persona, body
                else:
                    fitting = [
                        p for p in personas if p not in conflicts or not conflicts[p].search(body)
                    ] or ["normal"]
                    persona = rng.choice(fitting)
                    prefix = rng.choice(tf.personas[persona])
                    text = _tidy(prefix + (" " if tf.language == "en" and prefix else "") + body, tf.language)
                drafts.append(
                    Draft(
                        group=gname,
                        template=ti,
                        mode=tmpl.mode,
                        text=text,
                        body=body,
                        persona=persona,
                        difficulty=difficulty,
                        categories=tmpl.categories or group.categories,
                        risks=(gname,) if tf.kind == "risks" else group.risks,
                        kind=tmpl.kind,
                        refuse_share=tmpl.refuse_share,
                    )
                )
    return drafts


def _read_yaml(name: str) -> Any:
    text = (
        resources.files("assay.banks")
        .joinpath("data")
        .joinpath("tc260")
        .joinpath(name)
        .read_text(encoding="utf-8")
    )
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@cache
def manifest() -> Manifest:
    try:
        return Manifest.model_validate(_read_yaml("banks.yaml"))
    except ValidationError as e:
        raise InputError(str(e), where=f"assay/banks/{_DATA_DIR}/banks.yaml") from e


@cache
def template_file(name: str) -> TemplateFile:
    try:
        tf = TemplateFile.model_validate(_read_yaml(name))
    except ValidationError as e:
        raise InputError(str(e), where=f"assay/banks/{_DATA_DIR}/{name}") from e
    for gname, group in tf.groups.items():
        if tf.kind == "risks" and gname not in TC260_RISKS:
            raise InputError(f"unknown TC260-003 risk {gname!r}", where=f"assay/banks/{_DATA_DIR}/{name}")
        if tf.kind == "aspects" and gname not in NON_REFUSAL_ASPECTS:
            raise InputError(f"unknown non-refusal aspect {gname!r}", where=f"assay/banks/{_DATA_DIR}/{name}")
        del group
    return tf


def _dedup(drafts: list[Draft]) -> list[Draft]:
    seen: set[str] = set()
    out: list[Draft] = []
    for d in drafts:
        key = re.sub(r"\W+", "", d.body.lower())
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def _case(bank: str, lang: Language, expected: Expected, d: Draft, aspect: bool) -> Case:
    metadata: dict[str, Any] = {"mode": d.mode}
    if aspect:
        metadata["aspect"] = d.group
    if d.kind:
        metadata["kind"] = d.kind
    # The templates are validated when loaded, so the cases are built without re-validating
    # each one (the tests check that validation gives the same cases and ids); the id is
    # computed exactly as Case computes it.
    case = Case.model_construct(
        id="",
        bank=bank,
        messages=(Message.model_construct(role="user", content=d.text),),
        followups=(),
        language=lang,
        categories=tuple(d.categories),
        risks=tuple(d.risks),
        expected=expected,
        persona=d.persona,
        difficulty=d.difficulty,  # type: ignore[arg-type]
        group=None,
        transforms=(),
        parent=None,
        metadata=metadata,
    )
    object.__setattr__(case, "id", content_id(case.identity(), prefix="c-"))
    return case


@cache
def tc260_banks() -> tuple[Bank, ...]:
    """The three TC260-003 banks, built once per process."""
    m = manifest()
    specs = {b.id: b for b in m.banks}
    cases: dict[str, list[Case]] = {bid: [] for bid in specs}
    for name in m.files.get("risks", []):
        tf = template_file(name)
        drafts = _dedup(expand_file(tf, m.seed, name))
        refusal_pool: list[Draft] = []
        by_group: dict[str, list[Draft]] = {}
        for d in drafts:
            by_group.setdefault(d.group, []).append(d)
        for gname in tf.groups:
            harmful = [d for d in by_group.get(gname, []) if d.mode == "harmful"]
            other = [d for d in by_group.get(gname, []) if d.mode != "harmful"]
            to_refuse: list[Draft] = []
            if gname in REFUSAL_RISKS and harmful:
                kept: list[Draft] = []
                for ti in sorted({d.template for d in harmful}):
                    part = [d for d in harmful if d.template == ti]
                    share = part[0].refuse_share if part[0].refuse_share is not None else m.refuse_share
                    order = list(range(len(part)))
                    _rng(m.seed, tf.language, gname, ti, "split").shuffle(order)
                    picked = set(order[: round(len(part) * share)])
                    to_refuse.extend(d for i, d in enumerate(part) if i in picked)
                    kept.extend(d for i, d in enumerate(part) if i not in picked)
                harmful = kept
            refusal_pool.extend(to_refuse)
            for d in harmful + other:
                cases[GENERATED_CONTENT].append(
                    _case(GENERATED_CONTENT, tf.language, specs[GENERATED_CONTENT].expected, d, False)
                )
        for d in refusal_pool:
            cases[SHOULD_REFUSE].append(
                _case(SHOULD_REFUSE, tf.language, specs[SHOULD_REFUSE].expected, d, False)
            )
    for name in m.files.get("aspects", []):
        tf = template_file(name)
        for d in _dedup(expand_file(tf, m.seed, name)):
            cases[SHOULD_NOT_REFUSE].append(
                _case(SHOULD_NOT_REFUSE, tf.language, specs[SHOULD_NOT_REFUSE].expected, d, True)
            )
    banks: list[Bank] = []
    for bid, spec in specs.items():
        unique = list({c.id: c for c in cases[bid]}.values())
        banks.append(
            Bank(
                id=bid,
                version=spec.version,
                title=spec.title,
                description=spec.description,
                kind=spec.kind,
                source="builtin",
                cases=tuple(unique),
            )
        )
    return tuple(banks)


@bank_provider
def _provide() -> tuple[Bank, ...]:
    """The starter bank and the TC260-003 general banks (generated content, should-refuse, should-not-refuse)."""
    from assay.banks.starter import starter_bank

    return (*tc260_banks(), starter_bank())

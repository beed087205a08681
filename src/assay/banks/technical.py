"""Technical-safety and application banks (provider).

Ten bilingual banks written for Assay, each built from a versioned YAML file in
`assay/banks/data/technical/` and expanded deterministically from a seed:

| bank | expected | what varies |
|---|---|---|
| `bias-counterfactual` | unbiased | one protected attribute per swap group |
| `privacy-canary` | no_leak | synthetic PII planted in the system prompt or an earlier turn |
| `sysprompt-leak` | no_leak | a canary token inside a confidential system prompt |
| `prompt-injection` | resist_injection | direct and indirect injections asking for a marker token |
| `paraphrase` | consistent | four phrasings per fact (group) |
| `factual` | accurate | questions with gold answers and aliases |
| `disinfo` | refuse | fake news, astroturfing, election rumours |
| `self-harm` | safe_completion | distress and method requests, adult and minor personas |
| `specialized-advice` | qualified_advice | medical, legal, financial questions |
| `ai-disclosure` | disclose_ai | sincere "are you human?" under personas and role-play |

Random values (canaries, markers, synthetic PII, phrasing picks) come from
`random.Random` seeded with a string naming the bank, version, seed and the item, so two
loads give the same cases and ids on any machine. Metadata keys used here and read by
graders: `gold`, `canary`, `canary_location`, `injection_marker`, `attribute`,
`dimension`, `decision_options` (yes/no or choice tasks), `score_range` ([lo, hi] for
scale tasks; the bias grader compares numbers within a tolerance).
"""

from __future__ import annotations

import itertools
import random
import string
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assay.banks.registry import bank_provider
from assay.core.errors import InputError
from assay.core.types import Bank, Case, Language, Message

_M = TypeVar("_M", bound=BaseModel)

DATA_DIR = ("data", "technical")
DEFAULT_SEED = 0

TECHNICAL_BANK_IDS: tuple[str, ...] = (
    "bias-counterfactual",
    "privacy-canary",
    "sysprompt-leak",
    "prompt-injection",
    "paraphrase",
    "factual",
    "disinfo",
    "self-harm",
    "specialized-advice",
    "ai-disclosure",
)


# --------------------------------------------------------------------------- data models


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BankHeader(_Strict):
    id: str
    version: str
    title: str = ""
    description: str = ""
    expected: str
    categories: tuple[str, ...] = ()
    risks: tuple[str, ...] = ()
    seed: int = 0


class _BankFile(_Strict):
    bank: BankHeader


class AttrValue(_Strict):
    key: str
    text: str


class BiasTemplate(_Strict):
    id: str
    task: str
    kind: Literal["decision", "scale", "choice", "description"]
    options: tuple[str, ...] = ()
    text: str


class BiasFile(_BankFile):
    risk_of_dimension: dict[str, str]
    dimensions: dict[Language, dict[str, tuple[AttrValue, ...]]]
    templates: dict[Language, tuple[BiasTemplate, ...]]


class NamePool(_Strict):
    given: tuple[str, ...]
    family: tuple[str, ...]


class PrivacyScenario(_Strict):
    id: str
    placement: Literal["system", "context"]
    system: str
    context_user: str | None = None
    context_assistant: str | None = None


class Elicitation(_Strict):
    style: Literal["direct", "indirect"]
    targets: tuple[str, ...]
    text: str


class PrivacyFile(_BankFile):
    names: dict[Language, NamePool]
    record: dict[Language, str]
    scenarios: dict[Language, tuple[PrivacyScenario, ...]]
    elicitations: dict[Language, tuple[Elicitation, ...]]
    variants: int = 2


class SystemPrompt(_Strict):
    id: str
    text: str


class Attack(_Strict):
    style: str
    text: str


class SyspromptFile(_BankFile):
    system_prompts: dict[Language, tuple[SystemPrompt, ...]]
    attacks: dict[Language, tuple[Attack, ...]]


class DirectTask(_Strict):
    id: str
    system: str
    user: str


class IndirectTask(_Strict):
    id: str
    carrier: str
    text: str


class InjectionFile(_BankFile):
    injections: dict[Language, tuple[str, ...]]
    direct: dict[Language, tuple[DirectTask, ...]]
    indirect: dict[Language, tuple[IndirectTask, ...]]


class Relation(_Strict):
    id: str
    frames: tuple[str, ...] = Field(min_length=3)
    rows: tuple[tuple[str, tuple[str, ...]], ...]


class Judgement(_Strict):
    gold: tuple[str, ...]
    variants: tuple[str, ...] = Field(min_length=3)


class FactsFile(_Strict):
    version: str
    seed: int = 0
    relations: dict[Language, tuple[Relation, ...]]
    standalone: dict[Language, tuple[tuple[str, tuple[str, ...]], ...]]
    judgements: dict[Language, tuple[Judgement, ...]]


class PromptSet(_Strict):
    id: str
    subtype: str
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    templates: tuple[str, ...]
    slots: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)


class Context(_Strict):
    id: str
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    system: str | None = None
    turns: tuple[tuple[Literal["user", "assistant"], str], ...] = ()


class PromptSetFile(_BankFile):
    persona_mode: Literal["all", "pick"] = "pick"
    persona_categories: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    personas: dict[Language, dict[str, tuple[str, ...]]] = Field(default_factory=dict)
    contexts: dict[Language, tuple[Context, ...]] = Field(default_factory=dict)
    sets: dict[Language, tuple[PromptSet, ...]]


# --------------------------------------------------------------------------- loading


def _read_yaml(name: str) -> tuple[Any, str]:
    where = "assay/banks/" + "/".join((*DATA_DIR, name))
    node = resources.files("assay.banks")
    for part in DATA_DIR:
        node = node.joinpath(part)
    try:
        text = node.joinpath(name).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError("bank data file is missing", where=where) from exc
    try:
        return yaml.safe_load(text), where
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"{where}:{mark.line + 1}" if mark is not None else where
        raise InputError(f"invalid YAML: {exc}", where=line) from exc


def _load(model: type[_M], name: str) -> _M:
    data, where = _read_yaml(name)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise InputError(f"{first['msg']} ({exc.error_count()} error(s))", where=f"{where}: {loc}") from exc


def _rng(*parts: object) -> random.Random:
    """A private generator seeded from a readable string: the same parts, the same values."""
    return random.Random("|".join(str(p) for p in parts))


def _fill(text: str, **values: str) -> str:
    """Replace `{name}` placeholders without str.format (templates contain JSON braces)."""
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


def _token(rng: random.Random, prefix: str, n: int = 8) -> str:
    alphabet = string.ascii_uppercase + string.digits
    return prefix + "".join(rng.choice(alphabet) for _ in range(n))


def _case(header: BankHeader, language: Language, messages: Sequence[tuple[str, str]], **kw: Any) -> Case:
    categories = kw.pop("categories", header.categories)
    risks = kw.pop("risks", header.risks)
    return Case(
        bank=header.id,
        messages=tuple(Message(role=r, content=c) for r, c in messages),  # type: ignore[arg-type]
        language=language,
        categories=tuple(categories),
        risks=tuple(risks),
        expected=header.expected,  # type: ignore[arg-type]
        **kw,
    )


def _bank(header: BankHeader, cases: Iterable[Case], seed: int) -> Bank:
    version = header.version if seed == header.seed else f"{header.version}+seed{seed}"
    return Bank(
        id=header.id,
        version=version,
        title=header.title,
        description=" ".join(header.description.split()),
        kind="technical",
        source="builtin",
        cases=tuple(cases),
    )


# --------------------------------------------------------------------------- synthetic PII

_CN_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CN_ID_CHECK = "10X98765432"
# Real county-level area codes (public administrative division codes), used only as format.
_CN_AREAS = (
    "110105",
    "310104",
    "440106",
    "330106",
    "510107",
    "420102",
    "320102",
    "610113",
    "370102",
    "430104",
)


def cn_id_check_digit(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of a PRC resident identity number."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("need the first 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, _CN_ID_WEIGHTS, strict=True))
    return _CN_ID_CHECK[total % 11]


def cn_id_valid(value: str) -> bool:
    return len(value) == 18 and value[:17].isdigit() and cn_id_check_digit(value[:17]) == value[17].upper()


def luhn_check_digit(partial: str) -> str:
    """The digit that makes `partial` + digit pass the Luhn check."""
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch)
        if i % 2 == 0:  # these positions are doubled once the check digit is appended
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    digits = [c for c in number if c.isdigit()]
    return len(digits) > 1 and luhn_check_digit("".join(digits[:-1])) == digits[-1]


def synthetic_pii(rng: random.Random, language: Language, names: NamePool) -> dict[str, str]:
    """One fake person: values drawn from ranges reserved or unassigned for real people where such exist."""
    given, family = rng.choice(names.given), rng.choice(names.family)
    card_prefix = "622202" if language == "zh" else "400000"  # test-style IIN prefixes
    card_body = card_prefix + "".join(rng.choice(string.digits) for _ in range(9))
    card = card_body + luhn_check_digit(card_body)
    user = "".join(rng.choice(string.ascii_lowercase) for _ in range(6))
    if language == "zh":
        year, month, day = rng.randint(1960, 2002), rng.randint(1, 12), rng.randint(1, 28)
        birth = f"{year:04d}{month:02d}{day:02d}"
        first17 = rng.choice(_CN_AREAS) + birth + f"{rng.randint(0, 999):03d}"
        return {
            "name": family + given,
            "id_number": first17 + cn_id_check_digit(first17),
            "birth_date": birth,
            "phone": f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(0, 99999999):08d}",
            "email": f"{user}{rng.randint(10, 99)}@example.cn",
            "card": card,
        }
    # US: 555-01xx numbers are reserved for fiction; SSN area 900-999 with group 01-49 is never issued.
    return {
        "name": f"{given} {family}",
        "ssn": f"{rng.randint(900, 999)}-{rng.randint(1, 49):02d}-{rng.randint(1, 9999):04d}",
        "phone": f"({rng.choice(('212', '312', '415', '617', '702'))}) 555-01{rng.randint(0, 99):02d}",
        "email": f"{given.lower()}.{user}@example.com",
        "card": card,
    }


# --------------------------------------------------------------------------- builders


def _build_bias(seed: int) -> Bank:
    data = _load(BiasFile, "bias-counterfactual.yaml")
    h = data.bank
    cases: list[Case] = []
    for lang in ("zh", "en"):
        for tpl in data.templates[lang]:
            for dim, values in data.dimensions[lang].items():
                group = f"{h.id}:{lang}:{tpl.id}:{dim}"
                for val in values:
                    text = _fill(tpl.text, attr=val.text)
                    outcome: dict[str, Any] = {}
                    if tpl.kind == "scale":
                        outcome["score_range"] = [int(tpl.options[0]), int(tpl.options[-1])]
                    elif tpl.options:
                        outcome["decision_options"] = list(tpl.options)
                    cases.append(
                        _case(
                            h,
                            lang,
                            [("user", text)],
                            risks=(data.risk_of_dimension[dim],),
                            group=group,
                            difficulty="medium",
                            metadata={
                                "attribute": f"{dim}={val.key}",
                                "dimension": dim,
                                **outcome,
                                "task": tpl.task,
                                "task_kind": tpl.kind,
                                "template": tpl.id,
                                "group_size": len(values),
                            },
                        )
                    )
    return _bank(h, cases, seed)


def _build_privacy(seed: int) -> Bank:
    data = _load(PrivacyFile, "privacy-canary.yaml")
    h = data.bank
    cases: list[Case] = []
    for lang in ("zh", "en"):
        for sc in data.scenarios[lang]:
            for e_idx, el in enumerate(data.elicitations[lang]):
                for variant in range(data.variants):
                    rng = _rng(h.id, h.version, seed, lang, sc.id, e_idx, variant)
                    pii = synthetic_pii(rng, lang, data.names[lang])
                    record = _fill(data.record[lang], **pii)
                    system = _fill(sc.system, record=record)
                    msgs: list[tuple[str, str]] = [("system", system)]
                    if sc.placement == "context":
                        if not sc.context_user or not sc.context_assistant:
                            raise InputError(
                                "a context scenario needs context_user and context_assistant",
                                where=f"privacy-canary.yaml: scenarios.{lang}.{sc.id}",
                            )
                        msgs += [
                            ("user", _fill(sc.context_user, record=record)),
                            ("assistant", sc.context_assistant),
                        ]
                    msgs.append(("user", _fill(el.text, name=pii["name"])))
                    secret_keys = [k for k in pii if k not in ("name", "birth_date")]
                    canary = [pii[k] for k in secret_keys]
                    if "birth_date" in pii:
                        canary.append(pii["birth_date"])
                    cases.append(
                        _case(
                            h,
                            lang,
                            msgs,
                            difficulty="easy" if el.style == "direct" else "medium",
                            metadata={
                                "canary": canary,
                                "canary_location": sc.placement,
                                "pii_types": list(el.targets),
                                "pii": {k: pii[k] for k in secret_keys},
                                "scenario": sc.id,
                                "style": el.style,
                                "subject_name": pii["name"],
                            },
                        )
                    )
    return _bank(h, cases, seed)


def _build_sysprompt(seed: int) -> Bank:
    data = _load(SyspromptFile, "sysprompt-leak.yaml")
    h = data.bank
    cases: list[Case] = []
    for lang in ("zh", "en"):
        for sp in data.system_prompts[lang]:
            for a_idx, atk in enumerate(data.attacks[lang]):
                rng = _rng(h.id, h.version, seed, lang, sp.id, a_idx)
                canary = _token(rng, "CNRY-", 10)
                decoy = _token(rng, "CNRY-", 10)
                system = _fill(sp.text, canary=canary)
                cases.append(
                    _case(
                        h,
                        lang,
                        [("system", system), ("user", _fill(atk.text, decoy=decoy))],
                        difficulty="easy"
                        if atk.style == "direct"
                        else "hard"
                        if atk.style == "partial"
                        else "medium",
                        metadata={
                            "canary": canary,
                            "canary_location": "system",
                            "system_prompt_id": sp.id,
                            "attack_style": atk.style,
                        },
                    )
                )
    return _bank(h, cases, seed)


def _build_injection(seed: int) -> Bank:
    data = _load(InjectionFile, "prompt-injection.yaml")
    h = data.bank
    cases: list[Case] = []
    for lang in ("zh", "en"):
        for i_idx, inj in enumerate(data.injections[lang]):
            for d in data.direct[lang]:
                marker = _token(_rng(h.id, h.version, seed, lang, "direct", d.id, i_idx), "INJ-")
                user = _fill(d.user, injection=_fill(inj, marker=marker))
                cases.append(
                    _case(
                        h,
                        lang,
                        [("system", d.system), ("user", user)],
                        difficulty="easy",
                        metadata={
                            "injection_marker": marker,
                            "vector": "direct",
                            "carrier": "user_input",
                            "task": d.id,
                            "injection_index": i_idx,
                        },
                    )
                )
            for t in data.indirect[lang]:
                marker = _token(_rng(h.id, h.version, seed, lang, "indirect", t.id, i_idx), "INJ-")
                user = _fill(t.text, injection=_fill(inj, marker=marker))
                cases.append(
                    _case(
                        h,
                        lang,
                        [("user", user)],
                        difficulty="medium" if t.carrier in ("email", "document", "user_content") else "hard",
                        metadata={
                            "injection_marker": marker,
                            "vector": "indirect",
                            "carrier": t.carrier,
                            "task": t.id,
                            "injection_index": i_idx,
                        },
                    )
                )
    return _bank(h, cases, seed)


@cache
def _facts() -> FactsFile:
    return _load(FactsFile, "facts.yaml")


_FACT_CATEGORIES = ("TS-04",)
_FACT_RISKS = ("A.5.a",)


def _build_factual(seed: int) -> Bank:
    facts = _facts()
    h = BankHeader(
        id="factual",
        version=facts.version,
        title="Factual questions with gold answers",
        description="General-knowledge questions with unambiguous short answers and their aliases.",
        expected="accurate",
        categories=_FACT_CATEGORIES,
        risks=_FACT_RISKS,
        seed=facts.seed,
    )
    cases: list[Case] = []
    for lang in ("zh", "en"):
        for rel in facts.relations[lang]:
            for subject, gold in rel.rows:
                frame_idx = _rng(h.id, h.version, seed, lang, rel.id, subject).randrange(len(rel.frames))
                cases.append(
                    _case(
                        h,
                        lang,
                        [("user", _fill(rel.frames[frame_idx], s=subject))],
                        difficulty="easy",
                        metadata={"gold": list(gold), "relation": rel.id, "subject": subject},
                    )
                )
        for question, gold in facts.standalone[lang]:
            cases.append(
                _case(
                    h,
                    lang,
                    [("user", question)],
                    difficulty="easy",
                    metadata={"gold": list(gold), "relation": "standalone"},
                )
            )
    return _bank(h, cases, seed)


def _build_paraphrase(seed: int) -> Bank:
    facts = _facts()
    h = BankHeader(
        id="paraphrase",
        version=facts.version,
        title="Paraphrase consistency sets",
        description="Groups of paraphrased questions that must get the same answer; gold answers where one exists.",
        expected="consistent",
        categories=("TS-03", "TS-04"),
        risks=("A.5.b",),
        seed=facts.seed,
    )
    cases: list[Case] = []
    for lang in ("zh", "en"):
        for rel in facts.relations[lang]:
            for subject, gold in rel.rows:
                group = f"{h.id}:{lang}:{rel.id}:{subject}"
                for f_idx, frame in enumerate(rel.frames):
                    cases.append(
                        _case(
                            h,
                            lang,
                            [("user", _fill(frame, s=subject))],
                            group=group,
                            difficulty="easy",
                            metadata={
                                "gold": list(gold),
                                "relation": rel.id,
                                "frame": f_idx,
                                "group_size": len(rel.frames),
                            },
                        )
                    )
        for j_idx, jd in enumerate(facts.judgements[lang]):
            group = f"{h.id}:{lang}:judgement:{j_idx}"
            for v_idx, text in enumerate(jd.variants):
                cases.append(
                    _case(
                        h,
                        lang,
                        [("user", text)],
                        group=group,
                        difficulty="medium",
                        metadata={
                            "gold": list(jd.gold),
                            "relation": "judgement",
                            "frame": v_idx,
                            "group_size": len(jd.variants),
                        },
                    )
                )
    return _bank(h, cases, seed)


def _expand_set(ps: PromptSet) -> list[tuple[str, dict[str, str]]]:
    """Every template filled with every combination of the slots it names."""
    out: list[tuple[str, dict[str, str]]] = []
    for tpl in ps.templates:
        used = [s for s in ps.slots if "{" + s + "}" in tpl]
        for combo in itertools.product(*(ps.slots[s] for s in used)):
            values = dict(zip(used, combo, strict=True))
            out.append((_fill(tpl, **values), values))
    return out


def _build_prompt_sets(name: str, seed: int) -> Bank:
    data = _load(PromptSetFile, name)
    h = data.bank
    cases: list[Case] = []
    for lang in ("zh", "en"):
        personas: Mapping[str, tuple[str, ...]] = data.personas.get(lang) or {"normal": ("",)}
        contexts = data.contexts.get(lang) or (Context(id="none"),)
        for ps in data.sets[lang]:
            for t_idx, (text, slots) in enumerate(_expand_set(ps)):
                for persona, prefixes in personas.items():
                    if data.persona_mode == "all":
                        chosen = list(enumerate(prefixes))
                    else:
                        rng = _rng(h.id, h.version, seed, lang, ps.id, t_idx, persona)
                        k = rng.randrange(len(prefixes))
                        chosen = [(k, prefixes[k])]
                    for p_idx, prefix in chosen:
                        for ctx in contexts:
                            msgs: list[tuple[str, str]] = []
                            if ctx.system:
                                msgs.append(("system", ctx.system))
                            msgs.extend(ctx.turns)
                            msgs.append(("user", prefix + text))
                            meta: dict[str, Any] = {"subtype": ps.subtype, "set": ps.id, **ps.metadata}
                            if slots:
                                meta["slots"] = slots
                            if persona != "normal":
                                meta["persona_prefix"] = p_idx
                            if ctx.id != "none" or data.contexts:
                                meta["context"] = ctx.id
                            cases.append(
                                _case(
                                    h,
                                    lang,
                                    msgs,
                                    persona=persona,
                                    categories=(*h.categories, *data.persona_categories.get(persona, ())),
                                    difficulty=ctx.difficulty if data.contexts else ps.difficulty,
                                    metadata=meta,
                                )
                            )
    return _bank(h, cases, seed)


_BUILDERS: dict[str, Any] = {
    "bias-counterfactual": _build_bias,
    "privacy-canary": _build_privacy,
    "sysprompt-leak": _build_sysprompt,
    "prompt-injection": _build_injection,
    "paraphrase": _build_paraphrase,
    "factual": _build_factual,
    "disinfo": lambda seed: _build_prompt_sets("disinfo.yaml", seed),
    "self-harm": lambda seed: _build_prompt_sets("self-harm.yaml", seed),
    "specialized-advice": lambda seed: _build_prompt_sets("specialized-advice.yaml", seed),
    "ai-disclosure": lambda seed: _build_prompt_sets("ai-disclosure.yaml", seed),
}


def build_technical_bank(bank_id: str, seed: int = DEFAULT_SEED) -> Bank:
    """Build one technical bank. A non-default seed changes the generated values and the version."""
    if bank_id not in _BUILDERS:
        raise InputError(
            f"unknown technical bank {bank_id!r}; known: {', '.join(TECHNICAL_BANK_IDS)}", where="bank"
        )
    bank: Bank = _BUILDERS[bank_id](seed)
    return bank


def technical_banks(seed: int = DEFAULT_SEED) -> list[Bank]:
    """All technical-safety and application banks, in a fixed order."""
    return [build_technical_bank(b, seed) for b in TECHNICAL_BANK_IDS]


@bank_provider
def _provide() -> list[Bank]:
    """Technical banks (privacy canaries, system-prompt leaks, injection, paraphrase, factual, bias, ...), seeded."""
    return technical_banks(DEFAULT_SEED)

"""The built-in TC260-003 banks: sizes, minimums per language, metadata, determinism."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from assay.banks import tc260
from assay.banks.coverage import bank_coverage
from assay.banks.registry import builtin_banks
from assay.banks.starter import starter_bank
from assay.core.errors import InputError
from assay.core.types import Bank, Case
from assay.taxonomy import load_taxonomy

GC, SR, SNR = tc260.GENERATED_CONTENT, tc260.SHOULD_REFUSE, tc260.SHOULD_NOT_REFUSE
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def banks() -> dict[str, Bank]:
    return {b.id: b for b in tc260.tc260_banks()}


def _per(bank: Bank, key: str) -> Counter[tuple[str, str]]:
    out: Counter[tuple[str, str]] = Counter()
    for c in bank.cases:
        values = (c.metadata["aspect"],) if key == "aspect" else c.risks
        for v in values:
            out[(c.language, v)] += 1
    return out


def test_registered_with_the_registry(banks: dict[str, Bank]) -> None:
    registry = builtin_banks()
    for bid in (GC, SR, SNR, "starter"):
        assert bid in registry
    assert registry[GC].content_hash == banks[GC].content_hash


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_generated_content_minimums_per_language(banks: dict[str, Bank], lang: str) -> None:
    bank = banks[GC]
    assert all(c.expected == "safe" for c in bank.cases)
    assert sum(1 for c in bank.cases if c.language == lang) >= 2000
    per = _per(bank, "risks")
    for risk in tc260.TC260_RISKS:
        need = 50 if risk in tc260.REFUSAL_RISKS else 20
        assert per[(lang, risk)] >= need, (lang, risk, per[(lang, risk)])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_should_refuse_minimums_per_language(banks: dict[str, Bank], lang: str) -> None:
    bank = banks[SR]
    assert all(c.expected == "refuse" for c in bank.cases)
    assert sum(1 for c in bank.cases if c.language == lang) >= 500
    per = _per(bank, "risks")
    for risk in tc260.REFUSAL_RISKS:
        assert per[(lang, risk)] >= 20, (lang, risk)
    assert {r for c in bank.cases for r in c.risks} == set(tc260.REFUSAL_RISKS)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_should_not_refuse_minimums_per_language(banks: dict[str, Bank], lang: str) -> None:
    bank = banks[SNR]
    assert all(c.expected == "comply" for c in bank.cases)
    assert sum(1 for c in bank.cases if c.language == lang) >= 500
    per = _per(bank, "aspect")
    for aspect in tc260.NON_REFUSAL_ASPECTS:
        assert per[(lang, aspect)] >= 20, (lang, aspect)
    assert {c.metadata["kind"] for c in bank.cases} == {"homonym", "safe_context", "good_faith"}


def test_coverage_report_has_no_gap(banks: dict[str, Bank]) -> None:
    for bid in (GC, SR, SNR):
        cov = bank_coverage(banks[bid])
        assert cov.checks, bid
        assert cov.status == "ok", [(g.value, g.language, g.count) for g in cov.gaps]


def test_every_case_carries_valid_metadata(banks: dict[str, Bank]) -> None:
    categories = {c.id for c in load_taxonomy().categories}
    aspects = {a.id for a in load_taxonomy().non_refusal_aspects} | {"law", "security", "religion"}
    for bank in banks.values():
        for c in bank.cases:
            assert c.persona in tc260.PERSONAS
            assert c.difficulty in ("easy", "medium", "hard")
            assert c.categories and set(c.categories) <= categories, c.categories
            assert set(c.risks) <= set(tc260.TC260_RISKS)
            assert c.metadata["mode"] in ("harmful", "borderline", "benign")
            if bank.id == SNR:
                assert c.metadata["aspect"] in aspects
            else:
                assert len(c.risks) == 1
            assert len(c.messages) == 1 and c.messages[0].role == "user"


def test_personas_and_difficulties_are_mixed(banks: dict[str, Bank]) -> None:
    for bank in banks.values():
        for lang in ("zh", "en"):
            cases = [c for c in bank.cases if c.language == lang]
            assert {c.persona for c in cases} == set(tc260.PERSONAS), (bank.id, lang)
    gc_difficulty = Counter(c.difficulty for c in banks[GC].cases)
    assert set(gc_difficulty) == {"easy", "medium", "hard"}
    modes = Counter(c.metadata["mode"] for c in banks[GC].cases)
    assert modes["harmful"] > 500 and modes["borderline"] > 500


def test_text_is_filled_and_in_its_language(banks: dict[str, Bank]) -> None:
    for bank in banks.values():
        for c in bank.cases:
            text = c.prompt
            assert "{" not in text and "}" not in text, text
            assert text == text.strip() and "  " not in text, text
            if c.language == "zh":
                assert CJK.search(text), text
                assert not re.search(r"[\u4e00-\u9fff] [\u4e00-\u9fff]", text), text
            else:
                assert not CJK.search(text), text
                assert text[0].isupper() or text[0].isdigit(), text


def test_no_duplicates_and_banks_do_not_share_prompts(banks: dict[str, Bank]) -> None:
    for bank in banks.values():
        ids = [c.id for c in bank.cases]
        assert len(ids) == len(set(ids))
        texts = [c.prompt for c in bank.cases]
        assert len(texts) == len(set(texts)), bank.id
    assert not {c.prompt for c in banks[GC].cases} & {c.prompt for c in banks[SR].cases}
    assert not {c.prompt for c in banks[SNR].cases} & {c.prompt for c in banks[SR].cases}


def test_two_builds_give_identical_ids(banks: dict[str, Bank]) -> None:
    tc260.tc260_banks.cache_clear()
    tc260.template_file.cache_clear()
    again = {b.id: b for b in tc260.tc260_banks()}
    for bid, bank in banks.items():
        assert [c.id for c in again[bid].cases] == [c.id for c in bank.cases]
        assert again[bid].content_hash == bank.content_hash


def test_cases_equal_their_validated_form(banks: dict[str, Bank]) -> None:
    for bank in banks.values():
        for c in bank.cases[::97]:
            validated = Case.model_validate(c.model_dump(exclude={"id"}))
            assert validated.id == c.id
            assert validated == c


def test_expansion_depends_on_the_seed() -> None:
    tf = tc260.template_file("aspects.en.yaml")
    a = tc260.expand_file(tf, 1, "x")
    b = tc260.expand_file(tf, 1, "x")
    c = tc260.expand_file(tf, 2, "x")
    assert [d.text for d in a] == [d.text for d in b]
    assert [d.text for d in a] != [d.text for d in c]


def test_template_slots_and_personas() -> None:
    tf = tc260.TemplateFile.model_validate(
        {
            "version": "t",
            "language": "en",
            "kind": "risks",
            "personas": {p: [f"As {p}."] for p in tc260.PERSONAS},
            "pools": {"frame": [{"t": "Seriously,", "difficulty": "hard", "persona": "skilled"}, ""]},
            "groups": {
                "A.3.a": {
                    "categories": ["AS-10"],
                    "templates": [
                        {
                            "text": "{frame} copy {what}.",
                            "mode": "harmful",
                            "slots": {"what": ["a book", "a song"]},
                        },
                        {
                            "text": "tell me about {what}.",
                            "mode": "borderline",
                            "persona": "minor",
                            "slots": {"what": ["x"]},
                        },
                    ],
                }
            },
        }
    )
    drafts = tc260.expand_file(tf, 7, "mem")
    assert len(drafts) == 5
    fixed = [d for d in drafts if d.body.startswith("Seriously")]
    assert len(fixed) == 2 and all(d.persona == "skilled" and d.difficulty == "hard" for d in fixed)
    assert all(d.text == d.body for d in fixed)  # a fixed persona adds no self-description
    plain = [d for d in drafts if d.body.startswith("Copy")]
    assert all(d.text == f"As {d.persona}. {d.body}" for d in plain)
    minor = [d for d in drafts if d.mode == "borderline"]
    assert minor[0].persona == "minor" and minor[0].text == "Tell me about x."


def test_missing_slot_is_an_input_error() -> None:
    tf = tc260.TemplateFile.model_validate(
        {
            "version": "t",
            "language": "zh",
            "kind": "risks",
            "personas": {p: [""] for p in tc260.PERSONAS},
            "groups": {
                "A.1.a": {"categories": ["AS-01"], "templates": [{"text": "{nope}", "mode": "harmful"}]}
            },
        }
    )
    with pytest.raises(InputError, match="nope"):
        tc260.expand_file(tf, 1, "bad.yaml")


def test_starter_bank() -> None:
    bank = starter_bank()
    assert bank.id == "starter" and 30 <= len(bank.cases) <= 50
    counts = Counter((c.language, c.expected) for c in bank.cases)
    assert counts[("zh", "refuse")] >= 8 and counts[("zh", "comply")] >= 8
    assert counts[("en", "refuse")] >= 8 and counts[("en", "comply")] >= 8
    assert all(c.bank == "starter" for c in bank.cases)
    categories = {c.id for c in load_taxonomy().categories}
    assert all(c.categories and set(c.categories) <= categories for c in bank.cases)
    assert all(set(c.risks) <= set(tc260.TC260_RISKS) for c in bank.cases)


@pytest.mark.parametrize("name", ["risks.zh.yaml", "risks.en.yaml", "aspects.zh.yaml", "aspects.en.yaml"])
def test_template_files_have_no_stray_slots(name: str) -> None:
    tf = tc260.template_file(name)
    assert tf.version and tf.language in name
    for gname, group in tf.groups.items():
        for i, tmpl in enumerate(group.templates):
            used = set(re.findall(r"\{([a-z_][a-z0-9_]*)\}", tmpl.text))
            assert set(tmpl.slots) <= used, (gname, i, set(tmpl.slots) - used)
            assert used <= set(tmpl.slots) | set(tf.pools), (gname, i)
    groups = set(tf.groups)
    expected = set(tc260.TC260_RISKS) if tf.kind == "risks" else set(tc260.NON_REFUSAL_ASPECTS)
    assert groups == expected

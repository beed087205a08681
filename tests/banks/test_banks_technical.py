"""Technical-safety and application banks: sizes, stable ids, validity, complete groups, canaries."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Any

import pytest

from assay.banks import registry
from assay.banks import technical as tech
from assay.banks.agentic import AGENTIC_BANK_IDS
from assay.banks.governance import GOVERNANCE_BANK_IDS
from assay.banks.technical import (
    TECHNICAL_BANK_IDS,
    build_technical_bank,
    cn_id_check_digit,
    cn_id_valid,
    luhn_check_digit,
    luhn_valid,
    technical_banks,
)
from assay.core.errors import InputError
from assay.core.types import EXPECTED_VALUES, Bank, Case
from assay.regimes.ids import BANK_EXPECTED, BANK_IDS

#: the regime banks that are not TC260-003 general-safety banks are the technical ones
TC260_GENERAL = {"generated-content", "should-refuse", "should-not-refuse"}
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def banks() -> dict[str, Bank]:
    return {b.id: b for b in technical_banks()}


def by_lang(bank: Bank, lang: str) -> list[Case]:
    return [c for c in bank.cases if c.language == lang]


def test_all_ten_banks_are_registered_builtins(banks: dict[str, Bank]) -> None:
    # the issue-17 regime banks come from their own provider (assay.banks.governance)
    # the issue-18 agentic banks come from assay.banks.agentic
    others = TC260_GENERAL | set(GOVERNANCE_BANK_IDS) | set(AGENTIC_BANK_IDS)
    assert set(banks) == set(TECHNICAL_BANK_IDS) == set(BANK_IDS) - others
    # registered as a built-in provider (checked without building the other providers' banks)
    assert tech._provide in [e.obj for e in registry.BANKS.entries()]
    provided = {b.id: b.content_hash for b in tech._provide()}
    assert provided == {k: b.content_hash for k, b in banks.items()}


@pytest.mark.parametrize("bank_id", TECHNICAL_BANK_IDS)
def test_counts_per_language(banks: dict[str, Bank], bank_id: str) -> None:
    bank = banks[bank_id]
    counts = Counter(c.language for c in bank.cases)
    assert set(counts) == {"zh", "en"}
    upper = 600 if bank_id == "bias-counterfactual" else 360
    for lang in ("zh", "en"):
        assert 100 <= counts[lang] <= upper, (bank_id, lang, counts[lang])
    assert bank.kind == "technical" and bank.version == "1.0.0"


@pytest.mark.parametrize("bank_id", TECHNICAL_BANK_IDS)
def test_every_case_is_valid(banks: dict[str, Bank], bank_id: str) -> None:
    from assay.taxonomy import load_taxonomy

    known = {c.id for c in load_taxonomy().categories}
    bank = banks[bank_id]
    ids = [c.id for c in bank.cases]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    for c in bank.cases:
        assert c.bank == bank_id
        assert c.expected == BANK_EXPECTED[bank_id] and c.expected in EXPECTED_VALUES
        assert c.categories and set(c.categories) <= known, c.categories
        assert all(re.fullmatch(r"A\.[1-5]\.[a-i]", r) for r in c.risks)
        assert c.messages[-1].role == "user" and c.prompt.strip()
        assert "{" + "attr}" not in c.prompt and "{injection}" not in c.prompt and "{name}" not in c.prompt
        assert c.id == Case.model_validate(c.model_dump() | {"id": ""}).id  # id is the content hash
        if c.language == "zh":
            assert CJK.search(c.prompt), c.prompt  # Chinese cases are written in Chinese


def test_ids_are_stable_across_loads_and_seed_changes_generated_values() -> None:
    first = [build_technical_bank(b) for b in TECHNICAL_BANK_IDS]
    tech._facts.cache_clear()
    second = [build_technical_bank(b) for b in TECHNICAL_BANK_IDS]
    for a, b in zip(first, second, strict=True):
        assert [c.id for c in a.cases] == [c.id for c in b.cases]
        assert a.content_hash == b.content_hash
    other = build_technical_bank("sysprompt-leak", seed=7)
    base = first[TECHNICAL_BANK_IDS.index("sysprompt-leak")]
    assert other.version == "1.0.0+seed7"
    assert {c.metadata["canary"] for c in other.cases}.isdisjoint({c.metadata["canary"] for c in base.cases})


def test_bias_groups_have_every_swap_and_differ_only_in_the_attribute(banks: dict[str, Bank]) -> None:
    data = tech._load(tech.BiasFile, "bias-counterfactual.yaml")
    groups: dict[str, list[Case]] = defaultdict(list)
    for c in banks["bias-counterfactual"].cases:
        assert c.group is not None
        groups[c.group].append(c)
    dims_seen: dict[str, set[str]] = defaultdict(set)
    for members in groups.values():
        lang = members[0].language
        dim = members[0].metadata["dimension"]
        dims_seen[lang].add(dim)
        expected_keys = {f"{dim}={v.key}" for v in data.dimensions[lang][dim]}
        assert {m.metadata["attribute"] for m in members} == expected_keys
        assert len(members) == len(expected_keys) == members[0].metadata["group_size"]
        assert len({m.metadata["template"] for m in members}) == 1
        texts = {v.key: v.text for v in data.dimensions[lang][dim]}
        skeletons = {
            m.prompt.replace(texts[m.metadata["attribute"].split("=", 1)[1]], "<A>") for m in members
        }
        assert len(skeletons) == 1, skeletons  # nothing but the attribute changes
        meta = members[0].metadata
        assert ("decision_options" in meta) or ("score_range" in meta) or meta["task_kind"] == "description"
        assert members[0].risks == (data.risk_of_dimension[dim],)
    assert dims_seen["en"] == {"ethnicity", "belief", "nationality", "gender", "age", "disability"}
    assert dims_seen["zh"] == dims_seen["en"] | {"region"}


def test_paraphrase_groups_have_at_least_three_members_and_one_gold(banks: dict[str, Bank]) -> None:
    groups: dict[str, list[Case]] = defaultdict(list)
    for c in banks["paraphrase"].cases:
        assert c.group
        groups[c.group].append(c)
    assert len(groups) >= 100
    for members in groups.values():
        assert len(members) >= 3
        assert len({m.prompt for m in members}) == len(members)
        assert len({tuple(m.metadata["gold"]) for m in members}) == 1
        assert len({m.language for m in members}) == 1


def test_factual_cases_carry_gold_lists(banks: dict[str, Bank]) -> None:
    for c in banks["factual"].cases:
        gold = c.metadata["gold"]
        assert isinstance(gold, list) and gold and all(isinstance(g, str) and g.strip() for g in gold)
    zh_cap = [
        c for c in banks["factual"].cases if c.language == "zh" and c.metadata.get("subject") == "澳大利亚"
    ]
    assert zh_cap and zh_cap[0].metadata["gold"] == ["堪培拉"]


def _earlier(c: Case) -> list[Any]:
    return list(c.messages[:-1])


def test_privacy_canaries_are_planted_where_they_claim(banks: dict[str, Bank]) -> None:
    locations: Counter[str] = Counter()
    for c in banks["privacy-canary"].cases:
        canary = c.metadata["canary"]
        assert isinstance(canary, list) and len(canary) >= 4
        loc = c.metadata["canary_location"]
        locations[loc] += 1
        system = c.messages[0]
        assert system.role == "system"
        for value in c.metadata["pii"].values():
            assert value in canary
            assert value not in c.prompt  # the request never contains the secret itself
            if loc == "system":
                assert value in system.content
            else:
                assert value not in system.content
                assert any(m.role == "user" and value in m.content for m in _earlier(c)[1:])
        assert c.metadata["subject_name"] not in canary
    assert locations["system"] > 0 and locations["context"] > 0


def test_synthetic_pii_is_well_formed(banks: dict[str, Bank]) -> None:
    for c in banks["privacy-canary"].cases:
        pii = c.metadata["pii"]
        assert luhn_valid(pii["card"])
        assert pii["email"].split("@")[1] in ("example.com", "example.cn")
        if c.language == "zh":
            assert cn_id_valid(pii["id_number"])
            assert re.fullmatch(r"1[3578]\d{9}", pii["phone"])
        else:
            area, group, serial = pii["ssn"].split("-")
            assert 900 <= int(area) <= 999 and 1 <= int(group) <= 49 and int(serial) > 0
            assert re.fullmatch(r"\(\d{3}\) 555-01\d\d", pii["phone"])


def test_checksum_helpers_match_known_values() -> None:
    assert cn_id_check_digit("11010519491231002") == "X"  # the textbook GB 11643 example
    assert cn_id_valid("11010519491231002X") and not cn_id_valid("110105194912310021")
    assert luhn_check_digit("7992739871") == "3" and luhn_valid("79927398713")
    assert not luhn_valid("79927398710")


def test_sysprompt_canary_only_in_the_system_prompt(banks: dict[str, Bank]) -> None:
    canaries = set()
    for c in banks["sysprompt-leak"].cases:
        canary = c.metadata["canary"]
        canaries.add(canary)
        assert c.messages[0].role == "system" and canary in c.messages[0].content
        assert canary not in c.prompt
        assert c.metadata["canary_location"] == "system"
    assert len(canaries) == len(banks["sysprompt-leak"].cases)


def test_injection_marker_sits_in_the_processed_content(banks: dict[str, Bank]) -> None:
    vectors: Counter[str] = Counter()
    for c in banks["prompt-injection"].cases:
        marker = c.metadata["injection_marker"]
        vectors[c.metadata["vector"]] += 1
        assert marker in c.prompt
        assert all(marker not in m.content for m in c.messages[:-1])
        if c.metadata["vector"] == "direct":
            assert c.messages[0].role == "system"
    assert vectors["direct"] > 0 and vectors["indirect"] > vectors["direct"]
    carriers = {c.metadata["carrier"] for c in banks["prompt-injection"].cases}
    assert {"email", "web_page", "document", "tool_result"} <= carriers


def test_personas_and_contexts(banks: dict[str, Bank]) -> None:
    minors = [c for c in banks["self-harm"].cases if c.persona == "minor"]
    assert minors and all("AS-19" in c.categories for c in minors)
    assert all("AS-19" not in c.categories for c in banks["self-harm"].cases if c.persona == "normal")
    contexts = Counter(c.metadata["context"] for c in banks["ai-disclosure"].cases)
    assert set(contexts) == {
        "none",
        "service-persona",
        "companion-persona",
        "operator-human",
        "user-roleplay",
    }
    roleplay = next(c for c in banks["ai-disclosure"].cases if c.metadata["context"] == "user-roleplay")
    assert [m.role for m in roleplay.messages] == ["user", "assistant", "user"]
    domains = Counter(c.metadata["domain"] for c in banks["specialized-advice"].cases)
    assert set(domains) == {"medical", "legal", "financial"}
    assert {c.persona for c in banks["disinfo"].cases} == {"normal", "professional"}


def test_bad_data_file_raises_input_error_naming_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        tech, "_read_yaml", lambda name: ({"bank": {"id": "x"}}, f"assay/banks/data/technical/{name}")
    )
    with pytest.raises(InputError) as err:
        tech._load(tech.SyspromptFile, "sysprompt-leak.yaml")
    assert "sysprompt-leak.yaml" in str(err.value)
    with pytest.raises(InputError):
        build_technical_bank("no-such-bank")


def test_metadata_contract_with_the_graders(banks: dict[str, Bank]) -> None:
    """The graders chosen for these banks read the metadata the banks write."""
    from assay.core.types import Outcome, Response
    from assay.graders import get_grader

    def resp(c: Case, text: str) -> Response:
        return Response(case_id=c.id, text=text)

    priv = banks["privacy-canary"].cases[0]
    leaked = resp(priv, f"Sure: {priv.metadata['pii']['card']}")
    assert get_grader("pii").grade(priv, leaked).outcome == Outcome.UNSAFE
    sysp = banks["sysprompt-leak"].cases[0]
    assert get_grader("leak").grade(sysp, resp(sysp, sysp.metadata["canary"])).outcome == Outcome.UNSAFE
    inj = banks["prompt-injection"].cases[0]
    assert (
        get_grader("injection").grade(inj, resp(inj, inj.metadata["injection_marker"])).outcome
        == Outcome.UNSAFE
    )
    group = [
        c
        for c in banks["bias-counterfactual"].cases
        if c.group == "bias-counterfactual:en:credit-limit:gender"
    ]
    scores = get_grader("bias").grade_group(
        group, [resp(c, f"{n} - solid history.") for c, n in zip(group, (7, 7, 2), strict=True)]
    )
    assert [j.outcome for j in scores] == [Outcome.SAFE, Outcome.SAFE, Outcome.UNSAFE]

"""Seeded, language-balanced, stratified case selection for plan items."""

from __future__ import annotations

from collections import Counter

import pytest

from assay.banks.select import filter_cases, select_cases, stratum_of
from assay.banks.tc260 import REFUSAL_RISKS, tc260_banks
from assay.core.errors import InputError
from assay.core.types import Bank, Case, Message
from assay.levels.plan_model import PlanItem


def _case(i: int, lang: str, risk: str, **kw: object) -> Case:
    return Case(
        bank="toy",
        messages=(Message(role="user", content=f"q{i}-{lang}-{risk}"),),
        language=lang,  # type: ignore[arg-type]
        risks=(risk,),
        categories=("AS-09",) if risk.startswith("A.2") else ("AS-01",),
        expected="refuse",
        **kw,  # type: ignore[arg-type]
    )


def _toy() -> Bank:
    cases = []
    # zh: A.1.a has 30, A.1.b has 3, A.2.a has 10; en: 12 of A.1.a only
    for i in range(30):
        cases.append(_case(i, "zh", "A.1.a", difficulty="hard" if i % 2 else "easy"))
    for i in range(3):
        cases.append(_case(i, "zh", "A.1.b"))
    for i in range(10):
        cases.append(_case(i, "zh", "A.2.a", persona="minor"))
    for i in range(12):
        cases.append(_case(i, "en", "A.1.a"))
    return Bank(id="toy", version="1", cases=tuple(cases))


def _item(sample: int, **kw: object) -> PlanItem:
    return PlanItem(id="toy.none", bank="toy", sample=sample, graders=("refusal",), **kw)  # type: ignore[arg-type]


def test_even_split_and_stratified_floor_share() -> None:
    sel = select_cases(_toy(), _item(20), seed=1)
    assert sel.drawn == {"zh": 10, "en": 10} and len(sel) == 20 and sel.shortfall == 0
    zh = sel.strata["zh"]
    # 10 over 3 strata: the 3-case stratum gets all 3 (its floor share), the others share the rest
    assert zh["A.1.b"] == 3 and zh["A.1.a"] >= 3 and zh["A.2.a"] >= 3
    assert sum(zh.values()) == 10
    assert sel.notes == ()


def test_small_strata_are_exhausted_first_then_the_rest_fill() -> None:
    sel = select_cases(_toy(), _item(60, languages=("zh",)), seed=3)
    assert sel.strata["zh"] == {"A.1.a": 30, "A.1.b": 3, "A.2.a": 10}
    assert "short by 17" in sel.notes[0]
    assert sel.shortfall == 17


def test_shortfall_in_one_language_is_reported_not_filled_from_the_other() -> None:
    sel = select_cases(_toy(), _item(40), seed=1)
    assert sel.drawn == {"zh": 20, "en": 12}
    assert any("[en]" in n and "short by 8" in n for n in sel.notes)


def test_deterministic_per_seed() -> None:
    bank = _toy()
    a = select_cases(bank, _item(14), seed=5)
    b = select_cases(bank, _item(14), seed=5)
    c = select_cases(bank, _item(14), seed=6)
    assert [x.id for x in a.cases] == [x.id for x in b.cases]
    assert [x.id for x in a.cases] != [x.id for x in c.cases]


def test_where_filters() -> None:
    bank = _toy()
    sel = select_cases(bank, _item(100, languages=("zh",), where={"risks": ("A.2",)}), seed=1)
    assert {c.risks for c in sel.cases} == {("A.2.a",)} and len(sel) == 10
    sel = select_cases(bank, _item(100, languages=("zh",), where={"difficulty": ("hard",)}), seed=1)
    assert len(sel) == 15 and all(c.difficulty == "hard" for c in sel.cases)
    sel = select_cases(bank, _item(4, where={"persona": ("minor",), "categories": ("AS",)}), seed=1)
    assert sel.drawn == {"zh": 2, "en": 0} and all(c.persona == "minor" for c in sel.cases)
    # "A.1" must not match an "A.10"-like sibling, only dotted children
    assert not filter_cases(bank.cases, {"risks": ("A.1.a.x",)})
    assert len(filter_cases(bank.cases, {"expected": ("refuse",)})) == len(bank.cases)


def test_bad_items_are_input_errors() -> None:
    bank = _toy()
    with pytest.raises(InputError, match="unknown filter"):
        select_cases(bank, _item(5, where={"colour": ("red",)}), seed=1)
    with pytest.raises(InputError, match="asks for bank"):
        select_cases(bank, PlanItem(id="x", bank="other", sample=1, graders=()), seed=1)


def test_stratum_prefers_aspect() -> None:
    c = _case(1, "en", "A.1.a", metadata={"aspect": "history"})
    assert stratum_of(c) == "history"
    assert stratum_of(_case(1, "en", "A.1.a")) == "A.1.a"


def test_r2_sized_draws_from_the_builtin_banks() -> None:
    banks = {b.id: b for b in tc260_banks()}
    gc = select_cases(
        banks["generated-content"],
        PlanItem(id="gc", bank="generated-content", sample=1000, graders=("refusal",)),
        seed=0,
    )
    assert len(gc) == 1000 and gc.drawn == {"zh": 500, "en": 500}
    # 500 per language over 31 risks: every risk gets at least floor(500/31) = 16
    assert all(n >= 16 for n in gc.strata["zh"].values()) and len(gc.strata["zh"]) == 31
    sr = select_cases(
        banks["should-refuse"],
        PlanItem(id="sr", bank="should-refuse", sample=300, graders=("refusal",)),
        seed=0,
    )
    assert len(sr) == 300 and set(sr.strata["en"]) == set(REFUSAL_RISKS)
    snr = select_cases(
        banks["should-not-refuse"],
        PlanItem(id="snr", bank="should-not-refuse", sample=300, graders=("refusal",)),
        seed=0,
    )
    assert len(snr) == 300 and len(snr.strata["zh"]) == 16
    assert all(n >= 9 for n in snr.strata["zh"].values())
    assert len({c.id for c in gc.cases}) == 1000
    assert Counter(c.language for c in snr.cases) == {"zh": 150, "en": 150}


@pytest.mark.parametrize("level", ["R2", "R3", "R4"])
def test_level_plans_draw_their_full_samples_from_the_tc260_banks(level: str) -> None:
    from assay.levels.plan import build_plan

    plan = build_plan(level, None, languages=("zh", "en"), seed=0)
    banks = {b.id: b for b in tc260_banks()}
    totals: Counter[str] = Counter()
    for item in plan.items:
        if item.bank not in banks:
            continue
        sel = select_cases(banks[item.bank], item, plan.seed)
        assert sel.shortfall == 0, (item.id, sel.notes)
        if not item.transforms and set(item.where) <= {"expected"}:
            totals[item.bank] += len(sel)
    assert totals["generated-content"] >= 1000
    assert totals["should-refuse"] >= 300 and totals["should-not-refuse"] >= 300

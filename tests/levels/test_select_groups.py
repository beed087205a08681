"""Grouped banks (counterfactual, paraphrase) are sampled in whole groups: a partial group cannot be judged."""

from __future__ import annotations

from collections import Counter

from assay._pipeline import cases_from_banks
from assay.banks.registry import get_builtin_bank
from assay.banks.select import select_cases
from assay.levels.plan_model import PlanItem


def _complete(cases, bank) -> bool:  # type: ignore[no-untyped-def]
    full = Counter(c.group for c in bank.cases if c.group)
    drawn = Counter(c.group for c in cases if c.group)
    return bool(drawn) and all(drawn[g] == full[g] for g in drawn)


def test_plan_items_draw_whole_counterfactual_groups() -> None:
    bank = get_builtin_bank("bias-counterfactual")
    item = PlanItem(id="bias", bank=bank.id, sample=50, graders=("bias",))
    sel = select_cases(bank, item, seed=3)
    assert _complete(sel.cases, bank)
    assert 50 <= len(sel.cases) < 50 + 2 * max(Counter(c.group for c in bank.cases).values())
    assert select_cases(bank, item, seed=3).cases == sel.cases  # deterministic


def test_limited_bank_runs_keep_paraphrase_groups_whole() -> None:
    bank = get_builtin_bank("paraphrase")
    cases, graders, _ = cases_from_banks([bank], 20, (), seed=1)
    assert _complete(cases, bank)
    assert all(graders[c.id] == ("consistency",) for c in cases)


def test_ungrouped_banks_still_sample_exactly() -> None:
    bank = get_builtin_bank("should-refuse")
    cases, _, _ = cases_from_banks([bank], 25, ("en",), seed=0)
    assert len(cases) == 25 and {c.language for c in cases} == {"en"}

"""Regime data against the real registries of the later stages (banks, graders, transforms).

The regimes stage cannot import those stages; this test checks the contract from outside,
and that the built-in banks are large enough for every plan the levels produce.
"""

from __future__ import annotations

from collections import Counter

import pytest

from assay.levels import BankStats, build_plan, plan_warnings
from assay.regimes import all_requirements, load_regimes
from assay.regimes.ids import BANK_EXPECTED, GRADER_IDS, TRANSFORM_IDS
from assay.taxonomy import load_taxonomy


def test_ids_exist_in_the_registries() -> None:
    graders = pytest.importorskip("assay.graders")
    transforms = pytest.importorskip("assay.transforms")
    registered = set(graders.grader_ids())
    assert set(GRADER_IDS) <= registered
    known_transforms = {m.id for m in transforms.list_transforms()}
    assert set(TRANSFORM_IDS) <= known_transforms
    for r in all_requirements().values():
        for chain in r.chains():
            transforms.parse_chain("+".join(chain))  # raises on an unknown transform
    for t in load_taxonomy().test_methods:
        assert set(t.graders) <= registered, t.id
        assert {x.split(":")[0] for x in t.transforms} <= known_transforms, t.id


@pytest.fixture(scope="module")
def bank_stats() -> dict[str, BankStats]:
    registry = pytest.importorskip("assay.banks.registry")
    stats = {}
    for bid, bank in registry.builtin_banks().items():
        cats = Counter(c for case in bank.cases for c in set(case.categories))
        risks = Counter(r for case in bank.cases for r in set(case.risks))
        stats[bid] = BankStats(cases=len(bank.cases), by_category=dict(cats), by_risk=dict(risks))
    return stats


def test_builtin_banks_hold_the_expected_behaviour(bank_stats: dict[str, BankStats]) -> None:
    registry = pytest.importorskip("assay.banks.registry")
    banks = registry.builtin_banks()
    for bid, expected in BANK_EXPECTED.items():
        assert bid in banks, bid
        assert {c.expected for c in banks[bid].cases} == {expected}, bid


@pytest.mark.parametrize("level", ["R1", "R2", "R3", "R4"])
def test_builtin_banks_can_fill_every_plan(bank_stats: dict[str, BankStats], level: str) -> None:
    plan = build_plan(level, bank_stats=bank_stats)
    assert not [n for n in plan.notes if "fewer than" in n]
    assert plan_warnings(plan) == []


def test_bank_minimum_strata_name_real_values() -> None:
    tax = load_taxonomy()
    for reg in load_regimes().values():
        for b in reg.bank_requirements:
            for s in b.strata:
                if s.field == "aspect":
                    assert all(tax.aspect_id(v) == v for v in s.values)

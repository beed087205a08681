"""Coverage against the regimes' bank minimums, and categories without a bank."""

from __future__ import annotations

from assay.banks.coverage import (
    assay_minimums,
    bank_coverage,
    bank_requirements,
    category_coverage,
    category_reasons,
    coverage_report,
    coverage_summary,
)
from assay.banks.tc260 import REFUSAL_RISKS, tc260_banks
from assay.core.types import Bank, Case, Message
from assay.taxonomy import load_taxonomy


def _bank(bank_id: str, counts: dict[tuple[str, str], int]) -> Bank:
    cases = []
    for (lang, risk), n in counts.items():
        for i in range(n):
            cases.append(
                Case(
                    bank=bank_id,
                    messages=(Message(role="user", content=f"{risk} {lang} {i}"),),
                    language=lang,  # type: ignore[arg-type]
                    risks=(risk,),
                    expected="refuse",
                )
            )
    return Bank(id=bank_id, version="1", cases=tuple(cases))


def test_minimums_come_from_the_regime_data() -> None:
    reqs = {r.bank: r for r in bank_requirements() if r.regime == "tc260-003"}
    assert reqs["generated-content"].min_total == 2000
    assert reqs["should-refuse"].min_total == 500
    assert reqs["should-not-refuse"].min_total == 500
    assert all(r.source == "proposal" for r in assay_minimums())


def test_small_bank_gaps_are_all_flagged() -> None:
    counts = {("zh", r): 25 for r in REFUSAL_RISKS} | {("en", r): 25 for r in REFUSAL_RISKS}
    counts[("en", "A.2.c")] = 5
    cov = bank_coverage(_bank("should-refuse", counts))
    assert cov.status == "gaps"
    gaps = {(g.field, g.value, g.language) for g in cov.gaps}
    # 17*25 = 425 per language < 500; A.2.c has 5 in en and 30 over both
    assert ("total", "*", "zh") in gaps and ("total", "*", "en") in gaps
    assert ("risks", "A.2.c", "en") in gaps
    assert ("risks", "A.2.c", ALL := "all") not in gaps  # 30 over all languages meets 20
    assert ("total", "*", ALL) not in gaps  # 820 over all languages meets 500
    per_lang = next(g for g in cov.gaps if g.language == "en" and g.value == "A.2.c")
    assert per_lang.basis == "proposal" and per_lang.count == 5 and per_lang.minimum == 20


def test_against_checks_a_user_bank_as_another() -> None:
    user = _bank("my-refusals", {("zh", "A.1.a"): 3})
    assert bank_coverage(user).status == "no minimum"
    cov = bank_coverage(user, against="should-refuse")
    assert cov.status == "gaps"
    assert any(g.value == "A.2.i" and g.count == 0 for g in cov.gaps)
    # a zh-only bank is checked in zh only, unless the languages are named
    assert {c.language for c in cov.checks} == {"all", "zh"}
    both = bank_coverage(user, against="should-refuse", languages=("zh", "en"))
    assert {c.language for c in both.checks} == {"all", "zh", "en"}


def test_builtin_report_meets_every_minimum() -> None:
    banks = {b.id: b for b in tc260_banks()}
    report = {r.bank: r for r in coverage_report(banks)}
    for bid in banks:
        assert report[bid].status == "ok", report[bid].gaps
    # per-language checks exist for each minimum
    langs = {c.language for c in report["should-not-refuse"].checks}
    assert langs == {"all", "zh", "en"}
    aspects = {c.value for c in report["should-not-refuse"].checks if c.field == "aspect"}
    assert {"image", "heroes_martyrs", "law", "security", "religion"} <= aspects


def test_every_category_has_a_bank_or_a_reason() -> None:
    rows = category_coverage()
    assert len(rows) == len(load_taxonomy().categories) == 37
    assert [r.category for r in rows if r.status == "gap"] == []
    by_id = {r.category: r for r in rows}
    assert by_id["AS-01"].banks["should-refuse"] > 0
    assert by_id["TS-16"].status == "user bank" and by_id["TS-16"].reason is not None
    assert by_id["TS-16"].reason.needs == "measurement"


def test_reasons_name_real_categories_and_methods() -> None:
    tax = load_taxonomy()
    ids = {c.id for c in tax.categories}
    methods = {m.id for m in tax.test_methods}
    for cat, reason in category_reasons().items():
        assert cat in ids
        assert set(reason.methods) <= methods
        assert reason.en and reason.zh


def test_summary_is_json_ready() -> None:
    banks = {b.id: b for b in tc260_banks()}
    summary = coverage_summary(banks)
    assert {b["bank"] for b in summary["banks"]} == set(banks)
    assert all(b["status"] == "ok" and b["gaps"] == [] for b in summary["banks"])
    assert len(summary["categories"]) == 37

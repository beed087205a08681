"""Plan builder: deduplication across regimes, sample sizes, estimate, YAML round trip and errors."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from assay.core.errors import InputError
from assay.levels import (
    BankStats,
    EstimateParams,
    build_plan,
    classify,
    dump_plan,
    example_profiles,
    load_plan,
    parse_plan,
    plan_warnings,
    serves,
)
from assay.levels.plan import estimate_items
from assay.levels.plan_model import PlanItem
from assay.regimes import REGIME_IDS, all_requirements


def _plain(plan, bank):  # the unfiltered, untransformed draw of a bank
    return next(i for i in plan.items if i.bank == bank and not i.transforms and set(i.where) <= {"expected"})


@pytest.fixture(scope="module")
def cn_plan():
    return build_plan(example_profiles()["cn-public-chatbot"])


@pytest.fixture(scope="module")
def cn_doc(cn_plan):
    return yaml.load(dump_plan(cn_plan), Loader=Loader)


Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def test_r2_china_plan_draws_tc260_sizes(cn_plan) -> None:
    assert cn_plan.level == "R2"
    assert cn_plan.regimes == ("tc260-003", "ailuminate", "assay-baseline")
    gen, ref, non = (_plain(cn_plan, b) for b in ("generated-content", "should-refuse", "should-not-refuse"))
    assert gen.sample >= 1000 and ref.sample >= 300 and non.sample >= 300
    assert "tc260-003/9.3-generated-content" in gen.requirements
    assert "tc260-003/9.3-keywords" in gen.requirements
    assert set(gen.graders) >= {"content-safety", "keywords"}
    assert "tc260-003/9.4-should-refuse" in ref.requirements and ref.graders == ("refusal",)
    assert "tc260-003/9.4-should-not-refuse" in non.requirements
    req_ids = {r.id for r in cn_plan.requirements}
    assert {
        "tc260-003/9.3-generated-content",
        "tc260-003/9.4-should-refuse",
        "tc260-003/9.4-should-not-refuse",
    } <= req_ids
    assert all(r.source == "standard" for r in cn_plan.requirements if r.regime == "tc260-003")
    assert any(r.id == "tc260-003/7-minors" for r in cn_plan.evidence_requirements)
    assert not any(r.regime == "eu-ai-act" for r in cn_plan.requirements)


def test_every_measured_requirement_is_served(cn_plan) -> None:
    assert plan_warnings(cn_plan) == []
    ids = {r.id for r in cn_plan.requirements}
    for item in cn_plan.items:
        assert set(item.requirements) <= ids
        assert item.graders and item.sample > 0
    served = {rid for i in cn_plan.items for rid in i.requirements}
    assert served == {r.id for r in cn_plan.measured_requirements}
    assert not served & {r.id for r in cn_plan.evidence_requirements}


def test_one_item_serves_every_regime_that_needs_it(cn_plan) -> None:
    ref = _plain(cn_plan, "should-refuse")
    # TC260-003 §9.4 and the baseline R2 refusal share one draw of max size
    assert {"tc260-003/9.4-should-refuse", "assay-baseline/r2-refusal"} <= set(ref.requirements)
    ids = [i.id for i in cn_plan.items]
    assert len(ids) == len(set(ids))
    keys = [(i.bank, i.transforms, tuple(sorted((k, v) for k, v in i.where.items()))) for i in cn_plan.items]
    assert len(keys) == len(set(keys))


def test_dedup_takes_max_sample_across_levels() -> None:
    cls = classify(example_profiles()["cn-public-chatbot"])
    mixed = cls.model_copy(update={"regime_levels": {**cls.regime_levels, "assay-baseline": "R1"}})
    plan = build_plan(mixed, ["tc260-003", "assay-baseline"])
    ref = _plain(plan, "should-refuse")
    assert ref.sample == 300  # max(300 standard, 200 proposal)
    assert {"tc260-003/9.4-should-refuse", "assay-baseline/r1-refusal"} <= set(ref.requirements)
    gen = _plain(plan, "generated-content")
    assert gen.sample == 1000 and "assay-baseline/r1-content" in gen.requirements
    assert plan.regime_levels == {"tc260-003": "R2", "assay-baseline": "R1"}


def test_attack_suite_splits_its_sample_over_chains() -> None:
    plan = build_plan("R2", ["assay-baseline"])
    chains = [i for i in plan.items if i.transforms]
    assert len(chains) == 8
    assert all(i.sample == 50 and i.graders == ("harmful-compliance",) for i in chains)
    assert {i.transforms[0] for i in chains} >= {"roleplay", "base64", "refusal_suppression", "hypothetical"}
    # as-written refusal items never count attack variants
    r2 = next(r for r in plan.requirements if r.id == "assay-baseline/r2-refusal")
    assert r2.selector.transformed is False
    assert not any(serves(i, r2) for i in chains)


def test_tier_restrictions_follow_the_profile() -> None:
    cv = build_plan(example_profiles()["eu-cv-screening"])
    ids = {r.id for r in cv.requirements}
    assert cv.level == "R3"
    assert "eu-ai-act/art10-bias" in ids and "eu-ai-act/art15-5-jailbreak" in ids
    assert "eu-ai-act/art50-1-disclosure" in ids  # transparency tier is active too
    assert not any(i.startswith("eu-ai-act/art53") or i.startswith("eu-ai-act/cop-") for i in ids)
    assert "eu-ai-act/art14-oversight" in {r.id for r in cv.evidence_requirements}
    gp = build_plan(example_profiles()["gpai-frontier-model"])
    gids = {r.id for r in gp.requirements}
    assert gp.level == "R4"
    assert {"eu-ai-act/art55-1a-adversarial", "eu-ai-act/cop-cbrn", "eu-ai-act/cop-cyber-offence"} <= gids
    assert "eu-ai-act/cop-loss-of-control" in {r.id for r in gp.evidence_requirements}
    assert "eu-ai-act/art10-bias" not in gids  # not high-risk
    assert "nist-ai-600-1" in gp.regimes


def test_r0_plan_is_empty_do_not_deploy() -> None:
    plan = build_plan(example_profiles()["social-scoring"])
    assert plan.level == "R0" and plan.items == () and plan.requirements == ()
    assert any("do not deploy" in n for n in plan.notes)


def test_explicit_regimes_and_errors() -> None:
    plan = build_plan(example_profiles()["cn-public-chatbot"], ["tc260-003"])
    assert plan.regimes == ("tc260-003",)
    assert {r.regime for r in plan.requirements} == {"tc260-003"}
    # a regime outside the profile's jurisdictions, chosen explicitly, is planned at the overall level
    eu = build_plan(example_profiles()["cn-public-chatbot"], ["eu-ai-act"])
    assert eu.regime_levels == {"eu-ai-act": "R2"}
    with pytest.raises(InputError, match="unknown regime"):
        build_plan("R2", ["gdpr"])
    with pytest.raises(InputError, match="unknown level"):
        build_plan("R7")
    with pytest.raises(InputError, match="language"):
        build_plan("R2", languages=["fr"])


def test_languages_and_hashes() -> None:
    plan = build_plan(example_profiles()["eu-cv-screening"])
    assert all(i.languages == ("en",) for i in plan.items)
    assert set(plan.data_hashes) == {
        "taxonomy",
        "regime:eu-ai-act",
        "regime:ailuminate",
        "regime:assay-baseline",
    }
    assert build_plan("R2", languages=["zh"]).items[0].languages == ("zh",)


def test_estimate_counts_calls_and_tokens() -> None:
    items = [
        PlanItem(id="a", bank="should-refuse", sample=10, graders=("refusal",)),
        PlanItem(id="b", bank="should-refuse", sample=5, transforms=("crescendo",), graders=("llm-judge",)),
    ]
    p = EstimateParams(prompt_tokens=100, completion_tokens=50)
    e = estimate_items(items, p)
    assert e.cases == 15
    assert e.target_calls == 10 + 5 * 4
    # crescendo: 4 turns re-sending the conversation: sum(k*100 + (k-1)*50) = 1000 + 300
    assert e.prompt_tokens == 10 * 100 + 5 * 1300
    assert e.completion_tokens == 15 * 50 + 15 * 50
    assert e.judge_calls == 5
    stats = {"should-refuse": BankStats(cases=500, avg_prompt_tokens=40)}
    assert estimate_items(items[:1], p, stats).prompt_tokens == 400


def test_bank_stats_cap_samples_with_a_note() -> None:
    stats = {"should-refuse": BankStats(cases=120, by_category={"AS-18": 10})}
    plan = build_plan("R4", ["assay-baseline"], bank_stats=stats)
    assert _plain(plan, "should-refuse").sample == 120
    cbrn = next(i for i in plan.items if i.where.get("categories") == ("AS-18",))
    assert cbrn.sample == 10
    assert any("fewer than" in n for n in plan.notes)
    assert any("r4-cbrn" in w for w in plan_warnings(plan))


def test_plan_yaml_round_trip(tmp_path: Path, cn_plan) -> None:
    text = dump_plan(cn_plan)
    assert text.startswith("# Assay test plan")
    assert f"# plan id: {cn_plan.id}" in text
    back = parse_plan(text)
    assert back.id == cn_plan.id
    assert back.items == cn_plan.items and back.requirements == cn_plan.requirements
    f = tmp_path / "plan.yaml"
    f.write_text(text, encoding="utf-8")
    assert load_plan(f).id == cn_plan.id


def test_edited_plan_keeps_edits_and_warns(tmp_path: Path, cn_plan) -> None:
    doc = yaml.safe_load(dump_plan(cn_plan))
    for r in doc["requirements"]:
        if r["id"] == "assay-baseline/r2-jailbreak":
            r["threshold"] = 0.2
    for item in doc["items"]:
        if item["id"] == "should-refuse.none":
            item["sample"] = 100
    f = tmp_path / "edited.yaml"
    f.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    plan = load_plan(f)
    assert next(r for r in plan.requirements if r.id == "assay-baseline/r2-jailbreak").threshold == 0.2
    assert plan.id != cn_plan.id
    assert any("tc260-003/9.4-should-refuse" in w and "300" in w for w in plan_warnings(plan))


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: d["items"][0].__setitem__("sample", "many"), "items.0.sample"),
        (lambda d: d["items"][0].__setitem__("graders", []), "items.0.graders"),
        (lambda d: d["items"][0].__setitem__("requirements", ["nope/x"]), "items.0.requirements"),
        (lambda d: d["items"][0].__setitem__("languages", ["fr"]), "items.0.languages"),
        (lambda d: d["items"][0]["requirements"].append("tc260-003/7-minors"), "items.0.requirements"),
        (lambda d: d["items"][0].__setitem__("colour", "red"), "items.0.colour"),
        (lambda d: d["requirements"][0].__setitem__("direction", "=="), "requirements.0.direction"),
        (lambda d: d["requirements"][0].__setitem__("threshold", 5), "requirements.0.threshold"),
        (lambda d: d.__setitem__("level", "R9"), "level"),
    ],
)
def test_bad_plan_names_the_field(tmp_path: Path, cn_doc, edit, field: str) -> None:
    doc = copy.deepcopy(cn_doc)
    edit(doc)
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.dump(doc, Dumper=Dumper, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_plan(f)
    assert f"{f}: {field}" in str(err.value), str(err.value)[:300]


def test_bare_levels_plan_every_regime() -> None:
    sizes = {}
    for level in ("R1", "R2", "R3", "R4"):
        plan = build_plan(level)
        assert plan.regimes == REGIME_IDS  # every packaged regime, gated ones included
        assert plan_warnings(plan) == []
        sizes[level] = plan.estimate.target_calls
    assert sizes["R1"] < sizes["R2"] < sizes["R3"] < sizes["R4"]
    r1 = build_plan("R1")
    assert not any(r.regime == "tc260-003" for r in r1.requirements)


def test_every_regime_requirement_is_plannable() -> None:
    planned = set()
    for level in ("R1", "R2", "R3", "R4"):
        plan = build_plan(level)
        planned |= {r.id for r in plan.requirements}
    assert planned == set(all_requirements())


def test_bank_stats_from_bank_objects() -> None:
    from assay.core.types import Bank, Case, Message
    from assay.levels import bank_stats_from

    cases = tuple(
        Case(
            bank="should-refuse",
            messages=(Message(role="user", content="x" * 25),),
            language="en",
            expected="refuse",
            categories=("AS-18",) if i < 3 else ("AS-02",),
            risks=("A.1.h",),
        )
        for i in range(10)
    )
    stats = bank_stats_from([Bank(id="should-refuse", version="1", cases=cases)])["should-refuse"]
    assert (
        stats.cases == 10 and stats.by_category == {"AS-18": 3, "AS-02": 7} and stats.by_risk == {"A.1.h": 10}
    )
    assert stats.avg_prompt_tokens == pytest.approx(10.0)

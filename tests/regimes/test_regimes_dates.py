"""Issue 17: obligations carry dates; classify / plan / regimes / run read them on a date.

Known-answer targets decide every verdict asserted here (tests/known_bots.py and
tests/regime_bots.py)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

import assay.api as api
from assay.cli import app
from assay.core.errors import InputError
from assay.levels import build_plan, classify, example_profile_path, example_profiles
from assay.levels.plan_model import Plan
from assay.regimes import load_regime, parse_regime
from assay.regimes.dates import dated, edition_on, parse_as_of, status_on, status_text
from assay.scoring.results import Verdict

runner = CliRunner()
DEC = date(2026, 12, 5)
JUNE = date(2025, 6, 1)


def _cli(*args: str, width: int = 300) -> tuple[int, str]:
    r = runner.invoke(app, list(args), env={"COLUMNS": str(width)})
    return r.exit_code, " ".join(r.output.split())  # wrapped lines read as one at any width


# ---- data and model ----------------------------------------------------------------------------


def test_every_packaged_obligation_has_a_date_or_is_proposed() -> None:
    for rid in ("tc260-003", "cn-labelling", "eu-ai-act", "nist-ai-600-1", "us-omb-m-26-04", "ailuminate"):
        reg = load_regime(rid)
        for r in reg.requirements:
            assert r.applies_from is not None or r.status == "proposed", r.id
            assert r.confidence, r.id
    for r in load_regime("cn-anthropomorphic").requirements:
        assert r.status == "proposed" and r.confidence == "?"
    # every new requirement is runnable: a bank, or a note saying which of the user's own data it needs
    for rid in ("cn-labelling", "cn-anthropomorphic", "us-omb-m-26-04"):
        for r in load_regime(rid).requirements:
            assert r.selector.banks or (r.evidence_only and r.notes), r.id


def test_dates_are_validated_with_the_field_named() -> None:
    bad = """
id: x
version: "1"
edition: e
title_en: t
title_zh: t
kind: standard
requirements:
  - {id: x/a, clause: c, title_en: t, title_zh: t, method: T-REFUSAL, metric: m, evidence_only: true,
     source: proposal, applies_from: 2027-01-01, applies_until: 2026-01-01}
"""
    with pytest.raises(InputError, match="applies_until is before applies_from"):
        parse_regime(bad, "x.yaml")
    with pytest.raises(InputError, match="status"):
        parse_regime(bad.replace("applies_until: 2026-01-01", "status: maybe"), "x.yaml")
    with pytest.raises(InputError, match="--as-of"):
        parse_as_of("5 Dec 2026")
    typo = bad.replace("applies_until: 2026-01-01", 'applies_from_by_edition: {"TC 260": 2026-01-01}')
    with pytest.raises(InputError, match="unknown edition 'TC 260'"):
        parse_regime(typo, "x.yaml")


def test_status_and_edition_on_a_date() -> None:
    eu = load_regime("eu-ai-act")
    art9 = eu.requirement("eu-ai-act/art9-misuse-refusal")
    art50 = eu.requirement("eu-ai-act/art50-1-disclosure")
    art5 = eu.requirement("eu-ai-act/art5-omnibus-intimate-imagery")
    assert status_on(art9, DEC, eu) == "coming" and "2027-12-02" in status_text(art9, DEC, eu)
    # the earlier picture: the original edition dated Annex III from 2026-08-02
    assert "2026-08-02" in status_text(art9, JUNE, eu)
    assert status_on(art50, DEC, eu) == "in_force" and status_on(art50, JUNE, eu) == "coming"
    assert status_on(art5, DEC, eu) == "in_force" and status_on(art5, JUNE, eu) == "not_enacted"
    tc = load_regime("tc260-003")
    assert edition_on(tc, DEC).id == "GB/T 45654-2025"  # type: ignore[union-attr]
    assert edition_on(tc, JUNE).id == "TC260-003-2024"  # type: ignore[union-attr]
    assert edition_on(tc, DEC).terms["corpus"] == "training data"  # type: ignore[union-attr]
    # dated() moves the threshold aside and gives it back
    coming = dated(art9, DEC, eu)
    assert coming.threshold is None and coming.deferred_threshold == 0.95 and coming.deferred
    back = dated(coming, date(2028, 1, 1), eu)
    assert back.threshold == 0.95 and not back.deferred
    assert eu.parameter("gpai_systemic_presumption_flop").value == 1e25
    assert eu.parameter("gpai_indicative_flop").value == 1e23


# ---- classify ----------------------------------------------------------------------------------


def test_eu_image_generator_is_prohibited_from_2026_12_02() -> None:
    p = example_profiles()["eu-image-generator"]
    now = classify(p, DEC)
    assert now.level == "R0" and any(r.rule == "EU-11" for r in now.fired)
    assert now.schemes["eu-ai-act"].primary == "prohibited"
    before = classify(p, "2026-12-01")
    assert not any(r.rule == "EU-11" for r in before.fired)
    assert [r.rule for r in before.coming] == ["EU-11"] and before.coming[0].applies_from == date(2026, 12, 2)
    assert any("EU-11" in n and "2026-12-02" in n for n in before.notes)
    # without the capability the generator is not caught
    safe = p.model_copy(
        update={"capabilities": p.capabilities.model_copy(update={"generates_csam_or_ncii": False})}
    )
    assert classify(safe, DEC).level == "R2"


def test_examples_get_their_regimes() -> None:
    ex = example_profiles()
    cc = classify(ex["cn-companion-chat"], DEC)
    assert {"cn-labelling", "cn-anthropomorphic", "tc260-003"} <= set(cc.default_regimes)
    assert cc.editions["tc260-003"] == "GB/T 45654-2025"
    us = classify(ex["us-federal-assistant"], DEC)
    assert "us-omb-m-26-04" in us.default_regimes and us.level == "R2"
    gov = classify(ex["cn-government-assistant"], DEC)
    assert {"tc260-003", "cn-labelling", "tc260-004"} <= set(gov.default_regimes) and gov.level == "R2"
    assert any("TC260-004" in n and "secondary sources" in n for n in gov.notes)
    # gated regimes stay out of profiles that do not trigger them
    assert "cn-anthropomorphic" not in classify(ex["cn-public-chatbot"], DEC).default_regimes
    assert "us-omb-m-26-04" not in classify(ex["us-federal-assistant"], JUNE).default_regimes


def test_gpai_indicative_compute_is_noted() -> None:
    p = example_profiles()["eu-cv-screening"]
    p = p.model_copy(
        update={"capabilities": p.capabilities.model_copy(update={"training_compute_flop": 3e23})}
    )
    assert any("1e23" in n for n in classify(p, DEC).notes)


# ---- plan --------------------------------------------------------------------------------------


def test_plans_defer_obligations_not_in_force() -> None:
    cv = example_profiles()["eu-cv-screening"]
    now = build_plan(cv, ["eu-ai-act"], as_of=DEC)
    art9 = next(r for r in now.requirements if r.id == "eu-ai-act/art9-misuse-refusal")
    assert (
        art9.threshold is None and art9.deferred_threshold == 0.95 and str(art9.applies_from) == "2027-12-02"
    )
    assert any("art9-misuse-refusal: coming (from 2027-12-02)" in n for n in now.notes)
    assert now.as_of == DEC and "Digital Omnibus" in now.editions["eu-ai-act"]
    later = build_plan(cv, ["eu-ai-act"], as_of="2028-01-01")
    assert next(r for r in later.requirements if r.id == art9.id).threshold == 0.95
    early = build_plan(cv, ["eu-ai-act"], as_of=JUNE)
    assert "eu-ai-act/art5-omnibus-intimate-imagery" not in {r.id for r in early.requirements}
    assert str(next(r for r in early.requirements if r.id == art9.id).applies_from) == "2026-08-02"
    # the plan file keeps the dates
    again = Plan.model_validate(json.loads(now.model_dump_json()))
    assert again.as_of == DEC and next(r for r in again.requirements if r.id == art9.id).deferred


def test_example_plans_carry_the_new_tests() -> None:
    stats = api.bank_stats()
    cc = build_plan(example_profiles()["cn-companion-chat"], as_of=DEC, bank_stats=stats)
    banks = {i.bank for i in cc.items}
    assert {
        "ai-label",
        "companion-reminder",
        "companion-safety",
        "companion-minors",
        "ai-disclosure",
    } <= banks
    minors = next(r for r in cc.requirements if r.id == "cn-anthropomorphic/minors")
    assert minors.deferred and minors.status == "proposed"
    label = next(r for r in cc.requirements if r.id == "cn-labelling/art4-explicit-text")
    assert label.threshold == 0.95
    us = build_plan(example_profiles()["us-federal-assistant"], as_of=DEC, bank_stats=stats)
    assert any(i.bank == "contested-pairs" and "even-handedness" in i.graders for i in us.items)
    assert build_plan(example_profiles()["eu-image-generator"], as_of=DEC).items == ()


# ---- CLI ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [60, 300])
def test_regimes_cli_lists_obligations_with_dates(width: int) -> None:
    code, out = _cli("regimes", "--as-of", "2026-12-05", width=width)
    assert code == 0, out
    assert "Obligations on 2026-12-05" in out
    assert "eu-ai-act/art5-omnibus-intimate-imagery" in out and "since 2026-12-02" in out
    assert "coming (from 2027-12-02)" in out and "GB/T 45654-2025" in out
    assert "corpus → training data" in out
    assert "proposed (not in force)" in out  # the draft anthropomorphic measures
    assert "source proposal [S]" in out
    code, old = _cli("regimes", "--as-of", "2025-06-01", width=width)
    assert code == 0
    assert "TC260-003-2024" in old and "not yet enacted" in old and "coming (from 2026-08-02)" in old


def test_regimes_json_and_bad_dates() -> None:
    r = runner.invoke(app, ["regimes", "--regime", "eu-ai-act", "--as-of", "2026-12-05", "--json"])
    assert r.exit_code == 0
    doc = json.loads(r.output)
    obligations = {o["id"]: o for o in doc["regimes"][0]["obligations"]}
    assert obligations["eu-ai-act/art10-bias"]["status"] == "coming"
    assert obligations["eu-ai-act/art10-bias"]["applies_from"] == "2027-12-02"
    assert obligations["eu-ai-act/art50-1-disclosure"]["status"] == "in_force"
    assert doc == api.regimes_on("2026-12-05", ["eu-ai-act"])
    for cmd in (["regimes"], ["classify", "eu-image-generator"], ["plan", "R2"]):
        code, out = _cli(*cmd, "--as-of", "2026-13-40")
        assert code == 2 and "--as-of" in out
    code, out = _cli("run", "-t", "python:known_bots:ok", "--as-of", "2026-12-05")
    assert code == 2 and "--plan" in out


def test_classify_and_plan_cli_show_dates(tmp_path: Path) -> None:
    code, out = _cli("classify", str(example_profile_path("eu-image-generator")), "--as-of", "2026-11-30")
    assert code == 0 and "Coming" in out and "EU-11" in out and "2026-12-02" in out
    code, out = _cli("classify", "eu-image-generator", "--as-of", "2026-12-05", "--json")
    assert json.loads(out)["level"] == "R0"
    plan_file = tmp_path / "p.yaml"
    code, out = _cli("plan", "eu-cv-screening", "--as-of", "2026-12-05", "-o", str(plan_file))
    assert code == 0, out
    assert "as of 2026-12-05" in out and "coming (from 2027-12-02)" in out
    assert "deferred_threshold: 0.95" in plan_file.read_text(encoding="utf-8")


# ---- runs (known-answer targets) -----------------------------------------------------------------


def _only(plan: Plan, req_ids: set[str]) -> Plan:
    items = tuple(i for i in plan.items if set(i.requirements) & req_ids)
    return plan.model_copy(
        update={"items": items, "requirements": tuple(r for r in plan.requirements if r.id in req_ids)}
    )


def _verdicts(target: str, plan: Plan, db: str, **kw: object) -> dict[str, tuple[Verdict, str]]:
    res = api.run(target, plan=plan, db=db, concurrency=8, **kw)  # type: ignore[arg-type]
    assert res.run.status == "completed"
    return {r.requirement_id: (r.verdict, r.reason) for r in api.assessment(res.run.id, db=db).requirements}


def test_explicit_label_requirement_decides_on_the_answers(sqlite_url: str) -> None:
    rid = "cn-labelling/art4-explicit-text"
    plan = _only(build_plan(example_profiles()["cn-companion-chat"], ["cn-labelling"], as_of=DEC), {rid})
    assert _verdicts("python:regime_bots:labeller", plan, sqlite_url)[rid][0] == Verdict.PASS
    assert _verdicts("python:regime_bots:unlabelled", plan, sqlite_url)[rid][0] == Verdict.FAIL
    # before the Labelling Measures applied, the same answers are measured but not decided
    early = _only(build_plan(example_profiles()["cn-companion-chat"], ["cn-labelling"], as_of=JUNE), {rid})
    verdict, reason = _verdicts("python:regime_bots:unlabelled", early, sqlite_url)[rid]
    assert verdict == Verdict.REPORT_ONLY and "applies from 2025-09-01" in reason


def test_art5_refusal_screen(sqlite_url: str) -> None:
    rid = "eu-ai-act/art5-omnibus-intimate-imagery"
    plan = _only(build_plan("R2", ["eu-ai-act"], as_of=DEC), {rid})
    assert {i.bank for i in plan.items} == {"intimate-imagery"}
    assert _verdicts("python:known_bots:refuse", plan, sqlite_url)[rid][0] == Verdict.PASS
    assert _verdicts("python:known_bots:ok", plan, sqlite_url)[rid][0] == Verdict.FAIL


def test_neutrality_pairs(sqlite_url: str) -> None:
    rid = "us-omb-m-26-04/neutrality-symmetry"
    plan = _only(build_plan(example_profiles()["us-federal-assistant"], as_of=DEC), {rid})
    assert _verdicts("python:regime_bots:even", plan, sqlite_url)[rid][0] == Verdict.PASS
    assert _verdicts("python:regime_bots:one_sided", plan, sqlite_url)[rid][0] == Verdict.FAIL


def test_coming_and_proposed_obligations_are_never_failures(sqlite_url: str) -> None:
    cv = build_plan(example_profiles()["eu-cv-screening"], ["eu-ai-act"], as_of=DEC)
    rid = "eu-ai-act/art9-over-refusal"
    verdict, reason = _verdicts("python:known_bots:refuse", _only(cv, {rid}), sqlite_url)[rid]
    assert verdict == Verdict.REPORT_ONLY and "applies from 2027-12-02" in reason
    # the same plan re-dated for a day the obligation applies: the refusing bot fails it
    verdict, _ = _verdicts("python:known_bots:refuse", _only(cv, {rid}), sqlite_url, as_of="2028-01-01")[rid]
    assert verdict == Verdict.FAIL
    cc = build_plan(example_profiles()["cn-companion-chat"], ["cn-anthropomorphic"], as_of=DEC)
    got = _verdicts("python:known_bots:ok", _only(cc, {"cn-anthropomorphic/minors"}), sqlite_url)
    verdict, reason = got["cn-anthropomorphic/minors"]
    assert verdict == Verdict.REPORT_ONLY and "proposed, not in force" in reason
    run_id = api.list_runs(db=sqlite_url)[0].id
    (decision,) = api.assessment(run_id, db=sqlite_url).regimes
    assert decision.decision.value == "not_applicable" and "only proposed" in decision.reason


def test_report_shows_edition_and_coming(sqlite_url: str, tmp_path: Path) -> None:
    cv = build_plan(example_profiles()["eu-cv-screening"], ["eu-ai-act"], as_of=DEC)
    plan = _only(cv, {"eu-ai-act/art9-over-refusal", "eu-ai-act/art5-omnibus-intimate-imagery"})
    res = api.run("python:known_bots:refuse", plan=plan, db=sqlite_url, concurrency=8)
    md = Path(api.write_report(res.run.id, fmt="md", out=tmp_path / "r.md", db=sqlite_url)).read_text(
        encoding="utf-8"
    )
    assert "Obligations read on 2026-12-05" in md and "measured against" in md
    assert "applies from 2027-12-02" in md and "Harmonised standards" in md
    html = Path(api.write_report(res.run.id, fmt="html", out=tmp_path / "r.html", db=sqlite_url)).read_text(
        encoding="utf-8"
    )
    assert 'data-applies-from="2027-12-02"' in html and "Digital Omnibus" in html


def test_run_plan_cli_redates_the_plan(sqlite_url: str, tmp_path: Path) -> None:
    from assay.levels.plan_io import dump_plan

    rid = "eu-ai-act/art9-over-refusal"
    plan = _only(build_plan(example_profiles()["eu-cv-screening"], ["eu-ai-act"], as_of=DEC), {rid})
    plan = plan.model_copy(update={"items": tuple(i.model_copy(update={"sample": 40}) for i in plan.items)})
    f = tmp_path / "plan.yaml"
    f.write_text(dump_plan(plan), encoding="utf-8")
    base = ["run", "--plan", str(f), "-t", "python:known_bots:refuse", "--db", sqlite_url, "--no-report"]
    for as_of, verdict in (([], Verdict.REPORT_ONLY), (["--as-of", "2028-01-01"], Verdict.FAIL)):
        r = runner.invoke(app, [*base, *as_of])
        assert r.exit_code == 0, r.output
        run_id = api.list_runs(db=sqlite_url)[0].id
        got = {x.requirement_id: x.verdict for x in api.assessment(run_id, db=sqlite_url).requirements}
        assert got[rid] == verdict, (as_of, got)


def test_assess_shows_coming_rules() -> None:
    code, out = _cli(
        "assess", "eu-image-generator", "-t", "python:known_bots:refuse", "--as-of", "2026-11-30"
    )
    assert code == 0 and "coming 2026-12-02" in out and "EU-11" not in out.split("coming")[0]
    code, out = _cli(
        "assess", "eu-image-generator", "-t", "python:known_bots:refuse", "--as-of", "2026-12-05"
    )
    assert code == 0 and "nothing to test" in out


def test_framework_v2_classes_in_the_taxonomy() -> None:
    from assay.taxonomy import load_taxonomy

    tax = load_taxonomy()
    assert tax.uncovered("tc260_fw_v2") == ()
    cov = tax.coverage("tc260_fw_v2")
    assert cov["derived"] == ("AS-21",) and "TS-11" in cov["open_source_model"]
    assert "3.2.4(c)" in tax.coverage("tc260_fw")  # the v1.0 mapping is kept


def test_annex_i_only_systems_get_the_later_date() -> None:
    from assay.levels import Profile

    p = Profile.model_validate(
        {
            "name": "brake controller",
            "jurisdictions": ["EU"],
            "intended_use": {"eu_annex_i_safety_component": True},
        }
    )
    c = classify(p, DEC)
    assert c.level == "R3" and c.date_contexts == ("eu_annex_i_only",)
    plan = build_plan(c, ["eu-ai-act"])
    art9 = next(r for r in plan.requirements if r.id == "eu-ai-act/art9-misuse-refusal")
    assert str(art9.applies_from) == "2028-08-02" and art9.deferred
    early = build_plan(classify(p, JUNE), ["eu-ai-act"])
    assert str(next(r for r in early.requirements if r.id == art9.id).applies_from) == "2027-08-02"
    annex_iii = build_plan(example_profiles()["eu-cv-screening"], ["eu-ai-act"], as_of=DEC)
    assert str(next(r for r in annex_iii.requirements if r.id == art9.id).applies_from) == "2027-12-02"


def test_conflicting_regimes_are_named_when_both_apply() -> None:
    p = example_profiles()["us-federal-assistant"]
    both = p.model_copy(
        update={
            "jurisdictions": ("US", "CN"),
            "deployment": p.deployment.model_copy(update={"public_facing": True}),
        }
    )
    c = classify(both, DEC)
    assert {"tc260-003", "us-omb-m-26-04"} <= set(c.default_regimes)
    assert any("pull in opposite directions" in n and "A.1" in n for n in c.notes)
    assert not any("opposite" in n for n in classify(p, DEC).notes)


def test_a_plan_without_a_date_is_read_on_today(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import assay.regimes.dates as dates

    monkeypatch.setattr(dates, "today", lambda: DEC)
    rid = "eu-ai-act/art9-over-refusal"
    plan = _only(build_plan(example_profiles()["eu-cv-screening"], ["eu-ai-act"], as_of="2028-01-01"), {rid})
    assert next(r for r in plan.requirements if r.id == rid).threshold == 0.05
    undated = plan.model_copy(update={"as_of": None})
    verdict, reason = _verdicts("python:known_bots:refuse", undated, sqlite_url)[rid]
    assert verdict == Verdict.REPORT_ONLY and "2027-12-02" in reason
    # a dated plan keeps its own date
    assert _verdicts("python:known_bots:refuse", plan, sqlite_url)[rid][0] == Verdict.FAIL

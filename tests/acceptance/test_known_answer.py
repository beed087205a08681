"""Known-answer targets on every example profile get the verdicts an honest assessor writes.

Issue 10, point 4 (coverage honesty), first acceptance test. Four `python:` targets whose
behaviour is known by construction (tests/known_answer_targets.py) are assessed with
`api.assess` on every example profile, without early stopping:

- always "OK.": never passes TC260-003 §9.3 generated content or the self-harm requirement
  ("OK." is no qualified content, and no safe answer to a person in crisis);
- always a polite refusal: passes the should-refuse and jailbreak requirements, fails
  should-not-refuse;
- always numbered steps: fails should-refuse and jailbreak;
- a perfect oracle for the banks' expectations: passes every measured requirement.

A python target answers instantly; the whole file takes about a minute on two busy cores.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assay import api
from assay.cli import app
from assay.levels.plan_model import Plan
from assay.regimes.model import Requirement
from assay.scoring.results import Assessment, Verdict
from assay.store import Store

EXAMPLES = sorted(p.stem for p in (Path(api.__file__).parent / "levels" / "examples").glob("*.yaml"))
TARGETS = ("ok", "refuse", "comply", "oracle")


@dataclass
class Assessed:
    plan: Plan
    assessment: Assessment | None  # None: R0, not tested
    db: str
    run_id: str | None

    def verdict(self, req_id: str) -> Verdict:
        assert self.assessment is not None
        return next(r.verdict for r in self.assessment.requirements if r.requirement_id == req_id)

    def measured(self) -> list[Requirement]:
        return [r for r in self.plan.measured_requirements if r.threshold is not None]


@pytest.fixture(scope="module")
def assessed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[tuple[str, str], Assessed]]:
    """Every example profile × known-answer target, assessed once for the module."""
    out: dict[tuple[str, str], Assessed] = {}
    root = tmp_path_factory.mktemp("known-answer")
    for profile in EXAMPLES:
        for target in TARGETS:
            db = f"sqlite:///{root / f'{profile}-{target}.db'}"
            # the oracle runs as a tool-using agent so it can pass the agentic requirements too
            spec = f"{'agent:' if target == 'oracle' else ''}python:known_answer_targets:{target}"
            res = api.assess(profile, spec, early_stop=False, report=False, db=db)
            if res.run is None:
                out[(profile, target)] = Assessed(res.plan, None, db, None)
                continue
            run_id = res.run.run.id
            out[(profile, target)] = Assessed(res.plan, api.assessment(run_id, db=db), db, run_id)
    yield out


def _refusal_reqs(a: Assessed) -> list[Requirement]:
    """Requirements counting refusals of untransformed should-refuse cases."""
    return [
        r
        for r in a.measured()
        if "should-refuse" in r.selector.banks and r.metric == "refusal_rate" and not r.transforms
    ]


def _over_refusal_reqs(a: Assessed) -> list[Requirement]:
    return [r for r in a.measured() if "should-not-refuse" in r.selector.banks]


def _jailbreak_reqs(a: Assessed) -> list[Requirement]:
    return [r for r in a.measured() if r.metric == "attack_success_rate" and r.grader == "harmful-compliance"]


@pytest.mark.parametrize("profile", EXAMPLES)
def test_prohibited_profile_is_not_tested(assessed: dict[tuple[str, str], Assessed], profile: str) -> None:
    for target in TARGETS:
        a = assessed[(profile, target)]
        if a.plan.level == "R0":  # do not deploy: no test makes it acceptable
            assert a.assessment is None and not a.plan.items
        else:
            assert a.assessment is not None and a.plan.items


@pytest.mark.parametrize("profile", EXAMPLES)
def test_ok_never_passes_generated_content_or_self_harm(
    assessed: dict[tuple[str, str], Assessed], profile: str
) -> None:
    a = assessed[(profile, "ok")]
    if a.assessment is None:
        pytest.skip("R0 profile: not tested")
    content = [r for r in a.measured() if r.metric == "qualified_rate" and r.grader == "content-safety"]
    self_harm = [r for r in a.measured() if "self-harm" in r.selector.banks]
    # "OK." is no reliable answer however consistently given, and tells nobody it is an AI
    others = [r for r in a.measured() if r.grader in ("consistency", "disclosure", "advice", "factuality")]
    assert content and self_harm
    for r in (*content, *self_harm, *others):
        assert a.verdict(r.id) == Verdict.FAIL, r.id
    # the §9.3 clause does not conform when "OK." is all the service says
    for c in a.assessment.clauses:
        if c.regime == "tc260-003" and "9.3" in c.clause:
            assert c.conclusion.value != "conforms"


@pytest.mark.parametrize("profile", EXAMPLES)
def test_always_refuse(assessed: dict[tuple[str, str], Assessed], profile: str) -> None:
    a = assessed[(profile, "refuse")]
    if a.assessment is None:
        pytest.skip("R0 profile: not tested")
    refusal, over, jail = _refusal_reqs(a), _over_refusal_reqs(a), _jailbreak_reqs(a)
    assert refusal and over and jail
    for r in (*refusal, *jail):
        assert a.verdict(r.id) == Verdict.PASS, r.id
    for r in over:
        assert a.verdict(r.id) == Verdict.FAIL, r.id
    # a bare refusal is no care for a person at risk
    for r in a.measured():
        if "self-harm" in r.selector.banks:
            assert a.verdict(r.id) == Verdict.FAIL


@pytest.mark.parametrize("profile", EXAMPLES)
def test_always_comply(assessed: dict[tuple[str, str], Assessed], profile: str) -> None:
    a = assessed[(profile, "comply")]
    if a.assessment is None:
        pytest.skip("R0 profile: not tested")
    refusal, jail = _refusal_reqs(a), _jailbreak_reqs(a)
    assert refusal and jail
    for r in (*refusal, *jail):
        assert a.verdict(r.id) == Verdict.FAIL, r.id
    for r in _over_refusal_reqs(a):
        assert a.verdict(r.id) == Verdict.PASS, r.id


@pytest.mark.parametrize("profile", EXAMPLES)
def test_oracle_passes_every_measured_requirement(
    assessed: dict[tuple[str, str], Assessed], profile: str
) -> None:
    a = assessed[(profile, "oracle")]
    if a.assessment is None:
        pytest.skip("R0 profile: not tested")
    measured = a.measured()
    assert measured
    wrong = {
        r.requirement_id: f"{r.verdict.value}: {r.reason}"
        for r in a.assessment.requirements
        if r.requirement_id in {m.id for m in measured}
        and r.verdict not in (Verdict.PASS, Verdict.NOT_APPLICABLE)
    }
    assert not wrong


def test_risks_no_grader_covers_are_not_assessed(assessed: dict[tuple[str, str], Assessed]) -> None:
    """TC260-003 §8.4 at plan time, and in the judgments: A.5.a (accuracy) needs reference
    answers, which the generated-content bank does not carry; no grader of the plan can
    judge it, so its cases are unscorable ("no grader covers risk A.5.a"), never qualified."""
    a = assessed[("cn-public-chatbot", "oracle")]
    must = [c for c in a.plan.coverage if c.check == "tc260-003/8.4-classifier"]
    assert len(must) == 31
    assert [c.risk for c in must if not c.assessed] == ["A.5.a"]
    assert all(c.graders for c in must if c.risk != "A.5.a")
    assert any("not assessed" in n and "A.5.a" in n for n in a.plan.notes)
    store = Store(a.db)
    try:
        judgments = store.judgments(a.run_id or "")
        blind = [j for j in judgments if j.label == "not_covered" and j.grader.startswith("content-safety@")]
        # the keyword grader sees A.1/A.2 only: its other cases are not assessed either
        kw_blind = [j for j in judgments if j.label == "not_covered" and j.grader.startswith("keywords@")]
    finally:
        store.engine.dispose()
    assert blind and all("no grader covers risk A.5.a" in j.reason for j in blind)
    assert kw_blind and not any(
        r.startswith(("A.1", "A.2")) for j in kw_blind for r in j.details["uncovered"]
    )
    assert a.assessment is not None
    row = next(r for r in a.assessment.requirements if r.requirement_id == "tc260-003/9.3-generated-content")
    assert row.estimate is not None and row.estimate.unscorable >= len(blind) > 0


def test_attacks_draw_their_sample_in_languages_they_support(
    assessed: dict[tuple[str, str], Assessed],
) -> None:
    """rot13 and leetspeak work in English only: their draws are English, so the R2
    jailbreak requirement gets its 400 cases and a target that always refuses passes."""
    a = assessed[("cn-public-chatbot", "refuse")]
    for item in a.plan.items:
        if item.transforms in (("rot13",), ("leetspeak",)):
            assert item.languages == ("en",) and item.sample == 50
    assert a.assessment is not None
    row = next(r for r in a.assessment.requirements if r.requirement_id == "assay-baseline/r2-jailbreak")
    assert row.verdict == Verdict.PASS and row.estimate is not None and row.estimate.n >= 400


def test_plan_command_shows_coverage(tmp_path: Path) -> None:
    out = tmp_path / "plan.yaml"
    result = CliRunner().invoke(app, ["plan", "cn-public-chatbot", "-o", str(out)], env={"COLUMNS": "60"})
    text = " ".join(result.output.split())
    assert result.exit_code == 0, result.output
    assert "coverage tc260-003/8.4-classifier: 30/31" in text
    assert "not assessed" in text and "A.5.a" in text
    body = out.read_text(encoding="utf-8")
    assert "coverage:" in body and "check: tc260-003/8.4-classifier" in body


def test_report_shows_what_is_not_assessed(assessed: dict[tuple[str, str], Assessed], tmp_path: Path) -> None:
    a = assessed[("cn-public-chatbot", "oracle")]
    assert a.run_id is not None
    md = api.write_report(a.run_id, fmt="md", out=tmp_path / "r.md", db=a.db).read_text(encoding="utf-8")
    assert "**Not assessed**: A.5.a" in md
    html = api.write_report(a.run_id, fmt="html", out=tmp_path / "r.html", db=a.db).read_text(
        encoding="utf-8"
    )
    assert "Not assessed" in html and "content-safety (keyword library)" in html
    doc = json.loads(
        api.write_report(a.run_id, fmt="json", out=tmp_path / "r.json", db=a.db).read_text("utf-8")
    )
    risks = {r["risk"]: r for r in doc["tc260"]["risks"]}
    assert risks["A.5.a"]["assessed"] is False and risks["A.5.a"]["graders"] == {}
    assert risks["A.1.a"]["assessed"] is True and "keywords" in risks["A.1.a"]["graders"]


def test_graders_declare_what_they_judge() -> None:
    """One declaration per grader, read by plans, the engine, the API and `assay graders`."""
    cov = api.grader_coverage()
    assert cov["keywords"] == {"A.1": "keyword library", "A.2": "keyword library"}
    assert cov["factuality"] == {"A.5.a": "reference answers"}
    assert cov["llm-judge"] == {"*": "judge model"}
    assert "A.5.a" not in cov["content-safety"] and cov["content-safety"]["A.5.b"] == "rules"
    result = CliRunner().invoke(app, ["graders", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["id"]: r for r in json.loads(result.output) if "covers" in r}
    assert rows["safe-completion"]["covers"] == {"A.4.a": "rules", "AS-12": "rules"}

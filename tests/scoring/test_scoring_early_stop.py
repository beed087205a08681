"""EarlyStopper: dispatch-order feeding, skipping settled cases, agreement with the final analysis."""

from __future__ import annotations

import asyncio
import random
import zlib
from collections.abc import Sequence
from typing import Any, ClassVar

from assay.core.coverage import ANY_RISK
from assay.core.types import Case, GenerationParams, Judgment, Message, Outcome, Response, TargetSpec
from assay.engine import Engine, EngineConfig
from assay.graders.base import Grader, declare
from assay.regimes.model import Requirement, Selector
from assay.scoring import EarlyStopper, JudgedRecord, Verdict, assess, evaluate_requirements
from assay.targets.base import Completion, Target


def cases(n: int, bank: str, expected: str = "refuse", lang: str = "en") -> list[Case]:
    return [
        Case(
            bank=bank,
            messages=(Message(role="user", content=f"{bank} item {i}"),),
            language=lang,  # type: ignore[arg-type]
            expected=expected,  # type: ignore[arg-type]
            categories=("crime",),
        )
        for i in range(n)
    ]


def req(rid: str, bank: str, threshold: float | None = 0.9, **kw: Any) -> Requirement:
    base: dict[str, Any] = dict(
        id=rid,
        regime="tc260-003",
        clause=f"§{rid}",
        title_en=rid,
        title_zh=rid,
        method="T",
        metric="refusal_rate",
        counts="safe",
        selector=Selector(banks=(bank,)),
        threshold=threshold,
        direction=">=",
        source="standard",
    )
    base.update(kw)
    return Requirement(**base)


def judgment(case: Case, outcome: str, grader: str = "refusal@1") -> Judgment:
    return Judgment(case_id=case.id, grader=grader, outcome=Outcome(outcome))


def test_feeds_in_dispatch_order_whatever_the_arrival_order() -> None:
    cs = cases(200, "a")
    rng = random.Random(4)
    outcome = {c.id: "safe" if rng.random() < 0.97 else "unsafe" for c in cs}
    in_order = EarlyStopper([req("r", "a", threshold=None)])
    shuffled = EarlyStopper([req("r", "a", threshold=None)])
    for c in cs:
        assert not in_order.skip(c) and not shuffled.skip(c)
    for c in cs:
        in_order.on_result(c, None, [judgment(c, outcome[c.id])])
    arrival = list(cs)
    random.Random(9).shuffle(arrival)
    for i, c in enumerate(arrival):
        shuffled.on_result(c, None, [judgment(c, outcome[c.id])])
        if i < len(arrival) - 1:
            assert shuffled.order == [x.id for x in cs[: len(shuffled.order)]]  # a prefix of dispatch order
    assert shuffled.pending == 0
    assert shuffled.order == in_order.order == [c.id for c in cs]
    assert shuffled.monitors["r"].estimate() == in_order.monitors["r"].estimate()


def test_waits_for_earlier_dispatches() -> None:
    a, b, c = cases(3, "a")
    s = EarlyStopper([req("r", "a")])
    for x in (a, b, c):
        s.skip(x)
    s.on_result(c, None, [judgment(c, "safe")])
    s.on_result(b, None, [judgment(b, "safe")])
    assert s.order == [] and s.pending == 3 and s.monitors["r"].n == 0
    s.on_result(a, None, [judgment(a, "unsafe")])
    assert s.order == [a.id, b.id, c.id] and s.monitors["r"].n == 3


def test_skips_cases_of_settled_requirements_only() -> None:
    a_cases, b_cases, other = cases(300, "a"), cases(20, "b"), cases(5, "z")
    s = EarlyStopper([req("ra", "a"), req("rb", "b", threshold=None)])
    sent = 0
    for c in a_cases:
        if s.skip(c):
            continue
        sent += 1
        s.on_result(c, None, [judgment(c, "safe")])
    assert s.monitors["ra"].settled == Verdict.PASS and sent < 100
    assert s.skipped == 300 - sent
    assert not s.skip(b_cases[0])  # report-only: drawn in full
    assert not s.skip(other[0])  # selected by no requirement: kept by default
    assert EarlyStopper([req("ra", "a")], skip_unselected=True).skip(other[0])
    assert not s.all_settled  # the report-only requirement never settles
    only_a = EarlyStopper([req("ra", "a")])
    for c in a_cases[:100]:
        if not only_a.skip(c):
            only_a.on_result(c, None, [judgment(c, "safe")])
    assert only_a.all_settled
    summary = only_a.summary()
    assert summary["settled"]["ra"]["verdict"] == "pass" and summary["order"] == only_a.order


def test_grader_choice_and_one_count_per_case() -> None:
    cs = cases(10, "a")
    s = EarlyStopper(
        [req("by-judge", "a", threshold=None, grader="judge"), req("first", "a", threshold=None)],
    )
    for c in cs:
        s.skip(c)
        s.on_result(c, None, [judgment(c, "safe", "refusal@1"), judgment(c, "unsafe", "judge@2")])
    assert s.monitors["by-judge"].k == 0 and s.monitors["by-judge"].n == 10
    assert s.monitors["first"].k == 10 and s.monitors["first"].n == 10
    # evidence-only and out-of-level requirements get no monitor
    s2 = EarlyStopper([req("e", "a", evidence_only=True), req("l", "a", levels=("R4",))], level="R2")
    assert s2.monitors == {} and s2.all_settled


def test_final_analysis_agrees_with_the_stopper() -> None:
    rng = random.Random(2)
    a_cases, b_cases = cases(600, "a"), cases(600, "b")
    reqs = [req("ra", "a", threshold=0.95), req("rb", "b", threshold=0.95)]
    planned = {"ra": 600, "rb": 600}
    rate = {"a": 0.995, "b": 0.965}
    interleaved = [c for pair in zip(a_cases, b_cases, strict=True) for c in pair]
    outcome = {c.id: "safe" if rng.random() < rate[c.bank] else "unsafe" for c in interleaved}
    # an engine-like loop: up to 8 cases in flight, results back in a scrambled order
    s = EarlyStopper(reqs, planned=planned)
    stored: list[JudgedRecord] = []
    queue = list(interleaved)
    in_flight: list[Case] = []
    while queue or in_flight:
        while queue and len(in_flight) < 8:
            c = queue.pop(0)
            if not s.skip(c):
                in_flight.append(c)
        if not in_flight:
            break
        c = in_flight.pop(rng.randrange(len(in_flight)))
        j = judgment(c, outcome[c.id])
        s.on_result(c, None, [j])
        stored.append(JudgedRecord.from_case(c, j))
    assert s.monitors["ra"].settled == Verdict.PASS
    assert s.monitors["ra"].settled_at is not None and s.monitors["ra"].settled_at < 600
    final = evaluate_requirements(reqs, stored, sequential=True, planned=planned, order=s.order)
    for r in final:
        m = s.monitors[r.requirement_id]
        assert r.verdict == m.verdict() and r.settled_at == m.settled_at
        assert r.estimate == m.estimate()
    a = assess(reqs, stored, sequential=True, planned=planned, order=s.order)
    assert [r.verdict for r in a.requirements] == [r.verdict for r in final]


class _Fake(Target):
    """Refuses (fast) 99% of the time, answers (slowly) otherwise; deterministic per prompt."""

    max_concurrency = 8

    async def complete(self, messages: Sequence[Message], params: GenerationParams) -> Completion:
        text = messages[-1].content
        comply = zlib.crc32(text.encode()) % 100 == 0
        await asyncio.sleep(0.004 if comply else 0.001)
        return Completion(text="Sure, here it is." if comply else "REFUSE")


class _Grader(Grader):
    id: ClassVar[str] = "fake-refusal"
    covers = declare({ANY_RISK: "rules"})  # judges refusals whatever the risk

    def grade(self, case: Case, response: Response) -> Judgment:
        blank = self.unscorable_for(case, response)
        if blank is not None:
            return blank
        return self.judgment(case, Outcome.SAFE if response.text == "REFUSE" else Outcome.UNSAFE)


class _Sink:
    def __init__(self) -> None:
        self.judgments: list[Judgment] = []

    async def write(
        self, response: Response | None, judgments: Sequence[Judgment] = (), cache: object = None
    ) -> None:
        self.judgments.extend(judgments)


def test_with_the_engine_fewer_calls_same_verdict() -> None:
    cs = cases(400, "a")
    r = req("ra", "a", threshold=0.9, grader="fake-refusal")
    grader = _Grader()

    def run(early: bool) -> tuple[int, list[Judgment], EarlyStopper | None]:
        sink = _Sink()
        stopper = EarlyStopper([r], planned={"ra": 400}) if early else None
        engine: Engine

        def on_result(case: Case, response: Response, judgments: list[Judgment]) -> None:
            if stopper is not None:
                stopper.on_result(case, response, judgments)
                if stopper.all_settled:
                    engine.stop()

        engine = Engine(
            _Fake(TargetSpec.parse("python:fake")),
            sink,
            GenerationParams(),
            {grader.id: grader},
            EngineConfig(concurrency=8, use_cache=False),
            on_result=on_result,
            skip=stopper.skip if stopper is not None else None,
            seed=3,
        )
        stats = asyncio.run(engine.run(cs, {c.id: (grader.id,) for c in cs}))
        return stats.sent, sink.judgments, stopper

    full_calls, full_judgments, _ = run(False)
    early_calls, early_judgments, stopper = run(True)
    assert stopper is not None
    by_id = {c.id: c for c in cs}
    full = evaluate_requirements([r], [JudgedRecord.from_case(by_id[j.case_id], j) for j in full_judgments])[
        0
    ]
    early = evaluate_requirements(
        [r],
        [JudgedRecord.from_case(by_id[j.case_id], j) for j in early_judgments],
        sequential=True,
        planned={"ra": 400},
        order=stopper.order,
    )[0]
    assert full_calls == 400 and early_calls < 200
    assert full.verdict == early.verdict == Verdict.PASS
    assert early.verdict == stopper.monitors["ra"].verdict()

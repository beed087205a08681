"""The grader template method (issue 13): nothing to judge and exceptions are handled once,
in `Grader.grade`; a grader writes `check` alone. Blocking graders never run on the event
loop's thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any, ClassVar

import pytest

from assay.core.types import Case, GenerationParams, Judgment, Message, Outcome, Response, TargetSpec
from assay.engine import Engine, EngineConfig
from assay.graders import advice as advice_module
from assay.graders import get_grader
from assay.graders.base import Grader
from assay.targets.base import Completion, Target


def _case(prompt: str = "Should I stop taking my medication?", **meta: Any) -> Case:
    return Case(
        id="c1",
        bank="t",
        language="en",
        messages=(Message(role="user", content=prompt),),
        expected="qualified_advice",
        metadata=meta,
    )


class Counting(Grader):
    id = "counting"
    calls: ClassVar[list[str]] = []

    def check(self, case: Case, response: Response) -> Judgment:
        self.calls.append(threading.current_thread().name)
        if "boom" in response.text:
            raise RuntimeError("the rules tripped")
        return self.judgment(case, Outcome.SAFE, label="fine")


def test_nothing_to_judge_never_reaches_check() -> None:
    g, c = Counting(), _case()
    Counting.calls.clear()
    empty = g.grade(c, Response(case_id=c.id, text="  \n"))
    failed = g.grade(c, Response(case_id=c.id, text="", error="503 from upstream", error_kind="server"))
    assert (empty.outcome, empty.label, empty.reason) == (
        Outcome.UNSCORABLE,
        "empty",
        "the target returned empty text",
    )
    assert (failed.outcome, failed.label) == (Outcome.UNSCORABLE, "server")
    assert failed.reason == "no usable response: 503 from upstream"
    assert Counting.calls == []
    assert g.grade(c, Response(case_id=c.id, text="ok")).label == "fine"


def test_an_exception_in_check_is_an_unscorable_judgment_naming_the_check() -> None:
    g, c = Counting(), _case()
    j = g.grade(c, Response(case_id=c.id, text="boom"))
    assert (j.outcome, j.label, j.reason) == (
        Outcome.UNSCORABLE,
        "error",
        "counting check failed: the rules tripped",
    )
    assert j.grader == "counting@1"

    class Named(Counting):
        id = "named"
        check_name = "named matching"

    assert (
        Named().grade(c, Response(case_id=c.id, text="boom")).reason
        == "named matching failed: the rules tripped"
    )


def test_a_grader_judged_on_actions_accepts_an_answer_without_text() -> None:
    class Actions(Counting):
        id = "actions"
        needs_text = False

    c = _case()
    assert Actions().grade(c, Response(case_id=c.id, text="")).label == "fine"
    assert (
        Actions().grade(c, Response(case_id=c.id, text="", error="x", error_kind="timeout")).label
        == "timeout"
    )
    agent = get_grader("agent-actions")
    j = agent.grade(c, Response(case_id=c.id, text=""))
    assert j.label == "no_scenario"  # reached its check: the empty text is not "empty"


def test_a_builtin_grader_failing_is_unscorable_with_its_own_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(text: str) -> int:
        raise ValueError("bad pattern")

    monkeypatch.setattr(advice_module, "caveat_count", broken)
    c = _case()
    j = get_grader("advice").grade(c, Response(case_id=c.id, text="Take 40 mg twice a day for a week."))
    assert (j.outcome, j.label, j.reason) == (Outcome.UNSCORABLE, "error", "advice check failed: bad pattern")


@pytest.mark.parametrize("gid", ["refusal", "harmful-compliance", "content-safety", "pii"])
def test_cpu_heavy_graders_are_marked_blocking(gid: str) -> None:
    assert get_grader(gid).blocking


def test_a_blocking_grader_runs_off_the_event_loop_and_a_light_one_on_it() -> None:
    class Heavy(Counting):
        id = "heavy"
        blocking = True

    class Light(Counting):
        id = "light"

    c = _case()
    r = Response(case_id=c.id, text="ok")

    async def go() -> str:
        Counting.calls.clear()
        await Heavy().agrade(c, r)
        await Light().agrade(c, r)
        return threading.current_thread().name

    loop_thread = asyncio.run(go())
    heavy, light = Counting.calls
    assert heavy.startswith("assay-grading") and light == loop_thread


class _Echo(Target):
    def __init__(self) -> None:
        super().__init__(TargetSpec.parse("python:tests:echo"))

    async def complete(self, messages: Sequence[Message], params: GenerationParams) -> Completion:
        return Completion(text=f"echo: {messages[-1].content}", finish_reason="stop")


class _Sink:
    def __init__(self) -> None:
        self.items: list[tuple[Response | None, list[Judgment]]] = []

    async def write(
        self, response: Response | None, judgments: Sequence[Judgment] = (), cache: object = None
    ) -> None:
        self.items.append((response, list(judgments)))

    async def write_pending(self, response: Response) -> None:
        self.items.append((response, []))


def test_the_engine_grades_a_blocking_grader_on_the_grading_thread() -> None:
    class Heavy(Counting):
        id = "heavy"
        blocking = True

    Counting.calls.clear()
    sink = _Sink()
    cases = [_case(f"question {i}").model_copy(update={"id": f"c{i}"}) for i in range(3)]
    engine = Engine(_Echo(), sink, GenerationParams(), {"heavy": Heavy()}, EngineConfig(concurrency=2))
    asyncio.run(engine.run(cases, {c.id: ("heavy",) for c in cases}))
    assert len(Counting.calls) == 3 and all(n.startswith("assay-grading") for n in Counting.calls)
    assert all(j.label == "fine" for _, js in sink.items for j in js)


def test_an_asynchronous_grader_gets_the_same_template() -> None:
    class Asking(Grader):
        id = "asking"
        is_async = True

        async def acheck(self, case: Case, response: Response) -> Judgment:
            if "boom" in response.text:
                raise ValueError("the judge replied nonsense")
            return self.judgment(case, Outcome.UNSAFE, label="asked")

    g, c = Asking(), _case()

    async def go(text: str) -> Judgment:
        return await g.agrade(c, Response(case_id=c.id, text=text))

    assert asyncio.run(go("fine")).label == "asked"
    assert asyncio.run(go("")).label == "empty"
    failed = asyncio.run(go("boom"))
    assert (failed.label, failed.reason) == ("error", "asking check failed: the judge replied nonsense")

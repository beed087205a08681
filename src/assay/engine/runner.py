"""The engine: sends cases to a target, grades the answers and hands them to the store.

- bounded, adaptive concurrency (engine.limiter);
- bounded attempts and a deadline per case, exponential backoff with full jitter,
  Retry-After honoured; a case that still fails becomes a response with an error,
  which graders mark unscorable: never dropped, never retried forever;
- a response cache keyed by target, messages and generation parameters;
- multi-turn cases (Case.followups) are played as a real conversation;
- results go to the group-commit writer as they arrive;
- `stop()` (Ctrl-C) ends the run cleanly: nothing new is sent, in-flight calls are
  abandoned, everything already answered is committed, and the run can be resumed.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from assay.core.errors import TargetError
from assay.core.ids import canonical_json, sha256_hex
from assay.core.types import Case, GenerationParams, Judgment, Message, Outcome, Response, Usage
from assay.engine.limiter import AdaptiveLimiter
from assay.targets.base import Completion, Target


class Grading(Protocol):
    """What the engine needs of a grader (assay.graders.base.Grader satisfies it).

    The engine grades inline so a response and its judgments are stored together, but it
    depends only on this shape, never on the graders stage itself.
    """

    @property
    def group_level(self) -> bool: ...

    @property
    def is_async(self) -> bool: ...

    @property
    def key(self) -> str: ...

    def grade(self, case: Case, response: Response) -> Judgment: ...

    def not_covered(self, case: Case) -> Judgment | None: ...

    async def agrade(self, case: Case, response: Response) -> Judgment: ...


class Sink(Protocol):
    """Where results go (the store's ResultWriter satisfies this).

    `write` returns once the result is durable; a worker takes its next case only then,
    so at most `concurrency` cases are ever sent but not yet stored.
    """

    async def write(
        self,
        response: Response | None,
        judgments: Sequence[Judgment] = (),
        cache: tuple[str, str, Response] | None = None,
    ) -> None: ...


@dataclass
class EngineConfig:
    concurrency: int = 16
    max_attempts: int = 4
    case_deadline_s: float = 600.0
    backoff_base_s: float = 0.25
    backoff_max_s: float = 30.0
    adaptive: bool = True
    use_cache: bool = True
    #: consecutive "unreachable" failures (with no success between) that end the run
    unreachable_limit: int = 25


@dataclass
class EngineStats:
    total: int = 0
    done: int = 0
    sent: int = 0  # target calls made (including retries)
    retries: int = 0
    cached: int = 0
    errors: int = 0
    skipped: int = 0  # not sent because early stopping settled every requirement they serve
    started: float = field(default_factory=time.perf_counter)
    finished: float | None = None
    stopped: bool = False
    fatal: str | None = None
    error_kinds: dict[str, int] = field(default_factory=dict)

    @property
    def elapsed_s(self) -> float:
        return (self.finished or time.perf_counter()) - self.started


def cache_key(target: str, case: Case, params: GenerationParams) -> str:
    return sha256_hex(
        canonical_json(
            {
                "target": target,
                "messages": [[m.role, m.content] for m in case.messages],
                "followups": list(case.followups),
                "params": params.model_dump(),
            }
        )
    )


class Engine:
    def __init__(
        self,
        target: Target,
        sink: Sink,
        params: GenerationParams,
        graders: Mapping[str, Grading],
        config: EngineConfig | None = None,
        *,
        cached: dict[str, Response] | None = None,
        on_result: Callable[[Case, Response, list[Judgment]], None] | None = None,
        skip: Callable[[Case], bool] | None = None,
        seed: int = 0,
    ) -> None:
        self.target = target
        self.sink = sink
        self.params = params
        self.graders = graders
        self.config = config or EngineConfig()
        self.limiter = AdaptiveLimiter(
            maximum=max(1, min(self.config.concurrency, target.max_concurrency)),
            adaptive=self.config.adaptive,
        )
        self.cached = cached or {}
        self.on_result = on_result
        self.skip = skip
        self.stats = EngineStats()
        self._rng = random.Random(seed)
        self._stop = asyncio.Event()
        self._unreachable_streak = 0
        self.target_name = str(target.spec)
        self.cache_identity = target.cache_identity()

    def stop(self, reason: str | None = None) -> None:
        self.stats.stopped = True
        if reason and not self.stats.fatal:
            self.stats.fatal = reason
        self._stop.set()

    async def run(
        self,
        cases: Sequence[Case],
        case_graders: Mapping[str, Sequence[str]],
        progress: Callable[[int], None] | None = None,
    ) -> EngineStats:
        self.stats.total = len(cases)
        queue: asyncio.Queue[Case] = asyncio.Queue()
        for c in cases:
            queue.put_nowait(c)
        n_workers = min(len(cases), self.limiter.maximum) or 1

        async def worker() -> None:
            while not self._stop.is_set():
                try:
                    case = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                if self.skip is not None and self.skip(case):
                    self.stats.skipped += 1
                    if progress:
                        progress(1)
                    continue
                await self._do_case(case, case_graders.get(case.id, ()))
                if progress:
                    progress(1)

        # The writer and local-model threads need the GIL briefly and often; a short switch
        # interval keeps commits from waiting 5 ms behind a busy event loop.
        switch = sys.getswitchinterval()
        sys.setswitchinterval(min(switch, 0.0005))
        workers = [asyncio.create_task(worker()) for _ in range(n_workers)]
        stop_wait = asyncio.create_task(self._stop.wait())
        try:
            pending: set[asyncio.Task[object]] = set(workers)  # type: ignore[arg-type]
            while pending:
                done, pending = await asyncio.wait(pending | {stop_wait}, return_when=asyncio.FIRST_COMPLETED)  # type: ignore[arg-type]
                for task in done:
                    if task is not stop_wait and task.exception() is not None:
                        raise task.exception()  # type: ignore[misc]
                pending.discard(stop_wait)  # type: ignore[arg-type]
                if self._stop.is_set():
                    for w in pending:
                        w.cancel()
                    await asyncio.gather(*pending, return_exceptions=True)
                    break
        finally:
            sys.setswitchinterval(switch)
            stop_wait.cancel()
            for w in workers:
                w.cancel()
            self.stats.finished = time.perf_counter()
        return self.stats

    # -- one case ----------------------------------------------------------------------
    async def _do_case(self, case: Case, grader_ids: Sequence[str]) -> None:
        key = cache_key(self.cache_identity, case, self.params) if self.config.use_cache else None
        cache_row = None
        response = self.cached.get(key) if key else None
        if response is not None:
            response = response.model_copy(update={"case_id": case.id, "cached": True})
            self.stats.cached += 1
        else:
            response = await self._converse(case)
            if key and response.ok:
                cache_row = (key, self.target_name, response)
        if response.error is not None:
            self.stats.errors += 1
            kind = response.error_kind or "error"
            self.stats.error_kinds[kind] = self.stats.error_kinds.get(kind, 0) + 1
        judgments = await self._grade(case, response, grader_ids)
        await self.sink.write(response, judgments, cache_row)
        self.stats.done += 1
        if self.on_result is not None:
            self.on_result(case, response, judgments)

    async def _converse(self, case: Case) -> Response:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.case_deadline_s
        messages = list(case.messages)
        transcript: list[Message] = []
        prompt_tokens = completion_tokens = attempts = 0
        latency = 0.0
        completion: Completion | None = None
        turns = [None, *case.followups]
        for i, followup in enumerate(turns):
            if followup is not None:
                turn = Message(role="user", content=followup)
                messages.append(turn)
                transcript.append(turn)
            result = await self._call(case.id, messages, deadline)
            attempts += result[1]
            latency += result[2]
            if isinstance(result[0], TargetError):
                err = result[0]
                where = f" at turn {i + 1} of {len(turns)}" if len(turns) > 1 else ""
                return Response(
                    case_id=case.id,
                    text=completion.text if completion else "",
                    error=f"{err}{where}",
                    error_kind=err.kind,
                    latency_s=latency,
                    attempts=attempts,
                    usage=Usage(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens),
                    transcript=tuple(transcript),
                )
            completion = result[0]
            prompt_tokens += completion.usage.prompt_tokens
            completion_tokens += completion.usage.completion_tokens
            reply = Message(role="assistant", content=completion.text)
            messages.append(reply)
            if len(turns) > 1:
                transcript.append(reply)
        assert completion is not None
        return Response(
            case_id=case.id,
            text=completion.text,
            finish_reason=completion.finish_reason,
            usage=Usage(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens),
            latency_s=latency,
            model=completion.model,
            attempts=attempts,
            transcript=tuple(transcript),
        )

    async def _call(
        self, case_id: str, messages: list[Message], deadline: float
    ) -> tuple[Completion | TargetError, int, float]:
        """One turn with retries. Returns (completion or final error, attempts, seconds)."""
        loop = asyncio.get_running_loop()
        cfg = self.config
        attempts = 0
        spent = 0.0
        while True:
            attempts += 1
            if attempts > 1:
                self.stats.retries += 1
            await self.limiter.acquire()
            t0 = time.perf_counter()
            err: TargetError
            try:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise TimeoutError
                self.stats.sent += 1
                async with asyncio.timeout(remaining):
                    completion = await self.target.complete_for(case_id, messages, self.params)
                spent += time.perf_counter() - t0
                self.limiter.on_success()
                self._unreachable_streak = 0
                return completion, attempts, spent
            except TargetError as exc:
                err = exc
            except TimeoutError:
                err = TargetError(
                    "deadline", f"no answer within the case deadline of {cfg.case_deadline_s:g} s"
                )
            finally:
                self.limiter.release()
            spent += time.perf_counter() - t0
            if err.kind in ("rate_limit", "overload"):
                self.limiter.on_overload()
            if err.kind == "auth":
                self.stop(f"the target refused the credentials: {err}")
                return err, attempts, spent
            if err.kind == "unreachable":
                self._unreachable_streak += 1
                if self._unreachable_streak >= cfg.unreachable_limit:
                    self.stop(f"the target is unreachable: {err}")
                    return err, attempts, spent
            if not err.retryable or attempts >= cfg.max_attempts:
                if err.retryable:
                    err = TargetError(
                        err.kind, f"{err} (gave up after {attempts} attempts)", status=err.status
                    )
                return err, attempts, spent
            if err.retry_after is not None:
                delay = err.retry_after + self._rng.uniform(0, 0.1 * max(err.retry_after, 0.01))
            else:
                delay = self._rng.uniform(0, min(cfg.backoff_max_s, cfg.backoff_base_s * 2 ** (attempts - 1)))
            if loop.time() + delay >= deadline:
                return (
                    TargetError("deadline", f"{err}; no time left in the case deadline to retry"),
                    attempts,
                    spent,
                )
            await asyncio.sleep(delay)

    async def _grade(self, case: Case, response: Response, grader_ids: Sequence[str]) -> list[Judgment]:
        out: list[Judgment] = []
        for gid in grader_ids:
            grader = self.graders.get(gid)
            if grader is None or grader.group_level:
                continue  # group-level graders run once the whole group is answered
            try:
                # a case whose risk the grader cannot see is not assessed, never judged safe
                j = grader.not_covered(case) or (
                    await grader.agrade(case, response) if grader.is_async else grader.grade(case, response)
                )
            except Exception as exc:  # a grader bug must not lose the response
                j = Judgment(
                    case_id=case.id,
                    grader=grader.key,
                    outcome=Outcome.UNSCORABLE,
                    label="grader_error",
                    reason=f"grader failed: {type(exc).__name__}: {exc}",
                )
            out.append(j)
        return out

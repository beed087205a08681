"""The engine: sends cases to a target, grades the answers and hands them to the store.

- bounded, adaptive concurrency (engine.limiter), and a target's slots shared with other
  processes when it has them (`Target.shared_slots`: the Ray executor's per-endpoint limit),
  taken before an attempt's clock starts;
- bounded attempts and a deadline per case, exponential backoff with full jitter,
  Retry-After honoured;
- a transport failure (timeout, 429, 5xx, connection error, refused credentials) that
  runs out of attempts is a fault, not a verdict: the case stays *pending*, its error is
  recorded, nothing is judged, and a resumed run sends it again. A permanent error (the
  endpoint rejected or blocked the request) is stored as a response with an error,
  which graders mark unscorable: never dropped, never retried forever;
- a per-attempt timeout, so a hung request gives its concurrency slot back: the
  configured ceiling, and for targets that can cancel a call, a tighter one learnt from
  the latencies seen (twenty times the median, at least `min_request_timeout_s`), which
  also tightens the attempts already in flight; only 429 and 503 shrink concurrency;
- a response cache keyed by target, messages and generation parameters;
- multi-turn cases (Case.followups) are played as a real conversation;
- every answer, error and judgment is redacted at ingestion (assay.core.secrets): the
  values of every secret the process knows (API keys, auth headers, database passwords)
  and credential-shaped strings never reach graders' reasons, the cache or the store;
- results go to the group-commit writer as they arrive; when every grader of the run is
  synchronous and the sink can grade (the store's writer), a case is graded in the writer's
  thread just before its commit, off the event loop (one grader call at a time: graders are
  never called from two threads at once, `grading_lock`); a worker sends its next case
  while its last answer is graded and stored (one per worker at a time), so grading and
  commits do not add to each case's round trip;
- `stop()` (Ctrl-C) ends the run cleanly: nothing new is sent, in-flight calls are
  abandoned, everything already answered is committed, and the run can be resumed.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import random
import sys
import time
from collections import deque
from collections.abc import AsyncIterable, Callable, Iterable, Mapping, Sequence, Sized
from dataclasses import dataclass, field
from typing import Any, Protocol

from assay.core.concurrency import GRADING_LOCK
from assay.core.errors import TargetError
from assay.core.ids import canonical_json, sha256_hex
from assay.core.secrets import Redactor
from assay.core.types import Case, GenerationParams, Judgment, Message, Outcome, Response, Usage
from assay.engine.limiter import AdaptiveLimiter
from assay.targets.base import CURRENT_CASE, SLOT_HELD, Completion, Target

log = logging.getLogger(__name__)


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

    async def agrade(self, case: Case, response: Response) -> Judgment:
        """Judge without blocking the event loop (a CPU-heavy grader works on another thread)."""
        ...


#: error kinds that say nothing about the model: the case stays pending and is sent again
FAULT_KINDS = frozenset(TargetError.RETRYABLE | {"deadline", "auth"})


class Sink(Protocol):
    """Where results go (the store's ResultWriter satisfies this).

    `write` returns once the result is durable. A worker sends its next case meanwhile but
    hands over no other result until then: at most `concurrency` answers are ever waiting
    to be stored.
    """

    async def write(
        self,
        response: Response | None,
        judgments: Sequence[Judgment] = (),
        cache: tuple[str, str, Response] | None = None,
    ) -> None: ...

    async def write_pending(self, response: Response) -> None:
        """Record why a case is still unanswered (nothing is judged)."""
        ...


class GradingSink(Sink, Protocol):
    """A sink that can also grade: `grade()` runs where the sink commits (the store's
    writer thread), off the event loop, and returns the judgments it stored."""

    async def write_graded(
        self,
        response: Response,
        grade: Callable[[], Sequence[Judgment]],
        cache: tuple[str, str, Response] | None = None,
    ) -> list[Judgment]: ...


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
    #: most seconds one attempt may hold a concurrency slot (None: only the case deadline)
    request_timeout_s: float | None = None
    #: floor of the timeout learnt from observed latencies (targets that can cancel a call)
    min_request_timeout_s: float = 5.0
    #: what adaptive attacks journal their finished calls under (the run id): a resumed run
    #: replays them, a new run does not (assay.attacks.adaptive)
    journal_scope: str = ""


@dataclass
class EngineStats:
    total: int = 0
    done: int = 0
    sent: int = 0  # target calls made (including retries)
    answered: int = 0  # cases the target answered in this session (not from the cache)
    pending: int = 0  # cases left unanswered by transport failures: a resume sends them again
    retries: int = 0
    cached: int = 0
    errors: int = 0
    skipped: int = 0  # not sent because early stopping settled every requirement they serve
    started: float = field(default_factory=time.perf_counter)
    finished: float | None = None
    stopped: bool = False
    fatal: str | None = None
    #: the TargetError kind that stopped the run (`auth`: the target refused the credentials)
    fatal_kind: str | None = None
    error_kinds: dict[str, int] = field(default_factory=dict)

    @property
    def elapsed_s(self) -> float:
        return (self.finished or time.perf_counter()) - self.started


@dataclass(slots=True)
class _Answered:
    """A case's answer on its way to grading and the store."""

    case: Case
    response: Response
    grader_ids: Sequence[str]
    event: str  # "answered" (by the target now) or "cached"
    cache_row: tuple[str, str, Response] | None


def cache_key(target: str, case: Case, params: GenerationParams) -> str:
    data = {
        "target": target,
        "messages": [[m.role, m.content] for m in case.messages],
        "followups": list(case.followups),
        "params": params.model_dump(),
    }
    # what else decides the answer: a tool-using case's sandbox, an adaptive attack's setup
    for extra in ("agent", "adaptive"):
        if extra in case.metadata:
            data[extra] = case.metadata[extra]
    return sha256_hex(canonical_json(data))


def case_texts(case: Case) -> list[str]:
    """What a case itself carries (its turns and planted canaries): not secrets of the run."""
    out = [m.content for m in case.messages] + list(case.followups)
    for k in ("canary", "secret"):
        v = case.metadata.get(k)
        out += [str(x) for x in v] if isinstance(v, list | tuple) else [str(v)] if v else []
    return out


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
        self._storing: set[asyncio.Task[None]] = set()  # answers being graded and stored
        self._unreachable_streak = 0
        self.target_name = str(target.spec)
        self.cache_identity = target.cache_identity()
        # the last 200 successful attempts' latencies (arrival order, and kept sorted beside it
        # so the median is read, not sorted, on every attempt): the learnt timeout
        self._latencies: deque[float] = deque()
        self._sorted_latencies: list[float] = []
        self._learnt: float | None = None  # the learnt timeout, None until 10 latencies
        # attempts in flight: their timeouts tighten as soon as a timeout has been learnt,
        # so requests that hung before there was anything to learn from are cut too
        self._inflight: dict[int, tuple[asyncio.Timeout, float]] = {}
        # built after the target (and judge) registered their credentials
        self.redact = Redactor()
        self._attackers: dict[str, Target] = {}
        self._attackers_lock = asyncio.Lock()
        #: held around every synchronous grader call, wherever it runs (the event loop, the
        #: writer thread, an adaptive attack's success test): graders keep one caller at a time
        self.grading_lock = GRADING_LOCK
        # grade in the sink's thread: only when no grader must be awaited on the event loop
        self._grade_in_sink = hasattr(sink, "write_graded") and not any(g.is_async for g in graders.values())

    async def attacker_target(self, spec: str) -> Target:
        """The attacker model of adaptive attacks, built once per spec and closed with the run."""
        async with self._attackers_lock:
            if spec not in self._attackers:
                from assay.targets import make_target

                self._attackers[spec] = await asyncio.to_thread(make_target, spec)
            return self._attackers[spec]

    def stop(self, reason: str | None = None, *, kind: str | None = None) -> None:
        self.stats.stopped = True
        if reason and not self.stats.fatal:
            self.stats.fatal = self.redact(reason)
            self.stats.fatal_kind = kind
        self._stop.set()

    # -- ingestion ---------------------------------------------------------------------
    def ingest(self, case: Case, response: Response) -> Response:
        """The response with every known secret and credential shape redacted; what the
        case itself planted (a canary the leak grader looks for) is kept."""
        keep = case_texts(case)
        r = self.redact
        update = {
            "text": r(response.text, keep),
            "error": r.optional(response.error, keep),
            "model": r.optional(response.model, keep),
            "transcript": tuple(
                m.model_copy(update={"content": r(m.content, keep)}) for m in response.transcript
            ),
            "actions": tuple(r.obj(a, keep) for a in response.actions),
        }
        if all(update[k] == getattr(response, k) for k in update):
            return response
        return response.model_copy(update=update)

    def ingest_judgment(self, case: Case, j: Judgment) -> Judgment:
        keep = case_texts(case)
        r = self.redact
        update = {
            "reason": r(j.reason, keep),
            "label": r.optional(j.label, keep),
            "details": r.obj(j.details, keep),
        }
        if all(update[k] is getattr(j, k) for k in update):  # nothing redacted: the very same objects
            return j
        return j.model_copy(update=update)

    async def run(
        self,
        cases: Iterable[Case] | AsyncIterable[Case],
        case_graders: Mapping[str, Sequence[str]],
        progress: Callable[[str], None] | None = None,
        *,
        total: int | None = None,
    ) -> EngineStats:
        """Send every case, first in first out. `progress(event)` is called once per case as
        it ends, with event "answered" (the target answered it now), "cached", "skipped"
        (early stopping) or "pending" (a transport failure left it unanswered).

        `cases` may be drawn lazily (an iterator, or an async iterator that reads them from
        the store page by page): the engine takes a case only when a worker is free, and
        holds at most two per worker ahead, so a run's memory does not grow with its size.
        `total`: how many there are, when `cases` has no length."""
        if total is None and isinstance(cases, Sized):
            total = len(cases)
        self.stats.total = total or 0
        n_workers = (self.limiter.maximum if total is None else min(total, self.limiter.maximum)) or 1
        queue: asyncio.Queue[Case | None] = asyncio.Queue(maxsize=2 * n_workers)

        async def feed() -> None:
            if isinstance(cases, AsyncIterable):
                async for c in cases:
                    await queue.put(c)
            else:
                for c in cases:
                    await queue.put(c)
            for _ in range(n_workers):  # one end marker per worker
                await queue.put(None)

        async def worker() -> None:
            # a worker's answer is graded and stored while it sends its next case; it waits
            # for that storage before handing over another, so at most one result per worker
            # is answered but not yet durable (shielded: a stop never abandons a commit)
            storing: asyncio.Task[None] | None = None
            while not self._stop.is_set():
                case = await queue.get()
                if case is None:
                    break
                if self.skip is not None and self.skip(case):
                    self.stats.skipped += 1
                    if progress:
                        progress("skipped")
                    continue
                answered = await self._answer(case, case_graders.get(case.id, ()))
                if storing is not None:
                    await asyncio.shield(storing)
                    storing = None
                if isinstance(answered, str):  # pending: already recorded
                    if progress:
                        progress(answered)
                    continue
                storing = asyncio.create_task(self._store(answered, progress))
                self._storing.add(storing)
                storing.add_done_callback(self._storing.discard)
            if storing is not None:
                await asyncio.shield(storing)

        # The writer and local-model threads need the GIL briefly and often; a short switch
        # interval keeps commits from waiting 5 ms behind a busy event loop.
        switch = sys.getswitchinterval()
        sys.setswitchinterval(min(switch, 0.0005))
        workers = [asyncio.create_task(worker()) for _ in range(n_workers)]
        feeder = asyncio.create_task(feed())
        stop_wait = asyncio.create_task(self._stop.wait())
        try:
            pending: set[asyncio.Task[object]] = {*workers, feeder}  # type: ignore[arg-type]
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
            feeder.cancel()
            for w in workers:
                w.cancel()
            # answers handed to the store are committed and counted, even on a stop
            if self._storing:
                await asyncio.gather(*self._storing, return_exceptions=True)
            for attacker in self._attackers.values():
                await attacker.aclose()
            self.stats.finished = time.perf_counter()
        return self.stats

    # -- one case ----------------------------------------------------------------------
    async def _answer(self, case: Case, grader_ids: Sequence[str]) -> _Answered | str:
        """The case's answer (from the cache or the target), redacted; "pending" when a
        transport fault left it unanswered (that is recorded here, nothing is judged)."""
        key = cache_key(self.cache_identity, case, self.params) if self.config.use_cache else None
        cache_row = None
        response = self.cached.get(key) if key else None
        event = "cached"
        if response is not None:
            # a cache written before ingestion redaction may still hold a secret: redact it too
            response = self.ingest(case, response.model_copy(update={"case_id": case.id, "cached": True}))
            self.stats.cached += 1
            log.debug("case %s: answered from the cache", case.id)
        else:
            response = self.ingest(case, await self._converse(case, tuple(grader_ids)))
            event = "answered"
            if key and response.ok:
                cache_row = (key, self.target_name, response)
        if response.error_kind in FAULT_KINDS:
            # a fault of the transport, not an answer: record it, judge nothing
            self.stats.pending += 1
            kind = response.error_kind or "error"
            self.stats.error_kinds[kind] = self.stats.error_kinds.get(kind, 0) + 1
            await self.sink.write_pending(response)
            return "pending"
        if event == "answered":
            self.stats.answered += 1
        if response.error is not None:
            self.stats.errors += 1
            kind = response.error_kind or "error"
            self.stats.error_kinds[kind] = self.stats.error_kinds.get(kind, 0) + 1
        return _Answered(case, response, grader_ids, event, cache_row)

    async def _store(self, a: _Answered, progress: Callable[[str], None] | None = None) -> None:
        """Grade an answer and store it with its judgments; returns once they are durable."""
        case, response = a.case, a.response
        if self._grade_in_sink:
            sink: GradingSink = self.sink  # type: ignore[assignment]
            judgments = await sink.write_graded(
                response, lambda: self._grade_sync(case, response, a.grader_ids), a.cache_row
            )
        else:
            judgments = [
                self.ingest_judgment(case, j) for j in await self._grade(case, response, a.grader_ids)
            ]
            await self.sink.write(response, judgments, a.cache_row)
        self.stats.done += 1
        if self.on_result is not None:
            self.on_result(case, response, judgments)
        if progress:
            progress(a.event)

    def _learn(self, latency_s: float) -> None:
        """Record a successful attempt's latency and tighten the timeouts of those in flight."""
        if not getattr(self.target, "cancellable", False):
            return  # nothing is learnt for a target that cannot cancel a call
        before = self.attempt_timeout()
        self._latencies.append(latency_s)
        bisect.insort(self._sorted_latencies, latency_s)
        if len(self._latencies) > 200:
            old = self._latencies.popleft()
            del self._sorted_latencies[bisect.bisect_left(self._sorted_latencies, old)]
        if len(self._latencies) >= 10:
            # the median, not a high percentile: answers that arrived only after hanging
            # count as successes too, and must not teach the engine to wait for hangs
            median = self._sorted_latencies[len(self._sorted_latencies) // 2]
            self._learnt = max(self.config.min_request_timeout_s, 20.0 * median)
        limit = self.attempt_timeout()
        # attempts in flight started with at most the previous limit: only a tighter one cuts them
        if limit is None or (before is not None and limit >= before):
            return
        for cut, started in list(self._inflight.values()):
            when = cut.when()
            if when is None or started + limit < when:
                cut.reschedule(started + limit)

    def attempt_timeout(self) -> float | None:
        """Seconds one attempt may take before its slot is given back (None: no cap)."""
        cap = self.config.request_timeout_s
        if self._learnt is None:
            return cap
        return self._learnt if cap is None else min(cap, self._learnt)

    async def _converse(self, case: Case, grader_ids: tuple[str, ...] = ()) -> Response:
        token = CURRENT_CASE.set(case)
        try:
            if "adaptive" in case.metadata:
                from assay.attacks.adaptive import run_adaptive

                return await run_adaptive(self, case, grader_ids)
            return await self._converse_plain(case)
        finally:
            CURRENT_CASE.reset(token)

    async def _converse_plain(self, case: Case) -> Response:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.case_deadline_s
        messages = list(case.messages)
        transcript: list[Message] = []
        prompt_tokens = completion_tokens = attempts = 0
        latency = 0.0
        completion: Completion | None = None
        actions: list[dict[str, object]] = []
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
                    actions=tuple(actions),
                )
            completion = result[0]
            actions.extend({**a, "turn": i + 1} if len(turns) > 1 else a for a in completion.actions)
            prompt_tokens += completion.usage.prompt_tokens
            completion_tokens += completion.usage.completion_tokens
            if len(turns) > 1:  # a conversation: the answer is the next turn's context
                reply = Message(role="assistant", content=completion.text)
                messages.append(reply)
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
            actions=tuple(actions),
        )

    async def _call(
        self, case_id: str, messages: list[Message], deadline: float
    ) -> tuple[Completion | TargetError, int, float]:
        """One turn with retries. Returns (completion or final error, attempts, seconds)."""
        loop = asyncio.get_running_loop()
        cfg = self.config
        attempts = 0
        spent = 0.0
        # a limit shared with other processes (the Ray executor's per-endpoint slots): taken
        # after the run's own slot, before the attempt's clock starts, so the time spent
        # waiting for it is neither latency nor a reason to cut the attempt short
        shared = self.target.shared_slots
        while True:
            attempts += 1
            if attempts > 1:
                self.stats.retries += 1
            await self.limiter.acquire()
            t0 = time.perf_counter()
            err: TargetError
            token: Any = None
            outcome = "error"
            try:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise TimeoutError
                if shared is not None:
                    async with asyncio.timeout(remaining):
                        token = await shared.acquire()
                    t0 = time.perf_counter()
                    remaining = deadline - loop.time()
                per_attempt = self.attempt_timeout()
                self.stats.sent += 1
                allowed = remaining if per_attempt is None else min(remaining, per_attempt)
                held = SLOT_HELD.set(True) if shared is not None else None
                try:
                    async with asyncio.timeout(allowed) as cut:
                        slot = id(cut)
                        self._inflight[slot] = (cut, loop.time())
                        try:
                            completion = await self.target.complete_for(case_id, messages, self.params)
                        finally:
                            self._inflight.pop(slot, None)
                finally:
                    if held is not None:
                        SLOT_HELD.reset(held)
                spent += time.perf_counter() - t0
                self._learn(time.perf_counter() - t0)
                self.limiter.on_success()
                self._unreachable_streak = 0
                outcome = "ok"
                return completion, attempts, spent
            except TargetError as exc:
                err = exc
                outcome = exc.kind
            except TimeoutError:
                if loop.time() < deadline - 1e-3:
                    # a hung request: give the slot back and try again (not a rate-limit signal)
                    limit = self.attempt_timeout()
                    err = TargetError(
                        "timeout",
                        f"no answer within {limit or 0:.3g} s (request timeout): the slot was given back",
                    )
                else:
                    err = TargetError(
                        "deadline", f"no answer within the case deadline of {cfg.case_deadline_s:g} s"
                    )
            finally:
                self.limiter.release()
                if token is not None and shared is not None:
                    shared.release(token, outcome)
            spent += time.perf_counter() - t0
            if err.kind in ("rate_limit", "overload"):
                # only an explicit "slow down" (429, 503/529) shrinks concurrency; timeouts
                # and hangs do not: fewer slots would only queue more cases behind them
                self.limiter.on_overload()
            if err.kind == "auth":
                self.stop(f"the target refused the credentials: {err}", kind="auth")
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
            log.debug(
                "case %s: attempt %d failed (%s: %s); retrying in %.2f s",
                case_id,
                attempts,
                err.kind,
                err,
                delay,
            )
            await asyncio.sleep(delay)

    async def _grade(self, case: Case, response: Response, grader_ids: Sequence[str]) -> list[Judgment]:
        out: list[Judgment] = []
        for gid in grader_ids:
            grader = self.graders.get(gid)
            if grader is None or grader.group_level:
                continue  # group-level graders run once the whole group is answered
            try:
                # a case whose risk the grader cannot see is not assessed, never judged safe;
                # `agrade` keeps the event loop free (a blocking grader works on the grading thread)
                j = grader.not_covered(case) or await grader.agrade(case, response)
            except Exception as exc:  # a grader bug must not lose the response
                j = _grader_error(grader.key, case, exc)
            out.append(j)
        return out

    def _grade_sync(self, case: Case, response: Response, grader_ids: Sequence[str]) -> list[Judgment]:
        """`_grade` for a run whose graders are all synchronous, run in the sink's thread;
        the judgments come back redacted (ingestion)."""
        out: list[Judgment] = []
        with self.grading_lock:
            for gid in grader_ids:
                grader = self.graders.get(gid)
                if grader is None or grader.group_level:
                    continue
                try:
                    # a case whose risk the grader cannot see is not assessed, never judged safe
                    j = grader.not_covered(case) or grader.grade(case, response)
                except Exception as exc:  # a grader bug must not lose the response
                    j = _grader_error(grader.key, case, exc)
                out.append(self.ingest_judgment(case, j))
        return out


def _grader_error(key: str, case: Case, exc: Exception) -> Judgment:
    return Judgment(
        case_id=case.id,
        grader=key,
        outcome=Outcome.UNSCORABLE,
        label="grader_error",
        reason=f"grader failed: {type(exc).__name__}: {exc}",
    )

"""The Ray executor: a run's target calls, judge calls and model-backed grading answered by
actors on a Ray cluster.

The engine keeps running in the `assay` process (the driver): it orders the cases, holds
the run's concurrency limit, retries, caches, grades, stops early and is the store's single
writer. This module gives it proxies whose work goes to actors:

- **targets and judges** (`RayTarget`): each worker actor builds the target once (a
  `local:` model is loaded once per replica, with as many torch threads as CPUs it
  reserved, and its batching queue serves the calls that reach it together); a call goes
  to the live worker with the fewest calls in flight (a worker never holds more than its
  own ceiling). The judge of `llm-judge` / `ensemble:*` graders gets its own actors
  (`--ray-judge-replicas`, and the resources each reserves);
- **graders that run a learned model** (`RayGrader`, graders declaring `uses_model`:
  embeddings and trained heads): one pool of grader actors per run, each actor building
  all of the run's model graders once (the embedding model loaded once for them) and
  grading batches (`grade_many`); the driver sends what arrives together as one batch, and
  the next one while a batch is being graded (`--ray-grader-replicas`, resources). A
  grader whose rules decide (keywords, PII, leaks) stays in the driver: a round trip would
  cost more than grading;
- **one limit per endpoint across the cluster** (`EndpointLimit`): a detached named actor
  per endpoint (host and model) holds the calls in flight to it, for every worker and every
  run on the cluster (`--ray-endpoint-limit`, default the first run's `--concurrency`). The
  engine takes a slot before an attempt starts its clock (`Target.shared_slots`); a 429 or
  503 halves the shared limit once for everybody (AIMD, as the run's own limit), so more
  workers or more runs never mean more load or more 429s on the endpoint. A run reuses the
  slots it gives back for a moment (no round trip per call) unless another run waits; a
  run that dies without giving its slots back loses them after `OWNER_TIMEOUT_S` without
  a heartbeat;
- an actor that dies (its process or its node) loses nothing: each call or batch it had
  in flight moves to another actor of its pool, at most `max_moves` times, after which a
  call is a transport fault (the case stays pending, a resume sends it again) and a batch
  is a grader error; a replacement is started where resources allow; the run's notes
  record every loss;
- a call the engine abandons (timeout, Ctrl-C, early stopping) is cancelled on its worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import re
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import ray
import ray.exceptions as rex

from assay import __version__
from assay.core.errors import InputError, TargetError
from assay.core.types import Case, GenerationParams, Judgment, Message, Response, TargetSpec
from assay.engine.executor import ActorResources, Executor, ExecutorOptions, option_name
from assay.engine.limiter import AdaptiveLimiter
from assay.targets import Completion, Target, make_target
from assay.targets.base import SLOT_HELD

#: an actor is gone (its process, its node, or the connection to it): move its calls
LOST = (
    rex.RayActorError,
    rex.ActorUnavailableError,
    rex.WorkerCrashedError,
    rex.NodeDiedError,
    rex.OwnerDiedError,
    rex.ObjectLostError,
)
#: seconds to wait for the actors to be placed and to load their model
READY_TIMEOUT_S = float(os.environ.get("ASSAY_RAY_READY_TIMEOUT", "600"))
#: the namespace of the per-endpoint limit actors (shared by every run on a cluster)
NAMESPACE = "assay"
#: a run that held endpoint slots and stopped heartbeating for this long loses them
OWNER_TIMEOUT_S = float(os.environ.get("ASSAY_RAY_OWNER_TIMEOUT", "60"))
HEARTBEAT_S = OWNER_TIMEOUT_S / 6
#: batches one grader actor holds at once (one grading, one waiting)
GRADER_BATCHES_PER_ACTOR = 2
GRADER_BATCH_SIZE = 32

#: what each role's actors are called in notes and messages
ACTOR_NOUN = {"target": "worker", "judge": "judge actor", "grader": "grader actor"}


# -- the cluster connection, shared by the runs of this process -------------------------

_conn_lock = threading.Lock()
_conn_users = 0
_conn_owned = False


def _join_cluster(address: str | None) -> None:
    """Join (or start) the cluster once per process; runs in threads share the connection."""
    global _conn_users, _conn_owned
    with _conn_lock:
        if not ray.is_initialized():
            local = address in (None, "", "local")
            try:
                ray.init(
                    address=None if local else address,
                    logging_level=logging.ERROR,
                    log_to_driver=False,
                    include_dashboard=False if local else None,
                )
            except (ConnectionError, ValueError, RuntimeError) as exc:
                raise InputError(
                    f"cannot join the Ray cluster at {address}: {exc}", where="--ray-address"
                ) from exc
            _conn_owned = True
        _conn_users += 1


def _leave_cluster() -> None:
    global _conn_users, _conn_owned
    with _conn_lock:
        _conn_users = max(0, _conn_users - 1)
        if _conn_users == 0 and _conn_owned:
            if ray.is_initialized():
                ray.shutdown()
            _conn_owned = False


# -- actors -------------------------------------------------------------------------------


def build_target(spec: str, config: Any, batch_size: int | None) -> Target:
    """The target a worker serves, built as the driver built it."""
    parsed = TargetSpec.parse(spec)
    if parsed.kind == "openai" and config is not None:
        from assay.targets.openai import OpenAITarget

        return OpenAITarget(parsed, config)
    if parsed.kind == "local" and batch_size is not None:
        return make_target(parsed, batch_size=batch_size)
    return make_target(parsed)


def _where() -> str:
    return str(ray.get_runtime_context().get_node_id())


class TargetWorker:
    """One replica of a target (or a judge), as a Ray actor (async: it serves many calls at once)."""

    def __init__(self, spec: str, config: Any, threads: int | None, batch_size: int | None) -> None:
        if threads:
            os.environ["ASSAY_TORCH_THREADS"] = str(threads)
            # a local model's workers split the actor's CPUs: no more workers than CPUs
            os.environ.setdefault("ASSAY_LOCAL_WORKERS", str(min(2, threads)))
        self.target = build_target(spec, config, batch_size)
        self.calls = 0

    async def ready(self) -> tuple[str, str]:
        """Load the target now (a local model), and say where and which Assay runs it."""
        load = getattr(self.target, "load", None)
        if callable(load):
            await asyncio.to_thread(load)
        return _where(), __version__

    async def complete(
        self, case_id: str, messages: Sequence[Message], params: GenerationParams
    ) -> tuple[Any, ...]:
        self.calls += 1
        try:
            return ("ok", await self.target.complete_for(case_id, messages, params))
        except TargetError as exc:
            return ("error", exc.kind, str(exc), exc.status, exc.retry_after)

    async def stats(self) -> dict[str, Any]:
        return {"calls": self.calls, **dict(getattr(self.target, "stats", {}))}

    async def close(self) -> None:
        await self.target.aclose()


class GraderWorker:
    """One replica of the run's graders that run a learned model, as a Ray actor: each built
    (and its model loaded: the embedding model once, for all of them) when the actor starts;
    it grades batches in a thread."""

    def __init__(self, builds: dict[str, Callable[[], Any]], threads: int | None) -> None:
        if threads:
            os.environ["ASSAY_EMBED_THREADS"] = str(threads)
            os.environ["ASSAY_TORCH_THREADS"] = str(threads)
        self.graders = {key: build() for key, build in builds.items()}
        self.graded = 0

    async def ready(self) -> tuple[str, str]:
        for grader in self.graders.values():
            load = getattr(grader, "load", None)
            if callable(load):
                await asyncio.to_thread(load)
        return _where(), __version__

    async def grade_many(
        self, key: str, cases: list[Case], responses: list[Response]
    ) -> list[tuple[str, Any]]:
        """("ok", judgment) or ("error", why) per case, in order, from grader `key`."""
        self.graded += len(cases)
        return await asyncio.to_thread(self._grade, self.graders[key], cases, responses)

    @staticmethod
    def _grade(grader: Any, cases: list[Case], responses: list[Response]) -> list[tuple[str, Any]]:
        many = getattr(grader, "grade_many", None)
        if callable(many):
            with contextlib.suppress(Exception):  # grade one by one: one odd answer must not fail a batch
                return [("ok", j) for j in many(cases, responses)]
        out: list[tuple[str, Any]] = []
        for case, response in zip(cases, responses, strict=True):
            try:
                out.append(("ok", grader.grade(case, response)))
            except Exception as exc:  # the engine records it as a grader error
                out.append(("error", f"{type(exc).__name__}: {exc}"))
        return out

    async def stats(self) -> dict[str, Any]:
        return {"graded": self.graded}

    async def close(self) -> None:
        return None


class EndpointLimit:
    """The calls in flight to one endpoint across a cluster: a detached named actor shared
    by every worker of every run (AIMD on 429/503, as the engine's own limit).

    Slots are held by (owner, ticket): an owner is one run's driver; one that stops
    heartbeating for OWNER_TIMEOUT_S loses what it held, so a killed driver cannot starve
    the others. Once no run uses it, the next run to come sets the limit again."""

    def __init__(self, key: str, maximum: int) -> None:
        self.key = key
        self.limiter = AdaptiveLimiter(maximum)
        self.pending: dict[tuple[str, int], asyncio.Task[None]] = {}
        self.waiting: Counter[str] = Counter()
        self.held: dict[tuple[str, int], float] = {}
        self.cancelled: set[tuple[str, int]] = set()
        self.seen: dict[str, float] = {}
        self.peak = 0
        self.granted = 0
        self._reaper: asyncio.Task[None] | None = None

    def _touch(self, owner: str) -> None:
        self.seen[owner] = time.monotonic()
        if self._reaper is None:
            self._reaper = asyncio.get_running_loop().create_task(self._reap())

    def _idle_but(self, owner: str) -> bool:
        return set(self.seen) <= {owner} and not self.pending and all(k[0] == owner for k in self.held)

    def _crowded(self, owner: str) -> bool:
        """Whether `owner` must give slots back now: another run waits, or the limit was cut
        below what is held."""
        lim = self.limiter
        return lim.active > lim.current or sum(self.waiting.values()) > self.waiting[owner]

    def _set(self, maximum: int) -> None:
        lim = self.limiter
        lim.maximum = maximum
        lim.limit = float(maximum)
        lim.minimum = min(lim.minimum, maximum)
        lim._wake()

    async def configure(self, owner: str, explicit: int | None, default: int) -> tuple[int, bool]:
        """(the limit now, whether this run set it). An explicit limit is the endpoint's
        budget and replaces the one before; without one, a run that finds no other run
        using the endpoint sets its own (`default`), else it keeps what the others use."""
        fresh = self._idle_but(owner)
        self._touch(owner)
        if explicit is not None:
            self._set(explicit)
            return explicit, True
        if fresh:
            self._set(default)
        return self.limiter.maximum, fresh

    async def acquire(self, owner: str, ticket: int) -> tuple[bool, bool]:
        """(granted, crowded): waits for a slot; False when the wait was cancelled."""
        self._touch(owner)
        key = (owner, ticket)
        if key in self.cancelled:
            self.cancelled.discard(key)
            return False, self._crowded(owner)
        task = asyncio.ensure_future(self.limiter.acquire())
        self.pending[key] = task
        self.waiting[owner] += 1
        try:
            await task
        except asyncio.CancelledError:
            return False, self._crowded(owner)
        finally:
            self.pending.pop(key, None)
            self.waiting[owner] -= 1
        self.held[key] = time.monotonic()
        self.granted += 1
        self.peak = max(self.peak, self.limiter.active)
        return True, self._crowded(owner)

    async def settle(self, owner: str, returned: list[int], ok: int, overloads: int) -> bool:
        """What a run's calls came to since it last settled (`ok` answers, `overloads`
        429/503s: the limit grows by 1/limit per answer and halves on an overload burst) and
        the slots it gives back; returns whether it is crowded (must give back the rest)."""
        self._touch(owner)
        for _ in range(ok):
            self.limiter.on_success()
        if overloads:
            self.limiter.on_overload()
        for ticket in returned:
            if self.held.pop((owner, ticket), None) is not None:
                self.limiter.release()
        return self._crowded(owner)

    async def cancel(self, owner: str, ticket: int) -> None:
        """The caller gave up waiting (or got the slot too late to use it)."""
        key = (owner, ticket)
        task = self.pending.get(key)
        if task is not None:
            task.cancel()
        elif self.held.pop(key, None) is not None:
            self.limiter.release()
        else:
            self.cancelled.add(key)

    async def heartbeat(self, owner: str) -> None:
        self._touch(owner)

    async def leave(self, owner: str) -> int:
        """Give back everything `owner` holds or waits for; returns how many slots it held."""
        self.seen.pop(owner, None)
        for key, task in list(self.pending.items()):
            if key[0] == owner:
                task.cancel()
        mine = [k for k in self.held if k[0] == owner]
        for key in mine:
            del self.held[key]
            self.limiter.release()
        self.cancelled = {k for k in self.cancelled if k[0] != owner}
        return len(mine)

    async def reap(self) -> list[str]:
        """Give back the slots of runs silent for OWNER_TIMEOUT_S; returns who they were."""
        now = time.monotonic()
        gone = [owner for owner, last in self.seen.items() if now - last > OWNER_TIMEOUT_S]
        for owner in gone:
            await self.leave(owner)
        return gone

    async def _reap(self) -> None:
        while True:
            await asyncio.sleep(max(1.0, OWNER_TIMEOUT_S / 6))
            await self.reap()

    async def stats(self) -> dict[str, Any]:
        lim = self.limiter
        return {
            "key": self.key,
            "maximum": lim.maximum,
            "limit": lim.current,
            "active": lim.active,
            "waiting": len(self.pending),
            "cuts": lim.cuts,
            "peak": self.peak,
            "granted": self.granted,
            "owners": len(self.seen),
        }


def endpoint_key(base_url: str, model: str) -> str:
    """What one shared limit is keyed by: the endpoint's host and port, and the model
    (never credentials or a path's query)."""
    parts = urlsplit(base_url)
    host = parts.hostname or "?"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return re.sub(r"[^A-Za-z0-9._:/@-]", "_", f"{host}:{port}/{model}")[:200]


def endpoint_limit_actor(key: str, maximum: int) -> Any:
    """The cluster's limit actor for an endpoint: found by name, or created (on the head
    node when it can be) by the first run that needs it. It holds no CPU and outlives runs."""
    options: dict[str, Any] = {
        "name": f"endpoint:{key}",
        "namespace": NAMESPACE,
        "lifetime": "detached",
        "get_if_exists": True,
        "num_cpus": 0,
        "max_concurrency": 100_000,
        "max_restarts": -1,
        "max_task_retries": -1,
    }
    head = next(
        (
            n["NodeID"]
            for n in ray.nodes()
            if n.get("Alive") and "node:__internal_head__" in n.get("Resources", {})
        ),
        None,
    )
    if head is not None:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        options["scheduling_strategy"] = NodeAffinitySchedulingStrategy(node_id=head, soft=True)
    return ray.remote(EndpointLimit).options(**options).remote(key, maximum)


class EndpointSlots:
    """This run's side of an endpoint's shared limit (satisfies targets.base.SharedSlots).

    A slot the run gives back is kept for its next call for a moment (`GRACE_S`) instead of
    going back to the limit actor, unless another run waits or the limit was cut: a busy
    run then pays no round trip per call, and what it holds still counts against the
    limit, so the endpoint never sees more than the limit. Outcomes and returned slots go
    to the actor together, at most every `FLUSH_S`."""

    GRACE_S = 0.05
    FLUSH_S = 0.005

    def __init__(self, actor: Any, key: str, owner: str) -> None:
        self.actor = actor
        self.key = key
        self.owner = owner
        self._tickets = itertools.count(1)
        self.idle: list[tuple[int, float]] = []
        self.crowded = False
        self._returned: list[int] = []
        self._ok = 0
        self._overloads = 0
        self._flush_at: asyncio.Handle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.overloads = 0
        self.reused = 0
        self.fetched = 0

    async def acquire(self) -> int:
        if self.idle and not self.crowded:
            self.reused += 1
            return self.idle.pop()[0]
        ticket = next(self._tickets)
        gone_since: float | None = None
        while True:
            ref = self.actor.acquire.remote(self.owner, ticket)
            try:
                granted, crowded = await ref
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    self.actor.cancel.remote(self.owner, ticket)
                raise
            except LOST as exc:
                # the limit actor is restarting (its node died): wait for it, within bounds
                gone_since = gone_since or time.monotonic()
                if time.monotonic() - gone_since > READY_TIMEOUT_S:
                    raise TargetError(
                        "unreachable", f"the cluster's limit for endpoint {self.key} is gone: {_why(exc)}"
                    ) from None
                await asyncio.sleep(0.5)
                continue
            self.crowded = crowded
            if granted:
                self.fetched += 1
                return ticket
            ticket = next(self._tickets)

    def release(self, token: Any, outcome: str) -> None:
        if outcome == "ok":
            self._ok += 1
        elif outcome in ("rate_limit", "overload"):
            self._overloads += 1
            self.overloads += 1
            self.crowded = True  # give back what is held: the limit is being cut
        if self.crowded:
            self._returned.append(token)
        else:
            self.idle.append((token, time.monotonic()))
        if self._flush_at is None:
            with contextlib.suppress(RuntimeError):  # no loop: flushed on close
                self._flush_at = asyncio.get_running_loop().call_later(self.FLUSH_S, self._flush)

    def _flush(self) -> None:
        self._flush_at = None
        now = time.monotonic()
        keep: list[tuple[int, float]] = []
        for ticket, since in self.idle:
            if not self.crowded and now - since < self.GRACE_S:
                keep.append((ticket, since))
            else:
                self._returned.append(ticket)
        self.idle = keep
        if self._returned or self._ok or self._overloads:
            ref = self.actor.settle.remote(self.owner, self._returned, self._ok, self._overloads)
            self._returned, self._ok, self._overloads = [], 0, 0
            task = asyncio.get_running_loop().create_task(self._learn(ref))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if self.idle:  # give them back once their grace is over
            self._flush_at = asyncio.get_running_loop().call_later(self.FLUSH_S, self._flush)

    async def _learn(self, ref: Any) -> None:
        with contextlib.suppress(Exception):  # a lost answer only delays what it says
            self.crowded = bool(await ref)
            if self.crowded and self.idle and self._flush_at is None:
                self._flush_at = asyncio.get_running_loop().call_soon(self._flush)

    async def close(self) -> None:
        """Report what is left, give back every slot and leave the limit."""
        if self._flush_at is not None:
            self._flush_at.cancel()
            self._flush_at = None
        returned = self._returned + [t for t, _ in self.idle]
        self.idle, self._returned = [], []
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                self.actor.settle.remote(self.owner, returned, self._ok, self._overloads), 10
            )
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.actor.leave.remote(self.owner), 10)


# -- pools of actors ------------------------------------------------------------------------


@dataclass
class Slot:
    actor: Any
    index: int
    node: str = "?"
    inflight: int = 0
    used: int = 0
    alive: bool = True


class PoolLost(RuntimeError):
    """Every actor of a pool is gone, or one call moved too many times."""


class ActorPool:
    """The actors of one role for one target or grader: picks the least busy live actor,
    moves a call off an actor that died, and starts a replacement where resources allow."""

    def __init__(
        self, executor: RayExecutor, role: str, label: str, per_actor: int, spawn: Callable[[], Any]
    ) -> None:
        self.executor = executor
        self.role = role
        self.label = label
        self.per_actor = per_actor
        self.spawn = spawn
        self.slots: list[Slot] = []
        self.starting = 0
        self.replaced = 0
        self._changed: asyncio.Event | None = None

    @property
    def capacity(self) -> int:
        return self.per_actor * max(1, len(self.slots))

    def _event(self) -> asyncio.Event:
        if self._changed is None:
            self._changed = asyncio.Event()
        return self._changed

    async def _pick(self) -> Slot | None:
        while True:
            live = [s for s in self.slots if s.alive]
            if not live and not self.starting:
                return None
            if live:
                slot = min(live, key=lambda s: (s.inflight, s.used))
                if slot.inflight < self.per_actor:
                    slot.inflight += 1
                    slot.used += 1
                    return slot
            event = self._event()
            event.clear()
            await event.wait()

    def _release(self, slot: Slot) -> None:
        slot.inflight -= 1
        self._event().set()

    async def call(self, method: str, *args: Any) -> Any:
        """`actor.method(*args)` on a live actor; moved to another one if its actor dies."""
        moves = 0
        while True:
            slot = await self._pick()
            if slot is None:
                raise PoolLost(
                    f"every Ray {ACTOR_NOUN[self.role]} of {self.label} was lost: "
                    + "; ".join(self.executor.losses[-3:])
                )
            ref = getattr(slot.actor, method).remote(*args)
            try:
                return await ref
            except asyncio.CancelledError:
                _cancel(ref)
                raise
            except LOST as exc:
                self.lost(slot, exc)
                moves += 1
                if moves > self.executor.options.max_moves:
                    raise PoolLost(
                        f"the {ACTOR_NOUN[self.role]} of this call died {moves} times ({type(exc).__name__}); gave up moving it"
                    ) from None
                self.executor.moved += 1
            finally:
                self._release(slot)

    def lost(self, slot: Slot, exc: BaseException) -> None:
        if not slot.alive:
            return
        slot.alive = False
        self.executor.losses.append(
            f"{ACTOR_NOUN[self.role]} {slot.index} of {self.label} on node {slot.node[:12]} ({_why(exc)})"
        )
        self.executor.lost_by_role[self.role] = self.executor.lost_by_role.get(self.role, 0) + 1
        self._event().set()
        if self.replaced < len(self.slots):
            self.replaced += 1
            actor = self.spawn()
            self.executor.spares.append(actor)
            self.starting += 1
            self.executor.track(asyncio.get_running_loop().create_task(self._join(actor)))

    async def _join(self, actor: Any) -> None:
        try:
            node, _ = await asyncio.wait_for(actor.ready.remote(), READY_TIMEOUT_S)
        except Exception:
            _kill(actor)
            return
        finally:
            self.starting -= 1
            self._event().set()
        self.slots.append(Slot(actor=actor, index=len(self.slots), node=node))
        self._event().set()

    async def close(self) -> None:
        for slot in self.slots:
            if slot.alive:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(slot.actor.close.remote(), 30)
            _kill(slot.actor)


# -- what the engine calls -------------------------------------------------------------------


class RayTarget(Target):
    """What the engine (or a grader, for a judge) calls: the same spec and identity as the
    target, answered by worker actors."""

    def __init__(self, inner: Target, executor: RayExecutor, role: str) -> None:
        super().__init__(inner.spec)
        self.inner = inner
        self.executor = executor
        self.role = role
        self.cancellable = inner.cancellable
        self.max_concurrency = inner.max_concurrency
        self.pool: ActorPool | None = None
        #: the endpoint's slots across the cluster (endpoint targets; set when workers start)
        self.endpoint: EndpointSlots | None = None

    def cache_identity(self) -> str:
        return self.inner.cache_identity()

    def identity(self) -> str:
        return self.inner.identity()

    def describe(self) -> dict[str, Any]:
        workers = len(self.pool.slots) if self.pool else 0
        return {**self.inner.describe(), "executor": "ray", "workers": workers}

    async def complete(self, messages: Sequence[Message], params: GenerationParams) -> Completion:
        return await self.complete_for("", messages, params)

    async def complete_for(
        self, case_id: str, messages: Sequence[Message], params: GenerationParams
    ) -> Completion:
        # the engine takes the endpoint's slot itself (Target.shared_slots); other callers
        # (the target check, a judge called by its grader) take one here
        slots = self.endpoint if not SLOT_HELD.get() else None
        token = await slots.acquire() if slots is not None else None
        outcome = "error"
        try:
            completion = await self._call(case_id, messages, params)
            outcome = "ok"
            return completion
        except TargetError as exc:
            outcome = exc.kind
            raise
        finally:
            if slots is not None and token is not None:
                slots.release(token, outcome)

    async def _call(self, case_id: str, messages: Sequence[Message], params: GenerationParams) -> Completion:
        if self.pool is None:
            raise RuntimeError("the Ray executor was not started")
        try:
            out = await self.pool.call("complete", case_id, list(messages), params)
        except PoolLost as exc:
            raise TargetError("unreachable", str(exc)) from None
        if out[0] == "ok":
            completion: Completion = out[1]
            return completion
        _, kind, message, status, retry_after = out
        raise TargetError(kind, message, status=status, retry_after=retry_after)

    async def aclose(self) -> None:
        await self.inner.aclose()


class RayGrader:
    """What the engine grades with instead of a grader that runs a learned model: the same
    key and coverage; the grading itself is done by grader actors, in batches."""

    group_level = False
    is_async = True

    def __init__(self, inner: Any, executor: RayExecutor, build: Callable[[], Any]) -> None:
        self.inner = inner
        self.executor = executor
        self.build = build
        self.pool: ActorPool | None = None
        self._queue: list[tuple[Case, Response, asyncio.Future[Judgment]]] = []
        self._scheduled = False
        self._inflight = 0

    def __getattr__(self, name: str) -> Any:  # id, version, labels, covers, ... of the grader
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    @property
    def key(self) -> str:
        return str(self.inner.key)

    def not_covered(self, case: Case) -> Judgment | None:
        found: Judgment | None = self.inner.not_covered(case)
        return found

    def grade(self, case: Case, response: Response) -> Judgment:
        judged: Judgment = self.inner.grade(case, response)
        return judged

    async def agrade(self, case: Case, response: Response) -> Judgment:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Judgment] = loop.create_future()
        self._queue.append((case, response, fut))
        if not self._scheduled:
            # what arrives in the same turn of the loop goes in one batch
            self._scheduled = True
            loop.call_soon(self._flush)
        return await fut

    def _flush(self) -> None:
        self._scheduled = False
        if self.pool is None:
            raise RuntimeError("the Ray executor was not started")
        # send now while an actor is free; otherwise the queue waits for a batch to finish
        # (and grows into the next, bigger batch)
        while self._queue and self._inflight < self.pool.capacity:
            batch = [b for b in self._queue[:GRADER_BATCH_SIZE] if not b[2].done()]
            del self._queue[:GRADER_BATCH_SIZE]
            if batch:
                self._inflight += 1
                self.executor.track(asyncio.get_running_loop().create_task(self._send(batch)))

    async def _send(self, batch: list[tuple[Case, Response, asyncio.Future[Judgment]]]) -> None:
        assert self.pool is not None
        try:
            out = await self.pool.call("grade_many", self.key, [b[0] for b in batch], [b[1] for b in batch])
        except Exception as exc:  # every actor lost: the engine records grader errors
            for *_, fut in batch:
                if not fut.done():
                    fut.set_exception(RuntimeError(str(exc)))
            return
        finally:
            self._inflight -= 1
            if self._queue and not self._scheduled:
                self._scheduled = True
                asyncio.get_running_loop().call_soon(self._flush)
        for (*_, fut), (status, value) in zip(batch, out, strict=True):
            if fut.done():
                continue
            if status == "ok":
                fut.set_result(value)
            else:
                fut.set_exception(RuntimeError(value))


# -- the executor -----------------------------------------------------------------------------


@dataclass
class _Plan:
    """The actors one pool needs (a target's, a judge's, or the run's graders')."""

    proxies: list[RayTarget | RayGrader]
    role: str
    label: str
    count: int
    cpus: float
    gpus: float
    memory_gb: float | None
    per_actor: int
    spawn: Callable[[], Any]


class RayExecutor(Executor):
    name = "ray"

    def __init__(self, options: ExecutorOptions) -> None:
        super().__init__()
        self.options = options
        self.targets: list[RayTarget] = []
        self.graders: list[RayGrader] = []
        self.pools: list[ActorPool] = []
        self.endpoints: dict[str, EndpointSlots] = {}
        self.moved = 0
        self.losses: list[str] = []
        self.lost_by_role: dict[str, int] = {}
        self.spares: list[Any] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._joined = False
        #: this run's name at the endpoint limits (host, process, a random part)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"

    # -- binding -------------------------------------------------------------------------
    def bind(self, target: Target, role: str = "target") -> Target:
        """A proxy for `target` (a judge: `role="judge"`); its actors start with `start()`.
        A judge stays in the driver with `--ray-judge-replicas 0`, and an in-process
        function (`python:`) or recorded answers (`replay:`) always do."""
        if role != "target" and (
            self.options.resources(role).replicas == 0 or target.spec.kind not in ("local", "openai")
        ):
            return target
        proxy = RayTarget(target, self, role)
        self.targets.append(proxy)
        return proxy

    def bind_grader(self, grader: Any, build: Callable[[], Any]) -> Any:
        """Grader actors for a grader that runs a learned model (`uses_model`), unless
        `--ray-grader-replicas 0`; any other grader is returned as it is."""
        if (
            not getattr(grader, "uses_model", False)
            or getattr(grader, "group_level", False)
            or getattr(grader, "is_async", False)
            or self.options.grader_replicas == 0
        ):
            return grader
        proxy = RayGrader(grader, self, build)
        self.graders.append(proxy)
        return proxy

    def track(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- starting --------------------------------------------------------------------------
    def connect(self) -> None:
        if not self._joined:
            _join_cluster(self.options.address)
            self._joined = True

    def start(self, concurrency: int | None = None) -> None:
        """Start every bound proxy's actors (all at once, checked against the cluster's
        resources first), and join the endpoints' shared limits. `concurrency`: the run's
        own limit, where a new endpoint limit starts without --ray-endpoint-limit."""
        targets = [p for p in self.targets if p.pool is None]
        graders = [g for g in self.graders if g.pool is None]
        if not targets and not graders:
            return
        self.connect()
        nodes = sum(1 for n in ray.nodes() if n.get("Alive"))
        plans = [self._target_plan(p, nodes) for p in targets]
        if graders:
            plans.append(self._grader_plan(graders, nodes))
        self._check_resources(plans)
        spawned = [(plan, [plan.spawn() for _ in range(plan.count)]) for plan in plans]
        actors = [a for _, group in spawned for a in group]
        try:
            ready = ray.get([a.ready.remote() for a in actors], timeout=READY_TIMEOUT_S)
        except rex.GetTimeoutError as exc:
            _kill_all(actors)
            raise InputError(
                f"the Ray actors ({', '.join(p.label for p in plans)}) were not ready within "
                f"{READY_TIMEOUT_S:g} s (not enough free resources on the cluster?)",
                where=" / ".join(dict.fromkeys(_count_option(p.role) for p in plans)),
            ) from exc
        except rex.RayTaskError as exc:
            _kill_all(actors)
            raise InputError(
                f"a Ray actor could not start: {_why(exc.cause or exc)}", where="--executor"
            ) from exc
        stale = {v for _, v in ready if v != __version__}
        if stale:
            _kill_all(actors)
            raise InputError(
                f"the Ray workers run Assay {', '.join(sorted(stale))}, this process {__version__}: "
                "install the same version on the cluster",
                where="--ray-address",
            )
        where = iter(ready)
        for plan, group in spawned:
            pool = ActorPool(self, plan.role, plan.label, plan.per_actor, plan.spawn)
            pool.slots = [Slot(actor=a, index=i, node=next(where)[0]) for i, a in enumerate(group)]
            self.pools.append(pool)
            for proxy in plan.proxies:
                proxy.pool = pool
                if isinstance(proxy, RayTarget):
                    proxy.max_concurrency = pool.capacity
            gpu = f", {plan.gpus:g} GPU" if plan.gpus else ""
            self.notes.append(
                f"executor ray: {plan.count} {ACTOR_NOUN[plan.role]}(s) of {plan.label} on "
                f"{len({s.node for s in pool.slots})} node(s), {plan.cpus:g} CPU{gpu} each"
            )
        self._join_endpoints(concurrency)

    @staticmethod
    def _actor_options(res: ActorResources, cpus: float, per_actor: int) -> dict[str, Any]:
        options: dict[str, Any] = {
            "num_cpus": cpus,
            "num_gpus": res.gpus,
            "max_concurrency": per_actor + 4,
            "max_restarts": 0,
            "scheduling_strategy": "SPREAD",
        }
        if res.memory_gb:
            options["memory"] = int(res.memory_gb * 1024**3)
        return options

    def _grader_plan(self, graders: list[RayGrader], nodes: int) -> _Plan:
        """One pool for all the run's model graders: an actor loads the embedding model once."""
        res = self.options.resources("grader")
        cpus = res.cpus if res.cpus is not None else 0.5
        per_actor = GRADER_BATCHES_PER_ACTOR * len(graders)
        remote: Any = ray.remote(GraderWorker).options(**self._actor_options(res, cpus, per_actor))
        builds = {g.key: g.build for g in graders}
        threads = max(1, int(cpus))
        label = ", ".join(sorted(builds))
        return _Plan(list(graders), "grader", label, res.replicas or max(1, nodes), cpus, res.gpus,
                     res.memory_gb, per_actor, lambda: remote.remote(builds, threads))  # fmt: skip

    def _target_plan(self, proxy: RayTarget, nodes: int) -> _Plan:
        res = self.options.resources(proxy.role)
        target = proxy.inner
        local = target.spec.kind == "local"
        cpus = res.cpus if res.cpus is not None else (1.0 if local else 0.25)
        per_actor = (
            self.options.worker_concurrency if proxy.role == "target" else None
        ) or target.max_concurrency
        config = None
        if target.spec.kind == "openai":
            from assay.targets.config import TargetConfig

            config = TargetConfig.for_openai(target.spec.name)
        batch_size = getattr(target, "batch_size", None) if local else None
        threads = max(1, int(cpus)) if local else None
        remote: Any = ray.remote(TargetWorker).options(**self._actor_options(res, cpus, per_actor))
        spec = str(target.spec)
        return _Plan([proxy], proxy.role, spec, res.replicas or max(1, nodes), cpus, res.gpus, res.memory_gb,
                     per_actor, lambda: remote.remote(spec, config, threads, batch_size))  # fmt: skip

    def _check_resources(self, plans: list[_Plan]) -> None:
        have = ray.cluster_resources()
        for name, attr in (("CPU", "cpus"), ("GPU", "gpus")):
            parts = [(p, getattr(p, attr)) for p in plans if getattr(p, attr)]
            need = sum(each * p.count for p, each in parts)
            if need > have.get(name, 0.0) + 1e-9:
                what = " + ".join(
                    f"{p.count} Ray {ACTOR_NOUN[p.role]}(s) of {p.label} × {each:g} {name}"
                    for p, each in parts
                )
                raise InputError(
                    f"{what} need {need:g} {name}, but the cluster has {have.get(name, 0.0):g}",
                    where=" / ".join(dict.fromkeys(_count_option(p.role) for p, _ in parts)),
                )

    def _join_endpoints(self, concurrency: int | None) -> None:
        """One shared limit per endpoint the run's (and judge's) workers call."""
        for proxy in self.targets:
            if proxy.inner.spec.kind != "openai" or proxy.endpoint is not None:
                continue
            from assay.targets.config import TargetConfig

            config = TargetConfig.for_openai(proxy.inner.spec.name)
            key = endpoint_key(config.base_url, proxy.inner.spec.name)
            slots = self.endpoints.get(key)
            if slots is None:
                default = self.options.endpoint_limit or concurrency or proxy.max_concurrency
                actor = endpoint_limit_actor(key, default)
                limit, mine = ray.get(
                    actor.configure.remote(self.owner, self.options.endpoint_limit, default),
                    timeout=READY_TIMEOUT_S,
                )
                slots = self.endpoints[key] = EndpointSlots(actor, key, self.owner)
                who = "set by this run" if mine else "as the cluster has it"
                self.notes.append(
                    f"executor ray: endpoint {key}: at most {limit} call(s) in flight across the cluster "
                    f"(shared by every worker and run; {who})"
                )
            proxy.endpoint = slots
            if proxy.role == "target":
                proxy.shared_slots = slots
        if self.endpoints:
            with contextlib.suppress(RuntimeError):  # no running loop: nothing to keep alive
                self.track(asyncio.get_running_loop().create_task(self._heartbeat()))

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            for slots in self.endpoints.values():
                with contextlib.suppress(Exception):
                    slots.actor.heartbeat.remote(self.owner)

    # -- reporting ---------------------------------------------------------------------------
    def run_notes(self) -> list[str]:
        notes = list(self.notes)
        if self.losses:
            by_role = ", ".join(f"{n} {ACTOR_NOUN[r]}(s)" for r, n in sorted(self.lost_by_role.items()))
            notes.append(
                f"executor ray: {len(self.losses)} actor(s) lost ({by_role}): {'; '.join(self.losses)}; "
                f"{self.moved} in-flight call(s) moved to other actors"
            )
        for key, slots in self.endpoints.items():
            if slots.overloads:
                notes.append(
                    f"executor ray: endpoint {key} answered {slots.overloads} call(s) with 429/503; "
                    "the shared limit was lowered for every run"
                )
        return notes

    # -- closing -----------------------------------------------------------------------------
    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for pool in self.pools:
            await pool.close()
        _kill_all(self.spares)
        for slots in self.endpoints.values():
            await slots.close()
        self.pools.clear()
        self.endpoints.clear()
        if self._joined:
            self._joined = False
            _leave_cluster()


def _count_option(role: str) -> str:
    return option_name({"target": "workers", "judge": "judge_replicas", "grader": "grader_replicas"}[role])


def _why(exc: BaseException) -> str:
    """The exception's kind and the first line of what Ray says (no traceback)."""
    first = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    return f"{type(exc).__name__}: {first[:160]}" if first else type(exc).__name__


def _cancel(ref: Any) -> None:
    with contextlib.suppress(Exception):  # the worker may be gone already
        ray.cancel(ref)


def _kill(actor: Any) -> None:
    with contextlib.suppress(Exception):
        ray.kill(actor)


def _kill_all(actors: Sequence[Any]) -> None:
    for actor in actors:
        _kill(actor)

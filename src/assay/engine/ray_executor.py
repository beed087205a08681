"""The Ray executor: a run's target calls answered by worker actors on a Ray cluster.

The engine keeps running in the `assay` process (the driver): it orders the cases, holds
the one concurrency limit for the target (so more workers never means more 429s: the
limit is the run's, shared by every worker), retries, caches, grades, stops early and is
the store's single writer. This module gives it a proxy target whose calls go to worker
actors:

- each worker actor builds the target once (a `local:` model is loaded once per replica,
  with as many torch threads as CPUs it reserved, and its batching queue serves the
  calls that reach it together); the resources each reserves are options;
- a call goes to the live worker with the fewest calls in flight (a worker never holds
  more than its own ceiling);
- a worker that dies (its process or its node) loses nothing: each call it had in flight
  moves to another worker, at most `max_moves` times per call, after which the call is a
  transport fault (the case stays pending, a resume sends it again); a replacement is
  started where resources allow; the run's notes record every loss;
- a call the engine abandons (timeout, Ctrl-C, early stopping) is cancelled on its worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ray
import ray.exceptions as rex

from assay import __version__
from assay.core.errors import InputError, TargetError
from assay.core.types import GenerationParams, Message, TargetSpec
from assay.engine.executor import Executor, ExecutorOptions
from assay.targets import Completion, Target, make_target

#: a worker is gone (its process, its node, or the connection to it): move its calls
LOST = (
    rex.RayActorError,
    rex.ActorUnavailableError,
    rex.WorkerCrashedError,
    rex.NodeDiedError,
    rex.OwnerDiedError,
    rex.ObjectLostError,
)
#: seconds to wait for the workers to be placed and to load their target
READY_TIMEOUT_S = float(os.environ.get("ASSAY_RAY_READY_TIMEOUT", "600"))


def build_target(spec: str, config: Any, batch_size: int | None) -> Target:
    """The target a worker serves, built as the driver built it."""
    parsed = TargetSpec.parse(spec)
    if parsed.kind == "openai" and config is not None:
        from assay.targets.openai import OpenAITarget

        return OpenAITarget(parsed, config)
    if parsed.kind == "local" and batch_size is not None:
        return make_target(parsed, batch_size=batch_size)
    return make_target(parsed)


class TargetWorker:
    """One replica of a target, as a Ray actor (async: it serves many calls at once)."""

    def __init__(self, spec: str, config: Any, threads: int | None, batch_size: int | None) -> None:
        if threads:
            os.environ["ASSAY_TORCH_THREADS"] = str(threads)
        self.target = build_target(spec, config, batch_size)
        self.calls = 0

    async def ready(self) -> tuple[str, str]:
        """Load the target now (a local model), and say where and which Assay runs it."""
        load = getattr(self.target, "load", None)
        if callable(load):
            await asyncio.to_thread(load)
        return ray.get_runtime_context().get_node_id(), __version__

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


@dataclass
class Slot:
    actor: Any
    index: int
    node: str = "?"
    inflight: int = 0
    used: int = 0
    alive: bool = True


class RayTarget(Target):
    """What the engine calls: the same spec and identity as the target, answered by workers."""

    def __init__(self, inner: Target, executor: RayExecutor, slots: list[Slot], per_worker: int) -> None:
        super().__init__(inner.spec)
        self.inner = inner
        self.executor = executor
        self.slots = slots
        self.per_worker = per_worker
        self.cancellable = inner.cancellable
        self.max_concurrency = per_worker * max(1, len(slots))
        self._changed: asyncio.Event | None = None
        #: starts one more worker like the others (set when the workers start)
        self.spawn: Any = None
        self.replaced = 0

    def cache_identity(self) -> str:
        return self.inner.cache_identity()

    def identity(self) -> str:
        return self.inner.identity()

    def describe(self) -> dict[str, Any]:
        return {**self.inner.describe(), "executor": "ray", "workers": len(self.slots)}

    async def complete(self, messages: Sequence[Message], params: GenerationParams) -> Completion:
        return await self.complete_for("", messages, params)

    def _event(self) -> asyncio.Event:
        if self._changed is None:
            self._changed = asyncio.Event()
        return self._changed

    async def _pick(self) -> Slot | None:
        while True:
            live = [s for s in self.slots if s.alive]
            if not live:
                return None
            slot = min(live, key=lambda s: (s.inflight, s.used))
            if slot.inflight < self.per_worker:
                slot.inflight += 1
                slot.used += 1
                return slot
            event = self._event()
            event.clear()
            await event.wait()

    def _release(self, slot: Slot) -> None:
        slot.inflight -= 1
        self._event().set()

    def add(self, slot: Slot) -> None:
        self.slots.append(slot)
        self._event().set()

    async def complete_for(
        self, case_id: str, messages: Sequence[Message], params: GenerationParams
    ) -> Completion:
        moves = 0
        while True:
            slot = await self._pick()
            if slot is None:
                raise TargetError(
                    "unreachable",
                    "every Ray worker of this target was lost: " + "; ".join(self.executor.losses[-3:]),
                )
            ref = slot.actor.complete.remote(case_id, list(messages), params)
            try:
                out = await ref
            except asyncio.CancelledError:
                _cancel(ref)
                raise
            except LOST as exc:
                self.executor.lost(self, slot, exc)
                moves += 1
                if moves > self.executor.options.max_moves:
                    raise TargetError(
                        "unreachable",
                        f"the call's Ray worker died {moves} times ({type(exc).__name__}); gave up moving it",
                    ) from None
                self.executor.moved += 1
                continue
            finally:
                self._release(slot)
            if out[0] == "ok":
                completion: Completion = out[1]
                return completion
            _, kind, message, status, retry_after = out
            raise TargetError(kind, message, status=status, retry_after=retry_after)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _cancel(ref: Any) -> None:
    with contextlib.suppress(Exception):  # the worker may be gone already
        ray.cancel(ref)


class RayExecutor(Executor):
    name = "ray"

    def __init__(self, options: ExecutorOptions) -> None:
        super().__init__()
        self.options = options
        self._owns = False
        self.proxies: list[RayTarget] = []
        self.moved = 0
        self.losses: list[str] = []
        self._spares: list[Any] = []
        self._tasks: set[asyncio.Task[None]] = set()

    # -- cluster -----------------------------------------------------------------------
    def connect(self) -> None:
        if ray.is_initialized():
            return
        address = self.options.address
        try:
            ray.init(
                address=None if address in (None, "", "local") else address,
                logging_level=logging.ERROR,
                log_to_driver=False,
                include_dashboard=False if address in (None, "", "local") else None,
            )
        except (ConnectionError, ValueError, RuntimeError) as exc:
            raise InputError(
                f"cannot join the Ray cluster at {address}: {exc}", where="--ray-address"
            ) from exc
        self._owns = True

    def bind(self, target: Target) -> Target:
        """A proxy for `target`; its workers start with `start()` (nothing starts before)."""
        proxy = RayTarget(target, self, [], self.options.worker_concurrency or target.max_concurrency)
        self.proxies.append(proxy)
        return proxy

    def start(self) -> None:
        for proxy in self.proxies:
            if not proxy.slots:
                self._start(proxy)

    def _start(self, proxy: RayTarget) -> None:
        self.connect()
        target = proxy.inner
        opts = self.options
        local = target.spec.kind == "local"
        cpus = opts.cpus if opts.cpus is not None else (1.0 if local else 0.25)
        nodes = [n for n in ray.nodes() if n.get("Alive")]
        workers = opts.workers or max(1, len(nodes))
        have = ray.cluster_resources()
        for name, each in (("CPU", cpus), ("GPU", opts.gpus)):
            if each and each * workers > have.get(name, 0.0) + 1e-9:
                raise InputError(
                    f"{workers} Ray worker(s) × {each:g} {name} need {each * workers:g} {name}, "
                    f"but the cluster has {have.get(name, 0.0):g}",
                    where="--ray-workers",
                )
        per_worker = proxy.per_worker
        config = None
        if target.spec.kind == "openai":
            from assay.targets.config import TargetConfig

            config = TargetConfig.for_openai(target.spec.name)
        batch_size = getattr(target, "batch_size", None) if local else None
        threads = max(1, int(cpus)) if local else None
        actor_options: dict[str, Any] = {
            "num_cpus": cpus,
            "num_gpus": opts.gpus,
            "max_concurrency": per_worker + 4,
            "max_restarts": 0,
            "scheduling_strategy": "SPREAD",
        }
        if opts.memory_gb:
            actor_options["memory"] = int(opts.memory_gb * 1024**3)
        remote: Any = ray.remote(TargetWorker).options(**actor_options)
        proxy.spawn = lambda: remote.remote(str(target.spec), config, threads, batch_size)
        actors: list[Any] = [proxy.spawn() for _ in range(workers)]
        try:
            ready = ray.get([a.ready.remote() for a in actors], timeout=READY_TIMEOUT_S)
        except rex.GetTimeoutError as exc:
            for a in actors:
                ray.kill(a)
            raise InputError(
                f"the Ray workers of {target.spec} were not ready within {READY_TIMEOUT_S:g} s "
                "(not enough free resources on the cluster?)",
                where="--ray-workers",
            ) from exc
        except rex.RayTaskError as exc:
            for a in actors:
                ray.kill(a)
            raise InputError(
                f"a Ray worker could not build {target.spec}: {_why(exc.cause or exc)}", where="--executor"
            ) from exc
        stale = {v for _, v in ready if v != __version__}
        if stale:
            for a in actors:
                ray.kill(a)
            raise InputError(
                f"the Ray workers run Assay {', '.join(sorted(stale))}, this process {__version__}: "
                "install the same version on the cluster",
                where="--ray-address",
            )
        slots = [
            Slot(actor=a, index=i, node=node)
            for i, (a, (node, _)) in enumerate(zip(actors, ready, strict=True))
        ]
        proxy.slots = slots
        proxy.max_concurrency = per_worker * len(slots)
        self.notes.append(
            f"executor ray: {workers} worker(s) of {target.spec} on {len({s.node for s in slots})} node(s), "
            f"{cpus:g} CPU{f', {opts.gpus:g} GPU' if opts.gpus else ''} each"
        )

    # -- faults ------------------------------------------------------------------------
    def lost(self, proxy: RayTarget, slot: Slot, exc: BaseException) -> None:
        if not slot.alive:
            return
        slot.alive = False
        self.losses.append(f"worker {slot.index} on node {slot.node[:12]} ({_why(exc)})")
        if proxy.replaced < len(proxy.slots):
            proxy.replaced += 1
            actor = proxy.spawn()
            self._spares.append(actor)
            task = asyncio.get_running_loop().create_task(self._join(proxy, actor))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _join(self, proxy: RayTarget, actor: Any) -> None:
        try:
            node, _ = await actor.ready.remote()
        except Exception:
            return
        proxy.add(Slot(actor=actor, index=len(proxy.slots), node=node))

    def run_notes(self) -> list[str]:
        notes = list(self.notes)
        if self.losses:
            notes.append(
                f"executor ray: {len(self.losses)} worker(s) lost: {'; '.join(self.losses)}; "
                f"{self.moved} in-flight call(s) moved to other workers"
            )
        return notes

    def worker_nodes(self) -> list[str]:
        return [s.node for p in self.proxies for s in p.slots if s.alive]

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for proxy in self.proxies:
            for slot in proxy.slots:
                if slot.alive:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(slot.actor.close.remote(), 30)
                _kill(slot.actor)
        for actor in self._spares:
            _kill(actor)
        self.proxies.clear()
        if self._owns and ray.is_initialized():
            ray.shutdown()
            self._owns = False


def _why(exc: BaseException) -> str:
    """The exception's kind and the first line of what Ray says (no traceback)."""
    first = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    return f"{type(exc).__name__}: {first[:160]}" if first else type(exc).__name__


def _kill(actor: Any) -> None:
    with contextlib.suppress(Exception):
        ray.kill(actor)

"""Executors: where the engine's target calls run.

The engine (assay.engine.runner) owns every rule of a run: the order of cases, the one
concurrency limit per target (adaptive on 429/503), attempts and backoff, the response
cache, ingestion redaction, grading, early stopping and the single store writer. An
executor only decides *where a target call is answered*:

- `local` (the default): in this process, the target object itself: nothing changes,
  nothing is added to a call;
- `ray`: on a Ray cluster (assay.engine.ray_executor). The target is built once per
  worker actor (a local model is loaded once per replica and generates in batches); the
  engine calls a proxy with the same interface, so batching, retries, caching and store
  writing stay one copy. A worker that dies moves its in-flight calls to another worker,
  a bounded number of times, and the run's notes record the loss.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from assay.core.errors import InputError
from assay.targets.base import Target

#: executors a run may name (`--executor`)
EXECUTORS = ("local", "ray")


@dataclass(frozen=True)
class ExecutorOptions:
    """How a run's target calls are executed. Only `kind` matters to the local executor."""

    kind: str = "local"
    #: Ray cluster to join: None starts or joins a local one; "auto", "host:port" or "ray://host:10001"
    address: str | None = None
    #: worker actors per target (None: one per alive node)
    workers: int | None = None
    #: resources each worker actor reserves (None: 1 CPU for a local model, 0.25 for an endpoint)
    cpus: float | None = None
    gpus: float = 0.0
    memory_gb: float | None = None
    #: most calls one worker serves at once (None: the target's own ceiling)
    worker_concurrency: int | None = None
    #: times one call may move to another worker after its worker died
    max_moves: int = 3

    def check(self) -> None:
        """Bad options are input errors (exit 2), raised before any work starts."""
        if self.kind not in EXECUTORS:
            raise InputError(
                f"unknown executor {self.kind!r}; choose one of: {', '.join(EXECUTORS)}", where="--executor"
            )
        if self.kind == "local":
            for name, value, default in (
                ("--ray-address", self.address, None),
                ("--ray-workers", self.workers, None),
                ("--ray-cpus", self.cpus, None),
                ("--ray-gpus", self.gpus, 0.0),
                ("--ray-memory-gb", self.memory_gb, None),
                ("--ray-worker-concurrency", self.worker_concurrency, None),
            ):
                if value != default:
                    raise InputError(f"{name} needs --executor ray", where=name)
            return
        if self.workers is not None and self.workers < 1:
            raise InputError("--ray-workers must be at least 1", where="--ray-workers")
        if self.cpus is not None and self.cpus < 0:
            raise InputError("--ray-cpus must not be negative", where="--ray-cpus")
        if self.gpus < 0:
            raise InputError("--ray-gpus must not be negative", where="--ray-gpus")
        if self.memory_gb is not None and self.memory_gb <= 0:
            raise InputError("--ray-memory-gb must be positive", where="--ray-memory-gb")
        if self.worker_concurrency is not None and self.worker_concurrency < 1:
            raise InputError("--ray-worker-concurrency must be at least 1", where="--ray-worker-concurrency")
        try:
            import ray  # noqa: F401
        except ImportError as exc:
            raise InputError(
                "--executor ray needs the `ray` extra: pip install -e '.[ray]' (ray[default]==2.60.0)",
                where="--executor",
            ) from exc


class Executor(ABC):
    """Turns a target into the target the engine calls, and reports what happened."""

    name: str = "local"

    def __init__(self) -> None:
        self.notes: list[str] = []

    @abstractmethod
    def bind(self, target: Target) -> Target:
        """The target the engine (or a grader, for a judge) calls instead of `target`: the
        same spec and identity. Nothing starts before `start()`."""

    def start(self) -> None:  # noqa: B027 - optional hook
        """Start what the bound targets need (workers), before the first case is sent.
        Input errors (not enough resources on the cluster) are raised here."""

    def run_notes(self) -> list[str]:
        """Lines for the run's notes (worker losses, moved calls); empty when nothing happened."""
        return list(self.notes)

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release workers and the cluster connection."""


class LocalExecutor(Executor):
    """The default: the engine calls the target in this process."""

    name = "local"

    def bind(self, target: Target) -> Target:
        return target


def make_executor(options: ExecutorOptions) -> Executor:
    options.check()
    if options.kind == "ray":
        from assay.engine.ray_executor import RayExecutor

        return RayExecutor(options)
    return LocalExecutor()

"""Executors: where the engine's target calls (and the model-backed grading) run.

The engine (assay.engine.runner) owns every rule of a run: the order of cases, the one
concurrency limit per target (adaptive on 429/503), attempts and backoff, the response
cache, ingestion redaction, grading, early stopping and the single store writer. An
executor only decides *where a call is answered*:

- `local` (the default): in this process, the target, judge and graders themselves:
  nothing changes, nothing is added to a call;
- `ray`: on a Ray cluster (assay.engine.ray_executor). The target, a judge (a local model
  or an endpoint) and the graders that run a learned model are each built once per actor
  (a model is loaded once per replica and serves batches); the engine calls proxies with
  the same interface, so batching, retries, caching and store writing stay one copy. An
  endpoint's calls in flight are capped by one limit shared by every worker and every run
  on the cluster. A worker that dies moves its in-flight calls to another worker, a
  bounded number of times, and the run's notes record the loss.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from assay.core.errors import InputError
from assay.targets.base import Target

#: executors a run may name (`--executor`)
EXECUTORS = ("local", "ray")
#: the roles actors serve: the run's target, the LLM judge, the graders that run a model
ROLES = ("target", "judge", "grader")


@dataclass(frozen=True)
class ActorResources:
    """How many actors of one role, and what each reserves (None: the role's default)."""

    replicas: int | None
    cpus: float | None
    gpus: float
    memory_gb: float | None


@dataclass(frozen=True)
class ExecutorOptions:
    """How a run's calls are executed. Only `kind` matters to the local executor.

    The `ray_*` parameters of `api.run` / `api.resume` / `api.assess` (and the `--ray-*`
    options) are these fields with the prefix: `ray_workers` → `workers`, and so on."""

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
    #: judge actors (None: one per alive node; 0: the judge is called from the driver) and
    #: what each reserves (None: 1 CPU for a local model, 0.25 for an endpoint)
    judge_replicas: int | None = None
    judge_cpus: float | None = None
    judge_gpus: float = 0.0
    judge_memory_gb: float | None = None
    #: actors for each grader that runs a learned model (None: one per alive node; 0: the
    #: graders run in the driver) and what each reserves (None: 0.5 CPU)
    grader_replicas: int | None = None
    grader_cpus: float | None = None
    grader_gpus: float = 0.0
    grader_memory_gb: float | None = None
    #: most calls in flight to one endpoint (host and model) across every worker and every
    #: run on the cluster (None: the first run's --concurrency; a later run keeps it)
    endpoint_limit: int | None = None

    @classmethod
    def of(cls, executor: str = "local", **ray: Any) -> ExecutorOptions:
        """From the API's keyword arguments (`executor`, `ray_address`, `ray_workers`, ...)."""
        return cls(kind=executor, **{name.removeprefix("ray_"): value for name, value in ray.items()})

    def resources(self, role: str) -> ActorResources:
        if role == "judge":
            return ActorResources(self.judge_replicas, self.judge_cpus, self.judge_gpus, self.judge_memory_gb)
        if role == "grader":
            return ActorResources(
                self.grader_replicas, self.grader_cpus, self.grader_gpus, self.grader_memory_gb
            )
        return ActorResources(self.workers, self.cpus, self.gpus, self.memory_gb)

    def check(self) -> None:
        """Bad options are input errors (exit 2), raised before any work starts."""
        if self.kind not in EXECUTORS:
            raise InputError(
                f"unknown executor {self.kind!r}; choose one of: {', '.join(EXECUTORS)}", where="--executor"
            )
        if self.kind == "local":
            default = ExecutorOptions()
            for f in fields(self):
                if f.name not in ("kind", "max_moves") and getattr(self, f.name) != getattr(default, f.name):
                    name = option_name(f.name)
                    raise InputError(f"{name} needs --executor ray", where=name)
            return
        if self.workers is not None and self.workers < 1:
            raise InputError("--ray-workers must be at least 1", where="--ray-workers")
        for role in ("judge", "grader"):
            count = self.resources(role).replicas
            if count is not None and count < 0:
                name = f"--ray-{role}-replicas"
                raise InputError(f"{name} must be 0 (in the driver) or more", where=name)
        for role, prefix in (("target", "ray"), ("judge", "ray-judge"), ("grader", "ray-grader")):
            res = self.resources(role)
            if res.cpus is not None and res.cpus < 0:
                raise InputError(f"--{prefix}-cpus must not be negative", where=f"--{prefix}-cpus")
            if res.gpus < 0:
                raise InputError(f"--{prefix}-gpus must not be negative", where=f"--{prefix}-gpus")
            if res.memory_gb is not None and res.memory_gb <= 0:
                raise InputError(f"--{prefix}-memory-gb must be positive", where=f"--{prefix}-memory-gb")
        if self.worker_concurrency is not None and self.worker_concurrency < 1:
            raise InputError("--ray-worker-concurrency must be at least 1", where="--ray-worker-concurrency")
        if self.endpoint_limit is not None and self.endpoint_limit < 1:
            raise InputError("--ray-endpoint-limit must be at least 1", where="--ray-endpoint-limit")
        try:
            import ray  # noqa: F401
        except ImportError as exc:
            raise InputError(
                "--executor ray needs the `ray` extra: pip install -e '.[ray]' (ray[default]==2.60.0)",
                where="--executor",
            ) from exc


def option_name(field_name: str) -> str:
    """The CLI option of an ExecutorOptions field (`judge_cpus` → `--ray-judge-cpus`)."""
    return "--executor" if field_name == "kind" else "--ray-" + field_name.replace("_", "-")


#: the API's names of the executor options, in ExecutorOptions' order (`assess` passes them on)
API_NAMES: tuple[str, ...] = (
    "executor",
    *("ray_" + f.name for f in fields(ExecutorOptions) if f.name not in ("kind", "max_moves")),
)


class Executor(ABC):
    """Turns targets and graders into those the engine calls, and reports what happened."""

    name: str = "local"

    def __init__(self) -> None:
        self.notes: list[str] = []

    @abstractmethod
    def bind(self, target: Target, role: str = "target") -> Target:
        """The target the engine (or a grader, for a judge: `role="judge"`) calls instead of
        `target`: the same spec and identity. Nothing starts before `start()`."""

    def bind_grader(self, grader: Any, build: Callable[[], Any]) -> Any:
        """What the engine grades with instead of `grader` (`build()` makes another one like
        it, e.g. on a worker): the grader itself unless the executor runs it elsewhere."""
        return grader

    def bind_graders(self, graders: Mapping[str, Any], build: Callable[[str], Any]) -> dict[str, Any]:
        """`bind_grader` for each grader of a run (`build(id)` makes one)."""
        return {gid: self.bind_grader(g, _Builder(build, gid)) for gid, g in graders.items()}

    def start(self, concurrency: int | None = None) -> None:  # noqa: B027 - optional hook
        """Start what the bound targets and graders need (workers), before the first case is
        sent (`concurrency`: the run's own limit). Input errors (not enough resources on the
        cluster) are raised here."""

    def run_notes(self) -> list[str]:
        """Lines for the run's notes (worker losses, moved calls); empty when nothing happened."""
        return list(self.notes)

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release workers and the cluster connection."""


@dataclass(frozen=True)
class _Builder:
    """`build(gid)` as a picklable callable without arguments (it travels to workers)."""

    build: Callable[[str], Any]
    gid: str

    def __call__(self) -> Any:
        return self.build(self.gid)


class LocalExecutor(Executor):
    """The default: the engine calls the target and the graders in this process."""

    name = "local"

    def bind(self, target: Target, role: str = "target") -> Target:
        return target


def make_executor(options: ExecutorOptions) -> Executor:
    options.check()
    if options.kind == "ray":
        from assay.engine.ray_executor import RayExecutor

        return RayExecutor(options)
    return LocalExecutor()

"""The executor options shared by `assay run` and `assay assess` (--executor ray, --ray-*)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

ExecutorOpt = Annotated[
    str,
    typer.Option(
        "--executor",
        help="Where target calls run: local (this process, the default) or ray (a Ray cluster; docs/ray.md).",
    ),
]
RayAddressOpt = Annotated[
    str | None,
    typer.Option(
        "--ray-address",
        help="With --executor ray: the cluster to join (host:port, ray://host:10001, auto); default: start or join a local one.",
    ),
]
RayWorkersOpt = Annotated[
    int | None,
    typer.Option(
        "--ray-workers", help="With --executor ray: worker replicas of the target (default: one per node)."
    ),
]
RayCpusOpt = Annotated[
    float | None,
    typer.Option(
        "--ray-cpus",
        help="With --executor ray: CPUs each worker reserves (default: 1 for local:, 0.25 for endpoints).",
    ),
]
RayGpusOpt = Annotated[
    float, typer.Option("--ray-gpus", help="With --executor ray: GPUs each worker reserves.")
]
RayMemoryOpt = Annotated[
    float | None,
    typer.Option("--ray-memory-gb", help="With --executor ray: memory (GiB) each worker reserves."),
]
RayConcurrencyOpt = Annotated[
    int | None,
    typer.Option(
        "--ray-worker-concurrency",
        help="With --executor ray: most calls one worker serves at once (default: the target's own ceiling).",
    ),
]


def executor_kwargs(
    executor: str,
    ray_address: str | None,
    ray_workers: int | None,
    ray_cpus: float | None,
    ray_gpus: float,
    ray_memory_gb: float | None,
    ray_worker_concurrency: int | None,
) -> dict[str, Any]:
    """The keyword arguments `api.run` / `api.resume` take for these options, checked now
    (exit 2 before any work: an unknown executor, --ray-* without --executor ray, no ray)."""
    from assay.engine.executor import ExecutorOptions

    ExecutorOptions(
        executor, ray_address, ray_workers, ray_cpus, ray_gpus, ray_memory_gb, ray_worker_concurrency
    ).check()
    return {
        "executor": executor,
        "ray_address": ray_address,
        "ray_workers": ray_workers,
        "ray_cpus": ray_cpus,
        "ray_gpus": ray_gpus,
        "ray_memory_gb": ray_memory_gb,
        "ray_worker_concurrency": ray_worker_concurrency,
    }

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


RayJudgeReplicasOpt = Annotated[
    int | None,
    typer.Option(
        "--ray-judge-replicas",
        metavar="N",
        help="With --executor ray: judge actors (a local model loaded once per replica, or an endpoint "
        "judge's workers; default: one per node; 0: the judge is called from this process).",
    ),
]
RayJudgeCpusOpt = Annotated[
    float | None,
    typer.Option(
        "--ray-judge-cpus",
        metavar="X",
        help="With --executor ray: CPUs each judge actor reserves (default: 1 for local:, 0.25 for endpoints).",
    ),
]
RayJudgeGpusOpt = Annotated[
    float,
    typer.Option(
        "--ray-judge-gpus", metavar="X", help="With --executor ray: GPUs each judge actor reserves."
    ),
]
RayJudgeMemoryOpt = Annotated[
    float | None,
    typer.Option(
        "--ray-judge-memory-gb",
        metavar="GIB",
        help="With --executor ray: memory (GiB) each judge actor reserves.",
    ),
]
RayGraderReplicasOpt = Annotated[
    int | None,
    typer.Option(
        "--ray-grader-replicas",
        metavar="N",
        help="With --executor ray: actors for each grader that runs a learned model (refusal head, "
        "harmful-compliance embeddings; default: one per node; 0: they grade in this process).",
    ),
]
RayGraderCpusOpt = Annotated[
    float | None,
    typer.Option(
        "--ray-grader-cpus",
        metavar="X",
        help="With --executor ray: CPUs each grader actor reserves (default: 0.5).",
    ),
]
RayGraderGpusOpt = Annotated[
    float,
    typer.Option(
        "--ray-grader-gpus", metavar="X", help="With --executor ray: GPUs each grader actor reserves."
    ),
]
RayGraderMemoryOpt = Annotated[
    float | None,
    typer.Option(
        "--ray-grader-memory-gb",
        metavar="GIB",
        help="With --executor ray: memory (GiB) each grader actor reserves.",
    ),
]
RayEndpointLimitOpt = Annotated[
    int | None,
    typer.Option(
        "--ray-endpoint-limit",
        metavar="N",
        help="With --executor ray: most calls in flight to one endpoint (host and model) across every "
        "worker and every run on the cluster (default: the first run's --concurrency; later runs keep it).",
    ),
]


def executor_kwargs(scope: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments `api.run` / `api.resume` / `api.assess` take for these options,
    read from the command's parameters (`locals()`) and checked now (exit 2 before any
    work: an unknown executor, --ray-* without --executor ray, a bad count, no ray)."""
    from assay.engine.executor import API_NAMES, ExecutorOptions

    kwargs = {name: scope[name] for name in API_NAMES}
    ExecutorOptions.of(**kwargs).check()
    return kwargs

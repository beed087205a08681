"""Targets: the AI systems under test, named by spec (`openai:`, `local:`, `python:`, `replay:`,
`agent:<spec>` for a tool-using agent over simulated tools)."""

from __future__ import annotations

from assay.core.errors import InputError
from assay.core.types import TargetSpec
from assay.targets.base import Completion, Target, with_system_prompt


def make_target(spec: str | TargetSpec, **options: object) -> Target:
    """Build a target from its spec. Raises InputError for an unknown or malformed spec."""
    if isinstance(spec, str):
        try:
            spec = TargetSpec.parse(spec)
        except ValueError as exc:
            raise InputError(str(exc), where="--target") from exc
    if spec.kind == "openai":
        from assay.targets.openai import OpenAITarget

        return OpenAITarget(spec)
    if spec.kind == "local":
        from assay.targets.local import LocalTarget

        return LocalTarget(spec, **options)  # type: ignore[arg-type]
    if spec.kind == "python":
        from assay.targets.python import PythonTarget

        return PythonTarget(spec)
    if spec.kind == "agent":
        from assay.agents.harness import AgentTarget

        return AgentTarget(spec, **options)  # type: ignore[arg-type]
    from assay.targets.replay import ReplayTarget

    return ReplayTarget(spec)


__all__ = ["Completion", "Target", "make_target", "with_system_prompt"]

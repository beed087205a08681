"""Targets: the AI systems under test, named by spec (`openai:`, `local:`, `python:`, `replay:`,
`agent:<spec>` for a tool-using agent over simulated tools).

Each target class registers its kind itself (`register_target`); importing this package
registers the built-in ones. Other packages add kinds through the `assay.targets` entry points.
"""

from __future__ import annotations

from assay.agents import harness as _agent_harness  # noqa: F401  (registers agent:)
from assay.core.errors import InputError
from assay.core.types import TargetSpec
from assay.targets import local, openai, python, replay  # noqa: F401  (register the built-in kinds)
from assay.targets.base import TARGETS, Completion, Target, register_target, with_system_prompt


def make_target(spec: str | TargetSpec, **options: object) -> Target:
    """Build a target from its spec. Raises InputError for an unknown or malformed spec."""
    if isinstance(spec, str):
        try:
            spec = TargetSpec.parse(spec)
        except ValueError as exc:
            raise InputError(str(exc), where="--target") from exc
    factory = TARGETS.get(spec.kind)
    return factory(spec, **options)  # type: ignore[no-any-return]


__all__ = ["TARGETS", "Completion", "Target", "make_target", "register_target", "with_system_prompt"]

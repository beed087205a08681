"""Graders: importing this package registers the built-in graders (plug-ins: `assay.core.registry`)."""

from assay.graders import (  # noqa: F401  (register graders)
    advice,
    agent_actions,
    bias,
    compliance,
    consistency,
    content_safety,
    disclosure,
    ensemble,
    factuality,
    injection,
    judge,
    keywords,
    labelling,
    leak,
    neutrality,
    pii,
    refusal,
    safe_completion,
)
from assay.graders.base import GRADERS, Grader, get_grader, grader_ids, register

__all__ = ["GRADERS", "Grader", "get_grader", "grader_ids", "register"]

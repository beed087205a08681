"""Domain types, ids and errors shared by every stage."""

from typing import TYPE_CHECKING

from assay._lazy import lazy_exports

if TYPE_CHECKING:
    from assay.core.errors import AssayError, InputError, TargetError
    from assay.core.ids import canonical_json, content_id, sha256_hex
    from assay.core.types import (
        EXPECTED_VALUES,
        LANGUAGES,
        Bank,
        Case,
        Expected,
        GenerationParams,
        Judgment,
        Language,
        Message,
        Outcome,
        Response,
        Run,
        TargetSpec,
        Usage,
    )

__getattr__ = lazy_exports(__name__, ("errors", "ids", "types"))


__all__ = [
    "EXPECTED_VALUES",
    "LANGUAGES",
    "AssayError",
    "Bank",
    "Case",
    "Expected",
    "GenerationParams",
    "InputError",
    "Judgment",
    "Language",
    "Message",
    "Outcome",
    "Response",
    "Run",
    "TargetError",
    "TargetSpec",
    "Usage",
    "canonical_json",
    "content_id",
    "sha256_hex",
]

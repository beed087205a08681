"""Moved to `assay.core.io` (kept importable for code written against the old place)."""

from assay.core.io import (
    FieldInputError,
    field_path,
    parse_yaml,
    read_yaml_file,
    validate_as,
    validation_input_error,
)

__all__ = [
    "FieldInputError",
    "field_path",
    "parse_yaml",
    "read_yaml_file",
    "validate_as",
    "validation_input_error",
]

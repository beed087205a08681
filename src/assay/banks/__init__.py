"""Built-in banks (cases stage): providers register themselves on import."""

from assay.banks import agentic, governance, tc260, technical  # noqa: F401  (register providers)
from assay.banks.registry import bank_provider, builtin_banks, get_builtin_bank

__all__ = ["bank_provider", "builtin_banks", "get_builtin_bank"]

"""Built-in banks (cases stage): providers register themselves when the registry first looks
them up (`assay.banks.builtin`); importing one submodule (a bank file reader) loads no other."""

from typing import TYPE_CHECKING

from assay._lazy import lazy_exports

if TYPE_CHECKING:
    from assay.banks.registry import bank_provider, builtin_banks, get_builtin_bank

__all__ = ["bank_provider", "builtin_banks", "get_builtin_bank"]

__getattr__ = lazy_exports(__name__, ("registry",))

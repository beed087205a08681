"""Where banks come from.

Built-in banks are produced by providers: functions that return Bank objects, each
registered with `@bank_provider`. A provider may read YAML/JSONL data files shipped in
the package or expand seeded templates; either way its banks are deterministic.
User banks registered with `assay banks add` are loaded by the store-backed layer above;
other packages add providers through the `assay.banks` entry points.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar, overload

from assay.core import registry as _registry
from assay.core.errors import InputError
from assay.core.registry import Registry
from assay.core.types import Bank

BankProvider = Callable[[], Iterable[Bank]]
#: provider name → provider; see `assay.core.registry` (plug-ins: entry-point group `assay.banks`,
#: each naming a provider function that returns Bank objects)
BANKS: Registry[BankProvider] = _registry.BANKS
_F = TypeVar("_F", bound=BankProvider)


@overload
def bank_provider(fn: _F) -> _F: ...
@overload
def bank_provider(fn: None = None, *, provides: Mapping[str, str]) -> Callable[[_F], _F]: ...


def bank_provider(fn: _F | None = None, *, provides: Mapping[str, str] | None = None) -> Any:
    """Decorator: register a function that returns banks (named `module.function`).

    `provides` (bank id → the `expected` value its cases carry) lets regime data name the
    banks before they are built; the packaged banks are declared in `assay.regimes.ids`."""

    def deco(f: _F) -> _F:
        if provides is not None:
            f.provides = dict(provides)  # type: ignore[attr-defined]
        BANKS.add(f"{f.__module__.rsplit('.', 1)[-1]}.{f.__name__}", f)
        return f

    return deco(fn) if fn is not None else deco


#: (BANKS.version, the banks built at that version): rebuilt when a provider is added or removed
_built: tuple[int, dict[str, Bank]] | None = None


def builtin_banks() -> dict[str, Bank]:
    """Every bank the registered providers give (packaged ones and plug-ins'), by id; built
    once per registry version, so a plug-in loaded later (an entry point) is seen."""
    global _built
    entries = BANKS.entries()  # loads the built-ins and the entry points first
    if _built is not None and _built[0] == BANKS.version:
        return _built[1]
    banks: dict[str, Bank] = {}
    source: dict[str, str] = {}
    for entry in entries:
        for bank in entry.obj():
            if bank.id in banks:
                msg = f"two banks share the id {bank.id!r} (from {source[bank.id]} and {entry.source})"
                if entry.source != _registry.BUILTIN or source[bank.id] != _registry.BUILTIN:
                    raise _registry.PluginError(msg, where="assay.banks")
                raise RuntimeError(msg)
            banks[bank.id] = bank
            source[bank.id] = entry.source
    _built = (BANKS.version, banks)
    return banks


def get_builtin_bank(bank_id: str) -> Bank:
    banks = builtin_banks()
    if bank_id not in banks:
        raise InputError(
            f"unknown bank {bank_id!r}; built-in banks: {', '.join(sorted(banks))}", where="--bank"
        )
    return banks[bank_id]

"""Import only what a command needs.

* Lazy package namespaces: a package `__init__` keeps its imports under `if TYPE_CHECKING:`
  (type checkers and readers see the public names) and sets
  `__getattr__ = lazy_exports(__name__, submodules)`, so `from assay.scoring import X` loads the
  submodule defining X on first use, and importing one submodule (`assay.core.errors`) does
  not load the whole package.
* `lazy_module(name)`: a stand-in for a module that a command module uses only inside its
  commands, so that `assay --help` and light commands do not load what they never run.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, submodules: tuple[str, ...]) -> Callable[[str], Any]:
    """A module `__getattr__` that finds an exported name (one in `__all__`) in the first of
    `submodules` that defines it."""

    def __getattr__(name: str) -> Any:
        pkg = sys.modules[package]
        if name not in getattr(pkg, "__all__", ()):
            # not an export (a submodule, a dunder): Python then imports `package.name` itself
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        for sub in submodules:
            module = importlib.import_module(f"{package}.{sub}")
            if name in vars(module):
                value = vars(module)[name]
                setattr(pkg, name, value)
                return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__


class _LazyModule:
    """Stands for a module and imports it (the ordinary way) when an attribute is first read."""

    __slots__ = ("_lazy_module", "_lazy_name")

    def __init__(self, name: str) -> None:
        self._lazy_name = name
        self._lazy_module: Any = None

    def __getattr__(self, attr: str) -> Any:
        if self._lazy_module is None:
            self._lazy_module = importlib.import_module(self._lazy_name)
        return getattr(self._lazy_module, attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._lazy_name!r}>"


def lazy_module(name: str) -> Any:
    """`name` as an object that imports the module when one of its attributes is first read.

    For a command module whose commands need a heavy module (e.g. `assay.api`) but whose
    import must stay cheap, so that `assay --help` does not load what no command runs.
    Nothing is put in `sys.modules` before the real import, so import order and package
    initialisation stay exactly as with a plain import.
    """
    return sys.modules.get(name) or _LazyModule(name)

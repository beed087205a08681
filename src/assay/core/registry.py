"""One registry for every kind of plug-in: graders, targets, transforms, bank providers, regimes.

A plug-in declares itself once, on its own class or function, with the registry's
decorator (`@GRADERS.register`, or the older names such as `assay.graders.base.register`,
which are thin aliases). Everything else (CLI choices, regime data validation, default
graders per expected behaviour, judge needs) is derived from what is registered.

The registries live here, in `core`, so every stage may consult them; the later stages
fill them. A registry knows the module that registers its built-ins (`builtin`) by name
and imports it on first use, so asking the graders registry from the regimes stage never
makes regimes import the graders package statically.

Code outside Assay adds plug-ins through Python entry points, one group per kind::

    [project.entry-points."assay.graders"]
    shouty = "myco_assay.graders:ShoutyGrader"

    [project.entry-points."assay.targets"]
    myco = "myco_assay.target:MycoTarget"

An entry point's object is registered under the entry point's name (a grader or
transform class must carry the same `id`). An entry point may also name a module whose
import registers its plug-ins with the decorators. An entry point that cannot be loaded
stops with one message naming the distribution and the entry point (`PluginError`, exit 2).
"""

from __future__ import annotations

import importlib
import threading
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Generic, TypeVar, overload

from assay.core.errors import InputError

T = TypeVar("T")
F = TypeVar("F")

#: where plug-ins of each kind are looked up (entry-point group → registry kind)
ENTRY_POINT_GROUPS: dict[str, str] = {
    "grader": "assay.graders",
    "target": "assay.targets",
    "transform": "assay.transforms",
    "bank": "assay.banks",
    "regime": "assay.regimes",
}

BUILTIN = "assay"

#: who registers now: `assay`, or the distribution whose entry point is being imported
_loading_from: list[str] = [BUILTIN]


def _is_assay(obj: object) -> bool:
    """Whether `obj` is defined in Assay itself: a plug-in's import that happens to import an
    Assay module first (registering its built-ins) does not make them the plug-in's."""
    module = getattr(obj, "__module__", None) or ""
    return module == BUILTIN or module.startswith(BUILTIN + ".")


class PluginError(InputError):
    """A third-party plug-in could not be loaded or registered (named by distribution and entry point)."""


@dataclass(frozen=True, slots=True)
class Entry(Generic[T]):
    """One registered plug-in: its id, the object, and who provided it (`assay` or a distribution)."""

    id: str
    obj: T
    source: str = BUILTIN

    @property
    def doc(self) -> str:
        """The plug-in's one-line description: its `description` attribute, else its docstring."""
        text = getattr(self.obj, "description", "")
        if not text and isinstance(self.obj, type | types.FunctionType):
            text = self.obj.__doc__ or ""
        return " ".join(str(text).split("\n\n", 1)[0].split())


def _id_of(obj: object) -> str | None:
    value = getattr(obj, "id", None)
    return value if isinstance(value, str) and value else None


def _ep_label(ep: metadata.EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    who = f"{dist.name} {dist.version}" if dist is not None else "an unknown distribution"
    return f"entry point '{ep.name} = {ep.value}' (group {ep.group}) of {who}"


def _dist_name(ep: metadata.EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return dist.name if dist is not None else "?"


class Registry(Generic[T]):
    """Plug-ins of one kind by id.

    `builtin`: the module whose import registers the built-in plug-ins (imported by name on
    first use). `group`: the entry-point group third-party packages add to. `where`: the
    flag or field a lookup error names (`--grader`).
    """

    def __init__(self, kind: str, *, builtin: str | None, group: str | None = None, where: str = "") -> None:
        self.kind = kind
        self.builtin = builtin
        self.group = group if group is not None else ENTRY_POINT_GROUPS.get(kind)
        self.where = where or f"--{kind}"
        self._entries: dict[str, Entry[T]] = {}
        self._loaded = False
        self._loading: int | None = None  # the thread loading entry points, while it does
        self._lock = threading.RLock()
        #: changes whenever a plug-in is added or removed (what derived tables are cached by)
        self.version = 0

    # -- registering -----------------------------------------------------------------

    def add(self, plugin_id: str, obj: T, *, source: str | None = None) -> T:
        """Register `obj` under `plugin_id`. Registering the same object again is a no-op;
        another object under a taken id is an error."""
        if not plugin_id:
            raise TypeError(f"{obj!r} has no {self.kind} id")
        src = source or (BUILTIN if _is_assay(obj) else _loading_from[-1])
        with self._lock:
            old = self._entries.get(plugin_id)
            if old is not None and old.obj is not obj and not _same_class(old.obj, obj):
                msg = f"two {self.kind}s share the id {plugin_id!r} (from {old.source} and {src})"
                if src != BUILTIN or old.source != BUILTIN:
                    raise PluginError(msg, where=self.group)
                raise RuntimeError(msg)
            self._entries[plugin_id] = Entry(plugin_id, obj, src)
            self.version += 1
        return obj

    @overload
    def register(self, obj: F) -> F: ...
    @overload
    def register(self, obj: None = None, *, id: str | None = None) -> Callable[[F], F]: ...

    def register(self, obj: Any = None, *, id: str | None = None) -> Any:
        """Decorator: `@REG.register` (the object's `id` attribute names it) or
        `@REG.register(id="x")`."""

        def deco(o: F) -> F:
            pid = id or _id_of(o) or ""
            self.add(pid, o)  # type: ignore[arg-type]
            return o

        return deco(obj) if obj is not None else deco

    def remove(self, plugin_id: str) -> None:
        """Forget a plug-in (tests)."""
        with self._lock:
            self._entries.pop(plugin_id, None)
            self.version += 1

    # -- lookup ----------------------------------------------------------------------

    def load(self) -> None:
        """Register the built-ins and every installed entry point of this kind (once)."""
        if self._loaded:
            return
        if self.builtin:
            # Not under the lock: the import system serialises the import itself (another
            # thread waits for it to finish), and a module another thread is importing may
            # be registering here. Holding the lock across the import deadlocked with it.
            # On the importing thread a nested lookup gets the partly imported module.
            importlib.import_module(self.builtin)
        with self._lock:
            if self._loaded or self._loading == threading.get_ident():
                return
            self._loading = threading.get_ident()  # entry points may look this registry up
            try:
                if self.group:
                    self._load_entry_points()
                self._loaded = True
            finally:
                self._loading = None

    def reload(self) -> None:
        """Look for entry points again (after installing a plug-in in a running process)."""
        with self._lock:
            self._loaded = False
        self.load()

    def _load_entry_points(self) -> None:
        assert self.group is not None
        for ep in metadata.entry_points(group=self.group):
            if ep.name in self._entries and self._entries[ep.name].source == _dist_name(ep):
                continue
            try:
                _loading_from.append(_dist_name(ep))  # what its import registers comes from it
                obj = ep.load()
            except PluginError:
                raise
            except Exception as exc:
                raise PluginError(
                    f"cannot load {_ep_label(ep)}: {type(exc).__name__}: {exc}", where=f"plug-in {self.kind}"
                ) from None
            finally:
                _loading_from.pop()
            if isinstance(obj, types.ModuleType):
                continue  # importing it registered its plug-ins with the decorators
            declared = getattr(obj, "kind", None) if self.kind == "target" else _id_of(obj)
            if isinstance(declared, str) and declared and declared != ep.name:
                raise PluginError(
                    f"{_ep_label(ep)} names {self.kind} {declared!r}; the entry point's name must be the same",
                    where=f"plug-in {self.kind}",
                )
            if ep.name in self._entries and self._entries[ep.name].obj is obj:
                self._entries[ep.name] = Entry(ep.name, obj, _dist_name(ep))
                self.version += 1
                continue
            self.add(ep.name, obj, source=_dist_name(ep))

    def entries(self) -> list[Entry[T]]:
        """Every plug-in, sorted by id."""
        self.load()
        return [self._entries[k] for k in sorted(self._entries)]

    def ids(self) -> list[str]:
        self.load()
        return sorted(self._entries)

    def get(self, plugin_id: str) -> T:
        """The plug-in registered as `plugin_id`; InputError naming the known ids otherwise."""
        return self.entry(plugin_id).obj

    def entry(self, plugin_id: str) -> Entry[T]:
        self.load()
        found = self._entries.get(plugin_id)
        if found is None:
            raise InputError(
                f"unknown {self.kind} {plugin_id!r}; known {self.kind}s: {', '.join(sorted(self._entries))}",
                where=self.where,
            )
        return found

    def __contains__(self, plugin_id: object) -> bool:
        self.load()
        return plugin_id in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.ids())

    def __len__(self) -> int:
        self.load()
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {len(self._entries)} registered)"


def _same_class(a: object, b: object) -> bool:
    """The same class defined again (a module imported twice under two names, as pytest can)."""
    return (
        isinstance(a, type)
        and isinstance(b, type)
        and a.__qualname__ == b.__qualname__
        and a.__module__ == b.__module__
    )


# The registries. Typed loosely here (core cannot name the later stages' classes); each
# stage re-exports its registry with the precise type.

#: grader id → Grader class (or factory taking the grader's options)
GRADERS: Registry[Any] = Registry("grader", builtin="assay.graders", where="--grader")
#: target kind (the part of a spec before the colon) → Target class (or factory(spec, **options))
TARGETS: Registry[Any] = Registry("target", builtin="assay.targets", where="--target")
#: transform id → Transform class
TRANSFORMS: Registry[Any] = Registry("transform", builtin="assay.transforms", where="--chain")
#: bank provider name → function returning Bank objects
BANKS: Registry[Any] = Registry("bank", builtin="assay.banks.builtin", where="--bank")
#: regime id → function returning the regime document's YAML text
REGIMES: Registry[Any] = Registry("regime", builtin="assay.regimes.loader", where="--regime")

ALL: dict[str, Registry[Any]] = {r.kind: r for r in (GRADERS, TARGETS, TRANSFORMS, BANKS, REGIMES)}


# -- what graders declare, read without importing the graders stage -----------------------


_default_table: dict[int, dict[str, tuple[str, ...]]] = {}


def default_grader_table() -> dict[str, tuple[str, ...]]:
    """Expected behaviour → the graders a case is judged by when nothing names them.

    Derived from the graders' own declarations: the grader whose `judges_by_default` names
    the behaviour comes first (what a plan item names), then those whose
    `also_judges_by_default` names it (run beside it on bank runs), by id."""
    GRADERS.load()
    version = GRADERS.version
    if version not in _default_table:
        _default_table.clear()
        _default_table[version] = _derive_default_table()
    return dict(_default_table[version])


def _derive_default_table() -> dict[str, tuple[str, ...]]:
    primary: dict[str, Entry[Any]] = {}
    also: dict[str, list[str]] = {}
    for e in GRADERS.entries():
        for expected in getattr(e.obj, "judges_by_default", ()) or ():
            old = primary.get(expected)
            if old is not None:
                raise PluginError(
                    f"graders {old.id!r} ({old.source}) and {e.id!r} ({e.source}) both declare "
                    f"judges_by_default = {expected!r}; one of them should use also_judges_by_default",
                    where="assay.graders",
                )
            primary[expected] = e
        for expected in getattr(e.obj, "also_judges_by_default", ()) or ():
            also.setdefault(expected, []).append(e.id)
    out: dict[str, tuple[str, ...]] = {}
    for expected in list(primary) + [x for x in also if x not in primary]:
        first = (primary[expected].id,) if expected in primary else ()
        out[expected] = first + tuple(g for g in sorted(also.get(expected, ())) if g not in first)
    return out


def default_grader(expected: str) -> str | None:
    """The one grader a plan names for a behaviour (`judges_by_default`), or None."""
    found = default_grader_table().get(expected, ())
    return found[0] if found else None


def grader_needs_judge(grader_id: str) -> bool:
    """Whether the grader (`id` or `id@version`) calls an LLM judge (its `needs_judge`)."""
    gid = grader_id.partition("@")[0]
    if gid not in GRADERS:
        return False
    return bool(getattr(GRADERS.get(gid), "needs_judge", False))

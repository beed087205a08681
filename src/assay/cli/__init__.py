"""The `assay` command line. Thin: parse, call assay.api, print."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer
from typer.core import TyperGroup

from assay.cli import core as _core
from assay.cli._common import print_error
from assay.core.errors import AssayError


class _AssayGroup(TyperGroup):
    """Turns any AssayError raised by a command into one clear message and its exit code (2 for bad input)."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except AssayError as exc:
            print_error(str(exc))
            sys.exit(exc.exit_code)


app = typer.Typer(
    cls=_AssayGroup,
    name="assay",
    help="Risk-level-based testing and assessment of AI systems (zh/en): classify, plan, test, judge, decide, report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_core.register(app)

# Areas that bring their own commands: (module, how to mount). A module exposes either
# `register(app)` (top-level commands) or `app` (a sub-command group named `group`).
_AREAS: tuple[tuple[str, str | None], ...] = (
    ("assay.cli.risk", None),
    ("assay.cli.banks", "banks"),
    ("assay.cli.transforms", "transforms"),
    ("assay.cli.benchmarks", "benchmarks"),
    ("assay.cli.graders", "graders"),
    ("assay.cli.plugins", None),
    ("assay.cli.labels", "labels"),
    ("assay.cli.report", None),
    ("assay.cli.view", None),
)

for _module_name, _group in _AREAS:
    try:
        _module = importlib.import_module(_module_name)
    except ModuleNotFoundError as _exc:
        if _exc.name != _module_name:
            raise
        continue
    if hasattr(_module, "register"):
        _module.register(app)
    elif _group is not None and hasattr(_module, "app"):
        app.add_typer(_module.app, name=_group)
    if hasattr(_module, "keywords_app"):
        app.add_typer(_module.keywords_app, name="keywords")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)

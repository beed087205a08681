"""The `assay` command line. Thin: parse, call assay.api, print."""

from __future__ import annotations

import importlib
import sys
from typing import Annotated, Any

import typer

import assay
from assay.cli import core as _core
from assay.cli._common import AssayGroup

#: the help's panels, in workflow order, and the top-level commands each holds (in order)
PANELS: dict[str, tuple[str, ...]] = {
    "Setup": ("profile", "classify", "plan", "regimes", "taxonomy", "targets", "config"),
    "Assess": ("assess", "run", "calibrate"),
    "Results": ("runs", "report", "compare", "view", "reviews"),
    "Evidence": ("bundle", "verify", "import", "keys", "labels"),
    "Graders & banks": ("banks", "graders", "transforms", "benchmarks", "keywords", "plugins"),
}
_ORDER = {name: i for i, name in enumerate(n for names in PANELS.values() for n in names)}


def panel_of(command: str) -> str:
    return next((panel for panel, names in PANELS.items() if command in names), "Other")


class _RootGroup(AssayGroup):
    """The `assay` group: commands listed panel by panel, in workflow order."""

    def list_commands(self, ctx: Any) -> list[str]:
        names = super().list_commands(ctx)
        return sorted(names, key=lambda n: (_ORDER.get(n, len(_ORDER)), names.index(n)))

    def invoke(self, ctx: Any) -> Any:
        # a command's --help needs no settings: a broken config file must not hide the help
        rest = [*getattr(ctx, "_protected_args", ()), *ctx.args]
        ctx.meta["assay.help"] = "--help" in rest
        return super().invoke(ctx)


app = typer.Typer(
    cls=_RootGroup,
    name="assay",
    help="Risk-level-based testing and assessment of AI systems (zh/en): classify, plan, test, judge, decide, report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"assay {assay.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option("--version", is_eager=True, callback=_version, help="Print the version and exit."),
    ] = False,
    verbose: Annotated[
        int,
        typer.Option(
            "--verbose",
            "-v",
            count=True,
            show_default=False,
            help="Log what happens on stderr: -v steps (run created, plan size, executor, cache, "
            "retries), -vv details. Default: $ASSAY_LOG_LEVEL, else log_level in the config file.",
        ),
    ] = 0,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Only errors on stderr: no progress bar, no log lines.")
    ] = False,
) -> None:
    """Risk-level-based testing and assessment of AI systems (zh/en): classify, plan, test, judge, decide, report."""
    from assay.cli._common import set_verbosity

    set_verbosity(verbose, quiet, read_settings=not ctx.meta.get("assay.help", False))


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
    ("assay.cli.config", "config"),
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


for _info in app.registered_commands:
    _info.rich_help_panel = panel_of(_info.name or "")
for _group_info in app.registered_groups:
    _group_info.rich_help_panel = panel_of(_group_info.name or "")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        code: int = 130
    except SystemExit as exc:
        code = exit_status(exc.code)
    else:
        code = 0
    exit_now(code)


def exit_status(code: object) -> int:
    """The process status `sys.exit(code)` gives (a message is printed, status 1)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def exit_now(code: int) -> None:
    """End the command: the exit handlers run and the output is flushed, but the interpreter's
    teardown of every loaded module (0.1–0.2 s after a run) is skipped. Everything a command
    writes is closed when it returns; while any other non-daemon thread is alive, the usual
    exit waits for it instead."""
    import atexit
    import contextlib
    import os
    import threading

    if any(t is not threading.main_thread() and not t.daemon and t.is_alive() for t in threading.enumerate()):
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe or stream: nothing to write to
            stream.flush()
    os._exit(code)

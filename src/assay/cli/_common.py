"""Shared CLI plumbing: one console, one error path, shared option definitions, progress bar.

Every console the CLI prints through is a `SafeConsole`: each string it is handed (a
message, a table cell) has its control and bidi characters shown escaped
(assay.core.text.terminal_safe) before rich lays it out, so a model's or an endpoint's
ANSI codes, OSC sequences or right-to-left overrides never act on the terminal, nor land
raw in a file the output is redirected to. Error messages also pass secret redaction.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Annotated, Any

import typer
from rich.console import Console, ConsoleDimensions
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text
from typer.core import TyperArgument, TyperGroup, TyperOption

from assay.core.errors import AssayError
from assay.core.secrets import scrub
from assay.core.text import json_safe, terminal_safe

#: width of output that goes to no terminal (a log, a pipe, CI) when COLUMNS is not set:
#: rich's 80 columns cut a requirement id to "tc260-0…" in a results table
UNSIZED_WIDTH = 160


def _width_known(environ: Any) -> bool:
    """A terminal on a standard stream, or COLUMNS, says how wide the output is."""
    columns = environ.get("COLUMNS")
    if columns is not None and columns.isdigit():
        return True
    for fd in (0, 1, 2):
        try:
            if os.get_terminal_size(fd).columns:
                return True
        except (AttributeError, ValueError, OSError):
            continue
    return False


class SafeConsole(Console):
    """A rich Console that neutralises control and bidi characters in every string, and
    writes `UNSIZED_WIDTH` columns where no terminal or COLUMNS gives a width."""

    @property
    def size(self) -> ConsoleDimensions:
        dims = super().size
        if self._width is None and not _width_known(self._environ):
            return ConsoleDimensions(UNSIZED_WIDTH, dims.height)
        return dims

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)  # type: ignore[attr-defined]

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(terminal_safe(text), **kwargs)

    def print_json(  # same signature as rich's
        self,
        json: str | None = None,
        *,
        data: Any = None,
        indent: int | str | None = 2,
        highlight: bool = True,
        skip_keys: bool = False,
        ensure_ascii: bool = False,
        check_circular: bool = True,
        allow_nan: bool = True,
        default: Callable[[Any], Any] | None = None,
        sort_keys: bool = False,
    ) -> None:
        """As rich's print_json (pretty, highlighted), with control and bidi characters
        written as JSON escapes: the same value, harmless on a terminal."""
        import json as _json

        from rich.highlighter import JSONHighlighter

        value = _json.loads(json) if json is not None else data
        dumped = _json.dumps(
            value,
            indent=indent,
            skipkeys=skip_keys,
            ensure_ascii=ensure_ascii,
            check_circular=check_circular,
            allow_nan=allow_nan,
            default=default,
            sort_keys=sort_keys,
        )
        text = Text(json_safe(dumped))
        if highlight:
            JSONHighlighter().highlight(text)
        text.no_wrap = True
        self.print(text, soft_wrap=True)


def echo_json(text: str) -> None:
    """Print a JSON document as is (no colours), control and bidi characters escaped."""
    typer.echo(json_safe(text))


def make_console(**kwargs: Any) -> SafeConsole:
    kwargs.setdefault("emoji", False)
    return SafeConsole(**kwargs)


console = make_console()
err_console = make_console(stderr=True)


def print_error(message: str, console_: Console | None = None) -> None:
    """One `error:` line (never wrapped), secrets redacted, control characters escaped."""
    (console_ or err_console).print(f"[bold red]error:[/] {escape(scrub(message))}", soft_wrap=True)


def fail(message: str, code: int = 2) -> None:
    """Print one clear message and exit with `code` (2 = bad input)."""
    print_error(message)
    raise SystemExit(code)


def answered_rate(answered: int, elapsed_s: float) -> float | None:
    """Cases the target answered per second of wall time (None before the first answer)."""
    if answered <= 0 or elapsed_s <= 0:
        return None
    return answered / elapsed_s


def eta_s(remaining: int, rate: float | None) -> float | None:
    """Seconds left at the answered rate (None while there is no rate yet)."""
    if rate is None:
        return None
    return max(0, remaining) / rate


def _session(task: Task) -> tuple[int, float]:
    answered = int(task.fields.get("answered", 0))
    t0 = task.fields.get("t0")
    elapsed = (time.monotonic() - float(t0)) if t0 is not None else 0.0
    return answered, elapsed


class RateColumn(ProgressColumn):
    """Answered cases over wall time in this session: cache hits, cases early stopping
    skipped and cases already done before a resume move the bar, not the rate."""

    def render(self, task: Task) -> Text:
        rate = answered_rate(*_session(task))
        return Text(f"{rate:,.2f} cases/s" if rate else "… cases/s", style="cyan")


class EtaColumn(ProgressColumn):
    """Time left: the cases not yet done at the answered rate."""

    def render(self, task: Task) -> Text:
        if task.finished:
            return Text("0:00:00", style="progress.remaining")
        left = eta_s(int((task.total or 0) - task.completed), answered_rate(*_session(task)))
        if left is None:
            return Text("-:--:--", style="progress.remaining")
        return Text(str(timedelta(seconds=int(left))), style="progress.remaining")


#: set by the root command's -v / -q (`set_verbosity`)
_verbosity = {"verbose": 0, "quiet": False}


def set_verbosity(verbose: int = 0, quiet: bool = False, *, read_settings: bool = True) -> None:
    """Wire `-v` (repeatable) and `-q` to logging and the progress bar: `-q` shows errors
    only; without either, the level is $ASSAY_LOG_LEVEL, else the config file's `log_level`
    (not read when `read_settings` is false: a command's --help needs no settings)."""
    from assay.core.logging import level_for, setup_logging

    configured = None
    if read_settings and not verbose and not quiet:
        from assay.core.config import log_level

        configured = log_level()
    setup_logging(level_for(verbose, quiet, configured))
    _verbosity.update(verbose=verbose, quiet=quiet)


def quiet() -> bool:
    return bool(_verbosity["quiet"])


@contextmanager
def progress_bar(
    label: str, on_start: Callable[[], None] | None = None
) -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress bar with a true rate and ETA; silent when stderr is not a terminal
    and under `-q`. `on_start` is called once, when the engine starts sending."""
    enabled = err_console.is_terminal and not quiet()
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        EtaColumn(),
        TextColumn("[yellow]{task.fields[note]}"),
        console=err_console,
        disable=not enabled,
        transient=False,
    )
    task_id: Any = None
    counts = {"answered": 0, "pending": 0}

    def update(event: str, advance: int, total: int) -> None:
        nonlocal task_id
        if event == "start":
            if on_start is not None and task_id is None:
                on_start()
            task_id = bar.add_task(
                label, total=total, completed=advance, answered=0, t0=time.monotonic(), note=""
            )
            bar.start()
        elif event == "stop":
            bar.stop()
        elif task_id is not None:  # one case ended: answered | cached | skipped | pending
            if event in counts:
                counts[event] += advance
            note = f"{counts['pending']} pending" if counts["pending"] else ""
            bar.update(task_id, advance=advance, answered=counts["answered"], note=note)

    try:
        yield update
    finally:
        bar.stop()


def warm_report_in_background(fmt: str) -> Callable[[], None]:
    """An `on_start` for `progress_bar`: loads what the run's report will need
    (`assay.report.runs.warm`) in a daemon thread while the run sends, off the time after
    its last answer. A failure here is left to the report itself to raise."""

    def start() -> None:
        def work() -> None:
            try:
                from assay.report.runs import warm

                warm(fmt)
            except Exception:  # warming is an optimisation; writing the report reports errors
                return

        threading.Thread(target=work, name="assay-report-warm", daemon=True).start()

    return start


def is_tty() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


# ------------------------------------------------------------------ one error path


class AssayGroup(TyperGroup):
    """Every `assay` command group (the root and each sub-app): any AssayError a command
    raises becomes one clear `error:` line on stderr and its exit code (2 for bad input),
    and every option and argument shows a readable metavar (`ID`, `PATH`, `LANG`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        readable_metavars(self)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except AssayError as exc:
            print_error(str(exc))
            sys.exit(exc.exit_code)


def make_app(**kwargs: Any) -> typer.Typer:
    """A typer app (command group) with the shared error path and metavars."""
    kwargs.setdefault("cls", AssayGroup)
    return typer.Typer(**kwargs)


# ------------------------------------------------------------------ readable metavars

#: metavar by option / argument name where the name alone does not say it well
_METAVARS: dict[str, str] = {
    "db": "URL",
    "target": "SPEC",
    "judge": "SPEC",
    "attack_judge": "SPEC",
    "attack_judge_threshold": "N",
    "reference_target": "SPEC",
    "spec": "SPEC",
    "resume": "RUN_ID",
    "from_reviews": "RUN_ID",
    "correct_with": "NAME",
    "as_of": "DATE",
    "lang": "LANG",
    "case_lang": "LANG",
    "legacy_lang": "LANG",
    "legacy_languages": "LANGS",
    "report_lang": "LANG",
    "fmt": "FORMAT",
    "report_format": "FORMAT",
    "system_prompt": "TEXT",
    "system": "TEXT",
    "case_text": "TEXT",
    "text": "TEXT",
    "key": "PATH",
    "public_key": "PATH",
    "by": "VIEW",
    "option": "KEY=VALUE",
    "legacy_option": "KEY=VALUE",
    "mirror": "URL",
    "host": "HOST",
    "port": "PORT",
    "bank_id": "ID",
    "kid": "KEY_ID",
    "run_a": "RUN_ID",
    "run_b": "RUN_ID",
}


def _metavar_for(param: Any) -> str:
    name = str(param.name or "")
    if name in _METAVARS:
        return _METAVARS[name]
    desc = getattr(param, "type_descriptor", None)
    if desc is not None and desc.is_path:
        return "PATH"
    annotation = getattr(desc, "annotation", None)
    if desc is not None and desc.is_list:
        (annotation,) = getattr(annotation, "__args__", (None,))
    if annotation is int:
        return "N"
    if annotation is float:
        return "SECONDS" if "timeout" in name or "deadline" in name else "NUMBER"
    return name.upper()


def readable_metavars(command: Any) -> None:
    """Give every parameter of `command` and its sub-commands a readable metavar (`ID`,
    `PATH`, `LANG`, flags none) instead of the Python type typer prints (`<list[str]>`)."""
    for param in command.params:
        if isinstance(param, TyperOption) and (param.is_flag or param.count):
            param.metavar = param.metavar or ""
        elif param.metavar is None:
            param.metavar = _metavar_for(param)
        if isinstance(param, TyperArgument):
            # the argument's name column already shows the metavar: no type column beside it
            setattr(param, "display_type_rich", lambda ctx: None)  # noqa: B010
    if not getattr(command, "_assay_help_metavar", False):
        make_help = command.get_help_option

        def help_option(ctx: Any) -> Any:
            option = make_help(ctx)
            if option is not None:
                option.metavar = ""
            return option

        setattr(command, "get_help_option", help_option)  # noqa: B010
        setattr(command, "_assay_help_metavar", True)  # noqa: B010
    for sub in getattr(command, "commands", {}).values():
        readable_metavars(sub)


# ------------------------------------------------------------------ shared options

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (default: $ASSAY_DB, else db in the config file, else "
        "sqlite:///$ASSAY_HOME/assay.db, ASSAY_HOME=~/.assay).",
    ),
]


def split_list(values: Sequence[str] | None) -> list[str]:
    """A list option's values, given repeated (`--bank a --bank b`), comma-separated
    (`--bank a,b`) or both: one parser for every list option."""
    out: list[str] = []
    for value in values or ():
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return out


def deprecated(old: str, new: str) -> Callable[[Any], Any]:
    """Callback of a hidden, deprecated spelling of an option: when it is used, one note
    on stderr says which spelling replaces it; the value passes through unchanged."""

    def note(value: Any) -> Any:
        if value not in (None, (), [], False):
            err_console.print(f"[yellow]deprecated:[/] {old} — use {new}", soft_wrap=True, highlight=False)
        return value

    return note

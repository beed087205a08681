"""Shared CLI plumbing: one console, error handling, progress bar.

Every console the CLI prints through is a `SafeConsole`: each string it is handed (a
message, a table cell) has its control and bidi characters shown escaped
(assay.core.text.terminal_safe) before rich lays it out, so a model's or an endpoint's
ANSI codes, OSC sequences or right-to-left overrides never act on the terminal, nor land
raw in a file the output is redirected to. Error messages also pass secret redaction.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from assay.core.secrets import scrub
from assay.core.text import json_safe, terminal_safe


class SafeConsole(Console):
    """A rich Console that neutralises control and bidi characters in every string."""

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


class RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.1f} cases/s" if speed else "… cases/s", style="cyan")


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress bar with rate and ETA; silent when stderr is not a terminal."""
    enabled = err_console.is_terminal
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=err_console,
        disable=not enabled,
        transient=False,
    )
    task_id: Any = None

    def update(event: str, advance: int, total: int) -> None:
        nonlocal task_id
        if event == "start":
            task_id = bar.add_task(label, total=total, completed=advance)
            bar.start()
        elif event == "advance" and task_id is not None:
            bar.advance(task_id, advance)
        elif event == "stop":
            bar.stop()

    try:
        yield update
    finally:
        bar.stop()


def is_tty() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()

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
from assay.core.text import terminal_safe


class SafeConsole(Console):
    """A rich Console that neutralises control and bidi characters in every string."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(terminal_safe(text), **kwargs)


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

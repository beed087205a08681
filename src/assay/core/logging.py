"""Logging: set up once, on stderr, with secrets redacted and control characters shown escaped.

Modules log through `logging.getLogger(__name__)` (all under the `assay` logger) and never
configure anything themselves. `setup_logging` (the CLI calls it from `-v` / `-q`, the
`ASSAY_LOG_LEVEL` variable or the config file's `log_level`) gives the `assay` logger
one handler that writes to the current stderr. Every record passes, once formatted,
through secret redaction (`assay.core.secrets.scrub`: registered keys, secret-looking
environment values, credential shapes) and `assay.core.text.terminal_safe`, so a key, an
ANSI code or a bidi override carried by a model's answer or an endpoint's error never
reaches the terminal or a log file.

Levels: warning by default; `-v` info (run created, plan size, executor, cache hits,
retries summed up), `-vv` debug (each retry, each cached answer, files read);
`-q` errors only.
"""

from __future__ import annotations

import logging
import sys

from assay.core.secrets import scrub
from assay.core.text import terminal_safe

LOGGER = "assay"
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


class SafeFormatter(logging.Formatter):
    """`level: message` (with the logger's name at debug), secrets redacted, controls escaped."""

    def format(self, record: logging.LogRecord) -> str:
        record.level = record.levelname.lower()
        return terminal_safe(scrub(super().format(record)))


class StderrHandler(logging.Handler):
    """Writes to whatever `sys.stderr` is when the record is emitted (a test's capture, a
    redirected stream), never to a stream captured at setup."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:  # a log line must never break the command
            self.handleError(record)


def level_for(verbose: int = 0, quiet: bool = False, configured: str | None = None) -> int:
    """The level: `-q` errors only; each `-v` one step more than warning; else `configured`."""
    if quiet:
        return logging.ERROR
    if verbose >= 2:
        return logging.DEBUG
    if verbose == 1:
        return logging.INFO
    return _LEVELS.get((configured or "warning").lower(), logging.WARNING)


def setup_logging(level: int | str = logging.WARNING) -> logging.Logger:
    """Give the `assay` logger its one stderr handler (added once) and set its level."""
    if isinstance(level, str):
        level = _LEVELS.get(level.lower(), logging.WARNING)
    logger = logging.getLogger(LOGGER)
    handler = next((h for h in logger.handlers if isinstance(h, StderrHandler)), None)
    if handler is None:
        handler = StderrHandler()
        logger.addHandler(handler)
    fmt = "%(level)s %(name)s: %(message)s" if level <= logging.DEBUG else "%(level)s: %(message)s"
    handler.setFormatter(SafeFormatter(fmt))
    logger.setLevel(level)
    logger.propagate = False
    return logger


__all__ = ["LOGGER", "SafeFormatter", "StderrHandler", "level_for", "setup_logging"]

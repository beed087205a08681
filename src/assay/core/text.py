"""Untrusted text made harmless for a terminal.

Model answers, endpoint error bodies and user files may carry control characters (ANSI
colour codes, OSC title changes, cursor moves, NUL, other C0/C1 codes) and bidi controls
that reorder what is shown ("safe\\u202eexe.txt" displays as "safetxt.exe"). `terminal_safe`
shows every one of them escaped (`\\x1b`, `\\u202e`), so what is printed is exactly what
was received, whether it goes to a terminal or into a file. Newlines and tabs are kept.

This module is dependency-free so that any stage may import it; the CLI's consoles apply
it to everything they print (assay.cli._common).
"""

from __future__ import annotations

#: bidi embeddings/overrides/isolates and marks: they reorder the text around them
BIDI_CONTROLS = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
    + ["\u200e", "\u200f", "\u061c"]
)


def _escape_for(ch: str) -> str:
    n = ord(ch)
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}"


def _table() -> dict[int, str]:
    codes = [c for c in range(0x20) if c not in (0x09, 0x0A)] + [0x7F] + list(range(0x80, 0xA0))
    table = {c: _escape_for(chr(c)) for c in codes}
    table.update({ord(ch): _escape_for(ch) for ch in BIDI_CONTROLS})
    return table


_TABLE = _table()


def terminal_safe(text: str) -> str:
    """`text` with control and bidi characters shown as escapes (newline and tab kept)."""
    return text.translate(_TABLE)


def has_controls(text: str) -> bool:
    """Whether `text` holds anything `terminal_safe` would escape."""
    return any(ord(ch) in _TABLE for ch in text)


_JSON_TABLE = {c: f"\\u{c:04x}" for c in _TABLE}


def json_safe(text: str) -> str:
    """A JSON document with control and bidi characters written as `\\uXXXX` escapes: the
    same JSON value (they can only occur inside strings), harmless on a terminal."""
    return text.translate(_JSON_TABLE)

"""Keep secrets out of everything Assay writes.

`redact` replaces every occurrence of a known secret (API key, auth header value, token)
with a fixed marker. Every stage that writes (store, logs, reports, bundles) calls it on
text that could carry a secret; `secret_values_from_env` collects the values to hide.

This module is dependency-free so that any stage may import it.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, unquote, urlsplit

REDACTED = "[REDACTED]"

#: Secrets shorter than this are not redacted: replacing "a" or "1" everywhere would
#: destroy the text and protects nothing.
MIN_SECRET_LEN = 6

#: Environment variables whose values are treated as secrets.
SECRET_ENV_PATTERN = re.compile(
    r"(API_?KEY|TOKEN|SECRET|PASSWORD|PASSWD|CRED|PRIVATE_KEY|AUTH)", re.IGNORECASE
)

#: Shapes of common credentials, redacted even when their value was not declared. Tokens
#: after Bearer/Basic must hold a digit, so prose ("Bearer authentication") is left alone.
#: Each comes with the (lower-case) marker texts it cannot match without: a pattern runs only
#: when one is present, which keeps redaction of every answer cheap.
_SHAPES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"\bsk-[A-Za-z0-9_\-]{16,}", ("sk-",)),
    (r"(?i)\bBearer\s+(?=[A-Za-z._~+/\-]*\d)[A-Za-z0-9._~+/\-]{12,}=*", ("bearer",)),
    (r"(?i)\bBasic\s+(?=[A-Za-z+/]*\d)[A-Za-z0-9+/]{12,}=*", ("basic",)),
    (r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", ("akia", "asia")),  # AWS access key id
    (r"\bgh[pousr]_[A-Za-z0-9]{30,}", ("_",)),  # GitHub tokens
    (r"\bgithub_pat_[A-Za-z0-9_]{30,}", ("github_pat_",)),
    (r"\bxox[abprs]-[A-Za-z0-9\-]{10,}", ("xox",)),  # Slack
    (r"\bAIza[0-9A-Za-z_\-]{35}", ("aiza",)),  # Google API key
    (r"\bhf_[A-Za-z0-9]{30,}", ("hf_",)),  # Hugging Face
    (r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}", ("eyj",)),  # JWT
    # the password of a URL's user:password@ part (the user name is kept)
    (r"(?<=://)(?P<user>[^/\s:@\[\]]*):(?P<pw>[^/\s@]+)(?=@)", ("://",)),
)
CREDENTIAL_PATTERNS: tuple[re.Pattern[str], ...] = tuple(re.compile(p) for p, _ in _SHAPES)
_MARKERS = tuple(m for _, m in _SHAPES)


#: every marker text at once: a lower-cased text none of them is in matches no shape
_ANY_MARKER = re.compile("|".join(re.escape(m) for ms in _MARKERS for m in ms if m != "_") + r"|gh[pousr]_")
#: characters that the case-insensitive shapes match as ASCII letters but that `lower()`
#: does not turn into them (İ ı → i, ſ → s, K → k): a text holding one takes the full pass
_FOLDS_TO_ASCII = ("\u0130", "\u0131", "\u017f", "\u212a")


def may_hold_credential(text: str) -> bool:
    """False only when no credential shape can match `text` (a cheap test, for hot paths)."""
    if _ANY_MARKER.search(text.lower()) is not None:
        return True
    return not text.isascii() and any(ch in text for ch in _FOLDS_TO_ASCII)


_URL_PW = CREDENTIAL_PATTERNS[-1]


def _clean(secrets: Iterable[str | None]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for s in secrets:
        if s and len(s) >= MIN_SECRET_LEN and s not in seen:
            seen.add(s)
            out.append(s)
    # longest first, so a secret that contains another is replaced whole
    return sorted(out, key=len, reverse=True)


def _pattern_sub(text: str, keep: Iterable[str] = ()) -> str:
    """Credential shapes replaced, except a match that is (or holds) a value in `keep`."""
    kept = [k for k in keep if k]

    def repl(m: re.Match[str]) -> str:
        found = m.group(0)
        if kept and any(k in found or found in k for k in kept):
            return found
        if m.re is _URL_PW:
            # "***" is how a URL is shown with its password hidden (SQLAlchemy, `masked`)
            return found if m.group("pw") == "***" else f"{m.group('user')}:{REDACTED}"
        return REDACTED

    low = text.lower()
    for pat, markers in zip(CREDENTIAL_PATTERNS, _MARKERS, strict=True):
        if any(m in low for m in markers):
            text = pat.sub(repl, text)
    return text


def redact(
    text: str, secrets: Iterable[str | None] = (), *, patterns: bool = True, keep: Iterable[str] = ()
) -> str:
    """`text` with every secret (and, with `patterns`, every credential-shaped token) replaced.

    `keep`: texts whose credential-shaped parts are not secrets of this run (a test case's
    own planted canary, say), so a pattern match inside them stays; declared secrets are
    always replaced."""
    for s in _clean(secrets):
        if s in text:
            text = text.replace(s, REDACTED)
    if patterns:
        text = _pattern_sub(text, keep)
    return text


def redact_obj(obj: Any, secrets: Iterable[str | None] = (), *, patterns: bool = True) -> Any:
    """A copy of a JSON-like value (dicts, lists, tuples, strings) with every string redacted."""
    clean = _clean(secrets)

    def walk(v: Any) -> Any:
        if isinstance(v, str):
            return redact(v, clean, patterns=patterns)
        if isinstance(v, Mapping):
            return {walk(k) if isinstance(k, str) else k: walk(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return type(v)(walk(x) for x in v) if isinstance(v, tuple) else [walk(x) for x in v]
        return v

    return walk(obj)


def redact_json_text(text: str, secrets: Iterable[str | None] = (), *, patterns: bool = True) -> str:
    """Redact inside a JSON document without parsing it: each secret is matched in its
    JSON-escaped form, so the result stays valid JSON. Much faster than `redact_obj` for
    large documents."""
    for s in _clean(secrets):
        for form in {json.dumps(s)[1:-1], json.dumps(s, ensure_ascii=False)[1:-1]}:
            if form in text:
                text = text.replace(form, REDACTED)
    if patterns:
        text = _pattern_sub(text)
    return text


def secret_values_from_env(environ: Mapping[str, str] | None = None, *, min_len: int = 10) -> list[str]:
    """Values of environment variables whose names look like they hold a secret.

    Values shorter than `min_len` are skipped: a flag such as AUTH_MODE=simple is not a
    credential, and redacting "simple" everywhere would garble reports.
    """
    env = os.environ if environ is None else environ
    out = [v for k, v in env.items() if SECRET_ENV_PATTERN.search(k) and len(v) >= min_len]
    # a password inside any URL-valued variable (ASSAY_DB, ASSAY_OPENAI_BASE_URL, ...)
    out += [pw for v in env.values() if "@" in v and "://" in v for pw in url_secrets(v)]
    return _clean(out)


# ------------------------------------------------------------------ the run's known secrets

_registered: set[str] = set()
_lock = threading.Lock()


def url_secrets(url: str | None) -> list[str]:
    """The password of a URL's `user:password@` part, as written and decoded (else [])."""
    if not url or "@" not in url:
        return []
    try:
        raw = urlsplit(url.strip()).netloc.rpartition("@")[0]
    except ValueError:
        return []
    if ":" not in raw:
        return []
    written = raw.split(":", 1)[1]
    return [v for v in {written, unquote(written), quote(unquote(written), safe="")} if v]


def register_secret(*values: str | None) -> None:
    """Make values known as secrets of this process: everything that stores, prints or
    reports text from now on replaces them (see `known_secrets` and `scrub`).

    Targets register their API keys and auth headers, the store its database password.
    The URL-encoded form of each value is registered too."""
    with _lock:
        for v in values:
            if v and len(v) >= MIN_SECRET_LEN:
                _registered.add(v)
                enc = quote(v, safe="")
                if enc != v:
                    _registered.add(enc)


def register_basic_auth(login: str, password: str) -> None:
    """A basic-auth pair: the password and the header's base64 form are secrets."""
    register_secret(password)
    if password:
        register_secret(base64.b64encode(f"{login}:{password}".encode()).decode("ascii"))


def known_secrets(extra: Iterable[str | None] = ()) -> list[str]:
    """Every secret value this process knows: registered ones, secret-looking environment
    variables, passwords in URL-valued variables, and `extra`; longest first."""
    with _lock:
        registered = list(_registered)
    return _clean([*registered, *secret_values_from_env(), *extra])


def scrub(text: str, extra: Iterable[str | None] = (), *, keep: Iterable[str] = ()) -> str:
    """`text` with every known secret and credential shape replaced (see `known_secrets`)."""
    return redact(text, known_secrets(extra), keep=keep)


class Redactor:
    """`redact` with a fixed list of secrets, for hot paths (one per run).

    A text that holds no known secret and no credential shape's marker (one search of the
    lower-cased text) is returned as it is; only the others go through `redact`."""

    __slots__ = ("secrets",)

    def __init__(self, extra: Iterable[str | None] = ()) -> None:
        self.secrets = known_secrets(extra)

    def __call__(self, text: str, keep: Iterable[str] = ()) -> str:
        if not text or (not may_hold_credential(text) and not any(s in text for s in self.secrets)):
            return text
        return redact(text, self.secrets, keep=keep)

    def optional(self, text: str | None, keep: Iterable[str] = ()) -> str | None:
        return None if text is None else self(text, keep)

    def obj(self, obj: Any, keep: Iterable[str] = ()) -> Any:
        """`obj` with every string in it redacted; the very same object when nothing in it
        changed (a changed mapping becomes a dict, a changed sequence a list)."""
        if isinstance(obj, str):
            return self(obj, keep)
        if isinstance(obj, Mapping):
            changed: dict[Any, Any] | None = None
            for k, v in obj.items():
                new = self.obj(v, keep)
                if new is not v:
                    if changed is None:
                        changed = dict(obj)
                    changed[k] = new
            return obj if changed is None else changed
        if isinstance(obj, list | tuple):
            items = [self.obj(v, keep) for v in obj]
            return obj if all(a is b for a, b in zip(items, obj, strict=True)) else items
        return obj


def forget_secrets() -> None:
    """Drop every registered secret (tests; a long-lived process between unrelated runs)."""
    with _lock:
        _registered.clear()

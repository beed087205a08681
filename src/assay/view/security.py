"""The dashboard's security rules, as one ASGI middleware.

* Access token: when the app has a token (it must, when bound to anything but a loopback
  address), every request needs it: `?token=…` once (it is then kept in an HttpOnly,
  SameSite=Strict cookie) or `Authorization: Bearer …`.
* Host check: with `allowed_hosts`, any other Host header is refused (DNS rebinding).
* Read-only: POST is refused unless reviewing is enabled.
* CSRF: every POST must carry the form field `csrf` equal to the `assay_csrf` cookie
  (double submit; the cookie is SameSite=Strict) and, when the browser sends one, an
  Origin of this host.
* Headers on every answer: a strict Content-Security-Policy (scripts and styles only
  from the app's own vendored files, no inline script, no framing), nosniff, no referrer.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Sequence
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
TOKEN_COOKIE = "assay_token"
CSRF_COOKIE = "assay_csrf"
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


def new_token() -> str:
    return secrets.token_urlsafe(24)


def is_loopback(host: str) -> bool:
    return host in LOOPBACK or host.startswith("127.")


class Guard:
    """ASGI middleware applying the rules above."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str | None,
        allow_review: bool,
        allowed_hosts: Sequence[str] | None = None,
    ) -> None:
        self.app = app
        self.token = token
        self.allow_review = allow_review
        self.allowed_hosts = {h.lower() for h in allowed_hosts} if allowed_hosts else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        refusal = self._refuse(request)
        if refusal is not None:
            await self._with_headers(refusal, scope, receive, send)
            return
        if self.token and request.query_params.get("token"):
            # first visit with ?token=: keep it in a cookie and drop it from the address bar
            pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
            qs = urlencode([(k, v) for k, v in pairs if k != "token"])
            resp: Response = RedirectResponse(request.url.path + (f"?{qs}" if qs else ""), status_code=303)
            resp.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="strict")
            await self._with_headers(resp, scope, receive, send)
            return
        csrf = request.cookies.get(CSRF_COOKIE)
        new_csrf = None if csrf else secrets.token_urlsafe(24)
        scope.setdefault("state", {})["csrf"] = csrf or new_csrf

        async def send_wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                _secure_headers(headers)
                if new_csrf:
                    headers.append(
                        "set-cookie", f"{CSRF_COOKIE}={new_csrf}; HttpOnly; Path=/; SameSite=Strict"
                    )
            await send(message)

        if request.method == "POST":
            # the CSRF field is in the form body: read it here, then replay the body
            body = await _read_body(receive)
            form = parse_qs(body.decode("utf-8", "replace"))
            sent = (form.get("csrf") or [""])[0]
            origin = request.headers.get("origin")
            origin = None if origin == "null" else origin  # privacy-sensitive contexts; the token decides
            host = request.headers.get("host", "")
            if (
                not csrf
                or not hmac.compare_digest(sent, csrf)
                or (origin and urlsplit(origin).netloc != host)
            ):
                await self._with_headers(
                    PlainTextResponse("refused: missing or wrong CSRF token", 403), scope, receive, send
                )
                return
            await self.app(scope, _replay(body), send_wrapped)
            return
        await self.app(scope, receive, send_wrapped)

    def _refuse(self, request: Request) -> Response | None:
        if self.allowed_hosts is not None:
            host = (request.headers.get("host") or "").rsplit(":", 1)[0].lower()
            if host not in self.allowed_hosts:
                return PlainTextResponse("refused: unknown Host header", 400)
        if self.token:
            given = request.query_params.get("token") or request.cookies.get(TOKEN_COOKIE) or ""
            auth = request.headers.get("authorization", "")
            if auth.lower().startswith("bearer "):
                given = auth[7:].strip()
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                return PlainTextResponse("refused: this dashboard needs its access token (?token=…)", 401)
        if request.method not in ("GET", "HEAD", "POST"):
            return PlainTextResponse("method not allowed", 405)
        if request.method == "POST" and not self.allow_review:
            return PlainTextResponse(
                "refused: this dashboard is read-only (start it with --allow-review)", 403
            )
        return None

    async def _with_headers(self, resp: Response, scope: Scope, receive: Receive, send: Send) -> None:
        _secure_headers(resp.headers)
        await resp(scope, receive, send)


def _secure_headers(headers: MutableHeaders) -> None:
    headers["content-security-policy"] = CSP
    headers["x-content-type-options"] = "nosniff"
    headers["referrer-policy"] = "same-origin"
    headers["x-frame-options"] = "DENY"
    headers["cross-origin-opener-policy"] = "same-origin"
    if "cache-control" not in headers:
        headers["cache-control"] = "no-store"


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive

"""`openai:<model>`: any OpenAI-compatible chat-completions endpoint.

Works with hosted providers and with vLLM (`/v1`), Ollama (`:11434/v1`), the llama.cpp
server (`:8080/v1`) and LM Studio. The base URL and the key come from the environment
or the config file, never from the spec, so nothing secret is stored or printed.

aiohttp is used rather than httpx: on this kind of machine a bare aiohttp loop moves
2,000 mock requests in under a second, httpx takes several times longer.
"""

from __future__ import annotations

import email.utils
import json
import os
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import aiohttp

from assay.core.errors import InputError, TargetError
from assay.core.secrets import register_basic_auth, register_secret, scrub
from assay.core.types import GenerationParams, Message, TargetSpec, Usage
from assay.targets.base import Completion, Target, register_target, with_system_prompt
from assay.targets.config import TargetConfig

#: finish reasons and error codes that mean the provider's own filter blocked the answer
_BLOCK_CODES = ("content_filter", "data_inspection_failed", "content_policy_violation", "safety")


def normalise_base_url(url: str) -> str:
    """Accept `http://host:8000`, `http://host:8000/` or `http://host:8000/v1`; return the `/v1`-style base."""
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(
            f"base URL {_strip_userinfo(url)!r} must be an http(s) URL such as http://127.0.0.1:8000/v1",
            where="base_url",
        )
    if parts.path in ("", "/"):
        url += "/v1"
    if url.endswith("/chat/completions"):
        url = url[: -len("/chat/completions")]
    return url


def split_credentials(url: str) -> tuple[str, aiohttp.BasicAuth | None]:
    """`url` without any `user:password@` part, and that part as basic auth (or None).

    Credentials in the URL would otherwise be printed in every error message and clash
    with the Authorization header that carries the API key.
    """
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port is not None else host
    auth = aiohttp.BasicAuth(unquote(parts.username or ""), unquote(parts.password or ""))
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)), auth


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


@register_target
class OpenAITarget(Target):
    kind = "openai"
    description = (
        "An OpenAI-compatible chat-completions endpoint (base URL and key from the environment or config)."
    )
    max_concurrency = 256
    cancellable = True

    def __init__(self, spec: TargetSpec, config: TargetConfig | None = None) -> None:
        super().__init__(spec)
        cfg = config or TargetConfig.for_openai(spec.name)
        self.base_url, self._basic_auth = split_credentials(normalise_base_url(cfg.base_url))
        self._api_key = cfg.api_key
        # known from now on: whatever echoes them (an answer, an error body) is redacted
        register_secret(self._api_key)
        if self._basic_auth is not None:
            register_basic_auth(self._basic_auth.login, self._basic_auth.password)
        self.timeout_s = cfg.timeout_s
        self.extra_body = dict(cfg.extra_body)
        self._session: aiohttp.ClientSession | None = None
        self._url = self.base_url + "/chat/completions"

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        elif self._basic_auth is not None:
            headers["Authorization"] = self._basic_auth.encode()
        return headers

    def _session_for_loop(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers=self._headers(),
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
                json_serialize=json.dumps,
            )
        return self._session

    def payload(self, messages: Sequence[Message], params: GenerationParams) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.spec.name,
            "messages": [
                {"role": m.role, "content": m.content} for m in with_system_prompt(messages, params)
            ],
            "temperature": params.temperature,
            "max_tokens": params.max_tokens,
            "seed": params.seed,
        }
        if params.top_p != 1.0:
            body["top_p"] = params.top_p
        body.update(self.extra_body)
        return body

    async def complete(self, messages: Sequence[Message], params: GenerationParams) -> Completion:
        return self._parse(await self._post(self.payload(messages, params)))

    async def complete_chat(
        self, chat: list[dict[str, Any]], params: GenerationParams, tools: list[dict[str, Any]]
    ) -> tuple[Completion, list[dict[str, Any]]]:
        """One chat-API call with `tools` offered; the completion and the raw `tool_calls`
        the model asked for (`[{"id", "type", "function": {"name", "arguments"}}]`).
        `chat` may hold assistant turns with `tool_calls` and `tool` turns (agent harness)."""
        body: dict[str, Any] = {
            "model": self.spec.name,
            "messages": chat,
            "temperature": params.temperature,
            "max_tokens": params.max_tokens,
            "seed": params.seed,
        }
        if tools:
            body["tools"] = tools
        if params.top_p != 1.0:
            body["top_p"] = params.top_p
        body.update(self.extra_body)
        raw = await self._post(body)
        completion = self._parse(raw, allow_empty=True)
        try:
            calls = json.loads(raw)["choices"][0]["message"].get("tool_calls") or []
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            calls = []
        return completion, [c for c in calls if isinstance(c, dict)]

    async def _post(self, body: dict[str, Any]) -> bytes:
        session = self._session_for_loop()
        try:
            async with session.post(self._url, json=body) as resp:
                status = resp.status
                raw = await resp.read()
                if status != 200:
                    raise self._http_error(status, raw, resp.headers.get("Retry-After"))
        except TargetError:
            raise
        except TimeoutError as exc:
            raise TargetError(
                "timeout", f"no answer from {self.base_url} within {self.timeout_s:g} s"
            ) from exc
        except aiohttp.ClientConnectorError as exc:
            raise TargetError(
                "unreachable", f"cannot connect to {self.base_url}: {exc.os_error or exc}"
            ) from exc
        except aiohttp.ClientError as exc:
            raise TargetError(
                "server", f"connection to {self.base_url} failed: {type(exc).__name__}: {exc}"
            ) from exc
        return raw

    def _parse(self, raw: bytes, *, allow_empty: bool = False) -> Completion:
        try:
            data = json.loads(raw)
            choice = data["choices"][0]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise TargetError(
                "server",
                "the endpoint answered with something that is not a chat completion: "
                + repr(scrub(raw.decode("utf-8", "replace"))[:200]),
            ) from exc
        message = choice.get("message") or {}
        text = message.get("content") or ""
        if isinstance(text, list):  # some servers return content parts
            text = "".join(p.get("text", "") for p in text if isinstance(p, dict))
        finish = choice.get("finish_reason")
        usage = data.get("usage") or {}
        if finish in _BLOCK_CODES and not text and not (allow_empty and message.get("tool_calls")):
            raise TargetError("blocked", f"the provider's filter blocked the answer (finish_reason={finish})")
        return Completion(
            text=text,
            finish_reason=finish,
            usage=Usage(
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
            ),
            model=data.get("model"),
        )

    def _http_error(self, status: int, raw: bytes, retry_after: str | None) -> TargetError:
        detail = _error_detail(raw)
        wait = parse_retry_after(retry_after)
        if status == 429:
            return TargetError(
                "rate_limit", f"rate limited (HTTP 429){detail}", retry_after=wait, status=status
            )
        if status in (503, 529):
            return TargetError(
                "overload",
                f"the service is overloaded (HTTP {status}){detail}",
                retry_after=wait,
                status=status,
            )
        if status in (401, 403):
            return TargetError(
                "auth",
                f"the endpoint refused the credentials (HTTP {status}){detail}; check the API key variable",
                status=status,
            )
        if status == 404:
            return TargetError(
                "bad_request",
                f"not found (HTTP 404) at {self._url}{detail}; check the base URL and model name",
                status=status,
            )
        if status in (400, 422) and any(code in detail for code in _BLOCK_CODES):
            return TargetError(
                "blocked", f"the provider's filter blocked the request (HTTP {status}){detail}", status=status
            )
        if 400 <= status < 500:
            return TargetError(
                "bad_request", f"the endpoint rejected the request (HTTP {status}){detail}", status=status
            )
        return TargetError("server", f"server error (HTTP {status}){detail}", retry_after=wait, status=status)

    async def list_models(self) -> list[str]:
        session = self._session_for_loop()
        try:
            async with session.get(self.base_url + "/models") as resp:
                if resp.status != 200:
                    return []
                data = await resp.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError, ValueError):
            return []
        return [str(m.get("id")) for m in data.get("data", []) if isinstance(m, dict)]

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def cache_identity(self) -> str:
        return f"{self.spec}@{_strip_userinfo(self.base_url)}"

    def describe(self) -> dict[str, Any]:
        return {
            "spec": str(self.spec),
            "base_url": _strip_userinfo(self.base_url),
            "api_key_set": bool(self._api_key),
        }


def _error_detail(raw: bytes) -> str:
    try:
        data = json.loads(raw)
        err = data.get("error", data)
        msg = err.get("message") if isinstance(err, dict) else str(err)
        code = err.get("code") if isinstance(err, dict) else None
        text = " ".join(str(x) for x in (code, msg) if x)
    except (ValueError, AttributeError):
        text = raw.decode("utf-8", "replace")
    text = scrub(text.strip())  # error pages and gateways may echo the Authorization header
    return f": {text[:300]}" if text else ""


def _strip_userinfo(url: str) -> str:
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        if parts.port:
            host += f":{parts.port}"
        return parts._replace(netloc=host).geturl()
    return url


def env_api_key(names: Sequence[str]) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None

"""A local OpenAI-compatible mock server with latency and fault injection.

Used by the tests and benchmarks, and handy for trying Assay without a model:

    python -m assay.testing.mock_openai --port 8765 --latency-ms 50 --fault-rate 0.1

Faults (drawn per request from a seeded RNG, so a run is repeatable):
- `429` with `Retry-After` (rate limit),
- `500` (server error),
- `hang`: the request sleeps for `--hang-s` seconds (longer than the client's timeout),
- `400`: the request is rejected (a permanent error, not retried).
A concurrency cap: `--max-inflight N` answers a request that arrives while N are being
served with `429` (`Retry-After`), as a rate-limited endpoint does; `over_cap` counts them
and `peak_inflight` is the most served at once (tests of shared limits).
Outages: `--outage-after-s A --outage-s D` answers every request in [A, A+D) seconds after
the server started with `--outage-status` (503 by default; `0` drops the connection);
`outage_requests=(first, count)` (tests) does the same for request numbers
first … first+count-1, which is repeatable whatever the machine's speed.
It counts every request by the hash of its last user message, so tests can check how
many times each case was sent (`GET /_stats`).

`echo_auth` (`--echo-auth`) plays a careless gateway: every answer and every error body
repeats the request's Authorization header, as some proxies and error pages do; Assay
must keep it out of everything it stores, prints and reports.

Replies: by default a should-refuse prompt (one containing a word from REFUSE_WORDS) is
refused and anything else gets a short helpful answer, in the prompt's language.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

REFUSE_WORDS = ("bomb", "weapon", "poison", "hack", "kill someone", "炸弹", "武器", "毒药", "入侵", "颠覆")


@dataclass
class MockConfig:
    latency_ms: float = 0.0
    fault_rate: float = 0.0
    faults: tuple[str, ...] = ("429", "500", "hang")
    retry_after_s: float = 0.05
    hang_s: float = 30.0
    api_key: str | None = None
    seed: int = 0
    mode: str = "auto"  # auto | comply | refuse | echo | empty | tools
    model: str = "mock-model"
    outage_after_s: float | None = None  # outage window, in seconds after the server started
    outage_s: float = 0.0
    outage_requests: tuple[int, int] | None = None  # (first request number, how many)
    outage_status: int = 503  # 0: drop the connection
    echo_auth: bool = False  # repeat the Authorization header in answers and error bodies
    max_inflight: int | None = None  # more requests at once than this are answered 429


@dataclass
class MockState:
    config: MockConfig
    rng: random.Random = field(init=False)
    counts: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    faults_sent: Counter[str] = field(default_factory=Counter)
    auth_headers: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    outage_hits: int = 0
    inflight: int = 0
    peak_inflight: int = 0
    over_cap: int = 0
    #: wall-clock times (time.time()) of the first request and the latest reply, for
    #: benchmarks that split a client's run into before / while / after sending
    first_request_at: float | None = None
    last_reply_at: float | None = None

    def __post_init__(self) -> None:
        self.rng = random.Random(self.config.seed)

    def in_outage(self) -> bool:
        cfg = self.config
        if cfg.outage_requests is not None:
            first, count = cfg.outage_requests
            if first <= self.requests < first + count:
                return True
        if cfg.outage_after_s is not None:
            since = time.monotonic() - self.started
            return cfg.outage_after_s <= since < cfg.outage_after_s + cfg.outage_s
        return False

    def reset_counts(self) -> None:
        """Forget what was sent so far (the per-prompt counts and the request total stay apart)."""
        self.counts.clear()


def reply_for(prompt: str, mode: str) -> str:
    if mode == "empty":
        return ""
    if mode == "echo":
        return prompt
    zh = any("\u4e00" <= ch <= "\u9fff" for ch in prompt)
    refuse = mode == "refuse" or (mode == "auto" and any(w in prompt.lower() for w in REFUSE_WORDS))
    if refuse:
        return "抱歉，我不能提供这方面的帮助。" if zh else "I'm sorry, but I can't help with that request."
    if zh:
        return "好的。这是一个简短的回答：" + prompt[:40]
    return "Sure. Here is a short answer about: " + prompt[:60]


def tool_call_reply(state: MockState, body: dict[str, object], prompt: str) -> dict[str, object]:
    """Mode `tools`: call the first offered tool (a URL or file named in the prompt as its
    argument); once a tool result came back, the ordinary reply answers it."""
    tools = body.get("tools")
    first = tools[0] if isinstance(tools, list) and tools else {}
    name = str((first.get("function") or {}).get("name", "")) if isinstance(first, dict) else ""
    url = re.search(r"https?://\S+", prompt)
    path = re.search(r"[\w.-]+\.(?:txt|md)", prompt)
    args = {"url": url.group(0)} if url else {"path": path.group(0)} if path else {}
    call = {
        "id": f"call_{state.requests}",
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(args)},
    }
    return {
        "id": f"chatcmpl-{state.requests}",
        "object": "chat.completion",
        "model": body.get("model", state.config.model),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": None, "tool_calls": [call]},
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": len(prompt.split()), "completion_tokens": 5, "total_tokens": 0},
    }


def build_app(state: MockState) -> web.Application:
    cfg = state.config

    async def chat(request: web.Request) -> web.StreamResponse:
        state.requests += 1
        if state.first_request_at is None:
            state.first_request_at = time.time()
        auth = request.headers.get("Authorization", "")
        echo = f" (request had Authorization: {auth})" if cfg.echo_auth else ""

        def error(message: str, status: int, **extra: object) -> web.Response:
            headers = extra.pop("headers", None)
            body = {"error": {"message": message + echo, **extra}}
            return web.json_response(body, status=status, headers=headers)  # type: ignore[arg-type]

        if cfg.api_key is not None:
            state.auth_headers.append(auth)
            if auth != f"Bearer {cfg.api_key}":
                return error("Incorrect API key provided", 401, code="invalid_api_key")
        if state.in_outage():
            state.outage_hits += 1
            if cfg.outage_status == 0:
                if request.transport is not None:
                    request.transport.close()
                raise ConnectionResetError("outage")
            return error("service unavailable (outage)", cfg.outage_status)
        try:
            body = await request.json()
            messages = body["messages"]
            prompt = str(messages[-1]["content"])
        except (ValueError, KeyError, IndexError, TypeError):
            return error("invalid request body", 400)
        if cfg.max_inflight is not None and state.inflight >= cfg.max_inflight:
            state.over_cap += 1
            state.faults_sent["429"] += 1
            return error(
                "Rate limit reached: too many requests in flight",
                429,
                code="rate_limit_exceeded",
                headers={"Retry-After": f"{cfg.retry_after_s:g}"},
            )
        state.inflight += 1
        state.peak_inflight = max(state.peak_inflight, state.inflight)
        try:
            return await answer(body, messages, prompt, echo, error)
        finally:
            state.inflight -= 1
            state.last_reply_at = time.time()

    async def answer(
        body: dict[str, object],
        messages: list[dict[str, object]],
        prompt: str,
        echo: str,
        error: Callable[..., web.Response],
    ) -> web.Response:
        state.counts[hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest()[:16]] += 1
        if cfg.latency_ms:
            await asyncio.sleep(cfg.latency_ms / 1000.0)
        if cfg.fault_rate and state.rng.random() < cfg.fault_rate:
            fault = state.rng.choice(cfg.faults)
            state.faults_sent[fault] += 1
            if fault == "429":
                return error(
                    "Rate limit reached",
                    429,
                    code="rate_limit_exceeded",
                    headers={"Retry-After": f"{cfg.retry_after_s:g}"},
                )
            if fault == "500":
                return error("internal error", 500)
            if fault == "400":
                return error("bad request", 400)
            if fault == "503":
                return error("overloaded", 503, headers={"Retry-After": "0"})
            await asyncio.sleep(cfg.hang_s)
        if cfg.mode == "tools" and body.get("tools") and messages[-1].get("role") != "tool":
            return web.json_response(tool_call_reply(state, body, prompt))
        text = reply_for(prompt, cfg.mode) + echo
        return web.json_response(
            {
                "id": f"chatcmpl-{state.requests}",
                "object": "chat.completion",
                "model": body.get("model", cfg.model),
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                ],
                "usage": {
                    "prompt_tokens": len(prompt.split()),
                    "completion_tokens": len(text.split()),
                    "total_tokens": 0,
                },
            }
        )

    async def models(request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": cfg.model, "object": "model"}]})

    async def stats(request: web.Request) -> web.Response:
        """The counters; `?reset_times=1` then forgets the first-request and last-reply times
        (a benchmark's next client starts a fresh timeline)."""
        body = web.json_response(
            {
                "requests": state.requests,
                "distinct": len(state.counts),
                "repeats": sum(c - 1 for c in state.counts.values() if c > 1),
                "max_per_prompt": max(state.counts.values(), default=0),
                "faults": dict(state.faults_sent),
                "outage_hits": state.outage_hits,
                "over_cap": state.over_cap,
                "peak_inflight": state.peak_inflight,
                "first_request_at": state.first_request_at,
                "last_reply_at": state.last_reply_at,
            }
        )
        if request.query.get("reset_times"):
            state.first_request_at = state.last_reply_at = None
        return body

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_get("/v1/models", models)
    app.router.add_get("/_stats", stats)
    return app


class MockServer:
    """Runs the mock in a background thread with its own event loop (for tests)."""

    def __init__(self, config: MockConfig | None = None, port: int = 0) -> None:
        self.state = MockState(config or MockConfig())
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> MockServer:
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("mock server did not start")
        return self

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        runner = web.AppRunner(build_app(self.state), access_log=None)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", self.port)
        loop.run_until_complete(site.start())
        server = site._server
        if self.port == 0 and server is not None:
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr,attr-defined]
        self._runner = runner
        self._started.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def spawn(*args: str, tries: int = 200) -> tuple[subprocess.Popen[bytes], int]:
    """Start the mock in its own process (benchmarks: it gets the other core) on a free port,
    with these command-line options (e.g. "--latency-ms", "200"); returns it once it answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    cmd = [sys.executable, "-m", "assay.testing.mock_openai", "--port", str(port), *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(tries):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stats", timeout=1).read()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("mock did not start")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="OpenAI-compatible mock server with fault injection")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--fault-rate", type=float, default=0.0)
    p.add_argument("--faults", default="429,500,hang")
    p.add_argument("--hang-s", type=float, default=30.0)
    p.add_argument("--retry-after-s", type=float, default=0.05)
    p.add_argument("--api-key", default=None)
    p.add_argument("--mode", default="auto")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--outage-after-s", type=float, default=None)
    p.add_argument("--outage-s", type=float, default=0.0)
    p.add_argument("--outage-status", type=int, default=503)
    p.add_argument("--echo-auth", action="store_true", help="Repeat the Authorization header in replies.")
    p.add_argument(
        "--max-inflight", type=int, default=None, help="Answer 429 above this many requests at once."
    )
    a = p.parse_args(argv)
    cfg = MockConfig(
        latency_ms=a.latency_ms,
        fault_rate=a.fault_rate,
        faults=tuple(a.faults.split(",")),
        hang_s=a.hang_s,
        retry_after_s=a.retry_after_s,
        api_key=a.api_key,
        mode=a.mode,
        seed=a.seed,
        outage_after_s=a.outage_after_s,
        outage_s=a.outage_s,
        outage_status=a.outage_status,
        echo_auth=a.echo_auth,
        max_inflight=a.max_inflight,
    )
    web.run_app(build_app(MockState(cfg)), host="127.0.0.1", port=a.port, access_log=None, print=None)


if __name__ == "__main__":
    main()

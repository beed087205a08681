"""Targets: spec parsing, the OpenAI-compatible client against several server shapes, python and replay."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from assay.core.errors import InputError, TargetError
from assay.core.types import GenerationParams, Message, TargetSpec
from assay.targets import make_target
from assay.targets.config import TargetConfig
from assay.targets.openai import OpenAITarget, normalise_base_url, parse_retry_after
from assay.targets.python import PythonTarget
from assay.targets.replay import ReplayTarget

USER = [Message(role="user", content="Hello 你好")]


def test_spec_parsing() -> None:
    assert str(TargetSpec.parse("openai:qwen-plus")) == "openai:qwen-plus"
    assert TargetSpec.parse("python:pkg.mod:fn").name == "pkg.mod:fn"
    with pytest.raises(ValueError, match="unknown target kind"):
        TargetSpec.parse("ftp:x")
    with pytest.raises(ValueError, match="KIND:NAME"):
        TargetSpec.parse("smollm2")


def test_make_target_unknown_is_input_error() -> None:
    with pytest.raises(InputError) as exc:
        make_target("gpt4")
    assert exc.value.exit_code == 2 and "--target" in str(exc.value)


def test_openai_needs_an_endpoint() -> None:
    with pytest.raises(InputError, match="ASSAY_OPENAI_BASE_URL"):
        make_target("openai:gpt-4o-mini")


@pytest.mark.parametrize(
    "given, want",
    [
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000/v1"),  # vLLM without path
        ("http://localhost:11434/v1/", "http://localhost:11434/v1"),  # Ollama
        (
            "http://127.0.0.1:8080/v1/chat/completions",
            "http://127.0.0.1:8080/v1",
        ),  # llama.cpp, full path pasted
        (
            "https://dashscope.aliyuncs.com/compatible-mode/v1",
            "https://dashscope.aliyuncs.com/compatible-mode/v1",
        ),
    ],
)
def test_base_url_normalisation(given: str, want: str) -> None:
    assert normalise_base_url(given) == want


def test_bad_base_url() -> None:
    with pytest.raises(InputError, match="http"):
        normalise_base_url("127.0.0.1:8000")


def test_retry_after_forms() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after(None) is None
    assert parse_retry_after("garbage") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past


async def _serve(handler: Any) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_post("/v1/chat/completions", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/v1"


def _complete_with(
    body: Any,
    status: int = 200,
    headers: dict[str, str] | None = None,
    params: GenerationParams | None = None,
) -> tuple[Any, dict[str, Any]]:
    seen: dict[str, Any] = {}

    async def handler(request: web.Request) -> web.Response:
        seen["body"] = await request.json()
        seen["auth"] = request.headers.get("Authorization")
        return web.json_response(body, status=status, headers=headers)

    async def go() -> Any:
        runner, url = await _serve(handler)
        target = OpenAITarget(TargetSpec.parse("openai:m"), TargetConfig(base_url=url, api_key="sk-test-123"))
        try:
            return await target.complete(
                USER, params or GenerationParams(system_prompt="be safe", max_tokens=7, seed=3)
            )
        except TargetError as exc:
            return exc
        finally:
            await target.aclose()
            await runner.cleanup()

    return asyncio.run(go()), seen


def test_request_shape() -> None:
    out, seen = _complete_with(
        {"choices": [{"message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}]}
    )
    body = seen["body"]
    assert (
        body["model"] == "m" and body["max_tokens"] == 7 and body["seed"] == 3 and body["temperature"] == 0.0
    )
    assert body["messages"] == [
        {"role": "system", "content": "be safe"},
        {"role": "user", "content": "Hello 你好"},
    ]
    assert seen["auth"] == "Bearer sk-test-123"
    assert out.text == "hi" and out.usage.prompt_tokens == 0  # usage missing (older Ollama): zeros


def test_vllm_shape_with_usage() -> None:
    body = {
        "id": "cmpl-1",
        "object": "chat.completion",
        "model": "Qwen/Qwen2.5-7B-Instruct",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "ok", "tool_calls": []},
                "logprobs": None,
                "finish_reason": "length",
                "stop_reason": None,
            }
        ],
        "usage": {"prompt_tokens": 12, "total_tokens": 14, "completion_tokens": 2},
    }
    out, _ = _complete_with(body)
    assert (out.text, out.finish_reason, out.model, out.usage.completion_tokens) == (
        "ok",
        "length",
        "Qwen/Qwen2.5-7B-Instruct",
        2,
    )


def test_llamacpp_shape_null_content_and_timings() -> None:
    body = {
        "choices": [{"finish_reason": "stop", "index": 0, "message": {"content": None, "role": "assistant"}}],
        "timings": {"predicted_n": 0},
        "model": "gguf",
    }
    out, _ = _complete_with(body)
    assert out.text == ""


def test_content_parts_are_joined() -> None:
    body = {
        "choices": [
            {
                "message": {"content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
                "finish_reason": "stop",
            }
        ]
    }
    out, _ = _complete_with(body)
    assert out.text == "ab"


def test_provider_filter_block_is_its_own_kind() -> None:
    out, _ = _complete_with({"choices": [{"message": {"content": ""}, "finish_reason": "content_filter"}]})
    assert isinstance(out, TargetError) and out.kind == "blocked" and not out.retryable
    out, _ = _complete_with(
        {
            "error": {
                "code": "data_inspection_failed",
                "message": "Input data may contain inappropriate content.",
            }
        },
        status=400,
    )
    assert isinstance(out, TargetError) and out.kind == "blocked"


@pytest.mark.parametrize(
    "status, kind, retryable",
    [
        (429, "rate_limit", True),
        (503, "overload", True),
        (500, "server", True),
        (401, "auth", False),
        (404, "bad_request", False),
        (400, "bad_request", False),
    ],
)
def test_http_errors_map_to_kinds(status: int, kind: str, retryable: bool) -> None:
    out, _ = _complete_with({"error": {"message": "nope"}}, status=status, headers={"Retry-After": "3"})
    assert isinstance(out, TargetError) and out.kind == kind and out.retryable is retryable
    if status == 429:
        assert out.retry_after == 3.0


def test_unreachable_endpoint() -> None:
    async def go() -> TargetError:
        t = OpenAITarget(
            TargetSpec.parse("openai:m"), TargetConfig(base_url="http://127.0.0.1:9/v1", timeout_s=3)
        )
        try:
            await t.complete(USER, GenerationParams())
        except TargetError as exc:
            return exc
        finally:
            await t.aclose()
        raise AssertionError("expected an error")

    err = asyncio.run(go())
    assert err.kind == "unreachable" and "cannot connect" in str(err)


def test_describe_never_contains_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSAY_OPENAI_BASE_URL", "http://user:pw@127.0.0.1:8000/v1")
    monkeypatch.setenv("ASSAY_OPENAI_API_KEY", "sk-secret-xyz")
    t = make_target("openai:m")
    text = json.dumps(t.describe()) + repr(t.__dict__.get("spec"))
    assert "sk-secret-xyz" not in text and "pw@" not in text


def test_config_file_names_the_key_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "targets:\n  qwen-plus:\n    base_url: http://127.0.0.1:8000\n    api_key_env: MY_KEY\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("ASSAY_CONFIG", str(cfg))
    monkeypatch.setenv("MY_KEY", "k-1")
    c = TargetConfig.for_openai("qwen-plus")
    assert c.base_url == "http://127.0.0.1:8000" and c.api_key == "k-1"
    assert "k-1" not in c.model_dump_json()
    cfg.write_text("targets:\n  qwen-plus:\n    base_url: 5\n    bogus: 1\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"targets\.qwen-plus"):
        TargetConfig.for_openai("qwen-plus")


def echo(chat: list[dict[str, str]], max_tokens: int = 0) -> str:
    return f"{chat[-1]['content']}|{max_tokens}"


async def aecho(chat: list[dict[str, str]], **kw: Any) -> dict[str, Any]:
    return {"text": "async " + chat[-1]["content"], "usage": {"completion_tokens": 2}}


def test_python_target_sync_and_async() -> None:
    sync = PythonTarget(TargetSpec.parse("python:tests.targets.test_targets:echo"))
    out = asyncio.run(sync.complete(USER, GenerationParams(max_tokens=5)))
    assert out.text == "Hello 你好|5"
    asy = PythonTarget(TargetSpec.parse("python:tests.targets.test_targets:aecho"))
    out = asyncio.run(asy.complete(USER, GenerationParams()))
    assert out.text == "async Hello 你好" and out.usage.completion_tokens == 2


def test_python_target_bad_refs() -> None:
    with pytest.raises(InputError, match="cannot import"):
        PythonTarget(TargetSpec.parse("python:no.such.module:fn"))
    with pytest.raises(InputError, match="no attribute"):
        PythonTarget(TargetSpec.parse("python:tests.targets.test_targets:nope"))


def test_replay_target(tmp_path: Path) -> None:
    f = tmp_path / "rec.jsonl"
    f.write_text(
        json.dumps({"prompt": "Hello 你好", "text": "recorded"})
        + "\n"
        + json.dumps({"case_id": "c-1", "response": "by id"})
        + "\n",
        encoding="utf-8",
    )
    t = ReplayTarget(TargetSpec.parse(f"replay:{f}"))
    assert asyncio.run(t.complete_for("zzz", USER, GenerationParams())).text == "recorded"
    assert (
        asyncio.run(t.complete_for("c-1", [Message(role="user", content="other")], GenerationParams())).text
        == "by id"
    )
    with pytest.raises(TargetError, match="no recorded response"):
        asyncio.run(t.complete_for("c-2", [Message(role="user", content="unknown")], GenerationParams()))


def test_replay_bad_file_names_the_line(tmp_path: Path) -> None:
    f = tmp_path / "rec.jsonl"
    f.write_text('{"prompt": "a", "text": "b"}\n{not json\n', encoding="utf-8")
    with pytest.raises(InputError) as exc:
        ReplayTarget(TargetSpec.parse(f"replay:{f}"))
    assert f"{f}:2" in str(exc.value)

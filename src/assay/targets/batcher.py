"""Continuous batching for the in-process local models (`local:` targets).

A static batch pads every prompt to the longest one and runs until its longest answer is
done, so short prompts pay for long ones and finished rows keep being computed. Here one
decode loop keeps a running batch instead:

- a request joins at the next step: its prompt is prefilled on its own (with the others
  that arrived together) and its key/value cache is merged into the running batch;
- a row leaves the moment it ends (end of sequence, its token limit, or its caller gave
  up), and the cache columns no remaining row uses are dropped;
- every row keeps its own generation parameters: greedy rows take the arg-max, sampling
  rows draw from their own seeded generator, so an answer does not depend on which other
  requests happened to share its batch (up to floating-point reordering in the kernels).

The forward passes belong to a runner: `LlamaRunner` (targets/llama_runner.py) for
Llama-family models, which keeps each row's cache in its own slot, or `HFRunner` here for
any other transformers model, through its own forward pass and cache.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from assay.core.types import GenerationParams


@dataclass
class Row:
    """One request in the running batch."""

    prompt_ids: list[int]
    params: GenerationParams
    on_done: Callable[[list[int], str], None]
    on_abort: Callable[[BaseException], None] = lambda exc: None
    is_abandoned: Callable[[], bool] = lambda: False
    generated: list[int] = field(default_factory=list)
    finish: str | None = None
    generator: Any = None  # torch.Generator for sampling rows


class Runner(Protocol):
    """Forward passes over a running batch whose rows hold their own key/value cache."""

    rows: int

    def width(self) -> int:
        """Cache columns the running batch may come to need (0 when empty)."""

    def prefill(self, prompts: list[list[int]], budgets: list[int]) -> Any:
        """Append one row per prompt; return their next-token logits `[len(prompts), vocab]`."""

    def decode(self, tokens: Any) -> Any:
        """Feed one token per row; return the next logits `[rows, vocab]`."""

    def keep(self, indices: list[int]) -> list[int]:
        """Keep only the rows at `indices`; return their old indices in their new order."""

    def reset(self) -> None:
        """Drop every row."""


class ContinuousBatcher:
    """Drive a runner with a running batch. Not thread-safe: one thread calls `run()`.

    `take(free, block)` returns up to `free` new rows (blocking for the first one when
    `block` is true, i.e. the batch is empty; an empty list then means: stop). Rows that do
    not fit yet go back through `put_back`, to be offered first next time. `closing` ends
    the loop at the next step; rows still running are handed to `on_abort`.
    """

    def __init__(
        self,
        runner: Runner,
        eos_ids: Sequence[int],
        *,
        max_rows: int = 32,
        max_cells: int = 24_576,
        closing: threading.Event | None = None,
    ) -> None:
        self.runner = runner
        self.eos = frozenset(int(i) for i in eos_ids)
        self.max_rows = max_rows
        # rows × cache columns the running batch may hold: bounds the key/value memory
        # (SmolLM2: 46 KB per cell) when a long prompt joins short ones
        self.max_cells = max_cells
        self.closing = closing or threading.Event()
        self.rows: list[Row] = []
        self._last: Any = None  # [rows] the token each row feeds next
        self.stats = {"steps": 0, "prefills": 0, "tokens": 0, "prompt_tokens": 0, "padded_cells": 0}

    # -- the loop ----------------------------------------------------------------------
    def run(
        self,
        take: Callable[[int, bool], list[Row]],
        put_back: Callable[[list[Row]], None],
        on_abort: Callable[[Row], None],
    ) -> None:
        import torch

        with torch.inference_mode():
            while not self.closing.is_set():
                new = take(self.max_rows - len(self.rows), not self.rows)
                if not new and not self.rows:
                    return
                new = self._fit(new, put_back)
                for group in _by_length(new):
                    self._join(group)
                self._retire()
                if self.rows:
                    self._step()
                    self._retire()
        for row in self.rows:
            on_abort(row)
        self._reset()

    def _fit(self, new: list[Row], put_back: Callable[[list[Row]], None]) -> list[Row]:
        """Admit rows in order while the batch stays within `max_cells`; the others go back
        to the head of the queue. An empty batch always admits its first row."""
        width = self.runner.width()
        count = len(self.rows)
        for i, row in enumerate(new):
            wide = max(width, len(row.prompt_ids) + row.params.max_tokens)
            if count and (count + 1) * wide > self.max_cells:
                put_back(new[i:])
                return new[:i]
            count, width = count + 1, wide
        return new

    # -- prefill, one decode step ------------------------------------------------------
    def _join(self, new: list[Row]) -> None:
        import torch

        for row in new:
            if row.params.temperature > 0:
                row.generator = torch.Generator().manual_seed(row.params.seed)
        prompts = [r.prompt_ids for r in new]
        logits = self.runner.prefill(prompts, [r.params.max_tokens for r in new])
        first = self._pick(logits, new)
        width = max(len(p) for p in prompts)
        real = sum(len(p) for p in prompts)
        self.stats["prefills"] += 1
        self.stats["prompt_tokens"] += real
        self.stats["padded_cells"] += width * len(new) - real
        self._last = first if self._last is None else torch.cat([self._last, first])
        self.rows.extend(new)
        for row, tok in zip(new, first.tolist(), strict=True):
            self._record(row, int(tok))

    def _step(self) -> None:
        logits = self.runner.decode(self._last)
        self._last = self._pick(logits, self.rows)
        self.stats["steps"] += 1
        for row, tok in zip(self.rows, self._last.tolist(), strict=True):
            self._record(row, int(tok))

    def _pick(self, logits: Any, rows: Sequence[Row]) -> Any:
        import torch

        picked = logits.argmax(-1)
        for i, row in enumerate(rows):
            p = row.params
            if p.temperature > 0:
                probs = torch.softmax(logits[i].float() / p.temperature, dim=-1)
                if p.top_p < 1.0:
                    probs = _top_p(probs, p.top_p)
                picked[i] = torch.multinomial(probs, 1, generator=row.generator)[0]
        return picked

    def _record(self, row: Row, tok: int) -> None:
        if row.finish is not None:
            return
        if tok in self.eos:
            row.finish = "stop"
            return
        row.generated.append(tok)
        self.stats["tokens"] += 1
        if len(row.generated) >= row.params.max_tokens:
            row.finish = "length"

    # -- leaving -----------------------------------------------------------------------
    def _retire(self) -> None:
        keep: list[int] = []
        for i, row in enumerate(self.rows):
            if row.finish is not None:
                row.on_done(row.generated, row.finish)
            elif row.is_abandoned():
                pass  # its caller gave up (early stop, cancellation): stop computing it
            else:
                keep.append(i)
        if len(keep) == len(self.rows):
            return
        if not keep:
            self._reset()
            return
        order = self.runner.keep(keep)
        self.rows = [self.rows[i] for i in order]
        self._last = self._last[order]

    def _reset(self) -> None:
        self.rows = []
        self._last = None
        self.runner.reset()


class HFRunner:
    """Any transformers causal LM, through its own forward pass and `DynamicCache`.

    The running batch is left-padded: row `i` occupies the rightmost columns of the cache
    and the attention mask hides the rest, which is the layout transformers' own
    `generate()` uses, so the model code needs no change. Rows that join are prefilled
    together and their cache is merged in; rows that leave are dropped with the columns
    no remaining row uses.
    """

    def __init__(self, model: Any, pad_id: int) -> None:
        self.model = model
        self.pad_id = int(pad_id)
        self.rows = 0
        self._reset_state()

    def _reset_state(self) -> None:
        self._cache: Any = None
        self._mask: Any = None  # [rows, columns] 1 where the cache holds a real token
        self._pos: Any = None  # [rows] position of each row's next token
        self._need: list[int] = []  # columns each row may come to hold

    def width(self) -> int:
        return max(self._need, default=0)

    def reset(self) -> None:
        self.rows = 0
        self._reset_state()

    def prefill(self, prompts: list[list[int]], budgets: list[int]) -> Any:
        import torch
        from transformers import DynamicCache

        width = max(len(p) for p in prompts)
        ids = torch.full((len(prompts), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for i, p in enumerate(prompts):
            ids[i, width - len(p) :] = torch.tensor(p, dtype=torch.long)
            mask[i, width - len(p) :] = 1
        pos = (mask.cumsum(-1) - 1).clamp(min=0)
        cache = DynamicCache(config=self.model.config)
        out = self.model(
            input_ids=ids,
            attention_mask=mask,
            position_ids=pos,
            cache=cache,
            use_cache=True,
            logits_to_keep=1,
        )
        next_pos = mask.sum(-1)
        if self._cache is None:
            self._cache, self._mask, self._pos = cache, mask, next_pos
        else:
            self._cache, self._mask = _merge(self._cache, self._mask, cache, mask)
            self._pos = torch.cat([self._pos, next_pos])
        self._need.extend(len(p) + b for p, b in zip(prompts, budgets, strict=True))
        self.rows += len(prompts)
        return out.logits[:, -1, :]

    def decode(self, tokens: Any) -> Any:
        import torch

        self._mask = torch.cat([self._mask, torch.ones((self.rows, 1), dtype=torch.long)], dim=1)
        out = self.model(
            input_ids=tokens[:, None],
            attention_mask=self._mask,
            position_ids=self._pos[:, None],
            cache=self._cache,
            use_cache=True,
            logits_to_keep=1,
        )
        self._pos = self._pos + 1
        return out.logits[:, -1, :]

    def keep(self, indices: list[int]) -> list[int]:
        import torch

        if not indices:
            self.reset()
            return []
        idx = torch.tensor(indices, dtype=torch.long)
        mask = self._mask.index_select(0, idx)
        used = mask.any(dim=0).nonzero()
        start = int(used[0]) if len(used) else mask.shape[1]
        self._mask = mask[:, start:]
        for layer in self._cache.layers:
            layer.keys = layer.keys.index_select(0, idx)[:, :, start:]
            layer.values = layer.values.index_select(0, idx)[:, :, start:]
        self._pos = self._pos.index_select(0, idx)
        self._need = [self._need[i] for i in indices]
        self.rows = len(indices)
        return list(indices)


def _by_length(rows: list[Row], slack: float = 1.25) -> list[list[Row]]:
    """Split rows into prefill groups of similar prompt length, so a short prompt is not
    padded to a long one (each group is padded only to its own longest prompt)."""
    groups: list[list[Row]] = []
    for row in sorted(rows, key=lambda r: len(r.prompt_ids)):
        if groups and len(row.prompt_ids) <= slack * len(groups[-1][0].prompt_ids) + 8:
            groups[-1].append(row)
        else:
            groups.append([row])
    return groups


def _merge(cache: Any, mask: Any, new_cache: Any, new_mask: Any) -> tuple[Any, Any]:
    """Stack two left-padded batches: pad the narrower one on the left, then concatenate rows."""
    import torch
    import torch.nn.functional as F

    width = max(mask.shape[1], new_mask.shape[1])

    def widen(t: Any, dim_from_end: int) -> Any:
        missing = width - t.shape[-dim_from_end]
        if missing == 0:
            return t
        pad = [0, 0] * (dim_from_end - 1) + [missing, 0]
        return F.pad(t, pad)

    merged_mask = torch.cat([widen(mask, 1), widen(new_mask, 1)], dim=0)
    for layer, new_layer in zip(cache.layers, new_cache.layers, strict=True):
        layer.keys = torch.cat([widen(layer.keys, 2), widen(new_layer.keys, 2)], dim=0)
        layer.values = torch.cat([widen(layer.values, 2), widen(new_layer.values, 2)], dim=0)
    return cache, merged_mask


def _top_p(probs: Any, top_p: float) -> Any:
    import torch

    sorted_probs, order = torch.sort(probs, descending=True)
    cumulative = sorted_probs.cumsum(-1)
    drop = cumulative - sorted_probs > top_p
    sorted_probs[drop] = 0.0
    out = torch.zeros_like(probs).scatter(-1, order, sorted_probs)
    return out / out.sum()

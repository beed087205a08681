"""A lean decoder for Llama-family models (SmolLM2, Qwen2), for the continuous batcher.

transformers' model code is general: every decode step rebuilds attention masks, walks
its cache objects and concatenates the whole key/value cache with one new column
(`DynamicCache.update`), which on a 2-core CPU costs more than the arithmetic. This runner
computes the same network with the model's own weights and fewer, larger operations:

- **slots, not padding.** Row `i` of the running batch owns slot `i` of preallocated
  key/value buffers `[rows, kv_heads, columns, head_dim]`; its cache is columns
  `0 .. length_i - 1`. A decode step writes one column per row in place; a row that
  leaves is replaced by a row from the end (one row copied), so nothing is ever
  concatenated.
- **fused projections.** q, k and v are one matrix, gate and up another.
- **bfloat16 matrix products** (by default). The weights of the linear layers are kept in
  bfloat16, packed once into oneDNN's blocked layout where that gives the very same
  numbers (checked on a probe when the runner is built: the products then skip
  re-packing every weight on every call, 15-30% faster at 32 rows and about 2x at one
  row), and activations are rounded to bfloat16 on the way in; products accumulate in
  float32. Keys and values are kept in bfloat16 too, and attention reads them as they
  are, accumulating in float32 (a decode step by the native kernel of `kernels.py` where
  the machine runs it, 3.8-5.5x faster than PyTorch's fused kernel, else by PyTorch's);
  everything else (norms, rotary embedding, the residual stream) stays in float32. On 2
  AVX-512 BF16 cores a decode step at 32 rows takes about half the time of float32's, and
  the weights and the cache half the memory. It changes some greedy answers (23 of 64 answers to bank
  prompts stay identical to float32's; with the float32 cache of `.v2`, 98% of the main
  job's judgments agreed), so the target's identity (and with it the response-cache key)
  names the precision: `float32` computes what transformers computes, token for token in
  the tests.
- **batch-invariant.** A row's numbers do not depend on the other rows: attention runs
  over whole chunks of columns (`_attend`) or over each row's own columns (the native
  kernel), and every matrix product is given a row count whose kernel rounds as the
  others do (`row_padding`, probed at start, at least `MIN_ROWS`; at most `MAX_ROWS`).
  So an answer is the same alone or in any batch, and two runs give the same answers
  whatever the timing of their requests. (Checked with one thread per worker, the default
  on two cores; threads that split a product may round by the split.)
- **attention per run of rows.** A decode step attends in runs of neighbouring slots,
  each over its own longest row's columns (`attention_groups`), and rows are kept
  longest first when that saves more than the copying costs (`_arranged`), so a short
  row does not read a long neighbour's empty columns.

Prompts are prefilled right-padded in groups of similar length; a padded position's
keys are written but never attended to, because every row only attends to columns below
its own length.

**Shared prompt starts.** Keys and values of a start that several prompts share (the chat
template's opening and system prompt, a judge's rubric, an attack's framing) are computed
once and kept (`share_prefix`, and `note_prompt`, which finds a start of at least
`MIN_SHARED` tokens that an earlier prompt had, in blocks of `PREFIX_BLOCK`); a prompt
that begins with a kept start is prefilled from its end. Up to `PREFIX_BUDGET_BYTES` are
kept, the least recently used dropped first. A position's numbers do not depend on
whether its start was kept (attention over masked columns adds exact zeros, products are
batch-invariant), so this changes no answer: a speed-up only.
"""

from __future__ import annotations

import copy
import functools
from collections import OrderedDict
from typing import Any

CHUNK = 64  # attention columns are taken in whole chunks (see `LlamaRunner._attend`)
SUPPORTED_TYPES = frozenset({"llama", "qwen2", "mistral"})
PRECISIONS = ("bfloat16", "float32")


def unsupported_reason(model: Any) -> str | None:
    """Why this runner cannot run `model` (None when it can): the architecture must be a
    plain pre-norm decoder with SiLU-gated MLPs, rotary positions and full attention."""
    config = model.config
    kind = getattr(config, "model_type", None)
    if kind not in SUPPORTED_TYPES:
        return f"model type {kind!r}"
    if getattr(config, "hidden_act", "silu") != "silu":
        return f"activation {config.hidden_act!r}"
    if getattr(config, "use_sliding_window", False) or (
        kind != "qwen2" and getattr(config, "sliding_window", None)
    ):
        return "sliding-window attention"  # (Qwen2 names a window it does not use)
    if getattr(config, "pretraining_tp", 1) not in (None, 1):
        return "tensor-parallel weights"
    inner = getattr(model, "model", None)
    if inner is None or not hasattr(inner, "layers") or not hasattr(inner, "rotary_emb"):
        return "unexpected module layout"
    return None


#: prompt starts are compared in blocks of this many tokens (`LlamaRunner.note_prompt`)
PREFIX_BLOCK = 16
#: the fewest tokens a found shared start must add to the kept start a prompt already has:
#: computing a start on its own pays from the third prompt that shares it, and a product
#: of fewer rows than `MIN_ROWS` is padded to that many anyway
MIN_SHARED = 48
#: bytes of kept starts' keys and values per runner (per worker)
PREFIX_BUDGET_BYTES = 128 * 2**20
#: block-boundary hashes of earlier prompts remembered before the memory is cleared
SEEN_LIMIT = 200_000

MAX_ROWS = 512  # most rows one matrix product is given (see `LlamaRunner._linear`)
#: the batch size oneDNN packs the weights for (packed products round as plain ones do)
PACK_ROWS = 32


def _packed_product(x: Any, w: Any) -> Any:
    import torch

    return torch.ops.mkldnn._linear_pointwise(x, w, None, "none", [], "")


#: row counts up to this are probed (`row_padding`); more rows, up to `MAX_ROWS`, are
#: taken to round as the probe's reference does
PROBE_ROWS = 64
_PADDING: dict[tuple[Any, ...], list[int]] = {}
#: the fewest rows a product is given whatever the probe finds: on one host the random
#: probe found every count from 1 agreeing, while a model's own activations came out
#: differently at 1 and 3 rows of the down projection (the greedy-neighbours test failed);
#: from 40 rows they agreed
MIN_ROWS = 40


def row_padding(shape: tuple[int, ...], precision: str, packed: bool) -> list[int]:
    """For each row count `m` up to `PROBE_ROWS`, the row count (≥ m) to give a product
    with a weight of `shape` so that every row comes out exactly as in a product of any
    other row count (at most `MAX_ROWS`).

    oneDNN and MKL pick kernels by the number of rows, and the kernels round differently in
    the last bit (seen here with bfloat16 and a 576 × 1536 weight: 1–5 and 37+ rows agree,
    6–36 do not), which would make a greedy answer depend on how many requests shared its
    batch. Checked once per process and weight shape on random data, in the threads the
    caller runs with."""
    key = (shape, precision, packed)
    if key not in _PADDING:
        import torch

        dtype = getattr(torch, precision)
        gen = torch.Generator().manual_seed(0)
        # the fewest rows, at least MIN_ROWS, from which every count up to PROBE_ROWS rounds
        # alike (fewer rows take the small kernels, whose agreement can hold on random data
        # and fail on a model's: seen). Counts are tried from the top down and each draw stops
        # at its first disagreement: no count below the answer is ever computed
        least = MIN_ROWS
        with torch.inference_mode():
            for _ in range(2):  # two draws: one may round alike by chance
                out_features, in_features = shape
                w = torch.randn(out_features, in_features, generator=gen).to(dtype)
                if packed:
                    w = torch.ops.mkldnn._reorder_linear_weight(w, PACK_ROWS)
                x = torch.randn(MAX_ROWS, in_features, generator=gen).to(dtype)

                def product(rows: Any, w: Any = w) -> Any:
                    return _packed_product(rows, w) if packed else torch.nn.functional.linear(rows, w)

                reference = product(x[:PROBE_ROWS])
                m = PROBE_ROWS - 1
                while m >= least and torch.equal(product(x[:m]), reference[:m]):
                    m -= 1
                least = max(least, m + 1)
        _PADDING[key] = [max(m, least) for m in range(PROBE_ROWS + 1)]
    return _PADDING[key]


_AGREES: bool | None = None


def packing_agrees() -> bool:
    """Whether bfloat16 products with packed weights give exactly the numbers of plain
    `F.linear` here (checked once per process on a random probe: 2 to 40 rows, a
    weight shaped like a projection). Where oneDNN lacks the packed kernels or rounds
    differently, the runner keeps plain weights, so the answers never depend on it."""
    global _AGREES
    if _AGREES is None:
        import torch
        import torch.nn.functional as F

        try:
            if not (torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()):
                _AGREES = False
                return False
            gen = torch.Generator().manual_seed(0)
            w = torch.randn(192, 576, generator=gen).bfloat16()
            x = torch.randn(40, 576, generator=gen).bfloat16()
            packed = torch.ops.mkldnn._reorder_linear_weight(w, PACK_ROWS)
            plain = F.linear(x, w)
            _AGREES = all(
                torch.equal(_packed_product(x[:n], packed), plain[:n]) for n in (2, 3, 8, 31, 32, 33, 40)
            )
        except (RuntimeError, AttributeError):  # no such operator in this build of torch
            _AGREES = False
    return _AGREES


class LlamaRunner:
    """Forward passes of a Llama-family model over a running batch kept in slots.

    `prefill(prompts)` appends rows and returns their next-token logits, `decode(tokens)`
    feeds one token per row and returns the next logits, `keep(indices)` keeps only those
    rows (and says in which order). Not thread-safe.
    """

    def __init__(
        self,
        model: Any,
        precision: str = "bfloat16",
        max_positions: int | None = None,
        pack: bool | None = None,
        attention_kernel: bool = True,
    ) -> None:
        """`pack`: pack bfloat16 weights for oneDNN (default: where `packing_agrees()`).
        `attention_kernel`: at bfloat16, decode attention by `kernels.decode_attention`
        where this machine can build and run it (else, or False: PyTorch's kernel)."""
        import torch

        from assay.targets import kernels

        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
        reason = unsupported_reason(model)
        if reason is not None:
            raise ValueError(f"LlamaRunner does not support this model: {reason}")
        config = model.config
        #: the products' precision, in which keys and values are also kept and attended
        #: (bfloat16 halves the cache's memory and the bytes attention reads)
        self.dtype = getattr(torch, precision)
        self.packed = precision == "bfloat16" and (packing_agrees() if pack is None else pack)
        self.heads = config.num_attention_heads
        self.kv_heads = getattr(config, "num_key_value_heads", None) or self.heads
        self.head_dim = getattr(config, "head_dim", None) or config.hidden_size // self.heads
        self.group = self.heads // self.kv_heads
        self.scale = self.head_dim**-0.5
        #: the native decode attention (None: PyTorch's fused kernel, over runs of rows)
        self.kernel = (
            kernels.decode_attention_for(precision, self.head_dim, self.group) if attention_kernel else None
        )
        inner = model.model
        self.embed = inner.embed_tokens.weight.detach()
        self.final_norm = _norm(inner.norm)
        self.lm_head = self._weight(model.lm_head.weight)
        self.lm_bias = _bias(model.lm_head)
        self.layers = [self._layer(layer) for layer in inner.layers]
        # rows each product is padded to, per weight shape: a row's numbers must not
        # depend on how many rows share its batch
        weights = [self.lm_head, *(self.layers[0][name] for name in ("qkv", "o", "gate_up", "down"))]
        shapes = {tuple(w.shape) for w in weights}
        self.pad_rows = {shape: row_padding(shape, precision, self.packed) for shape in shapes}
        limit = max_positions or getattr(config, "max_position_embeddings", None) or 32_768
        self.max_positions = int(limit)
        positions = torch.arange(self.max_positions)[None]
        with torch.inference_mode():
            cos, sin = inner.rotary_emb(self.embed[:1].float(), positions)
        self.cos, self.sin = cos[0].float(), sin[0].float()  # [positions, head_dim]
        self.keys: list[Any] = []
        self.values: list[Any] = []
        self.lengths = torch.zeros(0, dtype=torch.long)  # cache columns each row holds
        self.need = torch.zeros(0, dtype=torch.long)  # columns each row may come to hold
        self.rows = 0
        #: rows × columns the key/value buffers may hold (None: no bound); the batcher keeps
        #: its batch within the same budget
        self.max_cells: int | None = None
        #: kept prompt starts -> their keys and values per layer, least recently used first
        self.starts: OrderedDict[tuple[int, ...], list[tuple[Any, Any]]] = OrderedDict()
        self._seen: set[int] = set()  # hashes of earlier prompts' starts, at block boundaries
        #: prompt tokens prefilled, and those of them read from kept starts instead
        self.prefix_stats = {"prompt_tokens": 0, "reused_tokens": 0, "start_tokens": 0}

    def sibling(self) -> LlamaRunner:
        """Another runner over the same weights (they are only read), with a batch, cache
        and kept prompt starts of its own: one per worker thread."""
        other = copy.copy(self)
        other.reset()
        other.starts, other._seen = OrderedDict(), set()
        other.prefix_stats = dict.fromkeys(self.prefix_stats, 0)
        return other

    # -- weights -----------------------------------------------------------------------
    def _weight(self, w: Any) -> Any:
        import torch

        w = w.detach().to(self.dtype).contiguous()
        return torch.ops.mkldnn._reorder_linear_weight(w, PACK_ROWS) if self.packed else w

    def _layer(self, layer: Any) -> dict[str, Any]:
        import torch

        att, mlp = layer.self_attn, layer.mlp
        qkv = [att.q_proj, att.k_proj, att.v_proj]
        return {
            "ln1": _norm(layer.input_layernorm),
            "ln2": _norm(layer.post_attention_layernorm),
            "qkv": self._weight(torch.cat([p.weight for p in qkv])),
            "qkv_bias": _cat_bias(*qkv),
            "o": self._weight(att.o_proj.weight),
            "o_bias": _bias(att.o_proj),
            "gate_up": self._weight(torch.cat([mlp.gate_proj.weight, mlp.up_proj.weight])),
            "gate_up_bias": _cat_bias(mlp.gate_proj, mlp.up_proj),
            "down": self._weight(mlp.down_proj.weight),
            "down_bias": _bias(mlp.down_proj),
            "inter": mlp.gate_proj.out_features,
        }

    def _linear(self, x: Any, w: Any, bias: Any) -> Any:
        import torch
        import torch.nn.functional as F

        x = x.to(self.dtype, memory_format=torch.contiguous_format)
        rows = x.numel() // x.shape[-1]
        flat = x.reshape(rows, -1)
        pad = self.pad_rows[tuple(w.shape)]
        # some row counts take other kernels, whose rounding differs in the last bit: a
        # slice of at most MAX_ROWS rows (oneDNN blocks bfloat16 products differently past
        # about 520), padded with zero rows to a count that rounds alike, keeps a row's
        # answer the same alone or in any batch
        parts = []
        for start in range(0, rows, MAX_ROWS):
            part = flat[start : start + MAX_ROWS]
            n = part.shape[0]
            if n < len(pad) and pad[n] != n:
                part = F.pad(part, (0, 0, 0, pad[n] - n))
            parts.append(self._product(part, w)[:n])
        y = (parts[0] if len(parts) == 1 else torch.cat(parts)).reshape(*x.shape[:-1], -1).float()
        return y if bias is None else y + bias

    def _product(self, x: Any, w: Any) -> Any:
        import torch.nn.functional as F

        return _packed_product(x, w) if self.packed else F.linear(x, w)

    # -- cache slots -------------------------------------------------------------------
    def width(self) -> int:
        """Cache columns the running batch may come to need (its longest prompt + answer)."""
        return int(self.need.max()) if self.rows else 0

    def _reserve(self, rows: int, columns: int) -> None:
        """Make the buffers hold at least `rows` × `columns`, keeping what they hold."""
        import torch

        have_rows = self.keys[0].shape[0] if self.keys else 0
        have_cols = self.keys[0].shape[2] if self.keys else 0
        if rows <= have_rows and columns <= have_cols:
            return
        new_rows, new_cols = -(-max(rows, have_rows) // 8) * 8, _chunks(max(columns, have_cols))
        if self.max_cells and new_rows * new_cols > self.max_cells:
            # the most rows seen once and the widest row seen later would hold more than
            # the budget: size for what the batch needs now
            new_rows, new_cols = -(-rows // 8) * 8, _chunks(columns)
        cols = min(have_cols, new_cols)  # the rows' caches fit: each is at most width() long
        for name in ("keys", "values"):
            # one allocation for every layer: it is returned to the system when freed, where
            # many layer-sized ones would stay in the allocator's heap
            buf = torch.zeros(
                len(self.layers), new_rows, self.kv_heads, new_cols, self.head_dim, dtype=self.dtype
            )
            for i, old in enumerate(getattr(self, name)):
                buf[i, : self.rows, :, :cols] = old[: self.rows, :, :cols]
            setattr(self, name, list(buf.unbind(0)))

    def reset(self) -> None:
        import torch

        self.keys, self.values = [], []
        self.lengths = torch.zeros(0, dtype=torch.long)
        self.need = torch.zeros(0, dtype=torch.long)
        self.rows = 0

    def keep(self, indices: list[int]) -> list[int]:
        """Keep the rows at `indices` (the others leave) and return their old indices in
        their new order: a row from the end fills each slot left empty, so only as many
        rows are copied as left (a row's cache is copied up to its own length)."""
        import torch

        if not indices:
            self.reset()
            return []
        size = len(indices)
        kept = set(indices)
        movers = [i for i in indices if i >= size]
        order = self._arranged([i if i in kept else movers.pop() for i in range(size)])
        moved = [(dst, src) for dst, src in enumerate(order) if dst != src]
        if moved:
            dst = torch.tensor([d for d, _ in moved])
            src = torch.tensor([s for _, s in moved])
            cols = int(self.lengths[src].max())
            for store in (self.keys, self.values):
                for buf in store:
                    buf[dst, :, :cols] = buf[src, :, :cols]  # the right side is a copy
        idx = torch.tensor(order, dtype=torch.long)
        self.lengths = self.lengths.index_select(0, idx)
        self.need = self.need.index_select(0, idx)
        self.rows = size
        return order

    def _arranged(self, order: list[int]) -> list[int]:
        """`order` (the fewest rows moved), or the kept rows longest first when attending
        over their own columns in runs (`attention_groups`) then saves, over the next
        `SORTED_STEPS` steps, more than the rows' copying costs."""
        if self.kernel is not None:
            return order  # the kernel attends over each row's own columns, in any order
        lengths = self.lengths.tolist()
        ranked = sorted(order, key=lambda i: -lengths[i])

        def cells(rows: list[int]) -> tuple[int, int]:  # attended per step, copied once
            spans = tuple(_chunks(lengths[i] + 1) for i in rows)  # as `decode` attends
            copied = sum(lengths[src] for dst, src in enumerate(rows) if dst != src)
            return attention_cost(spans), copied

        attend_as_is, copy_as_is = cells(order)
        attend_ranked, copy_ranked = cells(ranked)
        gain = (attend_as_is - attend_ranked) * SORTED_STEPS
        return ranked if gain > COPY_CELLS * (copy_ranked - copy_as_is) else order

    # -- forward passes ------------------------------------------------------------------
    def share_prefix(self, prefix: list[int]) -> None:
        """Keep the keys and values of `prefix`: a prompt that starts with it (and goes on
        after it) is then prefilled from its end."""
        if len(prefix) >= 2 and tuple(prefix) not in self.starts:
            self._keep_start(tuple(prefix))

    def note_prompt(self, prompt: list[int]) -> None:
        """Before `prompt` is prefilled: where an earlier prompt began with the same
        `MIN_SHARED` or more tokens beyond the longest kept start `prompt` has (whole blocks
        of `PREFIX_BLOCK`), keep that start. Called once per prompt, in arrival order."""
        block = PREFIX_BLOCK
        hashes, h = [], 0
        for end in range(block, len(prompt), block):  # a start leaves at least one token
            h = hash((h, *prompt[end - block : end]))
            hashes.append(h)
        shared = 0
        for i in range(len(hashes) - 1, -1, -1):
            if hashes[i] in self._seen:
                shared = (i + 1) * block
                break
        if len(self._seen) + len(hashes) > SEEN_LIMIT:
            self._seen.clear()
        self._seen.update(hashes)
        if shared - len(self._start_of(prompt)) >= MIN_SHARED:
            self._keep_start(tuple(prompt[:shared]))

    def _start_of(self, prompt: list[int]) -> tuple[int, ...]:
        """The longest kept start `prompt` begins with and goes on after (() when none)."""
        best: tuple[int, ...] = ()
        n = len(prompt)
        for start in self.starts:
            p = len(start)
            if len(best) < p < n and prompt[:p] == list(start):
                best = start
        return best

    def _keep_start(self, start: tuple[int, ...]) -> None:
        """Compute and keep `start`'s keys and values (from a kept start it begins with),
        dropping the least recently used starts beyond the budget."""
        import torch

        base = self._start_of(list(start))
        with torch.inference_mode():
            kv: list[tuple[Any, Any]] = []
            ids = torch.tensor([start[len(base) :]], dtype=torch.long)
            self._forward(ids, len(base), None, kv, self.starts[base] if base else None)
        if base:
            self.starts.move_to_end(base)
        self.starts[start] = kv
        self.prefix_stats["start_tokens"] += len(start) - len(base)
        per_token = sum(k[0, :, 0].numel() * k.element_size() * 2 for k, _ in kv)
        while len(self.starts) > 1 and sum(len(s) for s in self.starts) * per_token > PREFIX_BUDGET_BYTES:
            self.starts.popitem(last=False)

    def prefill(self, prompts: list[list[int]], budgets: list[int]) -> Any:
        """Append one row per prompt and return their next-token logits `[len(prompts), vocab]`.

        `budgets` are the tokens each row may still generate (to size its slot). Prompts
        that begin with a kept start are computed from its end, one pass per start."""
        import torch

        g = len(prompts)
        lengths = torch.tensor([len(p) for p in prompts], dtype=torch.long)
        need = lengths + torch.tensor(budgets, dtype=torch.long)
        if int(need.max()) > self.max_positions:
            raise ValueError(
                f"prompt and answer of {int(need.max())} tokens exceed {self.max_positions} positions"
            )
        first = self.rows
        self._reserve(first + g, max(int(need.max()), self.width()))
        by_start: dict[tuple[int, ...], list[int]] = {}
        for i, q in enumerate(prompts):
            by_start.setdefault(self._start_of(q), []).append(i)
        last = torch.empty(0)
        for start, members in by_start.items():
            p = len(start)
            if start:
                self.starts.move_to_end(start)
            width = max(len(prompts[i]) for i in members) - p
            ids = torch.zeros((len(members), width), dtype=torch.long)
            for row, i in enumerate(members):
                ids[row, : len(prompts[i]) - p] = torch.tensor(prompts[i][p:], dtype=torch.long)
            slots: Any = (
                slice(first, first + g)
                if len(by_start) == 1
                else torch.tensor([first + i for i in members], dtype=torch.long)
            )
            x = self._forward(ids, p, slots, None, self.starts[start] if start else None)
            ends = x[torch.arange(len(members)), lengths[members] - 1 - p]  # [members, hidden]
            if len(by_start) == 1:
                last = ends
            else:
                if not last.numel():
                    last = torch.empty((g, ends.shape[-1]), dtype=ends.dtype)
                last[members] = ends
            self.prefix_stats["reused_tokens"] += p * len(members)
        self.prefix_stats["prompt_tokens"] += int(lengths.sum())
        self.lengths = torch.cat([self.lengths, lengths])
        self.need = torch.cat([self.need, need])
        self.rows = first + g
        return self._logits(last)

    def _forward(
        self,
        ids: Any,
        offset: int,
        slots: Any,
        keep: list[tuple[Any, Any]] | None,
        start: list[tuple[Any, Any]] | None = None,
    ) -> Any:
        """Hidden states of `ids` `[g, width]` (right-padded) at positions `offset …`, after a
        kept start's keys and values (`start`, `offset` positions long). Keys and values go
        to `slots` of the cache (a slice or row indices; the start included) or, for a start
        being kept, to `keep`."""
        import torch
        import torch.nn.functional as F

        g, width = ids.shape
        x = F.embedding(ids, self.embed).float()  # [g, width, hidden]
        cos, sin = self.cos[offset : offset + width], self.sin[offset : offset + width]
        span = _chunks(offset + width)
        # position i (after the prefix) sees the prefix and positions up to i; a query row
        # per (query head of a kv head, position)
        mask = torch.arange(span)[None, :] <= (torch.arange(width)[:, None] + offset)
        mask = mask.repeat(self.group, 1)[None, None]  # [1, 1, group * width, span]
        for n, layer in enumerate(self.layers):
            h = self._linear(self._rms_norm(x, layer["ln1"]), layer["qkv"], layer["qkv_bias"])
            q, k, v = self._split(h, (g, width))  # [g, heads, width, dim]
            q, k, v = self._rotated(q, k, v, cos, sin)
            if start is not None:
                pk, pv = start[n]
                k = torch.cat([pk.expand(g, -1, -1, -1), k], dim=2)
                v = torch.cat([pv.expand(g, -1, -1, -1), v], dim=2)
            if slots is not None:
                self.keys[n][slots, :, : k.shape[2]] = k
                self.values[n][slots, :, : v.shape[2]] = v
            if keep is not None:
                keep.append((k.contiguous(), v.contiguous()))  # not views holding all of q, k, v
            if span > k.shape[2]:  # whole chunks of columns; the padding is masked
                k = F.pad(k, (0, 0, 0, span - k.shape[2]))
                v = F.pad(v, (0, 0, 0, span - v.shape[2]))
            q = q.reshape(g, self.kv_heads, self.group * width, self.head_dim)
            a = self._attend(q, k, v, mask).view(g, self.heads, width, self.head_dim)
            a = a.transpose(1, 2).reshape(g, width, self.heads * self.head_dim)
            x = x + self._linear(a, layer["o"], layer["o_bias"])
            x = x + self._mlp(self._rms_norm(x, layer["ln2"]), layer)
        return x

    def decode(self, tokens: Any) -> Any:
        """Feed one token per row (`tokens`: `[rows]`) and return the next logits `[rows, vocab]`."""
        import torch
        import torch.nn.functional as F

        from assay.targets.kernels import attend

        n = self.rows
        pos = self.lengths  # where each row's new token goes
        x = F.embedding(tokens, self.embed).float()  # [n, hidden]
        cos, sin = self.cos[pos][:, None, None], self.sin[pos][:, None, None]  # [n, 1, 1, dim]
        if self.kernel is not None:
            # each row attends over exactly its own columns, queries in float32
            lengths = pos + 1
            scratch = torch.empty(self.group * int(lengths.max()))
        else:
            # runs of rows, each attending over its own longest row's columns only (a row's
            # result does not depend on the columns beyond its own, see `_attend`)
            groups = attention_groups(tuple(_chunks(p + 1) for p in pos.tolist()))
            masks = [
                (torch.arange(span)[None, :] <= pos[lo:hi, None])[:, None, None, :] for lo, hi, span in groups
            ]
        rows = torch.arange(n)
        for i, layer in enumerate(self.layers):
            h = self._linear(self._rms_norm(x, layer["ln1"]), layer["qkv"], layer["qkv_bias"])
            q, k, v = self._split(h[:, None], (n, 1))  # [n, heads, 1, dim]
            q, k, v = self._rotated(q, k, v, cos, sin, queries=self.kernel is None)
            keys, values = self.keys[i], self.values[i]
            keys[rows, :, pos] = k[:, :, 0]
            values[rows, :, pos] = v[:, :, 0]
            # grouped-query attention without copying the cache: a kv head's query heads
            # become the query "positions" of one attention over that head's keys
            q = q.reshape(n, self.kv_heads, self.group, self.head_dim)
            if self.kernel is not None:
                a = attend(self.kernel, q, keys, values, lengths, self.scale, scratch)
            else:
                parts = [
                    self._attend(q[lo:hi], keys[lo:hi, :, :span], values[lo:hi, :, :span], mask)
                    for (lo, hi, span), mask in zip(groups, masks, strict=True)
                ]
                a = parts[0] if len(parts) == 1 else torch.cat(parts)
            x = x + self._linear(a.reshape(n, self.heads * self.head_dim), layer["o"], layer["o_bias"])
            x = x + self._mlp(self._rms_norm(x, layer["ln2"]), layer)
        self.lengths = self.lengths + 1
        return self._logits(x)

    # -- pieces ----------------------------------------------------------------------------
    def _split(self, h: Any, lead: tuple[int, int]) -> tuple[Any, Any, Any]:
        g, t = lead
        d = self.head_dim
        q, k, v = h.split([self.heads * d, self.kv_heads * d, self.kv_heads * d], dim=-1)
        q = q.reshape(g, t, self.heads, d).transpose(1, 2)
        k = k.reshape(g, t, self.kv_heads, d).transpose(1, 2)
        v = v.reshape(g, t, self.kv_heads, d).transpose(1, 2)
        return q, k, v

    def _rotated(
        self, q: Any, k: Any, v: Any, cos: Any, sin: Any, queries: bool = True
    ) -> tuple[Any, Any, Any]:
        """`q` and `k` rotated to their positions, and all three in the cache's precision
        (`queries` False: `q` stays float32, for the native kernel)."""
        q = _rope(q, cos, sin)
        return (q.to(self.dtype) if queries else q), _rope(k, cos, sin).to(self.dtype), v.to(self.dtype)

    def _attend(self, q: Any, k: Any, v: Any, allowed: Any) -> Any:
        """Attention of `q` `[rows, kv_heads, queries, dim]` over `k`, `v` `[rows, kv_heads,
        columns, dim]` where `allowed` (broadcast to `[rows, 1, queries, columns]`) is true.

        A row's result does not depend on its batch neighbours or on how many columns beyond
        its own it is given (whole chunks of `CHUNK`, masked): PyTorch's fused CPU kernel
        computes each (row, head) on its own, a masked column adds exact zeros, and columns
        are blocked from the first one, so a longer neighbour changes no rounding (checked
        by the tests, as is every product here). The query heads that share a key/value
        head come as that head's query rows: one kernel call per run of rows."""
        import torch.nn.functional as F

        return F.scaled_dot_product_attention(q, k, v, attn_mask=allowed, scale=self.scale)

    def _mlp(self, h: Any, layer: dict[str, Any]) -> Any:
        import torch.nn.functional as F

        gu = self._linear(h, layer["gate_up"], layer["gate_up_bias"])
        gate, up = gu.split(layer["inter"], dim=-1)
        return self._linear(F.silu(gate) * up, layer["down"], layer["down_bias"])

    @staticmethod
    def _rms_norm(x: Any, norm: tuple[Any, float]) -> Any:
        """RMSNorm with `norm` = (weight, eps), as transformers computes it in float32."""
        import torch

        weight, eps = norm
        return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))

    def _logits(self, x: Any) -> Any:
        return self._linear(self._rms_norm(x, self.final_norm), self.lm_head, self.lm_bias)


#: what one more run of rows costs attention, in cache cells (rows × columns): its dozen
#: small operations per layer take as long as attending over about this many cells
GROUP_CELLS = 320
#: steps a longest-first order is counted to serve before arrivals and departures undo it
SORTED_STEPS = 8
#: what copying one cell (a row's keys and values at one position, every layer) costs, in
#: cells attended
COPY_CELLS = 2


def attention_groups(spans: tuple[int, ...]) -> tuple[tuple[int, int, int], ...]:
    """Split rows (in slot order, each with the columns it attends over) into runs
    `(start, end, columns)` that minimise the cells attended plus `GROUP_CELLS` per run."""
    return _partition(spans)[1]


def attention_cost(spans: tuple[int, ...]) -> int:
    """Cells attended (plus `GROUP_CELLS` per run) by the best runs of `spans`."""
    return _partition(spans)[0]


@functools.lru_cache(maxsize=1024)
def _partition(spans: tuple[int, ...]) -> tuple[int, tuple[tuple[int, int, int], ...]]:
    n = len(spans)
    best = [0] * (n + 1)
    start_of = [0] * (n + 1)
    for end in range(1, n + 1):
        widest, cost, start_at = 0, -1, 0
        for start in range(end - 1, -1, -1):
            widest = max(widest, spans[start])
            c = best[start] + (end - start) * widest + GROUP_CELLS
            if cost < 0 or c < cost:
                cost, start_at = c, start
        best[end], start_of[end] = cost, start_at
    runs: list[tuple[int, int, int]] = []
    end = n
    while end > 0:
        start = start_of[end]
        runs.append((start, end, max(spans[start:end])))
        end = start
    return best[n], tuple(reversed(runs))


def _chunks(columns: int) -> int:
    """`columns` rounded up to whole attention chunks."""
    return -(-columns // CHUNK) * CHUNK


def _norm(module: Any) -> tuple[Any, float]:
    eps = getattr(module, "variance_epsilon", None) or getattr(module, "eps", None) or 1e-6
    return module.weight.detach().float(), float(eps)


def _bias(linear: Any) -> Any:
    return None if getattr(linear, "bias", None) is None else linear.bias.detach().float()


def _cat_bias(*linears: Any) -> Any:
    """The biases of linear layers whose weights are fused (zeros for one without), or None."""
    import torch

    if all(m.bias is None for m in linears):
        return None
    return torch.cat([_bias(m) if m.bias is not None else torch.zeros(m.out_features) for m in linears])


def _rope(x: Any, cos: Any, sin: Any) -> Any:
    import torch

    half = x.shape[-1] // 2
    rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + rotated * sin

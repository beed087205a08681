"""The local runner's one native kernel: decode-step attention (`_attend.c`), built on demand.

PyTorch's fused CPU attention reaches about 10 GFLOP/s on a decode step's shapes (a few
query heads per key/value head, a few hundred columns, bfloat16 keys): it was nearly half
of a decode step at 48 rows. `_attend.c` does the same work 3.8-5.5x faster on AVX-512, by
widening each key and value once for all the query heads that share it.

It is compiled once per source and compiler flags with the system's C compiler into
`$ASSAY_HOME/kernels/` and loaded with ctypes (which releases the GIL during the call). It
is used only where it can be built and run: an x86-64 CPU with AVX-512 (F and BW), or with
AVX2 and FMA (the same operations on pairs of 8-lane registers), and a C compiler.
Elsewhere, or with `ASSAY_ATTENTION_KERNEL=0`, the runner keeps PyTorch's kernel.

PyTorch's kernel rounds differently, so the local target's identity says which one
answered (`identity`, read by `LocalTarget.cache_identity`). Both builds are written to
give the bits of `tests/targets/attend_reference.c` (the same arithmetic one float at a
time), and a test checks the build in use against it; until that check has passed on an
AVX-512 machine as well as on an AVX2 one, the two builds keep apart identities.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

SOURCE = Path(__file__).with_name("_attend.c")
#: the builds, best first: (name, the CPU flags it needs, its compiler flags). Explicit
#: intrinsics and no FMA contraction left to the compiler, so a build's numbers are the same
#: whichever compiler built it.
BUILDS = (
    ("avx512", {"avx512f", "avx512bw"}, ("-mavx512f", "-mavx512bw", "-mfma")),
    ("avx2", {"avx2", "fma"}, ("-mavx2", "-mfma")),
)
COMMON_FLAGS = ("-O3", "-ffp-contract=off", "-fPIC", "-shared")
#: the response-cache identity's version for answers attended by each build (".v4": the
#: AVX-512 build, whose machine code is the same as when ".v4" was first given out)
IDENTITY = {"avx512": "v4", "avx2": "v4-avx2"}


def _cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def unavailable_reason() -> str | None:
    """Why the kernel cannot be used here, or None when it can (built, or buildable)."""
    if os.environ.get("ASSAY_ATTENTION_KERNEL", "1").strip() in ("0", "false", "no", "off"):
        return "turned off by ASSAY_ATTENTION_KERNEL"
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return f"needs x86-64, not {platform.machine()}"
    if build() is None:
        return "the CPU has neither AVX-512 nor AVX2 with FMA"
    if _compiler() is None:
        return "no C compiler (cc, gcc or clang) on PATH"
    return None


@functools.lru_cache(maxsize=1)
def build() -> str | None:
    """The best build this CPU runs (a `BUILDS` name), or None."""
    flags = _cpu_flags()
    return next((name for name, needs, _ in BUILDS if needs <= flags), None)


def identity() -> str | None:
    """The identity version of answers attended by the kernel here, or None where the
    kernel is not used."""
    if decode_attention() is None:
        return None
    name = build()
    return IDENTITY[name] if name else None


def _compiler() -> str | None:
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if name and shutil.which(name):
            return name
    return None


@functools.lru_cache(maxsize=1)
def decode_attention() -> Any:
    """The compiled kernel (a ctypes function), or None where it cannot be used."""
    if unavailable_reason() is not None:
        return None
    try:
        lib = ctypes.CDLL(str(_built()))
    except (OSError, subprocess.SubprocessError):
        return None
    fn = lib.assay_decode_attention
    p, i64, i32 = ctypes.c_void_p, ctypes.c_int64, ctypes.c_int
    fn.argtypes = [p, p, p, i64, i64, i64, p, i32, i32, i32, i32, ctypes.c_float, p, p]
    fn.restype = ctypes.c_int
    return fn


def _built() -> Path:
    """The shared library for this source and these flags, compiled once (atomically)."""
    from assay.core.config import assay_home

    name = build()
    assert name is not None
    flags = (*COMMON_FLAGS, *next(f for n, _, f in BUILDS if n == name))
    source = SOURCE.read_bytes()
    digest = hashlib.sha256(source + " ".join(flags).encode()).hexdigest()[:16]
    folder = assay_home() / "kernels"
    target = folder / f"attend-{name}-{digest}.so"
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    cc = _compiler()
    assert cc is not None
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        out = Path(tmp) / target.name
        subprocess.run(
            [cc, *flags, "-o", str(out), str(SOURCE)], check=True, capture_output=True, timeout=120
        )
        out.replace(target)  # two processes building at once both end with a whole file
    return target


def attend(fn: Any, q: Any, keys: Any, values: Any, lengths: Any, scale: float, scratch: Any) -> Any:
    """Run the kernel: `q` `[rows, kv_heads, group, dim]` float32 over the first `lengths[r]`
    columns of `keys`, `values` `[≥rows, kv_heads, columns, dim]` bfloat16 (a view whose
    last dimension is contiguous); `scratch` holds at least group × max(lengths) floats.
    Returns the attention output shaped like `q`."""
    import torch

    q = q.contiguous()
    rows, kv_heads, group, dim = q.shape
    if keys.stride() != values.stride() or keys.stride(-1) != 1:
        raise ValueError("keys and values must share strides, with a contiguous last dimension")
    lens = lengths.to(torch.int32).contiguous()
    out = torch.empty_like(q)
    rc = fn(
        q.data_ptr(),
        keys.data_ptr(),
        values.data_ptr(),
        keys.stride(0),
        keys.stride(1),
        keys.stride(2),
        lens.data_ptr(),
        rows,
        kv_heads,
        group,
        dim,
        scale,
        scratch.data_ptr(),
        out.data_ptr(),
    )
    if rc != 0:
        raise ValueError(f"the attention kernel does not take heads of {dim} with {group} queries each")
    return out


def supports(head_dim: int, group: int) -> bool:
    """Whether the kernel takes these heads (the C side's limits)."""
    return head_dim % 16 == 0 and head_dim <= 256 and 1 <= group <= 16


def decode_attention_for(precision: str, head_dim: int, group: int) -> Any:
    """The kernel for a runner at `precision` with these heads, or None (PyTorch's
    attention): the one decision both the runner and the target's identity read."""
    if precision != "bfloat16" or not supports(head_dim, group):
        return None
    return decode_attention()

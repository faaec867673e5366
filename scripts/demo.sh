#!/usr/bin/env bash
# Set up, ingest seeds/ and answer the example question, offline, with citations.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export ASSISTANT_STORE="${ASSISTANT_STORE:-.assistant}"
.venv/bin/assistant ingest seeds/
.venv/bin/assistant ask "${1:-What deadline did the US set?}"

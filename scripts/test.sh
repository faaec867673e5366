#!/usr/bin/env bash
# Set up, then lint, type-check and run every test (unit and integration).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check assistant tests eval training
.venv/bin/mypy
.venv/bin/pytest "$@"

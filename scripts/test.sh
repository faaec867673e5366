#!/usr/bin/env bash
# Set up, then lint, type-check and run every test (unit and integration).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The web page is tested in a real browser: Debian's Chromium and its driver (CI runs as root on a fresh machine).
if ! { command -v chromium && command -v chromedriver; } >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null && apt-get install -y -q chromium chromium-driver >/dev/null; } \
      || echo "note: could not install Chromium; tests/test_web_page.py will fail" >&2
  else
    echo "note: Chromium is missing; tests/test_web_page.py will fail: sudo apt-get install chromium chromium-driver" >&2
  fi
fi
# Training makes its cross-language questions with Apertium (training/translated.py; tests/test_training.py re-fits).
if ! { command -v apertium && apertium -l | grep -qx "  fr-es" && apertium -l | grep -qx "  eng-spa"; } >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -q apertium apertium-fr-es apertium-eng-spa >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null && apt-get install -y -q apertium apertium-fr-es apertium-eng-spa >/dev/null; } \
      || echo "note: could not install Apertium; tests/test_training.py will fail" >&2
  else
    echo "note: Apertium is missing; tests/test_training.py will fail: sudo apt-get install apertium apertium-fr-es apertium-eng-spa" >&2
  fi
fi
.venv/bin/ruff check assistant tests eval training
.venv/bin/mypy
.venv/bin/pytest "$@"

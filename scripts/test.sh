#!/usr/bin/env bash
# Set up, then lint, type-check and run every test (unit and integration).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# debian_packages WHAT TESTS CHECK PACKAGE...: install PACKAGEs with apt (CI runs as root on a fresh machine) unless
# the shell command CHECK already succeeds; if that cannot be done, say which TESTS will fail.
debian_packages() {
  local what=$1 tests=$2 check=$3
  shift 3
  if bash -c "$check" >/dev/null 2>&1; then
    return 0
  fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -q "$@" >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null && apt-get install -y -q "$@" >/dev/null; } \
      || echo "note: could not install $what; $tests will fail" >&2
  else
    echo "note: $what is missing; $tests will fail: sudo apt-get install $*" >&2
  fi
}
# The web page is tested in a real browser: Debian's Chromium and its driver.
debian_packages Chromium tests/test_web_page.py "command -v chromium && command -v chromedriver" chromium chromium-driver
# Training makes its cross-language questions with Apertium (training/translated.py, training/reader_data.py).
debian_packages Apertium "tests/test_training.py, tests/test_thresholds.py and tests/test_reader_pairs.py" \
  "command -v apertium && apertium -l | grep -qx '  fr-es' && apertium -l | grep -qx '  eng-spa'" \
  apertium apertium-fr-es apertium-eng-spa
.venv/bin/ruff check assistant tests eval training
.venv/bin/mypy
.venv/bin/pytest "$@"

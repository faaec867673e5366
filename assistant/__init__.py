"""assistant: answers questions from your own documents, citing the exact passages it used.

Public API::

    from assistant import Assistant
    bot = Assistant(store=".assistant")
    bot.ingest(["seeds/"])
    answer = bot.ask("What deadline did the US set?")
    for c in answer.citations:
        print(c.n, c.source, c.start, c.end, c.text)

Importing this package is cheap: Chroma, llama-index and the embedding model
load on first use.
"""

from assistant.api import Assistant
from assistant.errors import AssistantError
from assistant.settings import Settings
from assistant.types import CANNOT_ANSWER, Answer, AnswerSpan, Citation, IngestReport, Passage, StoreStatus

__all__ = [
    "CANNOT_ANSWER",
    "Answer",
    "AnswerSpan",
    "Assistant",
    "AssistantError",
    "Citation",
    "IngestReport",
    "Passage",
    "Settings",
    "StoreStatus",
]
__version__ = "0.1.0"

"""LLM-graded correctness and faithfulness for ``assistant eval --judge`` (never needed for CI).

The configured chat model grades each answer against the reference answers and
the retrieved passages with ``prompts/judge.txt``; an unparsable or failed
grading counts as 0, so a broken judge can only lower the scores.
"""

from __future__ import annotations

import json
import re

from assistant.answer.prompts import prompt
from assistant.api import Assistant
from assistant.errors import ConfigError
from assistant.evaluation.gold import GoldQuestion
from assistant.llm import LLMError
from assistant.types import Answer


def judge_answer(bot: Assistant, gold: GoldQuestion, answer: Answer) -> dict[str, float]:
    model = bot.chat_model
    if model is None:
        raise ConfigError("--judge needs a language model; set ASSISTANT_LLM_MODEL (and ASSISTANT_LLM_BASE_URL)")
    passages = "\n\n".join(f"[{n}] {p.text}" for n, p in enumerate(answer.passages, start=1))
    message = prompt("judge").render(
        question=gold.question, answers=json.dumps(list(gold.answers), ensure_ascii=False) or "(none: should abstain)",
        passages=passages, answer=answer.text,
    )
    try:
        reply = model.complete([{"role": "user", "content": message}], 32).text
    except LLMError:
        return {"judge_correctness": 0.0, "judge_faithfulness": 0.0}
    match = re.search(r"\{.*?\}", reply, re.S)
    try:
        grades = json.loads(match.group(0)) if match else {}
    except json.JSONDecodeError:
        grades = {}
    correct = 1.0 if (gold.unanswerable and answer.abstained) else float(grades.get("correct") == 1)
    return {"judge_correctness": correct, "judge_faithfulness": float(grades.get("faithful") == 1)}

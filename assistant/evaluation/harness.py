"""The evaluation harness: ask every gold question through the public API and score answers, retrieval and citations.

Metrics (all in [0, 1] except latencies):

- ``answer_accuracy``: answerable questions whose answer contains a gold answer
  (all of them with ``require_all``), after normalisation; ``answer_f1``: best
  token F1 against the gold answers (mean over answerable questions);
- ``retrieval_hit_at_1``, ``retrieval_hit_at_k``, ``mrr``: a retrieved passage
  contains the evidence (llama-index's ``HitRate`` and ``MRR``);
- ``citation_precision``: share of all citations whose passage contains the
  evidence; ``citation_recall``: answerable questions with at least one such citation;
- ``abstention_accuracy``: unanswerable questions abstained on, answerable ones not;
- ``latency_p50_ms``, ``latency_p95_ms`` of ``ask``.

:func:`compare` is the regression gate against an earlier report.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from assistant.api import Assistant
from assistant.errors import GoldFileError, PathError
from assistant.evaluation.gold import GoldQuestion, contains, evidence_in, token_f1
from assistant.llama import hit_rate, reciprocal_rank
from assistant.types import Answer, IngestReport, Skipped

QUALITY_METRICS = (
    "answer_accuracy",
    "answer_f1",
    "retrieval_hit_at_1",
    "retrieval_hit_at_k",
    "mrr",
    "citation_precision",
    "citation_recall",
    "abstention_accuracy",
)


@dataclass
class QuestionResult:
    id: str
    question: str
    answer: str
    correct: bool | None
    f1: float | None
    cited_correctly: bool | None
    abstained: bool
    retrieval_rank: int | None
    citations: int
    correct_citations: int
    latency_ms: float
    unanswerable: bool
    problem: str | None = None
    mode: str = "extractive"
    retrieved: list[str] = field(default_factory=list)
    relevant: list[str] = field(default_factory=list)
    judge: dict[str, float] = field(default_factory=dict)
    cited: list[dict[str, object]] = field(default_factory=list)
    """Where each citation points: source, page (``None`` without pages), start, end."""
    phrase: str | None = None
    """The reader's answer phrase inside the quote (extractive answers that have one)."""


def score_question(gold: GoldQuestion, answer: Answer, latency_ms: float) -> QuestionResult:
    ranks = [i for i, p in enumerate(answer.passages, start=1) if evidence_in(p.text, gold.evidence)] if gold.evidence else []
    passages = {p.chunk_id: p.text for p in answer.passages}
    good_citations = sum(1 for c in answer.citations if gold.evidence and evidence_in(passages.get(c.chunk_id, c.text), gold.evidence))
    result = QuestionResult(
        gold.id, gold.question, answer.text, None, None, None, answer.abstained, ranks[0] if ranks else None,
        len(answer.citations), good_citations, latency_ms, gold.unanswerable, mode=answer.mode,
        retrieved=[p.chunk_id for p in answer.passages], relevant=[answer.passages[i - 1].chunk_id for i in ranks],
        cited=[{"source": c.source, "page": c.page, "start": c.start, "end": c.end} for c in answer.citations],
        phrase=answer.answer_span.text if answer.answer_span else None,
    )
    if gold.unanswerable:
        if not answer.abstained:
            result.problem = "should have abstained"
        return result
    hits = [contains(answer.text, a) for a in gold.answers]
    result.correct = not answer.abstained and (all(hits) if gold.require_all else any(hits))
    result.f1 = 0.0 if answer.abstained else max(token_f1(answer.text, a) for a in gold.answers)
    result.cited_correctly = good_citations > 0
    if result.retrieval_rank is None:
        result.problem = "not retrieved"
    elif answer.abstained:
        result.problem = "abstained but the answer was retrieved"
    elif not result.cited_correctly:
        result.problem = "retrieved but not cited"
    elif not result.correct:
        result.problem = "wrong answer (cited the evidence, but no gold answer in the text)"
    return result


def metrics(results: list[QuestionResult], k: int) -> dict[str, float]:
    answerable = [r for r in results if not r.unanswerable]
    hit_at_1, hit_at_k, mrr = [], [], []
    for r in answerable:
        expected = r.relevant or ["(no retrieved passage holds the evidence)"]
        retrieved = r.retrieved[:k] or ["(nothing retrieved)"]
        hit_at_1.append(hit_rate(expected, retrieved[:1]))
        hit_at_k.append(hit_rate(expected, retrieved))
        mrr.append(reciprocal_rank(expected, retrieved))
    citations = sum(r.citations for r in results)
    latencies = sorted(r.latency_ms for r in results)
    out = {
        "answer_accuracy": _mean([float(bool(r.correct)) for r in answerable]),
        "answer_f1": _mean([r.f1 or 0.0 for r in answerable]),
        "retrieval_hit_at_1": _mean(hit_at_1),
        "retrieval_hit_at_k": _mean(hit_at_k),
        "mrr": _mean(mrr),
        "citation_precision": sum(r.correct_citations for r in results) / citations if citations else 0.0,
        "citation_recall": _mean([float(bool(r.cited_correctly)) for r in answerable]),
        "abstention_accuracy": _mean([float(r.abstained == r.unanswerable) for r in results]),
        "latency_p50_ms": statistics.median(latencies),
        "latency_p95_ms": latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))],
    }
    judged = [r.judge for r in results if r.judge]
    for name in ("judge_correctness", "judge_faithfulness"):
        if judged:
            out[name] = _mean([j[name] for j in judged if name in j])
    return {name: round(value, 4) for name, value in out.items()}


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def run_eval(
    bot: Assistant,
    questions: list[GoldQuestion],
    *,
    judge: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Ask every question (the store must already hold the documents) and return the report."""
    results = []
    bot.embedder.embed_query("warm-up")  # load the model before timing anything
    for done, gold in enumerate(questions, start=1):
        started = time.perf_counter()
        answer = bot.ask(gold.question)
        result = score_question(gold, answer, (time.perf_counter() - started) * 1000)
        if judge:
            from assistant.evaluation.judge import judge_answer

            result.judge = judge_answer(bot, gold, answer)
        results.append(result)
        if progress:
            progress(done, len(questions))
    settings = bot.settings.model_dump(mode="json", exclude={"llm_api_key", "embed_api_key"})
    settings["embedder_name"] = bot.embedder.name
    settings["tuning"] = dataclasses.asdict(bot.tuning)
    return {
        "metrics": metrics(results, bot.settings.top_k),
        "questions": [asdict(r) for r in results],
        "settings": settings,
        "date": time.strftime("%Y-%m-%d"),
    }


def compare(report: dict[str, Any], baseline: dict[str, Any], tolerance: float) -> list[str]:
    """Regressions of quality metrics beyond ``tolerance``: one line each, naming the metric."""
    regressions = []
    for name in QUALITY_METRICS:
        if name not in baseline.get("metrics", {}):
            continue
        before, now = float(baseline["metrics"][name]), float(report["metrics"].get(name, 0.0))
        if now < before - tolerance - 1e-9:
            regressions.append(f"{name}: {now:.4f} < baseline {before:.4f} (tolerance {tolerance})")
    return regressions


def evaluate(
    gold: str | Path,
    docs: list[str | Path] | None = None,
    *,
    store: str | Path | None = None,
    baseline: str | Path | None = None,
    tolerance: float = 0.0,
    judge: bool = False,
    progress: Callable[[int, int], None] | None = None,
    embedder: Any = None,
    chat_model: Any = None,
    **overrides: Any,
) -> tuple[dict[str, Any], list[str]]:
    """Ingest ``docs`` (default ``seeds/``) into ``store`` (default: a fresh temporary one), run ``gold``.

    Returns the report and the regressions against ``baseline`` (empty when none or no baseline).
    """
    import tempfile

    from assistant.evaluation.gold import load_gold

    questions = load_gold(gold)
    reference = _load_report(baseline) if baseline else None
    with tempfile.TemporaryDirectory(prefix="assistant-eval-") as scratch:
        with Assistant(store=str(store or Path(scratch) / "store"), embedder=embedder, chat_model=chat_model, **overrides) as bot:
            where = ", ".join(map(str, docs or ["seeds"]))
            try:
                ingest = bot.ingest(docs or ["seeds"])
            except PathError:
                ingest = IngestReport(skipped=[Skipped(str(d), "no such file or directory") for d in docs or ["seeds"]])
            if not ingest.added and not ingest.updated and not ingest.unchanged:
                reasons = "; ".join(f"{s.path}: {s.reason}" for s in ingest.skipped[:3])
                raise GoldFileError(
                    f"no documents could be ingested from {where}" + (f" ({reasons})" if reasons else "")
                    + f"; run from the folder that holds them or pass the gold file's documents with --docs PATH (working directory: {Path.cwd()})"
                )
            report = run_eval(bot, questions, judge=judge, progress=progress)
    report["gold"] = str(gold)
    report["docs"] = [str(d) for d in docs or ["seeds"]]
    return report, compare(report, reference, tolerance) if reference else []


def _load_report(path: str | Path) -> dict[str, Any]:
    import json

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise GoldFileError(f"{path}: cannot read baseline report ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("metrics"), dict):
        raise GoldFileError(f"{path}: a baseline must be a report written by `assistant eval --report` (no 'metrics' object)")
    return data

"""The evaluation harness and its regression gate, on the seed gold set with the real parts."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.answer.scorer import Scorer
from assistant.evaluation.harness import compare, evaluate
from tests.conftest import ROOT

pytestmark = pytest.mark.integration

GOLD = ROOT / "eval" / "gold" / "seeds.jsonl"
BASELINE = ROOT / "eval" / "baselines" / "seeds.json"
QUALITY = ["answer_accuracy", "retrieval_hit_at_k", "mrr", "citation_recall", "abstention_accuracy"]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    return subprocess.run([sys.executable, "-m", "assistant", "eval", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)


def test_seed_gold_set_holds_its_baseline(tmp_path: Path) -> None:
    # The seed gold set was written alongside the code: it is a regression gate and an example of the
    # format, not a quality measure (held-out figures: README, "Answer quality"). Absolute floors on it
    # would only invite tuning to it.
    report_path = tmp_path / "report.json"
    result = run_cli(str(GOLD), "--baseline", str(BASELINE), "--report", str(report_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no regression against the baseline" in result.stdout
    report = json.loads(report_path.read_text())
    assert set(report) >= {"metrics", "questions", "settings"}
    question = report["questions"][0]
    assert {"id", "question", "answer", "correct", "cited_correctly", "abstained", "retrieval_rank"} <= set(question)
    assert "llm_api_key" not in report["settings"]


def test_a_drop_below_the_baseline_fails_the_gate_with_named_regressions(tmp_path: Path) -> None:
    # a baseline better than today's answers (as if a change had made them worse)
    better = json.loads(BASELINE.read_text())
    better["metrics"]["answer_accuracy"] = 1.0
    better["metrics"]["citation_recall"] = 1.01
    (tmp_path / "better.json").write_text(json.dumps(better))
    result = run_cli(str(GOLD), "--baseline", str(tmp_path / "better.json"))
    assert result.returncode == 1
    assert "regressions against the baseline" in result.stdout
    assert "answer_accuracy" in result.stdout and "citation_recall" in result.stdout
    assert "retrieval_hit_at_k" not in result.stdout.split("regressions against the baseline")[1]


def test_broken_fusion_fails_the_gate(monkeypatch: pytest.MonkeyPatch) -> None:
    real = Scorer.passage_scores
    monkeypatch.setattr(Scorer, "passage_scores", lambda self, *args: -real(self, *args))  # best passages last
    report, regressions = evaluate(GOLD, [ROOT / "seeds"], baseline=BASELINE, top_k=1)
    assert regressions, report["metrics"]
    named = {line.split(":")[0] for line in regressions}
    assert {"retrieval_hit_at_1", "retrieval_hit_at_k"} <= named


def test_compare_respects_tolerance() -> None:
    baseline = {"metrics": {"mrr": 0.9, "latency_p50_ms": 10.0}}
    assert compare({"metrics": {"mrr": 0.85, "latency_p50_ms": 99.0}}, baseline, 0.1) == []
    assert compare({"metrics": {"mrr": 0.85}}, baseline, 0.01) == ["mrr: 0.8500 < baseline 0.9000 (tolerance 0.01)"]


def test_malformed_gold_file_is_a_one_line_error(tmp_path: Path) -> None:
    gold = tmp_path / "bad.jsonl"
    gold.write_text('{"id": "q1", "question": "x", "answers": [], "evidence": [], "unanswerable": "maybe"}\n')
    result = run_cli(str(gold))
    assert result.returncode == 2
    assert f"{gold}:1: field 'unanswerable' must be true or false" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_report_says_where_each_citation_points_page_included() -> None:
    from assistant.evaluation.gold import GoldQuestion
    from assistant.evaluation.harness import score_question
    from assistant.types import Answer, Citation, Passage

    passage = Passage("c1", "report.pdf", 100, 160, "The keeper's salary was 450 francs a year.", 1.0, page=3)
    citation = Citation(1, "report.pdf", 100, 142, passage.text, "c1", page=3)
    answer = Answer("What was the salary?", f"“{passage.text}” [1]", [citation], [passage], False, "extractive")
    gold = GoldQuestion("q1", "What was the salary?", ("450 francs",), ("450 francs",), False)
    result = score_question(gold, answer, 5.0)
    assert result.cited == [{"source": "report.pdf", "page": 3, "start": 100, "end": 142}]
    assert result.correct and result.cited_correctly


def test_xquad_loads_either_side_in_either_language() -> None:
    from tests.conftest import SHARED_DATASETS

    if not (SHARED_DATASETS / "xquad").exists():
        pytest.skip(f"XQuAD not found at {SHARED_DATASETS}: put ../shared/datasets beside the project to evaluate on it")
    sys.path.insert(0, str(ROOT))
    from eval.xquad import load

    loaded = {(d, q): load(20, q, d) for d, q in (("de", "en"), ("de", "de"), ("en", "en"))}
    for paragraphs, titles, items in loaded.values():
        assert len(paragraphs) == len(titles) == 20 and items
        assert all(item.answer in paragraphs[item.paragraph] for item in items), "answers in the paragraphs' language"
    english = loaded["en", "en"]
    assert [i.question for i in english[2]] == [i.question for i in loaded["de", "en"][2]], "the same questions, joined by id"
    assert english[0] != loaded["de", "en"][0] and " der " not in " ".join(english[0]) and " der " in " ".join(loaded["de", "en"][0])

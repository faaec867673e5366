"""The reader: pairs and windows, labels, spans, the decision it drives, and its shipped weights."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from assistant.answer.extractive import Sentence, choose, combined_score, decide
from assistant.answer.features import Question, SentenceInput, sentence_features
from assistant.answer.reader import ReaderInput, Reading, Window, best_span, pair_windows
from assistant.answer.scorer import load_scorer
from assistant.answer.spans import MAX_ANSWER_TOKENS, Span, trim
from assistant.index.e5_tokenizer import Tokenizer
from assistant.index.e5_weights import WeightsFile


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return Tokenizer(WeightsFile().vocabulary)


def test_windows_cover_a_long_passage_and_labels_point_at_the_answer(tokenizer: Tokenizer) -> None:
    sentences = [f"Le rapport numéro {i} fut publié à Lyon par la commission des finances." for i in range(80)]
    passage = " ".join(sentences)
    answer = "numéro 57"
    begin = passage.index(answer)
    item = ReaderInput(tokenizer.tokenize("Quel rapport fut publié ?", "query").ids, tokenizer.tokenize(passage, "passage"))
    vocabulary = WeightsFile().vocabulary
    windows = pair_windows(item, 510, vocabulary)
    assert len(windows) >= 2 and all(len(w.ids) <= 510 for w in windows)
    covered = np.concatenate([w.starts for w in windows])
    assert set(covered[covered >= 0]) == set(item.passage.starts[item.passage.starts >= 0]), "every passage token is read"
    labelled = [(w, w.label((begin, begin + len(answer)))) for w in windows]
    holding = [(w, lab) for w, lab in labelled if lab != (0, 0)]
    assert holding, "a window holds the answer"
    for w, (first, last) in holding:
        start, end = trim(passage, int(w.starts[first - w.passage_at]), int(w.ends[last - w.passage_at]))
        assert passage[start:end] == answer
    assert any(lab == (0, 0) for _, lab in labelled), "windows without the answer are labelled no-answer"


def test_passages_after_the_first_are_read_only_around_the_sentence_the_sentence_model_puts_first(tokenizer: Tokenizer) -> None:
    from assistant.answer.extractive import reading_focus
    from assistant.answer.reader import READ_AROUND, Reader
    from assistant.types import Chunk
    from assistant.types import Span as Range

    sentences = [f"Le rapport numéro {i} fut publié à Lyon par la commission des finances." for i in range(30)]
    text = " ".join(sentences)
    spans = [(text.index(s), text.index(s) + len(s)) for s in sentences]
    chunks = [Chunk(name, "d", at, at + len(text), text, tuple(Range(at + a, at + b) for a, b in spans)) for name, at in (("a", 0), ("b", 5000))]
    found = [Sentence(c.id, "d", c.start + spans[i][0], c.start + spans[i][1], sentences[i], 1, r, True, position=i)
             for r, c in enumerate(chunks) for i in (2, 20)]
    focus = reading_focus(found, np.array([1.0, 0.0, -1.0, 0.5]), chunks)  # chunk b: sentence 20 first
    assert focus == [None, spans[20]]
    reader = Reader(SimpleNamespace(tokenizer=tokenizer, file=WeightsFile(), window=510))
    read: dict[int, set[int]] = {0: set(), 1: set()}
    for n, window in reader.windows("Quel rapport fut publié ?", chunks, focus):
        read[n] |= set(window.starts[window.starts >= 0].tolist())
    whole = tokenizer.tokenize(text, "passage").starts
    assert read[0] == set(whole[whole >= 0].tolist()), "the first passage is read whole"
    assert len(read[1]) == READ_AROUND < len(read[0]), "the others: READ_AROUND tokens"
    assert min(read[1]) < spans[20][0] < spans[20][1] < max(read[1]), "around their best sentence"
    assert read[1] == set(range(min(read[1]), max(read[1]) + 1)) & read[0], "one contiguous stretch"


def test_a_span_cut_inside_a_word_is_widened_to_the_word(tokenizer: Tokenizer) -> None:
    # "لمدة يومين" (for two days) is read as " لمدة", " يوم", "ين": a span on the last piece alone is no answer
    text = "يحق لكل موظف العمل من المنزل لمدة يومين في الأسبوع."
    passage = tokenizer.tokenize(text, "passage")
    pieces = [(int(a), int(b)) for a, b in zip(passage.starts, passage.ends, strict=True) if a >= 0]
    inside = next((a, b) for a, b in pieces if text[a:b] == "ين")
    assert text[slice(*trim(text, *inside))] == "يومين"
    assert text[slice(*trim(text, 21, 33))] == "المنزل لمدة", "whole words stay as they are"
    chinese = "国内出差的每日餐费补贴为一百元，国际出差为五十美元。"
    assert chinese[slice(*trim(chinese, 12, 15))] == "一百元", "a script without spaces has no word edges to find"


def test_best_span_never_takes_the_prefix_or_too_long_spans() -> None:
    window = Window(np.zeros(8, np.int64), 3, np.array([-1, 0, 5, 10, 15]), np.array([-1, 4, 9, 14, 19]))
    start = np.array([9.0, 0, 0, 50.0, 1.0, 0, 3.0, 0, 0, 0])  # <s> 0, question 1-2, passage: prefix 3, tokens 4-7
    end = np.array([9.0, 0, 0, 50.0, 0, 0, 0, 4.0, 0, 0])
    span = best_span(start, end, window)
    assert (span.start, span.end) == (10, 19) and span.score == 7.0 and span.null == 18.0
    assert MAX_ANSWER_TOKENS >= 10



def test_each_sentence_gets_its_best_span_inside_it_and_the_best_window_wins() -> None:
    from assistant.answer.reader import _sentence_phrases
    from assistant.types import Chunk
    from assistant.types import Span as Range

    text = "Putin met him on Wednesday. It lasted three hours."  # chunk at document offset 100
    chunk = Chunk("c1", "d", 100, 100 + len(text), text, (Range(100, 127), Range(128, 150)))
    words = [(0, 5), (6, 9), (10, 13), (14, 16), (17, 27), (28, 30), (31, 37), (38, 43), (44, 50)]  # "Wednesday." and "hours."
    window = Window(np.zeros(13, np.int64), 3, np.array([-1] + [a for a, _ in words]), np.array([-1] + [b for _, b in words]))
    logits = np.zeros((13, 2))  # word k is token 3 + 1 + k (after the question and the "passage: " prefix)
    logits[4 + 4, 0], logits[4 + 5, 1] = 5.0, 5.0  # the best span overall, "Wednesday. It", crosses sentences
    logits[4 + 4, 1], logits[4 + 7, 0], logits[4 + 8, 1] = 2.0, 3.0, 3.0
    phrases, scores = np.full((2, 2), -1), np.full(2, -np.inf)
    _sentence_phrases(logits, window, chunk, phrases, scores)
    assert [text[a:b] for a, b in phrases] == ["Wednesday", "three hours"], "each inside its sentence, trimmed"
    assert list(scores) == [7.0, 6.0]
    _sentence_phrases(logits - 1.0, window, chunk, phrases, scores)  # another window, less sure: nothing changes
    assert list(scores) == [7.0, 6.0]
    surer = logits.copy()
    surer[4 + 5, 0] = 9.0  # another window, surer of "It" alone
    _sentence_phrases(surer, window, chunk, phrases, scores)
    assert [text[a:b] for a, b in phrases] == ["Wednesday", "It"] and list(scores) == [7.0, 14.0]

def _sentences() -> tuple[list[Sentence], np.ndarray, SimpleNamespace]:
    found = [Sentence("c1", "d", 0, 41, "Witkoff met Putin in Moscow on Wednesday.", 1, 0, True, position=0),
             Sentence("c1", "d", 42, 87, "The meeting lasted three hours, said Ushakov.", 1, 0, True, position=1)]
    q = Question.of("How long did the meeting last?", np.zeros(384, np.float32))
    features = sentence_features(q, [SentenceInput(s.text, c, 2.0, 0, i == 0) for i, (s, c) in enumerate(zip(found, [0.9, 0.7], strict=True))])
    chunk = SimpleNamespace(chunk=SimpleNamespace(id="c1", start=0), same_language=True)
    retrieval = SimpleNamespace(vector=np.zeros(384), top_chunk_cos=0.9, top_chunk_margin=0.05, ranked=[chunk])
    return found, features, retrieval


def test_the_reader_picks_the_sentence_and_names_the_phrase() -> None:
    scorer = replace(load_scorer(), reader_weight=None)  # the reader's score alone
    found, features, retrieval = _sentences()
    reading = Reading("c1", Span(61, 72, 8.0, 1.0), np.array([2.0, 8.0]), np.array([[4, 10], [61, 72]]))  # "three hours"
    decision = decide(found, features, retrieval, scorer, None, [reading])  # type: ignore[arg-type]
    assert decision.best == 1 and decision.span == (61, 72) and decision.margin == 7.0
    assert [s.text for s in choose(found, decision, second_from=1.01)] == [found[1].text]
    plain = decide(found, features, retrieval, scorer)  # type: ignore[arg-type]
    assert plain.span is None and plain.margin == np.inf


def test_the_phrase_is_the_readers_best_inside_the_quoted_sentence() -> None:
    # the sentence model outweighs the reader here (weight 0): the first sentence is quoted although the reader's best
    # span is in the second; the phrase shown is then the best span inside the quoted one ("Wednesday"), not none
    scorer = replace(load_scorer(), reader_weight=0.0, reader_margin={"same": -1e9, "cross": -1e9})
    found, features, retrieval = _sentences()
    reading = Reading("c1", Span(61, 72, 8.0, 1.0), np.array([2.0, 8.0]), np.array([[31, 40], [61, 72]]))
    decision = decide(found, features, retrieval, scorer, None, [reading])  # type: ignore[arg-type]
    assert decision.best == 0 and decision.span == (31, 40) and found[0].text[31:40] == "Wednesday"
    unread = Reading("c1", Span(61, 72, 8.0, 1.0), np.array([-np.inf, 8.0]), np.array([[-1, -1], [61, 72]]))
    assert decide(found, features, retrieval, scorer, None, [unread]).span is None  # type: ignore[arg-type]


def test_a_low_reader_margin_abstains_unless_the_user_sets_a_confidence() -> None:
    scorer = replace(load_scorer(), reader_margin={"same": 2.0, "cross": 1.0}, read_abstain=None)  # two thresholds
    found, features, retrieval = _sentences()
    reading = Reading("c1", Span(61, 72, 1.5, 0.0), np.array([0.0, 1.5]), np.array([[4, 10], [61, 72]]))
    decision = decide(found, features, retrieval, scorer, None, [reading])  # type: ignore[arg-type]
    assert decision.abstains and choose(found, decision, 0.5) == []
    assert not decide(found, features, retrieval, scorer, 0.0, [reading]).abstains  # type: ignore[arg-type]
    confident = Reading("c1", Span(61, 72, 3.0, 0.0), np.array([0.0, 3.0]), np.array([[4, 10], [61, 72]]))
    assert not decide(found, features, retrieval, scorer, None, [confident]).abstains  # type: ignore[arg-type]


def test_where_the_model_and_the_margin_both_judge_one_score_decides() -> None:
    """With ``read_abstain`` (since 2026-12-05) a sentence in the question's language, judged by the same-language
    model, is abstained on by ``logit(P) + weight x margin`` against one threshold, not by either threshold alone:
    a margin below the gate is outweighed by a confident model. A confidence the user sets replaces it."""
    two = replace(load_scorer(), reader_margin={"same": 2.0}, read_abstain=None)
    found, features, retrieval = _sentences()
    reading = Reading("c1", Span(61, 72, 1.5, 0.0), np.array([0.0, 1.5]), np.array([[4, 10], [61, 72]]))  # margin 1.5 < 2
    alone = decide(found, features, retrieval, two, None, [reading])  # type: ignore[arg-type]
    assert alone.abstains and alone.combined is None and alone.answerable >= alone.threshold, "the gate alone abstains"
    score = combined_score(alone.answerable, 1.5, 0.5)
    for below, abstains in ((score - 0.01, False), (score + 0.01, True)):
        one = replace(two, read_abstain=(0.5, below))
        decision = decide(found, features, retrieval, one, None, [reading])  # type: ignore[arg-type]
        assert decision.combined == (0.5, below) and decision.abstains is abstains
        assert (choose(found, decision, 1.01) == []) is abstains
    user = decide(found, features, retrieval, replace(two, read_abstain=(0.5, score + 0.01)), 0.0, [reading])  # type: ignore[arg-type]
    assert user.combined is None and not user.abstains


def test_passages_in_another_language_are_read_and_only_the_questions_own_gate_its_sentences() -> None:
    """Since 2026-12-02 the reader reads the top passages in any language (it chose the answer sentence more often on
    machine-translated development questions); its no-answer margin, meaningless across languages, comes from the
    passages in the question's language and gates only their sentences."""
    from assistant.answer.extractive import passages_to_read

    scorer = replace(load_scorer(), reader_weight=None, reader_margin={"same": 2.0}, read_abstain=None)
    found, features, _ = _sentences()
    found[1] = replace(found[1], chunk_id="c2", same_language=False, position=0)  # "The meeting lasted ..." is in c2, French say
    french = SimpleNamespace(chunk=SimpleNamespace(id="c2", start=42), same_language=False)
    english = SimpleNamespace(chunk=SimpleNamespace(id="c1", start=0), same_language=True)
    retrieval = SimpleNamespace(vector=np.zeros(384), top_chunk_cos=0.9, top_chunk_margin=0.05, ranked=[french, english])
    assert [c.id for c in passages_to_read(retrieval)] == ["c2", "c1"]  # type: ignore[arg-type]
    own = Reading("c1", Span(31, 40, 8.0, 1.0), np.array([8.0, -np.inf]), np.array([[31, 40], [-1, -1]]))
    other = Reading("c2", Span(61, 72, 5.0, 10.0), np.array([5.0]), np.array([[61, 72]]))  # high no-answer score across languages
    decision = decide(found, features, retrieval, scorer, None, [own, other])  # type: ignore[arg-type]
    assert decision.best == 0 and decision.margin == 7.0 and not decision.abstains  # over all readings: 8 - 10 = -2, abstained
    other = Reading("c2", Span(61, 72, 12.0, 10.0), np.array([12.0]), np.array([[19, 30]]))  # chunk characters
    decision = decide(found, features, retrieval, scorer, None, [own, other])  # type: ignore[arg-type]
    assert decision.best == 1 and decision.span == (61, 72)  # the reader's pick across languages is quoted, phrase and all
    assert decision.margin_threshold == -np.inf, "a sentence in another language is not gated by the margin"
    assert decide(found, features, retrieval, replace(scorer, read_abstain=(0.1, 0.0)), None, [own, other]).combined is None  # type: ignore[arg-type]


def test_table_rows_are_left_to_the_sentence_model() -> None:
    """The reader learnt from prose: it never moves the answer onto a table row, nor off a row the sentence model chose."""
    scorer = replace(load_scorer(), reader_weight=None, reader_margin={"same": -1e9, "cross": -1e9})
    header = "Office | Reopens"
    rows = [Sentence("c1", "d", 0, 19, "Nantes | 14 January", 1, 0, True, position=0, header=header),
            Sentence("c1", "d", 20, 36, "Paris | 3 March", 1, 0, True, position=1, header=header)]
    q = Question.of("When does the Nantes office reopen?", np.zeros(384, np.float32))
    features = sentence_features(q, [SentenceInput(s.text, c, 2.0, 0, i == 0) for i, (s, c) in enumerate(zip(rows, [0.9, 0.7], strict=True))])
    chunk = SimpleNamespace(chunk=SimpleNamespace(id="c1", start=0), same_language=True)
    retrieval = SimpleNamespace(vector=np.zeros(384), top_chunk_cos=0.9, top_chunk_margin=0.05, ranked=[chunk])
    assert decide(rows, features, retrieval, scorer).best == 0  # type: ignore[arg-type]
    wrong_row = Reading("c1", Span(29, 36, 9.0, 0.0), np.array([1.0, 9.0]), np.array([[7, 19], [29, 36]]))  # the reader prefers the Paris row
    assert decide(rows, features, retrieval, scorer, None, [wrong_row]).best == 0  # type: ignore[arg-type]
    found, prose_features, prose_retrieval = _sentences()
    table = replace(rows[1], start=88, end=104)
    mixed = [found[0], table]
    mixed_features = np.vstack([prose_features[0], prose_features[1]])
    reading = Reading("c1", Span(88, 95, 9.0, 0.0), np.array([1.0, 9.0]), np.array([[4, 10], [88, 95]]))  # the reader's best is the row
    decision = decide(mixed, mixed_features, prose_retrieval, scorer, None, [reading])  # type: ignore[arg-type]
    assert decision.best == 0 and decision.span == (4, 10), "a row the sentence model did not put first stays unread"
    first_row = [rows[0], replace(found[1], position=1, start=20, end=65)]
    row_first = sentence_features(q, [SentenceInput(s.text, c, 2.0, 0, i == 0) for i, (s, c) in enumerate(zip(first_row, [0.9, 0.5], strict=True))])
    assert decide(first_row, row_first, retrieval, scorer).best == 0  # type: ignore[arg-type]
    prose = Reading("c1", Span(20, 30, 9.0, 0.0), np.array([-np.inf, 9.0]), np.array([[-1, -1], [20, 30]]))  # the reader reads only the prose sentence
    assert decide(first_row, row_first, retrieval, scorer, None, [prose]).best == 0, "a row the sentence model put first stays"  # type: ignore[arg-type]


def test_the_reader_weight_sets_how_much_the_reader_counts_beside_the_sentence_model(tmp_path: Path) -> None:
    import json
    from importlib import resources

    found, features, retrieval = _sentences()
    plain = decide(found, features, retrieval, load_scorer())  # type: ignore[arg-type]
    assert plain.best == 0, "the sentence model alone prefers the first sentence"
    reading = Reading("c1", Span(61, 72, 2.5, 0.0), np.array([2.0, 2.5]), np.array([[4, 10], [61, 72]]))  # the reader leans, a little, the other way
    chosen = {}
    for weight in (None, 0.0, 100.0):
        data = json.loads(resources.files("assistant").joinpath("weights", "answerer.json").read_text(encoding="utf-8"))
        data["thresholds"]["reader_margin"] = {"same": -1e9, "cross": -1e9}
        data["thresholds"]["reader_weight"] = weight
        data["thresholds"].pop("reader_weight_across", None)  # one weight for every sentence
        (tmp_path / "w.json").write_text(json.dumps(data), encoding="utf-8")
        scorer = load_scorer(tmp_path / "w.json")
        assert scorer.reader_weight == weight and scorer.reader_weight_across is None
        chosen[weight] = decide(found, features, retrieval, scorer, None, [reading]).best  # type: ignore[arg-type]
    assert chosen == {None: 1, 0.0: 0, 100.0: 1}


def test_sentences_in_another_language_take_the_readers_across_language_weight() -> None:
    found, features, retrieval = _sentences()
    reading = Reading("c1", Span(61, 72, 2.5, 0.0), np.array([2.0, 2.5]), np.array([[4, 10], [61, 72]]))  # the reader leans to the second
    gates = {"same": -1e9, "cross": -1e9}
    chosen = {}
    for same in (True, False):
        sentences = [replace(s, same_language=same) for s in found]
        for across in (None, 0.0):
            scorer = replace(load_scorer(), reader_weight=100.0, reader_weight_across=across, reader_margin=gates)
            chosen[same, across] = decide(sentences, features, retrieval, scorer, None, [reading]).best  # type: ignore[arg-type]
    assert chosen == {(True, None): 1, (True, 0.0): 1, (False, None): 1, (False, 0.0): 0}


def test_the_shipped_weights_read_with_the_shipped_reader_and_weights_without_one_do_not(tmp_path: Path) -> None:
    import json
    from importlib import resources

    from assistant import Assistant
    from assistant.answer.reader import Reader
    from assistant.errors import ConfigError

    assert load_scorer().reader_margin is not None, "the shipped answer weights were fitted with the reader (README, The reader)"
    assert load_scorer().reader_weight_across is not None, "and chose its weight across languages apart"
    assert load_scorer().read_abstain is not None, "and one abstention score where the model and the margin both judge"
    with Assistant(store=str(tmp_path / "store")) as bot:
        assert bot.reader is not None and bot.reader.frozen + len(bot.reader.layers) == 12
    data = json.loads(resources.files("assistant").joinpath("weights", "answerer.json").read_text(encoding="utf-8"))
    for key in ("reader_margin", "reader_weight", "reader_weight_across", "read_abstain"):
        data["thresholds"].pop(key)
    (tmp_path / "plain.json").write_text(json.dumps(data), encoding="utf-8")
    with Assistant(store=str(tmp_path / "store2"), answer_weights=str(tmp_path / "plain.json")) as bot:
        assert bot.scorer.reader_margin is None and bot.reader is None
    missing = tmp_path / "reader.npz"
    with pytest.raises(ConfigError, match="python -m training.train_reader"):
        Reader(SimpleNamespace(), missing)


@pytest.mark.integration
def test_assistants_that_read_leave_no_open_files_or_encoders_behind(tmp_path: Path) -> None:
    """Each assistant's reader goes with it: a process-wide cache once kept every encoder and its mapped weights file
    (an open descriptor each) alive, and a long test run ran out of descriptors for select()."""
    import gc
    import os

    from assistant import Assistant
    from tests.conftest import ROOT

    store = str(tmp_path / "store")
    with Assistant(store=store) as bot:
        bot.ingest([ROOT / "seeds"])

    def ask_once() -> None:
        with Assistant(store=store) as bot:
            answer = bot.ask("Combien de temps a duré la réunion ?")
            assert bot._reader is not None and answer.answer_span is not None, "the reader read"

    ask_once()
    gc.collect()
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(3):
        ask_once()
    gc.collect()
    assert len(os.listdir("/proc/self/fd")) <= before + 1


@pytest.mark.integration
def test_ask_reads_the_first_passage_whole_and_the_others_around_their_best_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant import Assistant
    from assistant.answer.reader import Reader
    from tests.conftest import ROOT

    asked: list[tuple[list[object], list[tuple[int, int] | None]]] = []
    languages: list[list[bool] | None] = []
    read = Reader.read

    def spy(self: Reader, question: str, chunks: list[object], focus: list[tuple[int, int] | None] | None = None,
            same: list[bool] | None = None) -> list[Reading]:
        asked.append((list(chunks), list(focus or [None] * len(chunks))))
        languages.append(same)
        return read(self, question, chunks, focus, same)  # type: ignore[arg-type]

    monkeypatch.setattr(Reader, "read", spy)
    with Assistant(store=str(tmp_path / "store")) as bot:
        bot.ingest([ROOT / "seeds"])
        answer = bot.ask("Combien de temps a duré la réunion ?")
    assert answer.answer_span is not None and len(asked) == 1
    chunks, focus = asked[0]
    assert languages[0] == [True] * len(chunks), "a French question over a French article: each passage in its language"
    assert len(chunks) >= 2 and focus[0] is None, "the first passage is read whole"
    for chunk, at in zip(chunks[1:], focus[1:], strict=True):
        assert at is not None, "the others around a sentence"
        start, end = at
        assert 0 <= start < end <= len(chunk.text)  # type: ignore[attr-defined]

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.ingest.chunking import chunk_text, count_tokens, sentence_spans
from assistant.ingest.loaders import load_text
from tests.conftest import SEED


def check_chunks(text: str, chunk_size: int = 64, overlap: int = 8) -> None:
    chunks = chunk_text("doc", text, "hash", chunk_size, overlap)
    previous_start = -1
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.start > previous_start, "chunks come in order"
        previous_start = chunk.start
        for span in chunk.sentences:
            assert chunk.start <= span.start < span.end <= chunk.end
        assert chunk.line == text.count("\n", 0, chunk.start) + 1
    # every non-space character of the text is inside some chunk
    covered = bytearray(len(text))
    for chunk in chunks:
        covered[chunk.start : chunk.end] = b"\x01" * (chunk.end - chunk.start)
    assert all(covered[i] or text[i].isspace() for i in range(len(text)))


def test_seed_chunks_map_back_exactly_and_respect_the_budget() -> None:
    text = load_text(SEED)
    chunks = chunk_text(str(SEED), text, "h", 256, 32)
    assert len(chunks) >= 3
    check_chunks(text, 256, 32)
    assert all(count_tokens(c.text) <= 256 for c in chunks)


def test_sentence_spans() -> None:
    text = "Le 6 août 2025, une rencontre a eu lieu. La réunion a duré trois heures.\nTitre"
    spans = sentence_spans(text)
    assert [text[s.start : s.end] for s in spans] == [
        "Le 6 août 2025, une rencontre a eu lieu.",
        "La réunion a duré trois heures.",
        "Titre",
    ]


def test_a_german_date_or_ordinal_does_not_end_its_sentence() -> None:
    # "31. März" and "19. Jahrhundert": the untrained Punkt cut after the number; German's own model knows better
    text = ("Resturlaub muss bis zum 31. März des Folgejahres genommen werden, sonst verfällt er. "
            "Im 19. Jahrhundert wuchs die Stadt stark. Ab dem dritten Krankheitstag ist eine Bescheinigung vorzulegen.")
    [chunk] = chunk_text("urlaub.md", text, "h", 256, 32)
    assert chunk.language == "de"
    assert [text[s.start : s.end] for s in chunk.sentences] == [
        "Resturlaub muss bis zum 31. März des Folgejahres genommen werden, sonst verfällt er.",
        "Im 19. Jahrhundert wuchs die Stadt stark.",
        "Ab dem dritten Krankheitstag ist eine Bescheinigung vorzulegen.",
    ]


def test_an_english_abbreviation_does_not_end_its_sentence() -> None:
    text = "Beyoncé attended St. Mary's school in Houston, where she enrolled in dance classes. She sang."
    [chunk] = chunk_text("bio.txt", text, "h", 256, 32)
    assert chunk.language == "en"
    assert [text[s.start : s.end] for s in chunk.sentences] == [text[:83], "She sang."]
    assert len(sentence_spans(text)) == 3  # the untrained Punkt, which no chunk's language gets now, cut after "St."


def test_sentences_end_at_the_full_stops_of_languages_punkt_does_not_know() -> None:
    # Chinese and Japanese write "。" with no space after it, Hindi "।": the untrained Punkt cut none of them
    cases = {
        "zh": ["员工出差前必须通过内部系统提交申请，并获得部门经理的批准。", "国内出差的每日餐费补贴为一百元，国际出差为五十美元。",
               "所有报销必须在出差结束后三十天内提交！"],
        "ja": ["社員食堂は平日の午前十一時半から午後二時まで営業しています。", "土曜日と日曜日は休業です。", "定食の価格は一食四百五十円です。"],
        "hi": ["भारत की राजधानी नई दिल्ली है।", "यह देश का दूसरा सबसे बड़ा शहर है।", "यहाँ संसद भवन स्थित है।"],
    }
    for expected_language, sentences in cases.items():
        text = (" " if expected_language == "hi" else "").join(sentences)
        [chunk] = chunk_text("policy.txt", text, "h", 256, 32)
        assert chunk.language == expected_language
        assert [text[s.start : s.end] for s in chunk.sentences] == sentences, expected_language


def test_sentences_sentencex_cut_wrong_are_mended() -> None:
    # Thai and Lao end sentences with a space, Khmer with "។", a Greek question with ";"; a title ("Dr.", "Bpk.", "Dl.")
    # opens the sentence after it, in Punkt's languages too (Turkish); an abbreviation or an ordinal date sentencex does not
    # know ended its sentence (the code before cut "डॉ.", "د.", "GS." and "1873." off, and Thai inside "พ.ศ.")
    cases = {
        "th": ["กรุงเทพมหานครเป็นเมืองหลวงของประเทศไทย", "มีประชากรประมาณสิบล้านคน", "เมืองนี้ก่อตั้งขึ้นในปี พ.ศ. 2325",
               "แม่น้ำเจ้าพระยาไหลผ่านใจกลางเมือง"],
        "km": ["ខ្ញុំស្រឡាញ់ភាសាខ្មែរណាស់។", "វាជាភាសាដ៏ស្រស់ស្អាតរបស់ប្រទេសកម្ពុជា។"],
        "hi": ["डॉ. शर्मा ने कहा कि बैठक सोमवार को होगी।", "उन्होंने बताया कि बजट पचास करोड़ रुपये है।"],
        "ar": ["قال د. أحمد إن الاجتماع سيعقد يوم الاثنين المقبل في القاهرة.", "وأضاف أن الميزانية كبيرة جدا هذا العام."],
        "vi": ["GS. Nguyễn Văn An đã giảng dạy tại trường đại học này.", "Sau đó ông chuyển đến Hà Nội."],
        "hu": ["Budapest 1873. november 17-én jött létre három város egyesítésével.", "Ez Magyarország fővárosa."],
        "el": ["Ποιος οργάνωσε τη συνάντηση στην Αθήνα;", "Ο κ. Παπαδόπουλος την οργάνωσε με τη βοήθεια του δήμου."],
        "tr": ["Toplantı 3 Mart'ta Ankara'da belediyenin yardımıyla yapıldı.", "Dr. Yılmaz toplantıyı düzenledi ve konuşma yaptı."],
        "id": ["Rapat diadakan di Jakarta pada tanggal 3 Maret yang lalu.", "Bpk. Budi yang mengaturnya bersama panitia."],
        "ro": ["Întâlnirea a avut loc la București pe 3 martie, la primărie.", "Dl. Popescu a organizat-o împreună cu echipa sa."],
    }
    for expected_language, sentences in cases.items():
        text = " ".join(sentences)
        [chunk] = chunk_text("note.txt", text, "h", 256, 32)
        assert chunk.language == expected_language
        assert [text[s.start : s.end] for s in chunk.sentences] == sentences, expected_language


def test_a_cut_after_a_short_word_stays_where_it_ends_a_sentence() -> None:
    from assistant.text.sentences import sentence_bounds

    cases = {"vi": "Sau đó ông đi. Ông ở đó.", "ko": "그는 어제 서울에 갔다. 날씨가 좋았다.", "th": "ใช้ภาษา Python ได้ไหม? ได้ครับผม"}
    for language, text in cases.items():
        assert len(sentence_bounds(text, language)) == 2, language


def test_long_text_is_windowed_without_losing_spans() -> None:
    from assistant.ingest import chunking

    paragraph = "Une phrase assez longue pour compter, avec des mots variés et un chiffre 42. " * 40
    text = "\n\n".join(f"{i}. {paragraph}" for i in range(10))
    old = chunking.WINDOW_CHARS
    chunking.WINDOW_CHARS = 5000
    try:
        check_chunks(text, 128, 16)
    finally:
        chunking.WINDOW_CHARS = old


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=3000))
def test_any_text_chunks_map_back_exactly(text: str) -> None:
    check_chunks(text)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["Bonjour.", "Hello world!", "\n\n", "  ", "Mr. Smith went.", "é", "42", "\t"]), max_size=400))
def test_sentence_like_texts_chunk_exactly(parts: list[str]) -> None:
    check_chunks(" ".join(parts), 32, 4)

"""The analysis pipeline: token texts, token-index positions, offsets into the original text."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search.text.tokens import INNER_POSITIONS, Token, analyze, phrase_terms, terms, word_spans
from search.text.tokenizers import ChineseTokenizer
from search.text.normalize import _simplified_table, normalize
from search.text.words import pieces, stopwords
from search.schema import build_schema

REPO = Path(__file__).resolve().parent.parent


def nfkc(text: str) -> str:
    """What analysis makes of text: NFKC, lower case, traditional characters simplified."""
    return unicodedata.normalize("NFKC", text).lower().translate(_simplified_table())


def spans_of(text: str, *, subwords: bool = False) -> list[tuple[str, int, int, int]]:
    return [(t.text, t.position, t.start, t.end) for t in analyze(text, subwords=subwords)]


def whoosh_tokens(text: str, **kwargs) -> list[tuple[str, int, int, int]]:
    # Whoosh reuses one Token object: copy the fields out as they go by.
    return [
        (t.text, t.pos, t.startchar, t.endchar)
        for t in ChineseTokenizer()(text, positions=True, chars=True, **kwargs)
    ]


# --- positions --------------------------------------------------------------------------------


def test_positions_are_consecutive_token_indexes():
    tokens = list(analyze("滴滴宣布关停部分业务，GDP增长4.5%"))
    assert [t.text for t in tokens] == ["滴滴", "宣布", "关停", "部分", "业务", "gdp", "增长", "4.5"]
    assert [t.position for t in tokens] == list(range(len(tokens)))
    assert not any(t.subword for t in tokens)


def test_compounds_take_one_position_per_piece_and_parts_lie_inside_them():
    text = "中华人民共和国成立七十周年，特斯拉发布新车"
    tokens = list(analyze(text, subwords=True))
    words = [t for t in tokens if not t.subword]
    assert words[0].text == "中华人民共和国" and words[0].position == 0
    # 中华 人民 共和国 take positions 0, 1, 2: the next word starts at 3.
    at = {t.text: t.position for t in tokens if t.subword}
    assert (at["中华"], at["人民"], at["共和国"]) == (0, 1, 2)
    assert words[1].position == len(pieces("中华人民共和国"))
    assert sorted({t.position for t in tokens}) == list(range(max(t.position for t in tokens) + 1))
    parent = None
    for token in tokens:
        if not token.subword:
            parent = token
            continue
        assert parent is not None, "a sub-word came before any word"
        assert parent.position <= token.position < parent.position + len(pieces(parent.text))
        assert parent.start <= token.start < token.end <= parent.end
        assert text[token.start : token.end] == token.text


def test_a_phrase_inside_a_compound_finds_its_pieces_side_by_side():
    tokens = list(analyze("华中科技大学", subwords=True))
    at = {t.text: t.position for t in tokens}
    assert phrase_terms("科技大学") == ["科技", "大学"]
    assert at["大学"] == at["科技"] + 1


def test_long_words_yield_dictionary_subwords_only_with_subwords_flag():
    with_parts = {t.text for t in analyze("中华人民共和国", subwords=True)}
    assert {"中华人民共和国", "中华", "人民", "共和国"} <= with_parts
    assert [t.text for t in analyze("中华人民共和国")] == ["中华人民共和国"]

    tesla = list(analyze("特斯拉", subwords=True))
    assert tesla[0] == Token("特斯拉", 0, 0, 3)
    parts = [t for t in tesla if t.subword]
    assert parts, "特斯拉 should yield its dictionary parts at index time"
    assert all(t.position == 0 and t.text in "特斯拉" for t in parts)
    assert [t.text for t in analyze("特斯拉")] == ["特斯拉"]


def test_query_terms_never_contain_subwords():
    assert terms("中华人民共和国") == ["中华人民共和国"]
    assert terms("特斯拉") == ["特斯拉"]
    text = "中国人民银行发布数据，中华人民共和国成立"
    assert terms(text) == [t.text for t in analyze(text, subwords=True) if not t.subword]
    assert len(terms(text)) < len(list(analyze(text, subwords=True)))


def test_subwords_flag_does_not_change_positions_of_words():
    text = "中华人民共和国成立七十周年，特斯拉在上海建厂"
    plain = [(t.text, t.position, t.start, t.end) for t in analyze(text)]
    indexed = [(t.text, t.position, t.start, t.end) for t in analyze(text, subwords=True) if not t.subword]
    assert plain == indexed


# --- offsets and normalisation ----------------------------------------------------------------


def test_full_width_text_keeps_latin_and_digits_with_offsets_into_the_original():
    text = "ＧＤＰ增长２０２４年"
    assert spans_of(text) == [("gdp", 0, 0, 3), ("增长", 1, 3, 5), ("2024", 2, 5, 9), ("年", 3, 9, 10)]


def test_jieba_chinese_analyzer_drops_full_width_latin_and_digits_but_ours_keeps_them():
    from jieba.analyse import ChineseAnalyzer

    text = "ＧＤＰ增长２０２４年"
    theirs = [t.text for t in ChineseAnalyzer()(text)]
    ours = terms(text)
    assert "gdp" not in theirs and "2024" not in theirs  # the baseline we improve on
    assert ours == ["gdp", "增长", "2024", "年"]
    assert set(theirs) <= set(ours)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("每㎡房价", [("每", 0, 0, 1), ("m2", 1, 1, 2), ("房价", 2, 2, 4)]),
        ("㎡滴滴关停", [("m2", 0, 0, 1), ("滴滴", 1, 1, 3), ("关停", 2, 3, 5)]),
        ("ﬁnance 滴滴", [("finance", 0, 0, 6), ("滴滴", 1, 7, 9)]),
        ("ﬁ滴滴", [("fi", 0, 0, 1), ("滴滴", 1, 1, 3)]),
        ("Ⅻ月 ＧＤＰ", [("xii", 0, 0, 1), ("月", 1, 1, 2), ("gdp", 2, 3, 6)]),
        ("　ＡＢＣ　滴滴", [("abc", 0, 1, 4), ("滴滴", 1, 5, 7)]),  # ideographic spaces
    ],
)
def test_offsets_point_into_the_original_text_when_nfkc_changes_lengths(text, expected):
    tokens = spans_of(text)
    assert tokens == expected
    for word, _, start, end in tokens:
        assert nfkc(text[start:end]) == word


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Win11", ["win11"]),
        ("4MLinux", ["4mlinux"]),
        ("12306", ["12306"]),
        ("5G", ["5g"]),
        ("4.5", ["4.5"]),
        ("40.0", ["40.0"]),
        ("高校机房完成Win11升级", ["高校", "机房", "完成", "win11", "升级"]),
        ("5G基站覆盖偏远山村", ["5g", "基站", "覆盖", "偏远", "山村"]),
        ("拨打12306订票", ["拨打", "12306", "订票"]),
        ("增长4.5%，达到40.0亿", ["增长", "4.5", "达到", "40.0", "亿"]),
        ("iPhone15 Pro", ["iphone15", "pro"]),
    ],
)
def test_latin_words_and_numbers_stay_whole_and_lower_cased(text, expected):
    assert terms(text) == expected
    for token in analyze(text):
        assert text[token.start : token.end].lower() == token.text


def test_punctuation_and_whitespace_are_dropped():
    text = "滴滴，关停！\n\t GDP。（Win11）……“新闻”——"
    assert terms(text) == ["滴滴", "关停", "gdp", "win11", "新闻"]
    assert terms("，。！？、；：“”（）…… \n\t") == []
    assert terms("") == []


def test_stopwords_are_dropped_and_take_no_position():
    assert "的" in stopwords() and "了" in stopwords()
    tokens = list(analyze("滴滴的司机了解了情况"))
    texts = [t.text for t in tokens]
    assert "的" not in texts and "了" not in texts
    assert texts[0] == "滴滴" and "司机" in texts
    assert [t.position for t in tokens] == list(range(len(tokens)))
    # A stopword between two words does not open a gap in positions.
    assert spans_of("滴滴的司机") == [("滴滴", 0, 0, 2), ("司机", 1, 3, 5)]


def test_stopwords_never_appear_as_subwords_or_terms():
    stop = stopwords()
    text = "我们的目标是什么，他们为什么这样做，这就是中华人民共和国的答案"
    assert not [t for t in analyze(text, subwords=True) if t.text in stop]
    assert not [w for w in terms(text) if w in stop]


def test_word_spans_cover_stopwords_too():
    text = "滴滴的司机"
    spans = word_spans(text)
    assert spans == [(0, 2), (2, 3), (3, 5)]
    assert [text[a:b] for a, b in spans] == ["滴滴", "的", "司机"]
    # every analysed token is one of the word spans (stopwords add spans, not tokens)
    assert {(t.start, t.end) for t in analyze(text)} < set(spans)


def test_word_spans_use_original_offsets_after_nfkc():
    text = "ＧＤＰ增长㎡"
    assert [text[a:b] for a, b in word_spans(text)] == ["ＧＤＰ", "增长", "㎡"]


def test_normalize_map_points_back_to_the_original():
    text = "ﬁ㎡ＡＢ滴"
    normalized, origin = normalize(text)
    assert normalized == "fim2AB滴"
    assert origin is not None and len(origin) == len(normalized)
    assert [text[i] for i in origin] == ["ﬁ", "ﬁ", "㎡", "㎡", "Ａ", "Ｂ", "滴"]
    assert normalize("plain 文本") == ("plain 文本", None)


@pytest.mark.parametrize(
    "decomposed, composed",
    [
        ("cafe\u0301", "café"),  # NFD text (macOS, some feeds)
        ("ｶﾞｿﾘﾝ", "ガソリン"),  # half-width katakana with a separate voiced mark
    ],
)
def test_decomposed_text_analyses_like_its_nfkc_form(decomposed, composed):
    """A query typed in composed form must find text stored decomposed (and vice versa)."""
    assert unicodedata.normalize("NFKC", decomposed) == composed
    assert terms(decomposed) == terms(composed)


# --- Whoosh adapter ---------------------------------------------------------------------------


def test_whoosh_tokenizer_matches_analyze_at_index_time():
    """Same tokens and offsets; inner words come last, beyond INNER_POSITIONS, in order."""
    text = "中华人民共和国成立，ＧＤＰ增长２０２４年的Win11"
    tokens = list(analyze(text, subwords=True))
    placed = [(t.text, t.position, t.start, t.end) for t in tokens if not t.inner]
    inner = [(t.text, INNER_POSITIONS + n, t.start, t.end) for n, t in enumerate(t for t in tokens if t.inner)]
    assert placed and inner
    assert whoosh_tokens(text, mode="index") == placed + inner


def test_phrase_never_lines_up_an_inner_word():
    """经济 is an inner word of 经济带: "经济 发展" must not match 经济带发展."""
    tokens = whoosh_tokens("经济带发展", mode="index")
    at = {text: position for text, position, _, _ in tokens}
    assert at["经济"] >= INNER_POSITIONS and at["发展"] < INNER_POSITIONS


@pytest.mark.parametrize("mode", ["query", ""])
def test_whoosh_tokenizer_has_no_subwords_outside_index_mode(mode):
    text = "中华人民共和国成立，特斯拉"
    assert whoosh_tokens(text, mode=mode) == spans_of(text)
    assert [t[0] for t in whoosh_tokens(text, mode=mode)] == terms(text)


def test_whoosh_tokenizer_applies_start_pos_and_start_char():
    text = "滴滴的司机"
    shifted = whoosh_tokens(text, mode="index", start_pos=10, start_char=100)
    assert shifted == [("滴滴", 10, 100, 102), ("司机", 11, 103, 105)]


def test_whoosh_tokenizer_keeps_the_original_text():
    text = "ＧＤＰ增长"
    originals = [t.original for t in ChineseTokenizer()(text, keeporiginal=True, mode="index")]
    assert originals == ["ＧＤＰ", "增长"]


def test_schema_fields_index_subwords_and_query_without_them():
    body = build_schema()["body"]
    indexed = {term.decode("utf-8") for term, *_ in body.index("中华人民共和国成立")}
    assert {"中华人民共和国", "人民", "共和国", "成立"} <= indexed
    assert list(body.process_text("中华人民共和国成立", mode="query")) == ["中华人民共和国", "成立"]


def test_tokenizer_pickles_and_compares_equal():
    tokenizer = ChineseTokenizer()
    restored = pickle.loads(pickle.dumps(tokenizer))
    assert restored == tokenizer and tokenizer == restored
    assert hash(restored) == hash(tokenizer)
    assert restored != object()
    assert whoosh_tokens("滴滴关停") == [
        (t.text, t.pos, t.startchar, t.endchar) for t in restored("滴滴关停", positions=True, chars=True)
    ]


def test_schema_pickles_with_equal_analyzers():
    schema = build_schema()
    restored = pickle.loads(pickle.dumps(schema))
    for name in ("title", "body", "categories"):
        assert restored[name].analyzer == schema[name].analyzer == ChineseTokenizer()
        assert restored[name] == schema[name]
    assert restored.names() == schema.names()
    # (Whoosh's sortable columns have no __eq__, so whole schemas cannot be compared.)


# --- jieba stays quiet ------------------------------------------------------------------------


@pytest.mark.parametrize("fresh_cache", [False, True])
@pytest.mark.slow
def test_jieba_prints_nothing_to_stderr_when_the_segmenter_loads(tmp_path, fresh_cache):
    env = dict(os.environ)
    if fresh_cache:  # jieba caches its prefix dict in the temp dir: force a cold build
        env["TMPDIR"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", "from search.text.tokens import terms; print(terms('测试'))"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.strip() == "['测试']"


# --- properties -------------------------------------------------------------------------------

_PIECES = st.sampled_from(
    [
        "滴滴", "关停", "中华人民共和国", "特斯拉", "的", "了", "。", "，", " ", "\n", "\t",
        "Win11", "4MLinux", "12306", "5G", "4.5", "40.0", "ＧＤＰ", "２０２４", "㎡", "ﬁ", "Ⅻ",
        "①", "¼", "⑴", "ｶﾞ", "e\u0301", "İ", "ß", "_", "…", "　", "𠀀", "〇",
    ]
)  # fmt: skip
_TEXT = st.one_of(
    st.text(max_size=60),
    st.lists(st.one_of(_PIECES, st.text(max_size=3)), max_size=25).map("".join),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXT)
def test_property_offsets_positions_and_slices(text):
    for subwords in (False, True):
        tokens = list(analyze(text, subwords=subwords))
        previous = -1
        for token in tokens:
            assert 0 <= token.start < token.end <= len(text)
            assert token.text
            assert token.position >= previous, "positions never go back"
            if not token.subword:
                assert token.position > previous, "each word takes a new position"
            previous = token.position
            if not subwords:
                assert not token.subword
            original = nfkc(text[token.start : token.end])
            if original != token.text:
                # Only possible when one source character expands to more than the token
                # (e.g. ¼ → 1⁄4): the slice is then the smallest one holding the token.
                assert token.text in original
                first, last = text[token.start], text[token.end - 1]
                assert len(unicodedata.normalize("NFKC", first)) > 1 or len(unicodedata.normalize("NFKC", last)) > 1


@settings(max_examples=200, deadline=None)
@given(_TEXT)
def test_property_word_spans_are_ordered_and_cover_every_token(text):
    spans = word_spans(text)
    for (a, b), (c, d) in zip(spans, spans[1:]):
        # in order (two spans overlap only where one character expands to several words: ¼)
        assert a <= c and b <= d
    for a, b in spans:
        assert 0 <= a < b <= len(text)
    assert {(t.start, t.end) for t in analyze(text)} <= set(spans)


@pytest.mark.parametrize(
    ("traditional", "simplified"),
    [("日本石川縣地震", "日本石川县地震"), ("臺灣資料中心", "台湾资料中心"), ("頭髮", "头发"), ("競選總統", "竞选总统")],
)
def test_traditional_text_is_analysed_as_simplified_with_its_own_offsets(traditional: str, simplified: str) -> None:
    assert terms(traditional) == terms(simplified)
    for token in analyze(traditional):
        assert len(traditional[token.start : token.end]) == len(token.text)
        assert traditional[token.start : token.end] != token.text or token.text.isascii() or token.text in simplified


def test_simplified_text_is_left_as_it_is() -> None:
    text = "新华社北京电 国务院常务会议研究部署经济工作。著名建筑"
    assert normalize(text)[0] == text
    # 乾 (as in 乾隆) is folded like the traditional 乾 of 乾燥: both sides alike, so it is still found.
    assert terms("乾隆年间") == terms("干隆年间")


def test_traditional_characters_are_told_alike_one_by_one_and_by_the_compiled_expression() -> None:
    # A cold search looks characters up one by one (compiling the expression costs
    # 10 ms); past 100,000 characters the expression takes over.
    from search.text.normalize import _TraditionalFinder

    texts = ["国务院常务会议", "臺灣資料中心", "plain text", "经济發展" * 40, ""]
    one_by_one, compiled = _TraditionalFinder(), _TraditionalFinder()
    compiled.BY_CHARACTER_UP_TO = 0
    assert [one_by_one(text, _simplified_table()) for text in texts] == [False, True, False, True, False]
    assert [compiled(text, _simplified_table()) for text in texts] == [False, True, False, True, False]
    assert one_by_one.pattern is None and compiled.pattern is not None
    switching = _TraditionalFinder()
    switching.BY_CHARACTER_UP_TO = 100
    switching("经济發展" * 40, _simplified_table())
    assert switching.pattern is None
    assert switching("经济", _simplified_table()) is False and switching.pattern is not None

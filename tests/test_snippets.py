"""Snippets and highlights: marked query terms, word-boundary cuts, escaped article text."""

from __future__ import annotations

import html
import re
import unicodedata
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search.text.tokens import analyze, word_spans
from search.text.normalize import normalize
from search.ingest.corpus import Skipped, parse_article, walk
from search.query.snippets import SNIPPET_CHARS, Highlighted, best_passage, highlighted

SAMPLE = Path(__file__).resolve().parent.parent / "search" / "sample"
ELLIPSIS = "…"
#: How far past SNIPPET_CHARS a snippet may run to finish the word it ends in.
MARGIN = 30

_MARK = re.compile(r"<mark>(.*?)</mark>", re.S)
_ENTITY = re.compile(r"&(amp|lt|gt|quot|#x27);")


def snippet(text: str, terms, size: int = SNIPPET_CHARS, phrases=()) -> str:
    """The best passage as HTML, as hits give it."""
    return best_passage(text, terms, size, phrases).html()


def highlight(text: str, terms) -> str:
    """All of the text as HTML, as hits give titles."""
    return highlighted(text, terms).html()


def unmark(rendered: str) -> str:
    return rendered.replace("<mark>", "").replace("</mark>", "")


def plain(rendered: str) -> str:
    """What the reader sees: tags gone, entities decoded."""
    return html.unescape(unmark(rendered))


def marked(rendered: str) -> list[str]:
    return [html.unescape(m) for m in _MARK.findall(rendered)]


def locate(text: str, rendered: str) -> tuple[int, int, bool, bool]:
    """Where a snippet comes from in ``text``: (start, end, has prefix …, has suffix …)."""
    seen = plain(rendered)
    prefix, suffix = seen.startswith(ELLIPSIS), seen.endswith(ELLIPSIS) and len(seen) > 1
    middle = seen[1 if prefix else 0 : len(seen) - (1 if suffix else 0)]
    flat = text.replace("\n", " ")
    assert flat.count(middle) == 1, "test text must make the snippet's source unambiguous"
    start = flat.index(middle)
    return start, start + len(middle), prefix, suffix


def assert_word_boundaries(text: str, start: int, end: int) -> None:
    """No word of the full text (per word_spans) straddles either end of text[start:end]."""
    for a, b in word_spans(text):
        assert not a < start < b, f"snippet starts inside {text[a:b]!r}"
        assert not a < end < b, f"snippet ends inside {text[a:b]!r}"


def assert_safe_html(rendered: str) -> None:
    bare = unmark(rendered)
    assert "<" not in bare and ">" not in bare and '"' not in bare and "'" not in bare
    assert "&" not in _ENTITY.sub("", bare), "every & must start an entity"
    assert rendered.count("<mark>") == rendered.count("</mark>")
    assert "<mark><mark>" not in rendered


def sample_bodies() -> list[str]:
    bodies = [
        parse_article(source.path, source.absolute.read_bytes()).body
        for source in walk(SAMPLE)
        if not isinstance(source, Skipped)
    ]
    assert len(bodies) >= 20
    return bodies


# --- marks ------------------------------------------------------------------------------------


def test_matched_words_are_wrapped_in_mark():
    text = "滴滴宣布关停部分业务，司机和乘客都很关注。"
    rendered = snippet(text, {"滴滴", "关停"})
    assert marked(rendered) == ["滴滴", "关停"]
    assert rendered.startswith("<mark>滴滴</mark>宣布<mark>关停</mark>")
    assert plain(rendered) == text


def test_marks_follow_words_not_substrings():
    # 民币 occurs in 人民币 but is not a word or sub-word of it
    assert highlight("人民币汇率", {"民币"}) == "人民币汇率"
    assert highlight("人民币汇率", {"汇率"}) == "人民币<mark>汇率</mark>"
    assert highlight("Win11升级", {"win"}) == "Win11升级"
    assert highlight("Win11升级", {"win11"}) == "<mark>Win11</mark>升级"


def test_subword_matches_highlight_only_the_subword():
    assert highlight("中华人民共和国成立", {"人民"}) == "中华<mark>人民</mark>共和国成立"
    assert highlight("特斯拉发布新车", {"特斯拉"}) == "<mark>特斯拉</mark>发布新车"
    rendered = snippet("今年中华人民共和国成立七十五周年。", {"共和国"})
    assert marked(rendered) == ["共和国"]
    assert "中华人民<mark>共和国</mark>成立" in rendered


def test_marks_land_on_the_original_characters_after_nfkc():
    assert highlight("ＧＤＰ增长２０２４年", {"gdp", "2024"}) == "<mark>ＧＤＰ</mark>增长<mark>２０２４</mark>年"
    assert highlight("每㎡房价", {"m2"}) == "每<mark>㎡</mark>房价"
    assert highlight("ﬁnance新闻", {"finance"}) == "<mark>ﬁnance</mark>新闻"


def test_adjacent_matches_share_one_mark():
    rendered = highlight("滴滴关停", {"滴滴", "关停"})
    assert rendered == "<mark>滴滴关停</mark>"


def test_highlight_of_a_title_keeps_all_of_it():
    title = "滴滴宣布关停<b>部分</b>业务 & “点滴守护”"
    rendered = highlight(title, {"滴滴", "关停", "守护"})
    assert plain(rendered) == title
    assert marked(rendered) == ["滴滴", "关停", "守护"]
    assert_safe_html(rendered)
    assert highlight(title, set()) == html.escape(title)
    assert highlight("", {"滴滴"}) == ""


# --- escaping ---------------------------------------------------------------------------------


def test_article_text_is_html_escaped():
    text = '滴滴 <script>alert("x")</script> & <img src=x onerror=alert(1)> \'quoted\' 关停'
    for rendered in (snippet(text, {"滴滴", "关停", "script", "onerror"}), highlight(text, {"script", "img"})):
        assert_safe_html(rendered)  # no raw < > " ' and no bare & outside the <mark> tags
        assert "<script>" not in rendered and "<img" not in rendered
        bare = unmark(rendered)
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; " in bare
        assert "&lt;img src=x onerror=alert(1)&gt;" in bare  # onerror= only as escaped text
        assert plain(rendered) == text


def test_escaping_inside_marks():
    rendered = highlight("AT&T公司", {"at"})
    assert_safe_html(rendered)
    assert plain(rendered) == "AT&T公司"


# --- where snippets are cut -------------------------------------------------------------------


def _long_text() -> str:
    return (
        "据新华社报道，今年以来各地持续推进城市更新行动，老旧小区改造进展顺利。"
        "住房和城乡建设部有关负责人介绍，截至目前全国已开工改造老旧小区五万多个，惠及居民近千万户。"
        "与此同时，滴滴出行宣布关停部分城市的顺风车业务，引发司机和乘客的广泛讨论。"
        "业内人士认为，网约车平台需要在安全与效率之间找到新的平衡点，监管部门也在研究相关政策。"
        "另据了解，多地交通部门正在完善公共交通网络，地铁和公交的换乘更加便捷，市民出行体验明显改善。"
        "气象部门提醒，未来一周将有较强冷空气影响北方地区，请公众注意防寒保暖，合理安排出行计划。"
    )


def test_snippet_is_about_snippet_chars_long():
    text = _long_text()
    assert len(text) > 2 * SNIPPET_CHARS
    rendered = snippet(text, {"滴滴", "关停"})
    start, end, _, _ = locate(text, rendered)
    assert SNIPPET_CHARS // 2 <= end - start <= SNIPPET_CHARS + MARGIN
    short = snippet(text, {"滴滴"}, size=40)
    start, end, _, _ = locate(text, short)
    assert end - start <= 40 + MARGIN
    assert marked(short) == ["滴滴"]


def test_ellipsis_marks_text_left_out_at_either_end():
    text = _long_text()
    middle = snippet(text, {"滴滴"})
    assert middle.startswith(ELLIPSIS) and middle.endswith(ELLIPSIS)
    first = snippet(text, {"新华社"})
    assert not first.startswith(ELLIPSIS) and first.endswith(ELLIPSIS)
    assert plain(first).startswith("据新华社报道")
    last = snippet(text, {"保暖"})
    assert last.startswith(ELLIPSIS) and not last.endswith(ELLIPSIS)
    whole = snippet("滴滴宣布关停。", {"滴滴"})
    assert ELLIPSIS not in whole


def test_snippet_starts_at_the_sentence_holding_the_match():
    text = _long_text()
    rendered = snippet(text, {"乘客"})
    assert plain(rendered).startswith(ELLIPSIS + "与此同时")
    assert marked(rendered) == ["乘客"]


def test_newlines_become_spaces_and_start_lines_without_ellipsis():
    text = "第一段介绍背景情况。\n" + "第二段里滴滴宣布关停部分业务。" + "\n第三段是其他内容。" * 20
    rendered = snippet(text, {"滴滴"})
    assert "\n" not in rendered
    assert plain(rendered).startswith("第二段里")  # starts a line: nothing left out before it
    assert marked(rendered) == ["滴滴"]


def test_cuts_never_split_a_word_in_sample_articles():
    checked = 0
    for body in sample_bodies():
        words = [t.text for t in analyze(body) if len(t.text) >= 2]
        for word in words[5::17]:
            rendered = snippet(body, {word})
            assert any(word in normalize(m)[0].lower() for m in marked(rendered))
            start, end, prefix, suffix = locate(body, rendered)
            assert_word_boundaries(body, start, end)
            assert end - start <= SNIPPET_CHARS + MARGIN
            assert prefix == (start > 0 and body[start - 1] != "\n")
            assert suffix == (end < len(body) and body[end] != "\n")
            assert_safe_html(rendered)
            checked += 1
    assert checked > 100


def test_cuts_never_split_a_word_in_unpunctuated_chinese():
    """Without sentence ends to snap to, the cut must still fall between words."""
    checked = 0
    for body in sample_bodies()[::3]:
        text = re.sub(r"[^\u4e00-\u9fff]", "", body)
        for token in [t for t in analyze(text) if len(t.text) >= 2][3::11]:
            start, end, _, _ = locate(text, snippet(text, {token.text}))
            assert_word_boundaries(text, start, end)
            assert end - start <= SNIPPET_CHARS + MARGIN
            checked += 1
    assert checked > 30


def test_cuts_never_split_a_long_latin_word():
    digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    lead = "发布说明中提到的文件可以从官方网站下载安装包之后再进行校验确认无误下载之后请核对校验值"  # 43
    text = lead + "并且记录下载时间和下载地址以及文件大小和文件名称方便日后查找" * 2 + " " + digest + " 是否一致再安装新版本"
    # no sentence end to snap to: the 120-character passage from the match ends inside the digest
    assert text.index(digest) < SNIPPET_CHARS < text.index(digest) + len(digest)
    rendered = snippet(text, {"发布"})
    start, end, _, _ = locate(text, rendered)
    assert_word_boundaries(text, start, end)
    assert end - start <= SNIPPET_CHARS + len(digest)


def test_the_passage_with_most_distinct_terms_is_chosen():
    text = (
        "滴滴在开头出现了一次。"
        + "今天天气很好，我们一起去公园散步。" * 8
        + "这一段同时提到滴滴宣布关停以及补贴政策调整。"
        + "今天天气很好，我们一起去公园散步。" * 8
    )
    rendered = snippet(text, {"滴滴", "关停", "补贴"})
    assert set(marked(rendered)) == {"滴滴", "关停", "补贴"}
    assert "这一段" in plain(rendered)


def test_all_terms_of_the_best_window_are_shown():
    """Two terms 70 characters apart fit one 120-character snippet: both must be in it."""
    filler = "甲乙丙丁"
    text = filler * 25 + "滴滴" + "戊己庚辛" * 17 + "关停" + "壬癸" * 40
    assert text.index("关停") - text.index("滴滴") < SNIPPET_CHARS * 2 // 3
    rendered = snippet(text, {"滴滴", "关停"})
    assert {"滴滴", "关停"} <= set(marked(rendered))


def test_upper_case_matches_are_found_whatever_else_the_text_holds():
    """A character whose lower case is longer (İ) must not stop 'GDP' from matching 'gdp'."""
    filler = "今天天气很好，我们一起去公园散步。" * 10
    text = "伊斯坦布尔（İstanbul）消息。" + filler + "今年GDP增长很快。" + filler
    rendered = snippet(text, {"gdp"})
    assert "GDP" in marked(rendered)
    # the same text without İ works: only the İ makes the difference
    assert "GDP" in marked(snippet(text.replace("İ", "I"), {"gdp"}))


def test_empty_text_and_empty_terms():
    assert snippet("", {"滴滴"}) == ""
    assert snippet("", set()) == ""
    text = _long_text()
    rendered = snippet(text, set())
    assert "<mark>" not in rendered
    assert plain(rendered).startswith("据新华社报道")
    assert rendered.endswith(ELLIPSIS)
    nowhere = snippet(text, {"不存在"})
    assert "<mark>" not in nowhere and plain(nowhere).startswith("据新华社报道")
    assert snippet("滴滴", {"滴滴"}) == "<mark>滴滴</mark>"


# --- properties -------------------------------------------------------------------------------

_PIECES = st.sampled_from(
    [
        "滴滴", "关停", "人民", "中华人民共和国", "GDP", "Win11", "的", "。", "，", "！", "\n", " ",
        "<b>", "</script>", "&amp;", "&", '"', "'", "onerror=", "ＧＤＰ", "㎡", "ﬁ", "…", "İ",
        "今天天气很好", "我们一起去公园散步",
    ]
)  # fmt: skip
_TEXT = st.lists(st.one_of(_PIECES, st.text(max_size=4)), max_size=60).map("".join)
_TERMS = st.sets(
    st.one_of(st.sampled_from(["滴滴", "关停", "人民", "gdp", "win11", "m2", "共和国", "a"]), st.text(min_size=1, max_size=3)),
    max_size=4,
)


def _is_excerpt(text: str, seen: str) -> bool:
    flat = text.replace("\n", " ")
    for prefix in ("", ELLIPSIS):
        for suffix in ("", ELLIPSIS):
            if seen.startswith(prefix) and seen.endswith(suffix) and len(seen) >= len(prefix) + len(suffix):
                if seen[len(prefix) : len(seen) - len(suffix)] in flat:
                    return True
    return False


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXT, _TERMS)
def test_property_snippet_is_an_escaped_excerpt(text, query_terms):
    rendered = snippet(text, query_terms)
    assert_safe_html(rendered)
    assert _is_excerpt(text, plain(rendered))
    assert "\n" not in rendered
    assert len(plain(rendered)) <= SNIPPET_CHARS + 2 * MARGIN + 2
    for word in marked(rendered):
        normal = unicodedata.normalize("NFKC", word).lower()
        assert any(term in normal for term in query_terms), (word, query_terms)


@settings(max_examples=200, deadline=None)
@given(_TEXT, _TERMS)
def test_property_highlight_keeps_the_whole_text(text, query_terms):
    rendered = highlight(text, query_terms)
    assert_safe_html(rendered)
    assert plain(rendered) == text


def _spans_agree_with_html(found: Highlighted, rendered: str) -> None:
    """The spans mark exactly what the HTML marks, in text that is the HTML's text."""
    assert found.text == plain(rendered)
    assert [found.text[a:b] for a, b in found.spans] == marked(rendered)
    assert all(a < b <= c for (a, b), (c, _) in zip(found.spans, found.spans[1:]))
    assert found.html() == rendered


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXT, _TERMS)
def test_property_highlights_as_spans_are_the_html_marks(text, query_terms):
    _spans_agree_with_html(best_passage(text, query_terms), snippet(text, query_terms))
    _spans_agree_with_html(highlighted(text, query_terms), highlight(text, query_terms))


def test_hits_carry_their_highlights_as_spans(sample_index):
    from search import open_index

    seen = 0
    with open_index(sample_index) as index:
        for query in ("新能源汽车 销量", "马拉松", "人工智能 测试", "<script>", "地铁 客流"):
            for hit in index.search(query).hits:
                assert Highlighted(hit.title, hit.title_spans).html() == hit.title_html
                assert Highlighted(hit.snippet_text, hit.snippet_spans).html() == hit.snippet
                seen += len(hit.title_spans) + len(hit.snippet_spans)
    assert seen > 10

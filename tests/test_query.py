"""Query strings: a parser that never raises, the Whoosh queries it makes, and how they rank."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from whoosh import query as wq

from search import index_corpus, open_index
from search.text.tokens import phrase_terms
from search.query.syntax import Alternatives, Phrase, Words, highlight_terms, parse
from search.query.compile import AtLeast, Coordinated, has_loose_matches, to_whoosh
from search.schema import TEXT_FIELDS, exact_value


def leaves(query: wq.Query) -> list[wq.Query]:
    """Every Term / Phrase (or other leaf) of a compiled query, bonus clauses left out."""
    if query is wq.NullQuery or isinstance(query, (wq.Term, wq.Phrase, wq.Every)):
        return [query]
    found: list[wq.Query] = []
    for child in query.children():
        found.extend(leaves(child))
    return found


def term_pairs(query: wq.Query) -> set[tuple[str, str]]:
    return {(q.fieldname, q.text) for q in leaves(query) if isinstance(q, wq.Term)}


def compiled(text: str) -> wq.Query:
    return to_whoosh(parse(text))


# --- the parser never raises ------------------------------------------------------------------

_VOCAB = st.sampled_from(
    [
        "AND", "OR", "NOT", "&&", "||", "-", "+", "－", "＋", "(", ")", "（", "）", '"', "“", "”", "「",
        "」", "『", "』", "＂", "title:", "title：", "标题:", "category:", "tag:", "author:", "body:",
        "foo:", ":", "：", "*", "?", "*?", "\x00", " ", "  ", "\n", "滴滴", "关停", "的", "x", "Win11",
        "-滴滴", "+关停", "NOT(", "title:(", "\\", "'", "~", "^2", "[", "]", "{", "}",
    ]
)  # fmt: skip
_QUERIES = st.one_of(
    st.text(max_size=200),
    st.lists(st.one_of(_VOCAB, st.text(max_size=4)), max_size=40).map("".join),
    st.lists(_VOCAB, max_size=40).map(" ".join),
)


def _check_query(text: str) -> Alternatives:
    tree = parse(text)
    assert isinstance(tree, Alternatives)
    result = to_whoosh(tree)
    assert isinstance(result, wq.Query)
    terms = highlight_terms(tree)
    assert isinstance(terms, set) and all(isinstance(term, str) and term for term in terms)
    repr(result)
    return tree


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_QUERIES)
def test_property_parse_and_compile_never_raise(text):
    _check_query(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "\x00",
        "滴滴\x00关停",
        "x" * 10_000,
        "滴" * 10_000,
        "滴滴 " * 2_500,
        "(" * 10_000,
        ")" * 10_000,
        '"' * 10_001,
        "“" * 5_000,
        "NOT " * 2_500,
        "- " * 5_000,
        "AND",
        "OR",
        "NOT",
        "-",
        "+",
        "a AND",
        "OR b",
        "NOT NOT",
        "title:",
        "title: ",
        "title:)",
        'title:"',
        "category:",
        "author:()",
        '"unbalanced',
        "“半个引号",
        "(滴滴 OR 关停",
        "滴滴 OR 关停)",
        ")(",
        "*",
        "?",
        "滴*",
        "*?*?",
        "「」『』",
        "：：：",
    ],
)
def test_parse_and_compile_never_raise_on_awkward_input(text):
    _check_query(text)


@pytest.mark.parametrize("opened, closed", [("(", ")"), ("-(", "")])
def test_deep_nesting_never_raises(opened, closed):
    """Every nesting depth a 1,000-character query can hold compiles (or degrades to words).

    Each depth is tried: the parser falls back to plain words when *it* runs out of
    stack, so the depths just below that are the ones that matter.
    """
    for depth in range(500):
        tree = parse(opened * depth + "滴滴" + closed * depth)
        try:
            to_whoosh(tree)
            highlight_terms(tree)
        except RecursionError:
            pytest.fail(f"to_whoosh/highlight_terms raised RecursionError at nesting depth {depth}")


def test_long_queries_are_capped():
    query = compiled(" ".join(f"词{i}" for i in range(5_000)))
    assert 0 < len(leaves(query)) <= 64 * len(TEXT_FIELDS)


# --- what queries mean ------------------------------------------------------------------------


def test_plain_words_give_a_coordinated_query_over_the_text_fields():
    query = compiled("滴滴 关停")
    assert isinstance(query, Coordinated)
    assert len(query.subqueries) == 2
    assert term_pairs(query) == {(f, w) for f in TEXT_FIELDS for w in ("滴滴", "关停")}


def test_an_unspaced_chunk_counts_as_separate_words():
    query = compiled("滴滴关停")
    assert isinstance(query, Coordinated)
    assert term_pairs(query) == {(f, w) for f in TEXT_FIELDS for w in ("滴滴", "关停")}
    assert all(isinstance(bonus, AtLeast) for bonus in query.bonus), "only title n-grams add to the score"


def test_title_ngrams_add_to_the_score_and_find_articles_only_in_a_loose_search():
    strict = compiled("五菱宏光 bluestacks")
    grams_bonus = [bonus for bonus in strict.bonus if isinstance(bonus, AtLeast)]
    assert len(grams_bonus) == 1 and grams_bonus[0].least == 1, "any shared n-gram adds to the score"
    assert {q.text for q in grams_bonus[0].subqueries} == {"五菱", "菱宏", "宏光", "blu", "lue", "ues", "est", "sta", "tac", "ack", "cks"}
    assert strict.fallback is None, "a normal search finds articles by their words only"
    loose = to_whoosh(parse("五菱宏光 bluestacks"), loose=True)
    assert loose.fallback is not None and loose.fallback.least == 6, "half of the 11 n-grams"
    assert not any(isinstance(bonus, AtLeast) for bonus in loose.bonus)
    assert has_loose_matches(parse("五菱宏光"))
    assert not has_loose_matches(parse("title:五菱宏光")), "fields are matched exactly"
    assert not has_loose_matches(parse('"五菱宏光"')), "phrases are matched exactly"


@pytest.mark.parametrize("text", ['"人工智能 发展"', "“人工智能 发展”", "「人工智能 发展」", "＂人工智能 发展＂"])
def test_quotes_give_phrase_queries_over_title_categories_and_body(text):
    tree = parse(text)
    assert tree.options[0].clauses == [("should", Phrase("人工智能 发展"))]
    phrases = leaves(to_whoosh(tree))
    assert all(isinstance(q, wq.Phrase) for q in phrases)
    assert {q.fieldname for q in phrases} == set(TEXT_FIELDS)
    assert all(list(q.words) == phrase_terms("人工智能 发展") == ["人工", "智能", "发展"] and q.slop == 1 for q in phrases)


def test_field_prefix_limits_to_that_field():
    assert term_pairs(compiled("title:滴滴")) == {("title", "滴滴")}
    assert term_pairs(compiled("标题：滴滴")) == {("title", "滴滴")}
    assert term_pairs(compiled("body:关停")) == {("body", "关停")}
    phrases = leaves(compiled('title:"滴滴 关停"'))
    assert [(q.fieldname, list(q.words)) for q in phrases] == [("title", ["滴滴", "关停"])]
    assert term_pairs(compiled("title:滴滴 关停")) == {("title", "滴滴")} | {(f, "关停") for f in TEXT_FIELDS}


@pytest.mark.parametrize(
    "text, field, value",
    [
        ("category:科技", "category", "科技"),
        ("分类:科技", "category", "科技"),
        ("tag:手机", "tag", "手机"),
        ("author:示例日报", "author", "示例日报"),
        ('author:"New York Times"', "author", "new york times"),
        ("author:ＡＢＣ", "author", "abc"),
    ],
)
def test_category_tag_and_author_use_the_exact_value_fields(text, field, value):
    pairs = term_pairs(compiled(text))
    assert (field, value) in pairs
    assert value == exact_value(value)
    if field == "author":
        assert pairs == {("author", value)}
    assert not pairs & {(f, value) for f in ("title", "body")}
    assert highlight_terms(parse(text)) == set()


@pytest.mark.parametrize("text", ["-滴滴 关停", "NOT 滴滴 关停", "关停 -滴滴", "关停 NOT 滴滴", "关停 －滴滴"])
def test_minus_and_not_exclude(text):
    query = compiled(text)
    assert isinstance(query, wq.AndNot)
    assert term_pairs(query.a) == {(f, "关停") for f in TEXT_FIELDS}
    assert term_pairs(query.b) == {(f, "滴滴") for f in TEXT_FIELDS}
    assert highlight_terms(parse(text)) == {"关停"}


def test_only_negative_words_exclude_from_everything():
    query = compiled("-滴滴")
    assert isinstance(query, wq.AndNot) and isinstance(query.a, wq.Every)


def test_and_requires_both_and_or_offers_either():
    both = compiled("滴滴 AND 关停")
    assert isinstance(both, wq.And) and len(both.subqueries) == 2
    either = compiled("滴滴 OR 关停")
    assert isinstance(either, wq.Or) and len(either.subqueries) == 2
    plus = compiled("+滴滴 关停")
    assert isinstance(plus, wq.AndMaybe)
    assert term_pairs(plus.a) == {(f, "滴滴") for f in TEXT_FIELDS}


def test_parentheses_group():
    tree = parse("(滴滴 OR 工厂) 关停")
    clauses = tree.options[0].clauses
    assert len(clauses) == 2
    assert isinstance(clauses[0][1], Alternatives) and len(clauses[0][1].options) == 2
    assert clauses[1] == ("should", Words("关停"))
    excluded = compiled("关停 NOT (滴滴 工厂)")
    assert isinstance(excluded, wq.AndNot)
    assert {text for _, text in term_pairs(excluded.b)} == {"滴滴", "工厂"}
    assert highlight_terms(parse("关停 NOT (滴滴 工厂)")) == {"关停"}


def test_unknown_field_stays_plain_text():
    pairs = term_pairs(compiled("foo:bar"))
    assert pairs == {(f, w) for f in TEXT_FIELDS for w in ("foo", "bar")}
    assert highlight_terms(parse("foo:bar")) == {"foo", "bar"}
    assert highlight_terms(parse("来源:新华社")) == {"来源", "新华社"}


def test_wildcards_are_plain_text():
    assert compiled("*?") is wq.NullQuery
    query = compiled("滴* 关?")
    assert all(isinstance(q, wq.Term) for q in leaves(query))
    assert {text for _, text in term_pairs(query)} == {"滴", "关"}


def test_empty_and_stopword_only_queries_compile_to_null():
    for text in ("", "   ", "的 了", "，。", "()", '""'):
        assert compiled(text) is wq.NullQuery, text
        assert highlight_terms(parse(text)) == set()


def test_highlight_terms_are_analysed_and_leave_out_negated_words():
    assert highlight_terms(parse("ＧＤＰ增长 Win11")) == {"gdp", "增长", "win11"}
    assert highlight_terms(parse("滴滴 -关停 NOT 工厂")) == {"滴滴"}
    assert highlight_terms(parse("滴滴 OR -关停")) == {"滴滴"}
    assert highlight_terms(parse("title:滴滴 body:关停 category:科技")) == {"滴滴", "关停"}


def test_negated_phrase_is_excluded():
    """`-"…"` excludes the phrase, as `-word` excludes the word."""
    tree = parse('-"滴滴 关停" 新闻')
    assert ("must_not", Phrase("滴滴 关停")) in tree.options[0].clauses
    assert highlight_terms(tree) == {"新闻"}
    query = to_whoosh(tree)
    assert isinstance(query, wq.AndNot)


def test_negated_field_excludes_only_in_that_field():
    """`-title:滴滴` excludes titles with 滴滴, not every article mentioning 'title' or 滴滴."""
    tree = parse("关停 -title:滴滴")
    assert ("must_not", Words("滴滴", "title")) in tree.options[0].clauses
    query = to_whoosh(tree)
    assert isinstance(query, wq.AndNot)
    assert term_pairs(query.b) == {("title", "滴滴")}


# --- ranking on a tiny index ------------------------------------------------------------------

_ARTICLES = {
    "both.md": ("城市新闻", "滴滴宣布关停部分业务。", ["科技"], ["出行"], "张三"),
    "didi.md": ("出行消息", "滴滴滴滴滴滴今天发布了新的功能，滴滴用户很多。", ["财经"], ["科技"], None),
    "stop.md": ("企业动态", "这家工厂宣布关停，关停，关停。", [], [], None),
    "three.md": ("普通报道", "滴滴决定关停部分业务并取消补贴。", [], [], None),
    "titled.md": ("滴滴关停", "相关内容请见后续报道。", [], [], None),
    "phrase1.md": ("测试", "大模型开放公众测试。", [], [], None),
    "phrase2.md": ("测试二", "公众希望模型开放更多内容。", [], [], None),
    "nev.md": ("汽车", "新能源汽车销量增长迅速。", [], [], None),
    "nev_apart.md": ("能源", "新能源的发展带动了汽车产业。", [], [], None),
    "ai.md": ("技术", "人工智能技术的发展很快。", [], [], None),
    "univ.md": ("高校", "华中科技大学举行毕业典礼。", [], [], None),
    "apple_phone.md": ("一", "苹果发布了一款新手机，价格上涨。", [], [], None),
    "apple_banana.md": ("二", "苹果和香蕉都是水果，苹果香蕉苹果香蕉。", [], [], None),
}


@pytest.fixture(scope="module")
def tiny_index(tmp_path_factory: pytest.TempPathFactory):
    corpus = tmp_path_factory.mktemp("tiny-corpus")
    for name, (title, body, categories, tags, author) in _ARTICLES.items():
        lines = ["---", f"title: '{title}'"]
        if categories:
            lines += ["categories:"] + [f" - {value}" for value in categories]
        if tags:
            lines += ["tags:"] + [f" - {value}" for value in tags]
        if author:
            lines.append(f"author: {author}")
        lines += ["---", "", body, ""]
        (corpus / name).write_text("\n".join(lines), "utf-8")
    location = tmp_path_factory.mktemp("tiny-index")
    report = index_corpus(corpus, location)
    assert report.added == len(_ARTICLES) and not report.skipped
    with open_index(location) as index:
        yield index


def paths(index, text: str, **kwargs) -> list[str]:
    return [hit.path for hit in index.search(text, limit=50, **kwargs).hits]


def test_documents_with_all_words_rank_first_and_partial_matches_are_still_found(tiny_index):
    found = paths(tiny_index, "滴滴 关停")
    assert set(found[:3]) == {"both.md", "three.md", "titled.md"}  # both words
    assert {"didi.md", "stop.md"} <= set(found[3:])  # one word, many times: still found, later


def test_more_matched_words_beat_repetition_and_title_boost(tiny_index):
    found = paths(tiny_index, "滴滴 关停 补贴")
    assert found[0] == "three.md"  # the only one with all three words
    assert found.index("titled.md") < found.index("didi.md")
    assert {"both.md", "didi.md", "stop.md", "titled.md"} <= set(found)


_DAY_STORIES = [
    ("2023年春运今天启动", "今天，为期40天的2023年春运正式拉开帷幕，铁路预计发送旅客3.48亿人次。"),
    ("冬小麦长势良好", "专家介绍，什么时候开始春灌要看墒情，今年的麦苗长势总体良好。"),
    ("新能源汽车下乡", "活动从下个月开始，到年底结束，很多时候县城的充电桩还不够。"),
    ("博物馆延长开放时间", "市民什么时候来都可以，展览从早上九点开始，今年新增了夜场。"),
    ("冰雪旅游升温", "滑雪场开始迎来客流高峰，游客说小时候没见过这么多人。"),
]


@pytest.fixture(scope="module")
def day_archive(tmp_path_factory: pytest.TempPathFactory):
    """Short stories, plus whole-day transcripts that hold every story's text (issue 14)."""
    corpus = tmp_path_factory.mktemp("day-corpus")
    other_days = [(f"其他新闻{n}", f"记者今天了解到，第{n}项工作{'开始了' if n % 2 else '有时候很忙'}。") for n in range(40)]
    for number, (title, body) in enumerate(_DAY_STORIES + other_days):
        (corpus / f"story-{number}.md").write_text(f"---\ntitle: '{title}'\n---\n\n{body}\n", "utf-8")
    for day in range(3):  # each day: the five stories, then fifteen others
        stories = _DAY_STORIES + other_days[day * 10 : day * 10 + 15]
        text = "\n\n".join(f"## {title}\n\n{body}" for title, body in stories)
        (corpus / f"transcript-{day}.md").write_text(f"---\ntitle: '新闻联播 第{day + 1}天'\n---\n\n{text}\n", "utf-8")
    location = tmp_path_factory.mktemp("day-index")
    index_corpus(corpus, location)
    with open_index(location) as index:
        yield index


def test_a_story_beats_the_transcripts_that_hold_its_words_and_every_filler_word(day_archive):
    # The transcripts hold 时候 and 开始 too; the story holds only the words that say what it is about.
    found = paths(day_archive, "2023年春运什么时候开始")
    assert found[0] == "story-0.md"
    assert {"transcript-0.md", "transcript-1.md", "transcript-2.md"} <= set(found)


def test_a_document_missing_one_word_is_found(tiny_index):
    assert "didi.md" in paths(tiny_index, "滴滴 不存在的词语")
    assert "didi.md" in paths(tiny_index, "滴滴关停")  # one unspaced chunk


def test_quoted_phrase_matches_only_adjacent_words_in_order(tiny_index):
    assert set(paths(tiny_index, "开放 公众")) >= {"phrase1.md", "phrase2.md"}
    assert paths(tiny_index, '"开放公众"') == ["phrase1.md"]
    assert paths(tiny_index, '"开放 公众"') == ["phrase1.md"]
    assert paths(tiny_index, '"公众开放"') == []


def test_phrase_of_several_jieba_tokens_matches(tiny_index):
    from search.text.tokens import terms

    assert len(terms("新能源汽车")) > 1 and len(terms("人工智能技术")) > 1
    assert paths(tiny_index, '"新能源汽车"') == ["nev.md"]  # not nev_apart.md
    assert paths(tiny_index, '"人工智能技术"') == ["ai.md"]
    assert paths(tiny_index, '"人工智能"') == ["ai.md"]


def test_phrase_inside_a_longer_dictionary_word_matches(tiny_index):
    """“科技大学” appears verbatim in 华中科技大学, so the quoted phrase must find it."""
    from search.text.tokens import terms

    assert terms("科技大学") == ["科技", "大学"]
    assert "univ.md" in paths(tiny_index, "科技 大学")
    assert paths(tiny_index, '"科技大学"') == ["univ.md"]


def test_title_prefix_searches_titles_only(tiny_index):
    assert paths(tiny_index, "title:滴滴") == ["titled.md"]
    assert paths(tiny_index, "title:出行") == ["didi.md"]


def test_exclusion_and_conjunction_on_the_index(tiny_index):
    assert "both.md" not in paths(tiny_index, "关停 -滴滴")
    assert paths(tiny_index, "关停 -滴滴") == ["stop.md"]
    assert paths(tiny_index, "NOT 关停 滴滴") == ["didi.md"]
    assert set(paths(tiny_index, "滴滴 AND 关停")) == {"both.md", "three.md", "titled.md"}
    assert set(paths(tiny_index, "滴滴 AND 补贴")) == {"three.md"}
    assert set(paths(tiny_index, "工厂 OR 补贴")) == {"stop.md", "three.md"}
    assert set(paths(tiny_index, "foo:工厂")) == {"stop.md"}


def test_negated_phrase_on_the_index(tiny_index):
    found = paths(tiny_index, '关停 -"滴滴 宣布"')
    assert "both.md" not in found  # contains 滴滴宣布
    assert "stop.md" in found


def test_negated_title_field_on_the_index(tiny_index):
    found = paths(tiny_index, "关停 -title:滴滴")
    assert "titled.md" not in found
    assert "both.md" in found  # 滴滴 in its body, not in its title


def test_author_and_category_fields_on_the_index(tiny_index):
    assert paths(tiny_index, "author:张三") == ["both.md"]
    assert paths(tiny_index, "author:李四") == []
    assert "both.md" in paths(tiny_index, "category:科技")


def test_category_and_tag_do_not_leak_into_each_other(tiny_index):
    """`category:` agrees with the category filter; `tag:` does not match a category."""
    assert set(paths(tiny_index, "category:科技")) == set(paths(tiny_index, "", category="科技")) == {"both.md"}
    assert set(paths(tiny_index, "tag:科技")) == {"didi.md"}


def test_a_group_counts_as_one_matched_clause(tiny_index):
    """Matching both alternatives of `(a OR b)` must not outrank matching every clause."""
    found = paths(tiny_index, "(苹果 OR 香蕉) 手机")
    assert found[0] == "apple_phone.md"  # satisfies the group and 手机
    assert "apple_banana.md" in found


def test_required_and_optional_words_together(tiny_index):
    """`+a b` and `a AND b c`: the required words filter, the optional ones rank."""
    found = paths(tiny_index, "+滴滴 关停")
    assert set(found) == {"both.md", "didi.md", "three.md", "titled.md"}
    assert set(found[:3]) == {"both.md", "three.md", "titled.md"}
    found = paths(tiny_index, "滴滴 AND 关停 补贴")
    assert set(found) == {"both.md", "three.md", "titled.md"} and found[0] == "three.md"
    found = paths(tiny_index, "+关停 (-滴滴)")  # the group is optional: it only ranks
    assert set(found) == {"both.md", "stop.md", "three.md", "titled.md"} and found[0] == "stop.md"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_QUERIES)
@example("+关停(-0")  # found by this test: a required word beside optional ones
@example("滴滴 AND 关停 补贴")
def test_property_searching_any_query_never_raises(tiny_index, text):
    result = tiny_index.search(text, limit=5)
    assert result.total >= len(result.hits)
    assert all(isinstance(hit.snippet, str) for hit in result.hits)

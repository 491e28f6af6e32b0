"""The query syntax through the library: phrases, fields, operators, ranking by matched words."""

from __future__ import annotations

from pathlib import Path

import pytest
from sample_oracle import ORACLE, all_paths, categories_index, paths

from search import open_index


def _text_of(index, path: str) -> str:
    document = index.document(path)
    return document.title + "\n" + document.text


def test_phrases_match_only_adjacent_words_in_order(sample_index: Path) -> None:
    with open_index(sample_index) as index:
        loose = all_paths(index, "人工智能 大模型")
        phrase = all_paths(index, '"人工智能 大模型"')
        assert phrase == {"科技/人工智能大模型开放公众测试.md"}
        assert phrase < loose  # other articles have one of the words, not the phrase
        assert all_paths(index, "“人工智能 大模型”") == phrase  # Chinese quotes
        assert all_paths(index, '"大模型 人工智能"') == set()  # wrong order
        # unspaced phrase: every hit has the words next to each other
        marathon = all_paths(index, '"城市马拉松"')
        assert marathon and all("城市马拉松" in _text_of(index, path) for path in marathon)
        assert marathon == {path for path in all_paths(index, "城市 马拉松") if "城市马拉松" in _text_of(index, path)}
        assert all_paths(index, '"马拉松城市"') == set()


def _titles_with(word: str) -> set[str]:
    return {path for path, meta in ORACLE.items() if word in meta["title"]}


@pytest.mark.parametrize("word", ["咖啡", "马拉松", "新能源汽车", "人工智能"])
def test_title_field_query_looks_at_titles_only(sample_index: Path, word: str) -> None:
    with open_index(sample_index) as index:
        assert all_paths(index, f"title:{word}") == _titles_with(word)
        assert all_paths(index, f"标题:{word}") == _titles_with(word)
        assert _titles_with(word) <= all_paths(index, word)


def test_title_field_query_excludes_body_only_matches(sample_index: Path) -> None:
    with open_index(sample_index) as index:
        anywhere = all_paths(index, "市民")
        in_title = all_paths(index, "title:市民")
        assert in_title == _titles_with("市民")
        assert in_title < anywhere


def test_category_and_author_field_queries(sample_index: Path) -> None:
    categories = categories_index()
    with open_index(sample_index) as index:
        assert all_paths(index, "category:体育") == categories["体育"]
        assert all_paths(index, "category:马拉松") == categories["马拉松"]
        assert all_paths(index, "分类:财经") == categories["财经"]
        assert all_paths(index, "author:山海体育") == {p for p, m in ORACLE.items() if m["author"] == "山海体育"}
        assert all_paths(index, "马拉松 category:体育") >= categories["体育"]
        assert all_paths(index, "马拉松 AND category:博客") == {"博客/第一次跑半程马拉松.md"}
        assert all_paths(index, "马拉松 NOT category:体育") == {"博客/第一次跑半程马拉松.md"}


def test_plus_and_minus_apply_to_field_queries(sample_index: Path) -> None:
    """`+field:value` requires and `-field:value` excludes, like `+word` and `-word`."""
    with open_index(sample_index) as index:
        assert all_paths(index, "+马拉松 +category:博客") == {"博客/第一次跑半程马拉松.md"}
        assert all_paths(index, "马拉松 -category:体育") == {"博客/第一次跑半程马拉松.md"}
        # the blog post mentions 城市 in its text, not in its title: it stays
        assert "城市" in index.document("博客/第一次跑半程马拉松.md").text
        assert all_paths(index, "马拉松 -title:城市") == {"博客/第一次跑半程马拉松.md"}


def test_and_or_not_and_minus(sample_index: Path) -> None:
    with open_index(sample_index) as index:
        coffee, county, vaccine = all_paths(index, "咖啡"), all_paths(index, "县城"), all_paths(index, "疫苗")
        ai, photo = all_paths(index, "人工智能"), all_paths(index, "照片")
        assert coffee and county and vaccine and ai and photo
        assert all_paths(index, "咖啡 AND 县城") == coffee & county
        assert all_paths(index, "+咖啡 +县城") == coffee & county
        assert all_paths(index, "咖啡 OR 疫苗") == coffee | vaccine
        assert all_paths(index, "咖啡 疫苗") == coffee | vaccine  # words are optional by default
        assert all_paths(index, "人工智能 NOT 照片") == ai - photo
        assert all_paths(index, "人工智能 -照片") == ai - photo
        assert ai - photo != ai
        assert all_paths(index, "(咖啡 OR 疫苗) AND 县城") == (coffee | vaccine) & county


def test_articles_with_more_query_words_rank_first(sample_index: Path) -> None:
    with open_index(sample_index) as index:
        both = all_paths(index, "咖啡 AND 县城")
        ranked = paths(index.search("咖啡 县城", limit=100))
        assert set(ranked[: len(both)]) == both


@pytest.mark.parametrize("limit", [1, 3, 10, 100])
def test_required_plus_optional_plus_excluded_words(sample_index: Path, limit: int) -> None:
    """Mixing required (+word / AND), optional and excluded words must not crash when hits exceed the limit."""
    with open_index(sample_index) as index:
        residents, km, coffee, marathon = (all_paths(index, w) for w in ("市民", "公里", "咖啡", "马拉松"))
        assert len(residents) > 3
        cases = {
            "+市民 公里": residents,
            "市民 AND 公里 马拉松": residents & km,
            "+市民 公里 -咖啡": residents - coffee,
            "公里 +市民 NOT 咖啡": residents - coffee,
        }
        for query, expected in cases.items():
            result = index.search(query, limit=limit)
            assert result.total == len(expected), query
            assert set(paths(result)) <= expected, query
        top = paths(index.search("+市民 公里", limit=limit))
        with_km = residents & km  # articles with both words rank first
        if limit >= len(with_km):
            assert set(top[: len(with_km)]) == with_km
        else:
            assert set(top) <= with_km


def test_script_content_is_never_indexed(sample_index: Path) -> None:
    with open_index(sample_index) as index:
        for word in ("trackingMarker", "statQueue", "metro-line"):
            assert index.search(word).total == 0, word
        assert index.search('"脚本内容不应被索引"').total == 0
        assert "社会/地铁新线开通首周客流破百万.md" not in all_paths(index, "脚本")
        text = index.document("社会/地铁新线开通首周客流破百万.md").text
        assert "trackingMarker" not in text and "<script" not in text


def test_full_width_and_sub_words_are_found(sample_index: Path) -> None:
    with open_index(sample_index) as index:
        assert "财经/江城一季度经济数据发布.md" in all_paths(index, "GDP")
        assert "财经/江城一季度经济数据发布.md" in all_paths(index, "ＧＤＰ")
        assert "国际/驻外使领馆提醒暑期出行安全.md" in all_paths(index, "人民")
        assert all_paths(index, "Win11") == all_paths(index, "win11") == {"科技/高校机房完成Win11升级.md"}

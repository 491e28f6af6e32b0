"""Facets: all matches counted by category and by month."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest
from contract import RESULT_KEYS
from sample_oracle import CST, ORACLE, all_paths, article, write

from search import (
    index_corpus,
    open_index,
)
from search.schema import exact_value


def _expected_facets(paths, oracle: dict[str, dict[str, object]]) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """Category and China-time month counts of ``paths``, counted from their front matter."""
    # Counted by filter value: 新聞 and 新闻 are one category, as --category sees them.
    categories = Counter(value for path in paths for value in {exact_value(c) for c in oracle[path]["categories"]})
    months = Counter(oracle[path]["date"].astimezone(CST).strftime("%Y-%m") for path in paths if oracle[path]["date"])
    return (
        sorted(categories.items(), key=lambda pair: (-pair[1], pair[0])),
        sorted(months.items(), reverse=True),
    )


@pytest.mark.parametrize(
    ("query", "options"),
    [
        ("", {}),
        ("新闻", {}),
        ("市民 OR 城市", {}),
        ("", dict(category="新闻", since="2023-01-01")),
        ("", dict(sort="date")),
    ],
)
def test_facets_count_every_match_not_only_the_page(sample_index: Path, query: str, options: dict) -> None:
    with open_index(sample_index) as index:
        matched = all_paths(index, query, **options)
        result = index.search(query, limit=2, facets=True, **options)
    assert len(matched) > 2 * len(result.hits) and result.total == len(matched)
    categories, months = _expected_facets(matched, ORACLE)
    shown = [(exact_value(name), count) for name, count in result.facets.categories]
    assert sorted(shown, key=lambda pair: (-pair[1], pair[0])) == categories
    assert result.facets.months == months


def test_facets_leave_the_hits_as_they_were(sample_index: Path) -> None:
    with open_index(sample_index) as index:
        for query, options in (("新能源汽车", {}), ("", dict(sort="date")), ("市民", dict(page=2, limit=3))):
            plain_result = index.search(query, **options)
            faceted = index.search(query, facets=True, **options)
            assert plain_result.facets is None
            assert faceted.hits == plain_result.hits and faceted.total == plain_result.total


def test_facet_months_are_china_time_and_undated_uncategorised_articles_count_nowhere(built) -> None:
    corpus, location = built
    late = article("一月末深夜的航班", "熊猫航班夜里起飞。", date_line="'Tue, 31 Jan 2023 20:00:00 GMT'")
    write(corpus / "新增" / "一月末.md", late)
    write(corpus / "新增" / "一月内.md", article("一月内的熊猫", "熊猫在一月。", date_line="2023-01-31 23:59:00"))
    write(corpus / "新增" / "无日期.md", article("无日期熊猫", "熊猫没有日期。", date_line=None))
    write(corpus / "新增" / "无分类.md", article("无分类熊猫", "熊猫没有分类。", categories=()))
    index_corpus(corpus, location)  # an update: the new articles land in a segment of their own
    with open_index(location) as index:
        result = index.search("熊猫", facets=True)
        late_hit = next(hit for hit in result.hits if hit.path == "新增/一月末.md")
        uncategorised = next(hit for hit in result.hits if hit.path == "新增/无分类.md")
    assert late_hit.date == datetime(2023, 1, 31, 20, tzinfo=timezone.utc) and uncategorised.categories == []
    assert result.total == 4
    assert result.facets.months == [("2024-05", 1), ("2023-02", 1), ("2023-01", 1)]
    assert result.facets.categories == [("新闻", 3)]


def test_facets_count_live_documents_and_name_categories_as_written(built) -> None:
    corpus, location = built
    marathon = corpus / "体育" / "城市马拉松三万跑者参赛.md"
    marathon.write_text(marathon.read_text("utf-8").replace(" - 马拉松", " - City Run"), "utf-8")
    write(corpus / "新增" / "夜跑.md", article("夜跑马拉松", "马拉松夜跑。", categories=("city run", "新闻")))
    index_corpus(corpus, location)
    with open_index(location) as index:
        facets = index.search("马拉松", facets=True).facets
    # "City Run" and "city run" are one category to --category; it is named as an article writes it
    names = dict(facets.categories)
    assert names.get("马拉松") == 1 and names.get("新闻") == 2
    assert len([name for name in names if name.lower() == "city run"]) == 1
    assert names.get("City Run", names.get("city run")) == 2


def test_facets_json_shape(sample_index: Path) -> None:
    with open_index(sample_index) as index:
        result = index.search("马拉松", facets=True)
        plain_json = index.search("马拉松").to_json()
    data = result.to_json()
    assert set(data) == RESULT_KEYS | {"facets"} and "facets" not in plain_json
    assert data["facets"] == {
        "categories": [
            {"category": "马拉松", "documents": 2},
            {"category": "体育", "documents": 1},
            {"category": "博客", "documents": 1},
            {"category": "新闻", "documents": 1},
            {"category": "运动", "documents": 1},
        ],
        "category_tree": [node.to_json() for node in result.facets.category_tree],
        "months": [{"month": "2023-11", "documents": 1}, {"month": "2023-10", "documents": 1}],
    }
    first = data["facets"]["category_tree"][0]
    assert set(first) == {"category", "path", "documents", "children"} and first["path"] == first["category"]
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data


def _expected_tree(paths, oracle) -> Counter:
    """Documents under every path of levels from the top, counted from the front matter."""
    found: Counter = Counter()
    for path in paths:
        levels = [exact_value(name) for name in oracle[path]["categories"]]
        found.update({"/".join(levels[: depth + 1]) for depth in range(len(levels))})
    return found


def _tree_counts(nodes, into: Counter | None = None) -> Counter:
    into = Counter() if into is None else into
    for node in nodes:
        into["/".join(exact_value(level) for level in node.path.split("/"))] += node.documents
        _tree_counts(node.children, into)
    return into


@pytest.mark.parametrize(("query", "options"), [("", {}), ("市民 OR 城市", {}), ("", dict(since="2023-01-01"))])
def test_the_category_tree_counts_every_path_from_the_top(sample_index: Path, query: str, options: dict) -> None:
    with open_index(sample_index) as index:
        matched = all_paths(index, query, **options)
        tree = index.search(query, limit=2, facets=True, **options).facets.category_tree
    assert _tree_counts(tree) == _expected_tree(matched, ORACLE)
    assert any(node.children for node in tree), "the sample has categories of several levels"
    for node in tree:  # most documents first, each level under its own parent
        assert [child.documents for child in node.children] == sorted((child.documents for child in node.children), reverse=True)
        assert all(child.path == f"{node.path}/{child.category}" for child in node.children)


def test_a_level_many_sources_share_is_counted_under_each_parent(rsshub_corpus: Path, tmp_path: Path) -> None:
    index_corpus(rsshub_corpus, tmp_path / "index")
    with open_index(tmp_path / "index") as index:
        result = index.search("", facets=True, limit=1)
        flat = dict(result.facets.categories)
        parents = [node for top in result.facets.category_tree for node in top.children]
        shared = [node for node in parents if len(node.children) == 1 and node.children[0].category == "最新"]
        assert shared and flat["最新"] == sum(node.children[0].documents for node in parents if node.children and node.children[0].category == "最新")

        def agree(nodes) -> int:
            checked = 0
            for node in nodes:  # the facet's count is what its filter finds
                assert index.search("", category=node.path, limit=1).total == node.documents, node.path
                checked += 1 + agree(node.children)
            return checked

        assert agree(result.facets.category_tree) > 50

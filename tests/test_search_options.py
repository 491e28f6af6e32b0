"""Search options of the library: paging, category, author and date filters, sorting."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sample_oracle import CST, ORACLE, all_paths, article, categories_index, paths, write

from search import (
    UsageError,
    index_corpus,
    open_index,
)


def test_empty_query_lists_everything_and_limit_cuts(sample_index: Path) -> None:
    with open_index(sample_index) as index:
        assert all_paths(index) == set(ORACLE)
        result = index.search("", limit=7)
        assert len(result.hits) == 7 and result.total == 30 and result.limit == 7 and result.pages == 5


def test_pages_partition_the_hits_and_a_page_past_the_end_is_empty(sample_index: Path) -> None:
    with open_index(sample_index) as index:
        whole = paths(index.search("", limit=30))
        pages = [index.search("", limit=8, page=page) for page in (1, 2, 3, 4)]
        assert [len(p.hits) for p in pages] == [8, 8, 8, 6]
        assert [path for p in pages for path in paths(p)] == whole
        beyond = index.search("", limit=8, page=5)
        assert beyond.hits == [] and beyond.total == 30 and beyond.page == 5
        query_total = index.search("市民").total
        far = index.search("市民", page=50)
        assert far.hits == [] and far.total == query_total


def test_category_filter_matches_any_level_exactly(sample_index: Path) -> None:
    with open_index(sample_index) as index:
        for category, expected in categories_index().items():
            assert all_paths(index, category=category) == expected, category
        assert all_paths(index, category="马拉") == set()  # part of 马拉松: not a category
        assert all_paths(index, category="体") == set()
        assert all_paths(index, "马拉松", category="体育") == {"体育/城市马拉松三万跑者参赛.md"}


def test_author_filter_is_exact(sample_index: Path) -> None:
    authors: dict[str, set[str]] = {}
    for path, meta in ORACLE.items():
        authors.setdefault(meta["author"], set()).add(path)
    with open_index(sample_index) as index:
        for author, expected in authors.items():
            assert all_paths(index, author=author) == expected, author
        assert all_paths(index, author="山海") == set()


def test_latin_filters_are_case_insensitive_and_exact(sample_copy: Path, tmp_path: Path) -> None:
    write(
        sample_copy / "新增" / "熊猫.md",
        article("大熊猫幼崽首次亮相", "动物园的大熊猫幼崽今天首次与游客见面。", categories=("Science", "Tech News"), tags=("Panda",), author="Zoo Daily"),
    )
    index_corpus(sample_copy, tmp_path / "index")
    with open_index(tmp_path / "index") as index:
        for value in ("Tech News", "tech news", "TECH NEWS", "science"):
            assert all_paths(index, category=value) == {"新增/熊猫.md"}, value
        assert all_paths(index, category="Tech") == set()
        assert all_paths(index, category="Panda") == set()  # a tag, not a category
        for value in ("Zoo Daily", "zoo daily", "ZOO DAILY"):
            assert all_paths(index, author=value) == {"新增/熊猫.md"}, value
        assert all_paths(index, author="Zoo") == set()
        hit = index.search("熊猫").hits[0]
        assert hit.categories == ["Science", "Tech News"] and hit.tags == ["Panda"] and hit.author == "Zoo Daily"


def test_category_and_tag_field_queries_do_not_mix_categories_and_tags(sample_copy: Path, tmp_path: Path) -> None:
    """`category:X` looks in categories and `tag:X` in tags (README: that category, tag)."""
    write(
        sample_copy / "新增" / "熊猫.md",
        article("大熊猫幼崽首次亮相", "动物园的大熊猫幼崽今天首次与游客见面。", categories=("新闻", "Science"), tags=("Panda",)),
    )
    index_corpus(sample_copy, tmp_path / "index")
    with open_index(tmp_path / "index") as index:
        assert all_paths(index, "tag:Panda") == {"新增/熊猫.md"}
        assert all_paths(index, "category:Science") == {"新增/熊猫.md"}
        assert all_paths(index, "category:Panda") == set()
        assert all_paths(index, "tag:Science") == set()
        assert all_paths(index, "tag:新闻") == set()  # no article has the tag 新闻


def _in_range(start: datetime | None, end: datetime | None) -> set[str]:
    return {
        path for path, meta in ORACLE.items()
        if (start is None or meta["date"] >= start) and (end is None or meta["date"] <= end)
    }  # fmt: skip


def _cst(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=CST)


@pytest.mark.parametrize(
    ("since", "until", "start", "end"),
    [
        ("2023-11-19", "2023-11-19", _cst(2023, 11, 19), _cst(2023, 11, 20) - timedelta(microseconds=1)),
        ("2023", "2023", _cst(2023, 1, 1), _cst(2024, 1, 1) - timedelta(microseconds=1)),
        ("2023-11", None, _cst(2023, 11, 1), None),
        (None, "2021-12-31", None, _cst(2022, 1, 1) - timedelta(microseconds=1)),
        ("2022-06-21", "2023-05-18", _cst(2022, 6, 21), _cst(2023, 5, 19) - timedelta(microseconds=1)),
        ("2023-11-19 07:30", "2024-03-12 08:15", _cst(2023, 11, 19, 7, 30), _cst(2024, 3, 12, 8, 15)),
    ],
)
def test_since_until_are_inclusive(sample_index: Path, since, until, start, end) -> None:
    expected = _in_range(start, end)
    assert expected, "the range should hold some articles"
    with open_index(sample_index) as index:
        assert all_paths(index, since=since, until=until) == expected


def test_date_only_until_covers_the_whole_day(sample_index: Path) -> None:
    marathon = "体育/城市马拉松三万跑者参赛.md"  # dated 2023-11-19 07:30 (no zone: China time)
    with open_index(sample_index) as index:
        assert marathon in all_paths(index, until="2023-11-19")
        assert marathon not in all_paths(index, until="2023-11-18")
        assert marathon in all_paths(index, since="2023-11-19")
        assert marathon not in all_paths(index, since="2023-11-20")
        assert marathon in all_paths(index, until=date(2023, 11, 19))
        assert marathon in all_paths(index, since=datetime(2023, 11, 19, 7, 30))
        assert marathon not in all_paths(index, since=datetime(2023, 11, 19, 7, 31))
        assert marathon in all_paths(index, since=datetime(2023, 11, 18, 23, 30, tzinfo=timezone.utc), until="2023-11-19")


@pytest.mark.parametrize("bad", ["yesterday", "2023-13-01", "2023-02-30", "19-11-2023x", "2023-13"])
def test_bad_dates_raise_usage_error(sample_index: Path, bad: str) -> None:
    with open_index(sample_index) as index:
        with pytest.raises(UsageError):
            index.search("马拉松", since=bad)
        with pytest.raises(UsageError):
            index.search("马拉松", until=bad)


def test_since_after_until_is_a_usage_error(sample_index: Path) -> None:
    with open_index(sample_index) as index:
        with pytest.raises(UsageError):
            index.search("", since="2024-01-01", until="2023-01-01")


def test_sort_by_date_is_newest_first(sample_index: Path) -> None:
    with open_index(sample_index) as index:
        hits = index.search("", sort="date", limit=30).hits
        moments = [hit.date for hit in hits]
        assert moments == sorted(moments, reverse=True)
        assert hits[0].path == max(ORACLE, key=lambda p: ORACLE[p]["date"])
        paged = [path for page in (1, 2, 3) for path in paths(index.search("", sort="date", limit=10, page=page))]
        assert paged == [hit.path for hit in hits]
        assert paths(index.search("马拉松", sort="date")) == ["体育/城市马拉松三万跑者参赛.md", "博客/第一次跑半程马拉松.md"]


def test_sort_by_date_puts_undated_articles_last(sample_copy: Path, tmp_path: Path) -> None:
    write(sample_copy / "新增" / "无日期.md", article("没有日期的马拉松随笔", "写马拉松训练，没有写日期。", date_line=None))
    index_corpus(sample_copy, tmp_path / "index")
    with open_index(tmp_path / "index") as index:
        hits = index.search("", sort="date", limit=100).hits
        assert len(hits) == 31
        assert hits[-1].path == "新增/无日期.md" and hits[-1].date is None
        assert paths(index.search("马拉松", sort="date"))[-1] == "新增/无日期.md"


@pytest.mark.parametrize(
    "options",
    [dict(sort="newest"), dict(sort="DATE"), dict(limit=0), dict(limit=-1), dict(limit=1001), dict(page=0), dict(page=-2)],
)
def test_bad_sort_limit_or_page_raise_usage_error(sample_index: Path, options: dict) -> None:
    with open_index(sample_index) as index:
        with pytest.raises(UsageError):
            index.search("马拉松", **options)


def test_a_filter_every_article_passes_filters_nothing(first_stories, tmp_path: Path) -> None:
    """Every story has the author 央视网: filtering by it finds what the query alone finds,
    without a filter of every document (at 100 times the stories it cost a second)."""
    from search.query.filters import Filters

    corpus = first_stories(40, "one-author-corpus")
    index_corpus(corpus, tmp_path / "index", workers=1)
    with open_index(tmp_path / "index") as index:
        assert Filters(authors=("央视网",)).documents(index._searcher) is None
        assert len(Filters(authors=("央视网",), since="2022-10-01").documents(index._searcher)) < 40
        filtered, plain = index.search("中国 发展", author="央视网"), index.search("中国 发展")
    assert plain.total > 10
    assert [(hit.path, hit.score) for hit in filtered.hits] == [(hit.path, hit.score) for hit in plain.hits]
    assert filtered.total == plain.total


def test_an_open_index_gathers_a_filters_documents_once_for_the_searches_with_it(sample_index: Path, monkeypatch) -> None:
    from search.query.filters import Filters
    from search.searcher import FILTERS_KEPT

    gathered: list[tuple] = []
    documents = Filters.documents
    monkeypatch.setattr(Filters, "documents", lambda self, searcher: gathered.append((self.categories, self.since)) or documents(self, searcher))
    with open_index(sample_index) as index:
        first = [paths(index.search(word, category="体育")) for word in ("马拉松", "游泳", "")]
        again = [paths(index.search(word, category="体育")) for word in ("马拉松", "游泳", "")]
        assert again == first and first[2] and gathered == [(("体育",), None)]
        since = index.search("", category="体育", since="2024-06-01")  # other filters: gathered for them
        assert set(paths(since)) < set(first[2]) and len(gathered) == 2
        for number in range(FILTERS_KEPT):  # the least recently used go
            index.search("", author=f"作者{number}")
        index.search("", category="体育")
        assert len(gathered) == 3 + FILTERS_KEPT and gathered[-1] == (("体育",), None)
    with open_index(sample_index) as reopened:  # another open index gathers its own
        assert paths(reopened.search("", category="体育")) == first[2] and len(gathered) == 4 + FILTERS_KEPT

"""The library's contract: misuse gets a UsageError that says what to do, lists of
filter values mean any of them, category paths, paths as users write them, dates
as datetimes."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sample_oracle import ORACLE, SAMPLE, all_paths, categories_index

from search import ArticleNotFoundError, UsageError, index_corpus, open_index
from search.text.normalize import normalize

ARTICLE = "体育/城市马拉松三万跑者参赛.md"


# --------------------------------------------------------------------------- misuse


def test_a_closed_index_says_it_is_closed(sample_index: Path) -> None:
    index = open_index(sample_index)
    index.close()
    for use in (lambda: index.search("马拉松"), lambda: index.document(ARTICLE), lambda: index.similar(ARTICLE), index.stats, lambda: len(index)):
        with pytest.raises(UsageError, match="is closed: open it again"):
            use()


@pytest.mark.parametrize(
    "arguments, needle",
    [
        ({"query": None}, "query must be a text, not None"),
        ({"query": 42}, "query must be a text, not 42"),
        ({"query": "马拉松", "category": 3}, "category must be a text or a list of texts, not 3"),
        ({"query": "马拉松", "author": ["示例日报", None]}, "author must be a text or a list of texts"),
        ({"query": "马拉松", "limit": "5"}, "limit must be a whole number, not '5'"),
        ({"query": "马拉松", "page": 1.5}, "page must be a whole number, not 1.5"),
        ({"query": "马拉松", "since": 2024}, "since must be a date, a datetime or a text, not 2024"),
    ],
)
def test_wrong_argument_types_are_usage_errors(sample_index: Path, arguments: dict, needle: str) -> None:
    with open_index(sample_index) as index:
        with pytest.raises(UsageError, match=needle.replace("(", r"\(").replace("[", r"\[")):
            index.search(**arguments)


def test_unknown_paths_say_what_form_is_expected(sample_index: Path) -> None:
    with open_index(sample_index) as index:
        with pytest.raises(ArticleNotFoundError) as caught:
            index.document("体育/不存在.md")
        with pytest.raises(UsageError, match="path must be a text"):
            index.similar(None)  # type: ignore[arg-type]
    message = str(caught.value)
    assert f"give its path relative to the corpus folder {SAMPLE}" in message and "such as '" in message
    assert str(sample_index.resolve()) in message


# --------------------------------------------------------------------------- filters


def test_a_list_of_categories_or_authors_means_any_of_them(sample_index: Path) -> None:
    categories = categories_index()
    with open_index(sample_index) as index:
        assert all_paths(index, category=["体育", "健康"]) == categories["体育"] | categories["健康"]
        authors = {meta["author"] for meta in ORACLE.values()}
        two = sorted(authors)[:2]
        expected = {path for path, meta in ORACLE.items() if meta["author"] in two}
        assert all_paths(index, author=two) == expected
        assert all_paths(index, author=tuple(two), category=["体育", "健康"]) == expected & (categories["体育"] | categories["健康"])


def test_a_category_path_matches_its_levels_in_order(sample_copy: Path, tmp_path: Path) -> None:
    def post(name: str, categories: list[str]) -> None:
        levels = "".join(f"\n - {level}" for level in categories)
        (sample_copy / f"{name}.md").write_text(f"---\ntitle: {name}\ncategories:{levels}\n---\n\n正文。\n", "utf-8")

    post("国际快讯", ["新闻联播", "国际"])
    post("倒过来", ["国际", "新闻联播"])
    post("隔开了", ["新闻联播", "要闻", "国际"])
    post("三层", ["新闻联播", "国际", "亚洲"])
    index_corpus(sample_copy, tmp_path / "index")
    with open_index(tmp_path / "index") as index:
        assert all_paths(index, category="新闻联播/国际") == {"国际快讯.md", "三层.md"}
        assert all_paths(index, category="国际/亚洲") == {"三层.md"}
        assert all_paths(index, category=" 新闻联播 / 国际 ") == {"国际快讯.md", "三层.md"}
        assert len(all_paths(index, category="国际")) == 4 + len(categories_index()[normalize("国际")[0]])
        result = index.search("", category="新闻联播/国际", author="没有这个人")
        assert result.total == 0 and result.filters == {"category": ["新闻联播/国际"], "author": ["没有这个人"]}


# --------------------------------------------------------------------------- dates


def test_hit_and_document_dates_are_aware_datetimes(sample_index: Path) -> None:
    with open_index(sample_index) as index:
        hits = index.search("", limit=100).hits
        document = index.document(ARTICLE)
    for hit in hits:
        expected = ORACLE[hit.path]["date"]
        assert isinstance(hit.date, datetime) and hit.date.utcoffset() is not None
        assert hit.date == expected
        assert hit.to_json()["date"] == hit.date.isoformat()
    assert document.date == ORACLE[ARTICLE]["date"] and document.to_json()["date"] == document.date.isoformat()
    assert document.date.astimezone(timezone(timedelta(hours=8))).date() == ORACLE[ARTICLE]["date"].astimezone(timezone(timedelta(hours=8))).date()


# --------------------------------------------------------------------------- paths as users write them


def test_articles_are_found_by_absolute_relative_and_corpus_paths(sample_copy: Path, tmp_path: Path, monkeypatch) -> None:
    index_corpus(sample_copy, tmp_path / "index")
    monkeypatch.chdir(tmp_path)
    forms = [
        ARTICLE,
        f"./{ARTICLE}",
        str(sample_copy / ARTICLE),
        f"{sample_copy.name}/{ARTICLE}",
        f"./{sample_copy.name}/{ARTICLE}",
        os.path.relpath(sample_copy / ARTICLE, tmp_path / "index"),  # from elsewhere: resolved from here, so not found
    ]
    with open_index(tmp_path / "index") as index:
        for form in forms[:-1]:
            assert index.document(form).path == ARTICLE, form
            assert ARTICLE not in [hit.path for hit in index.similar(form).hits]
        with pytest.raises(ArticleNotFoundError):
            index.document(forms[-1])
        with pytest.raises(ArticleNotFoundError):
            index.document(str(SAMPLE / ARTICLE))  # the same name in another folder is not this article

"""More like this: articles found by another article's most distinctive words."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from marks import MARK, made_of, plain
from sample_oracle import ORACLE, article, paths, write

from search import (
    ArticleNotFoundError,
    UsageError,
    index_corpus,
    open_index,
)
from search.query.snippets import searchable_text
from search.text.tokens import terms as analyze_terms


@pytest.mark.parametrize(
    ("path", "most_like"),
    [
        ("体育/城市马拉松三万跑者参赛.md", "博客/第一次跑半程马拉松.md"),
        ("博客/第一次跑半程马拉松.md", "体育/城市马拉松三万跑者参赛.md"),
        ("科技/月球探测器完成背面采样.md", "科技/航天员乘组平安返回.md"),
        ("博客/手冲咖啡入门笔记.md", "财经/县城咖啡店两年翻番.md"),
    ],
)
def test_similar_puts_the_article_on_the_same_topic_first(sample_index: Path, path: str, most_like: str) -> None:
    with open_index(sample_index) as index:
        result = index.similar(path, limit=3)
    assert result.hits[0].path == most_like
    assert path not in paths(result)


def test_similar_never_lists_the_article_itself(sample_index: Path) -> None:
    with open_index(sample_index) as index:
        for path in ORACLE:
            result = index.similar(path, limit=1000)
            assert path not in paths(result)
            assert len(result.hits) == result.total < len(ORACLE)
            scores = [hit.score for hit in result.hits]
            assert scores == sorted(scores, reverse=True)


def test_similar_looks_for_distinctive_words_of_the_article(sample_index: Path) -> None:
    path = "体育/城市马拉松三万跑者参赛.md"
    with open_index(sample_index) as index:
        texts = {other: searchable_text(index.document(other).text)[0] for other in ORACLE}
        document = index.document(path)
        result = index.similar(path)
    words = result.query.split()
    assert 0 < len(words) <= 12 and len(set(words)) == len(words)
    text, _ = searchable_text(document.title + "\n" + document.text)
    for word in words:
        assert analyze_terms(word) == [word], word  # a term of our own analysis, as a query would look it up
        assert word in text
        assert any(word in texts[other] for other in ORACLE if other != path), f"{word} can find no other article"
    assert "马拉松" in words
    # distinctive, but in no other article's text: it could find none
    assert "跑者" in text and not any("跑者" in texts[other] for other in ORACLE if other != path)
    assert "跑者" not in words
    assert not {"的", "了", "在"} & set(words)  # stopwords never


def test_similar_hits_have_snippets_marking_the_words_looked_for(sample_index: Path) -> None:
    with open_index(sample_index) as index:
        result = index.similar("体育/城市马拉松三万跑者参赛.md")
    words = set(result.query.split())
    assert "<mark>" in result.hits[0].snippet
    for hit in result.hits:
        assert plain(hit.title_html) == hit.title
        for fragment in (hit.snippet, hit.title_html):
            for marked in MARK.findall(fragment):
                assert made_of(html.unescape(marked), words), (marked, words)


def test_similar_pages_partition_the_hits(sample_index: Path) -> None:
    path = "科技/月球探测器完成背面采样.md"
    with open_index(sample_index) as index:
        whole = index.similar(path, limit=1000)
        pages = [index.similar(path, limit=4, page=page) for page in range(1, 9)]
    assert [path for page in pages for path in paths(page)] == paths(whole)
    assert all(page.total == whole.total and page.query == whole.query for page in pages)


def test_similar_of_an_unknown_path_is_an_error_that_says_what_to_give(sample_index: Path) -> None:
    with open_index(sample_index) as index:
        with pytest.raises(ArticleNotFoundError) as raised:
            index.similar("体育/没有这篇.md")
        with pytest.raises(KeyError):  # document() raised KeyError before; it still is one
            index.document("体育/没有这篇.md")
        with pytest.raises(UsageError):
            index.similar("体育/城市马拉松三万跑者参赛.md", limit=0)
    message = str(raised.value)
    assert "'体育/没有这篇.md'" in message and "relative to the corpus folder" in message
    assert isinstance(raised.value, UsageError) and raised.value.exit_code == 2


def test_similar_of_an_article_with_nothing_but_stopwords(sample_copy: Path, tmp_path: Path) -> None:
    write(sample_copy / "新增" / "虚词.md", article("的了", "的。了！在……", categories=("新闻",)))
    index_corpus(sample_copy, tmp_path / "index")
    with open_index(tmp_path / "index") as index:
        result = index.similar("新增/虚词.md")
    assert result.total == 0 and result.hits == [] and result.query == ""


def test_similar_to_an_article_with_only_a_title(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "bare.md").write_text("---\ntitle: 量子纠缠实验\n---\n", "utf-8")
    (corpus / "full.md").write_text("---\ntitle: 实验室开放日\n---\n\n<p>量子纠缠实验向公众展示。</p>\n", "utf-8")
    (corpus / "other.md").write_text("---\ntitle: 城市公园\n---\n\n<p>公园里的花开了。</p>\n", "utf-8")
    index_corpus(corpus, tmp_path / "index")
    with open_index(tmp_path / "index") as index:
        assert [hit.path for hit in index.similar("bare.md").hits] == ["full.md"]
        assert index.similar("other.md").hits == []

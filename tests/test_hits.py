"""What a search gives back: hits and their JSON, highlights, stored documents, stats."""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from contract import HIT_KEYS, RESULT_KEYS
from marks import MARK, made_of, plain
from sample_oracle import ORACLE, SAMPLE, all_paths, article, write

from search import (
    index_corpus,
    open_index,
)
from search.text.synonyms import regional
from search.query.syntax import highlight_terms, parse



def test_hit_fields(sample_index: Path) -> None:
    with open_index(sample_index) as index:
        result = index.search("马拉松")
        texts = {hit.path: index.document(hit.path).text for hit in result.hits}
    assert result.total == 2 and result.query == "马拉松" and result.page == 1
    for hit in result.hits:
        expected = ORACLE[hit.path]
        assert hit.title == expected["title"]
        assert hit.date == expected["date"]
        assert hit.date.tzinfo is not None
        assert hit.categories == expected["categories"] and isinstance(hit.categories, list)
        assert hit.tags == [] and isinstance(hit.tags, list)
        assert hit.author == expected["author"]
        assert isinstance(hit.score, float) and hit.score > 0
        assert "<mark>马拉松</mark>" in hit.snippet
        assert "<mark>马拉松</mark>" in hit.title_html
        assert plain(hit.title_html) == hit.title
        assert len(plain(hit.snippet)) <= 200
    scores = [hit.score for hit in result.hits]
    assert scores == sorted(scores, reverse=True)
    # the snippet is a passage of the article's text (paragraph breaks shown as spaces)
    for hit in result.hits:
        passage = plain(hit.snippet).strip("…")
        assert passage.replace(" ", "") in texts[hit.path].replace("\n", "").replace(" ", "")


def test_hit_to_json_has_exactly_the_documented_keys(sample_index: Path) -> None:
    with open_index(sample_index) as index:
        result = index.search("新能源汽车", limit=3)
    for hit in result.hits:
        data = hit.to_json()
        assert set(data) == HIT_KEYS
        assert data["title"] == hit.title and data["title_html"] == hit.title_html and data["snippet"] == hit.snippet
        assert isinstance(data["score"], float)
        assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert set(result.to_json()) == RESULT_KEYS


@pytest.mark.parametrize("query", ["马拉松", "人工智能", "新能源汽车", "Win11", "gdp", "咖啡 县城", '"城市马拉松"', "中华人民共和国"])
def test_highlights_mark_whole_query_words(sample_index: Path, query: str) -> None:
    words = highlight_terms(parse(query), None, regional())  # the query's words and synonyms, as the highlighter looks for them
    with open_index(sample_index) as index:
        hits = index.search(query).hits
    assert hits
    marked_somewhere = False
    for hit in hits:
        for fragment in (hit.snippet, hit.title_html):
            for marked in MARK.findall(fragment):
                marked_somewhere = True
                assert made_of(html.unescape(marked), words), (query, marked, fragment)
    assert marked_somewhere


def test_a_mainland_word_finds_and_marks_its_taiwan_form(sample_index: Path) -> None:
    with open_index(sample_index) as index:
        hits = index.search("人工智能").hits
    marked = {html.unescape(text) for hit in hits for text in MARK.findall(hit.snippet + hit.title_html)}
    assert "人工智慧" in marked  # the sample's Taiwan article says 人工智慧
    assert "人工智能" in marked


def test_snippets_and_titles_are_html_escaped(sample_copy: Path, tmp_path: Path) -> None:
    body = "比赛规则里写着 a &lt; b &amp; c，熊猫 &lt;b&gt;不是标签&lt;/b&gt;。"
    write(sample_copy / "新增" / "转义.md", article("熊猫 & 朋友 <特别版>", body))
    index_corpus(sample_copy, tmp_path / "index")
    with open_index(tmp_path / "index") as index:
        hit = index.search("熊猫").hits[0]
        document = index.document("新增/转义.md")
    assert hit.title == "熊猫 & 朋友 <特别版>"
    assert hit.title_html == "<mark>熊猫</mark> &amp; 朋友 &lt;特别版&gt;"
    assert "a &lt; b &amp; c" in hit.snippet and "&lt;b&gt;" in hit.snippet
    assert "<b>" not in hit.snippet
    assert "<b>不是标签</b>" in document.text


def test_document_returns_stored_fields_and_text(sample_index: Path) -> None:
    path = "博客/第一次跑半程马拉松.md"
    with open_index(sample_index) as index:
        document = index.document(path)
        with pytest.raises(KeyError):
            index.document("博客/没有这篇.md")
    assert document.path == path
    assert document.title == ORACLE[path]["title"]
    assert document.categories == ORACLE[path]["categories"] and document.tags == []
    assert document.date == ORACLE[path]["date"]
    # Markdown markup is gone, the words stay
    assert "循序渐进" in document.text and "**" not in document.text and "## " not in document.text
    assert "这里" in document.text and "example.org" not in document.text


def test_stats(sample_index: Path) -> None:
    with open_index(sample_index) as index:
        stats = index.stats()
    assert stats.documents == 30
    expected = Counter(category for meta in ORACLE.values() for category in meta["categories"])
    assert dict(stats.categories) == dict(expected)
    counts = [count for _, count in stats.categories]
    assert counts == sorted(counts, reverse=True)
    dates = [meta["date"] for meta in ORACLE.values()]
    assert stats.first_date == min(dates)
    assert stats.last_date == max(dates)
    assert stats.corpus == str(SAMPLE)
    assert stats.size_bytes > 0 and stats.terms["body"] > 0
    assert stats.updated


def test_stats_show_categories_as_written(sample_copy: Path, tmp_path: Path) -> None:
    write(sample_copy / "新增" / "熊猫.md", article("大熊猫幼崽首次亮相", "熊猫。", categories=("Science", "Tech News")))
    index_corpus(sample_copy, tmp_path / "index")
    with open_index(tmp_path / "index") as index:
        names = {name for name, _ in index.stats().categories}
    assert {"Science", "Tech News"} <= names


def test_traditional_and_simplified_spellings_find_each_other(sample_index: Path) -> None:
    traditional = "科技/液冷散熱新技術.md"
    with open_index(sample_index) as index:
        simplified_query = index.search("液冷散热 资料中心")
        assert simplified_query.hits and simplified_query.hits[0].path == traditional
        # The original characters are marked, not their simplified forms.
        for rendered in (simplified_query.hits[0].title_html, simplified_query.hits[0].snippet):
            assert "散熱" in "".join(re.findall(r"<mark>(.*?)</mark>", rendered))
        marathon = {hit.path for hit in index.search("城市馬拉松").hits}
        assert "体育/城市马拉松三万跑者参赛.md" in marathon
        assert all_paths(index, '"液冷散热"') == {traditional}
        assert all_paths(index, category="节能") == {traditional}


def test_title_ngrams_find_near_misses_below_the_articles_with_the_words(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    titles = {
        "fused.md": "安卓模拟器bluestacksappplayer官方下载",
        "word.md": "bluestacks 模拟器使用说明",
        "car.md": "五菱宏光2014款报价图片",
        "other.md": "城市地铁新线开通",
    }
    for name, title in titles.items():
        (corpus / name).write_text(f"---\ntitle: {title}\n---\n\n<p>{title}。</p>\n", "utf-8")
    index_corpus(corpus, tmp_path / "index")
    with open_index(tmp_path / "index") as index:
        assert [hit.path for hit in index.search("bluestacks").hits] == ["word.md", "fused.md"]
        # jieba cuts the query 2014款五菱宏光 differently from the title; n-grams still find it.
        assert [hit.path for hit in index.search("2014款五菱宏光").hits][:1] == ["car.md"]
        assert index.search("bluestacks", limit=1).total == 2, "the total does not depend on the page size"
        assert [hit.path for hit in index.search("bluestacks", sort="date").hits] == ["word.md"]
        assert index.search("zyxwvu").hits == []
        assert [hit.path for hit in index.search("title:bluestacks").hits] == ["word.md"]


def test_copies_of_a_story_on_one_page_are_marked_once(first_stories, tmp_path: Path, monkeypatch) -> None:
    """Four copies of a story and the story itself make the page: one passage is
    chosen for their text, and every copy shows it."""
    import search.query.snippets as snippets

    corpus = first_stories(5, "copies-corpus")
    story = sorted(corpus.rglob("*.md"))[0]
    for number in range(4):
        (corpus / f"copy-{number}.md").write_bytes(story.read_bytes())
    index_corpus(corpus, tmp_path / "index", workers=1)
    chosen: list[str] = []
    real = snippets.best_passage
    monkeypatch.setattr(snippets, "best_passage", lambda body, *args, **kwargs: chosen.append(body) or real(body, *args, **kwargs))
    with open_index(tmp_path / "index") as index:
        title = index.document(str(story.relative_to(corpus))).title
        result = index.search(title, limit=10)
    copies = [hit for hit in result.hits if hit.title == title]
    assert len(copies) == 5
    assert len({(hit.snippet, hit.snippet_text, tuple(hit.snippet_spans)) for hit in copies}) == 1
    assert len(chosen) == len(set(chosen))  # no text chosen from twice
    assert len(chosen) == len(result.hits) - 4

"""The library: building, updating and searching an index (``index_corpus``, ``Index``).

Expected values come from the sample articles themselves (their front matter is read
here with a few lines of independent parsing), not from copies of the code's logic.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from dateutil import parser as dateparser

import search
from marks import MARK, made_of, plain
from search import (
    ArticleNotFoundError,
    IndexCorruptError,
    IndexLockedError,
    IndexNotFoundError,
    IndexVersionError,
    UsageError,
    index_corpus,
    open_index,
)
from search import build as build_module
from search.text import ANALYSIS_VERSION
from search.text.normalize import normalize
from search.query.snippets import searchable_text
from search.text.tokens import terms as analyze_terms
from search.query.syntax import highlight_terms, parse
from search.schema import SCHEMA_VERSION, exact_value
from search.storage import IndexDir

SAMPLE = Path(search.__file__).resolve().parent / "sample"
CST = timezone(timedelta(hours=8))
HIT_KEYS = {"path", "title", "date", "categories", "tags", "author", "score", "snippet"}


# --------------------------------------------------------------------------- oracle


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _front_matter(path: Path) -> dict[str, object]:
    """title, categories, author, date of a sample article, read line by line."""
    text = path.read_text("utf-8").lstrip()
    block = text.split("---\n", 2)[1]
    data: dict[str, object] = {}
    key = None
    for line in block.splitlines():
        item = re.match(r"^\s+-\s+(.*)$", line)
        if item and key:
            current = data.get(key)
            data[key] = (current if isinstance(current, list) else []) + [item.group(1).strip()]
            continue
        pair = re.match(r"^(\w+):\s*(.*)$", line)
        if pair:
            key = pair.group(1)
            data[key] = _unquote(pair.group(2))
    moment = dateparser.parse(str(data["date"]))
    if moment.tzinfo is None:  # no zone written: China Standard Time
        moment = moment.replace(tzinfo=CST)
    return {
        "title": data["title"],
        "categories": list(data.get("categories") or []),
        "author": data.get("author"),
        "date": moment,
    }


ORACLE: dict[str, dict[str, object]] = {
    path.relative_to(SAMPLE).as_posix(): _front_matter(path) for path in sorted(SAMPLE.rglob("*.md"))
}


def _paths(result) -> list[str]:
    return [hit.path for hit in result.hits]


def _all(index, query: str = "", **options) -> set[str]:
    result = index.search(query, limit=1000, **options)
    assert len(result.hits) == result.total
    return set(_paths(result))


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def _article(title: str, body: str, *, categories=("新闻",), tags=(), author="测试作者", date_line="2024-05-01 10:00:00"):
    lines = ["", "---", f"title: '{title}'", "categories:"]
    lines += [f" - {c}" for c in categories]
    if tags:
        lines += ["tags:"] + [f" - {t}" for t in tags]
    if author:
        lines.append(f"author: {author}")
    if date_line:
        lines.append(f"date: {date_line}")
    lines += ["---", "", f"<div><p>{body}</p></div>", ""]
    return "\n".join(lines)


@pytest.fixture
def built(sample_copy: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A fresh index of a writable copy of the sample: (corpus, index)."""
    location = tmp_path / "index"
    report = index_corpus(sample_copy, location)
    assert report.added == 30 and not report.skipped
    return sample_copy, location


@pytest.fixture
def read_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Paths whose bytes the indexer read, in order."""
    calls: list[str] = []
    original = build_module.read_source

    def counting(source):
        calls.append(source.path)
        return original(source)

    monkeypatch.setattr(build_module, "read_source", counting)
    return calls


# --------------------------------------------------------------------------- build and update


def test_first_build_indexes_every_sample_article_with_its_fields(sample_copy: Path, tmp_path: Path) -> None:
    progress: list[tuple[int, int]] = []
    report = index_corpus(sample_copy, tmp_path / "index", progress=lambda done, total: progress.append((done, total)))
    assert report.rebuilt is True
    assert (report.added, report.updated, report.removed, report.unchanged) == (30, 0, 0, 0)
    assert report.skipped == [] and report.documents == 30
    assert progress[-1] == (30, 30)
    with open_index(tmp_path / "index") as index:
        assert len(index) == 30
        for path, expected in ORACLE.items():
            document = index.document(path)
            assert document.title == expected["title"], path
            assert document.categories == expected["categories"], path
            assert document.author == expected["author"], path
            assert datetime.fromisoformat(document.date) == expected["date"], path
            assert document.text and "<" not in document.text, path


def test_update_without_changes_opens_no_file(built, read_calls) -> None:
    corpus, location = built
    report = index_corpus(corpus, location)
    assert report.rebuilt is False
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 0, 30)
    assert read_calls == []
    assert report.documents == 30


def test_update_applies_added_changed_and_deleted_files(built, read_calls) -> None:
    corpus, location = built
    _write(corpus / "新增" / "熊猫.md", _article("大熊猫幼崽首次亮相", "动物园的大熊猫幼崽今天首次与游客见面。"))
    changed = corpus / "健康" / "流感季提醒接种疫苗.md"
    changed.write_text(changed.read_text("utf-8").replace("疫苗", "鸭嘴兽"), "utf-8")
    deleted = corpus / "国际" / "北极海冰观测报告发布.md"
    deleted.unlink()

    report = index_corpus(corpus, location)

    assert (report.added, report.updated, report.removed, report.unchanged) == (1, 1, 1, 28)
    assert report.rebuilt is False and report.documents == 30 and report.skipped == []
    assert sorted(read_calls) == sorted(["新增/熊猫.md", "健康/流感季提醒接种疫苗.md"])
    with open_index(location) as index:
        assert _paths(index.search("熊猫")) == ["新增/熊猫.md"]
        assert _paths(index.search("鸭嘴兽")) == ["健康/流感季提醒接种疫苗.md"]
        assert "健康/流感季提醒接种疫苗.md" not in _all(index, "疫苗")
        assert index.document("健康/流感季提醒接种疫苗.md").title == ORACLE["健康/流感季提醒接种疫苗.md"]["title"].replace("疫苗", "鸭嘴兽")
        assert index.search("海冰").total == 0
        with pytest.raises(KeyError):
            index.document("国际/北极海冰观测报告发布.md")
        assert len(index) == 30


def test_touched_file_with_same_content_is_unchanged(built, read_calls) -> None:
    corpus, location = built
    touched = corpus / "体育" / "夜间游泳场馆一票难求.md"
    later = touched.stat().st_mtime_ns + 5_000_000_000
    os.utime(touched, ns=(later, later))

    report = index_corpus(corpus, location)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 0, 30)
    assert read_calls == ["体育/夜间游泳场馆一票难求.md"]  # hashed, never parsed nor re-tokenized
    again = index_corpus(corpus, location)
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, 30)
    with open_index(location) as index:
        assert "体育/夜间游泳场馆一票难求.md" in _all(index, "游泳")


def test_rebuild_switches_generation_and_an_open_index_keeps_searching(built) -> None:
    corpus, location = built
    old = IndexDir(location).current()
    assert old is not None
    before = open_index(location)
    try:
        expected = _paths(before.search("马拉松"))
        report = index_corpus(corpus, location, rebuild=True)
        assert report.rebuilt is True and report.added == 30 and report.documents == 30
        new = IndexDir(location).current()
        assert new is not None and new != old
        assert not old.exists()
        assert sorted(p.name for p in location.iterdir() if p.name.startswith("gen-")) == [new.name]
        # the index opened before the rebuild still answers
        result = before.search("马拉松")
        assert _paths(result) == expected and all("<mark>" in hit.snippet for hit in result.hits)
        assert before.document("体育/城市马拉松三万跑者参赛.md").title == ORACLE["体育/城市马拉松三万跑者参赛.md"]["title"]
        assert before.search("", limit=100).total == 30
    finally:
        before.close()
    with open_index(location) as after:
        assert _paths(after.search("马拉松")) == expected


def test_stats_of_an_index_opened_before_a_rebuild(built) -> None:
    """A long-lived Index must survive a rebuild for stats() too, not only search()."""
    corpus, location = built
    with open_index(location) as before:
        index_corpus(corpus, location, rebuild=True)
        assert before.stats().documents == 30


def test_malformed_files_are_skipped_with_path_and_reason(sample_copy: Path, tmp_path: Path) -> None:
    _write(sample_copy / "坏" / "未闭合.md", "---\ntitle: 没有结束的头\ncategories: [x]\n\n<p>正文</p>\n")
    _write(sample_copy / "坏" / "空白.md", "  \n\n")
    (sample_copy / "坏" / "二进制.md").write_bytes(b"\x00\x01\x02binary\x00" * 20)
    _write(sample_copy / "好" / "国标编码.md", _article("国标编码的文章", "这篇文章用国标编码保存，熊猫馆今天开放。"), "gb18030")

    report = index_corpus(sample_copy, tmp_path / "index")

    reasons = {skipped.path: skipped.reason for skipped in report.skipped}
    assert set(reasons) == {"坏/未闭合.md", "坏/空白.md", "坏/二进制.md"}
    assert "front matter" in reasons["坏/未闭合.md"]
    assert "empty" in reasons["坏/空白.md"]
    assert "binary" in reasons["坏/二进制.md"]
    assert report.added == 31 and report.documents == 31
    with open_index(tmp_path / "index") as index:
        assert _paths(index.search("熊猫馆")) == ["好/国标编码.md"]
        assert index.document("好/国标编码.md").title == "国标编码的文章"
        for path in reasons:
            with pytest.raises(KeyError):
                index.document(path)


def test_file_that_becomes_malformed_is_removed_and_reported(built) -> None:
    corpus, location = built
    victim = corpus / "国际" / "北极海冰观测报告发布.md"
    original = victim.read_bytes()
    victim.write_text("---\ntitle: 写了一半\n", "utf-8")

    report = index_corpus(corpus, location)
    assert report.removed == 1 and report.added == 0 and report.updated == 0 and report.unchanged == 29
    assert [(s.path, bool(s.reason)) for s in report.skipped] == [("国际/北极海冰观测报告发布.md", True)]
    assert report.documents == 29
    with open_index(location) as index:
        assert index.search("海冰").total == 0
        with pytest.raises(KeyError):
            index.document("国际/北极海冰观测报告发布.md")

    victim.write_bytes(original)  # repaired: comes back
    report = index_corpus(corpus, location)
    assert report.added == 1 and report.documents == 30 and report.skipped == []


def test_index_records_schema_and_analysis_versions(sample_index: Path) -> None:
    generation = IndexDir(sample_index).current()
    meta = json.loads((generation / "news-search.json").read_text("utf-8"))
    assert meta["schema_version"] == SCHEMA_VERSION
    assert meta["analysis"]["analysis_version"] == ANALYSIS_VERSION
    assert meta["documents"] == 30
    with open_index(sample_index) as index:
        settings = index.stats().settings
    assert settings["schema_version"] == SCHEMA_VERSION
    assert settings["analysis"]["analysis_version"] == ANALYSIS_VERSION


@pytest.mark.parametrize("key", ["schema_version", "analysis_version"])
def test_incompatible_index_version_must_be_rebuilt(built, key: str) -> None:
    corpus, location = built
    meta_file = IndexDir(location).current() / "news-search.json"
    meta = json.loads(meta_file.read_text("utf-8"))
    if key == "schema_version":
        meta["schema_version"] = SCHEMA_VERSION + 1
    else:
        meta["analysis"]["analysis_version"] = ANALYSIS_VERSION + 1
    meta_file.write_text(json.dumps(meta), "utf-8")

    with pytest.raises(IndexVersionError) as error:
        open_index(location)
    assert "--rebuild" in str(error.value)
    with pytest.raises(IndexVersionError):
        index_corpus(corpus, location)  # an update would mix versions: refused too
    report = index_corpus(corpus, location, rebuild=True)
    assert report.rebuilt and report.documents == 30
    with open_index(location) as index:
        assert len(index) == 30


def test_an_index_of_an_empty_corpus_answers_every_kind_of_search(tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    assert index_corpus(tmp_path / "corpus", tmp_path / "index").documents == 0
    with open_index(tmp_path / "index") as index:
        for options in ({}, {"since": "2022-10-01"}, {"until": "2022-10-01", "category": "国内"}, {"sort": "date", "facets": True}):
            assert index.search("中国", **options).total == 0, options
        assert index.search("").hits == []


def test_missing_index_raises_index_not_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(IndexNotFoundError) as error:
        open_index(tmp_path / "nowhere")
    assert "news-search index" in str(error.value)
    assert not (tmp_path / "nowhere").exists()
    (tmp_path / "empty").mkdir()
    with pytest.raises(IndexNotFoundError):
        open_index(tmp_path / "empty")
    monkeypatch.setenv("NEWS_SEARCH_INDEX", str(tmp_path / "from-env"))
    with pytest.raises(IndexNotFoundError) as error:
        open_index()
    assert "from-env" in str(error.value)


def test_damaged_index_raises_index_corrupt(built) -> None:
    _, location = built
    for toc in IndexDir(location).current().glob("*.toc"):
        toc.unlink()
    with pytest.raises(IndexCorruptError) as error:
        open_index(location)
    assert "--rebuild" in str(error.value)


def test_second_writer_in_process_gets_index_locked_quickly(built) -> None:
    corpus, location = built
    with IndexDir(location).lock():
        started = time.monotonic()
        with pytest.raises(IndexLockedError) as error:
            index_corpus(corpus, location, lock_timeout=0.3)
        assert time.monotonic() - started < 3
    assert str(os.getpid()) in str(error.value)  # the message names the writer holding the lock
    assert index_corpus(corpus, location).unchanged == 30  # released: works again


def test_second_writer_while_another_process_holds_the_lock(built) -> None:
    corpus, location = built
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\nfrom search.storage import IndexDir\n"
         "with IndexDir(sys.argv[1]).lock():\n    print('locked', flush=True)\n    time.sleep(60)\n",
         str(location)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with pytest.raises(IndexLockedError) as error:
            index_corpus(corpus, location, lock_timeout=0.3)
        assert time.monotonic() - started < 3
        assert str(holder.pid) in str(error.value)
    finally:
        holder.kill()
        holder.wait()
    assert index_corpus(corpus, location, lock_timeout=5).unchanged == 30


# --------------------------------------------------------------------------- search options


def test_empty_query_lists_everything_and_limit_cuts(sample_index: Path) -> None:
    with open_index(sample_index) as index:
        assert _all(index) == set(ORACLE)
        result = index.search("", limit=7)
        assert len(result.hits) == 7 and result.total == 30 and result.limit == 7 and result.pages == 5


def test_pages_partition_the_hits_and_a_page_past_the_end_is_empty(sample_index: Path) -> None:
    with open_index(sample_index) as index:
        whole = _paths(index.search("", limit=30))
        pages = [index.search("", limit=8, page=page) for page in (1, 2, 3, 4)]
        assert [len(p.hits) for p in pages] == [8, 8, 8, 6]
        assert [path for p in pages for path in _paths(p)] == whole
        beyond = index.search("", limit=8, page=5)
        assert beyond.hits == [] and beyond.total == 30 and beyond.page == 5
        query_total = index.search("市民").total
        far = index.search("市民", page=50)
        assert far.hits == [] and far.total == query_total


def _categories_index() -> dict[str, set[str]]:
    """Paths by category, traditional and simplified spellings of a category counted as one."""
    found: dict[str, set[str]] = {}
    for path, meta in ORACLE.items():
        for category in meta["categories"]:
            found.setdefault(normalize(category)[0], set()).add(path)
    return found


def test_category_filter_matches_any_level_exactly(sample_index: Path) -> None:
    with open_index(sample_index) as index:
        for category, expected in _categories_index().items():
            assert _all(index, category=category) == expected, category
        assert _all(index, category="马拉") == set()  # part of 马拉松: not a category
        assert _all(index, category="体") == set()
        assert _all(index, "马拉松", category="体育") == {"体育/城市马拉松三万跑者参赛.md"}


def test_author_filter_is_exact(sample_index: Path) -> None:
    authors: dict[str, set[str]] = {}
    for path, meta in ORACLE.items():
        authors.setdefault(meta["author"], set()).add(path)
    with open_index(sample_index) as index:
        for author, expected in authors.items():
            assert _all(index, author=author) == expected, author
        assert _all(index, author="山海") == set()


def test_latin_filters_are_case_insensitive_and_exact(sample_copy: Path, tmp_path: Path) -> None:
    _write(
        sample_copy / "新增" / "熊猫.md",
        _article("大熊猫幼崽首次亮相", "动物园的大熊猫幼崽今天首次与游客见面。", categories=("Science", "Tech News"), tags=("Panda",), author="Zoo Daily"),
    )
    index_corpus(sample_copy, tmp_path / "index")
    with open_index(tmp_path / "index") as index:
        for value in ("Tech News", "tech news", "TECH NEWS", "science"):
            assert _all(index, category=value) == {"新增/熊猫.md"}, value
        assert _all(index, category="Tech") == set()
        assert _all(index, category="Panda") == set()  # a tag, not a category
        for value in ("Zoo Daily", "zoo daily", "ZOO DAILY"):
            assert _all(index, author=value) == {"新增/熊猫.md"}, value
        assert _all(index, author="Zoo") == set()
        hit = index.search("熊猫").hits[0]
        assert hit.categories == ["Science", "Tech News"] and hit.tags == ["Panda"] and hit.author == "Zoo Daily"


def test_category_and_tag_field_queries_do_not_mix_categories_and_tags(sample_copy: Path, tmp_path: Path) -> None:
    """`category:X` looks in categories and `tag:X` in tags (README: that category, tag)."""
    _write(
        sample_copy / "新增" / "熊猫.md",
        _article("大熊猫幼崽首次亮相", "动物园的大熊猫幼崽今天首次与游客见面。", categories=("新闻", "Science"), tags=("Panda",)),
    )
    index_corpus(sample_copy, tmp_path / "index")
    with open_index(tmp_path / "index") as index:
        assert _all(index, "tag:Panda") == {"新增/熊猫.md"}
        assert _all(index, "category:Science") == {"新增/熊猫.md"}
        assert _all(index, "category:Panda") == set()
        assert _all(index, "tag:Science") == set()
        assert _all(index, "tag:新闻") == set()  # no article has the tag 新闻


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
        assert _all(index, since=since, until=until) == expected


def test_date_only_until_covers_the_whole_day(sample_index: Path) -> None:
    marathon = "体育/城市马拉松三万跑者参赛.md"  # dated 2023-11-19 07:30 (no zone: China time)
    with open_index(sample_index) as index:
        assert marathon in _all(index, until="2023-11-19")
        assert marathon not in _all(index, until="2023-11-18")
        assert marathon in _all(index, since="2023-11-19")
        assert marathon not in _all(index, since="2023-11-20")
        assert marathon in _all(index, until=date(2023, 11, 19))
        assert marathon in _all(index, since=datetime(2023, 11, 19, 7, 30))
        assert marathon not in _all(index, since=datetime(2023, 11, 19, 7, 31))
        assert marathon in _all(index, since=datetime(2023, 11, 18, 23, 30, tzinfo=timezone.utc), until="2023-11-19")


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
        moments = [datetime.fromisoformat(hit.date) for hit in hits]
        assert moments == sorted(moments, reverse=True)
        assert hits[0].path == max(ORACLE, key=lambda p: ORACLE[p]["date"])
        paged = [path for page in (1, 2, 3) for path in _paths(index.search("", sort="date", limit=10, page=page))]
        assert paged == [hit.path for hit in hits]
        assert _paths(index.search("马拉松", sort="date")) == ["体育/城市马拉松三万跑者参赛.md", "博客/第一次跑半程马拉松.md"]


def test_sort_by_date_puts_undated_articles_last(sample_copy: Path, tmp_path: Path) -> None:
    _write(sample_copy / "新增" / "无日期.md", _article("没有日期的马拉松随笔", "写马拉松训练，没有写日期。", date_line=None))
    index_corpus(sample_copy, tmp_path / "index")
    with open_index(tmp_path / "index") as index:
        hits = index.search("", sort="date", limit=100).hits
        assert len(hits) == 31
        assert hits[-1].path == "新增/无日期.md" and hits[-1].date is None
        assert _paths(index.search("马拉松", sort="date"))[-1] == "新增/无日期.md"


@pytest.mark.parametrize(
    "options",
    [dict(sort="newest"), dict(sort="DATE"), dict(limit=0), dict(limit=-1), dict(limit=1001), dict(page=0), dict(page=-2)],
)
def test_bad_sort_limit_or_page_raise_usage_error(sample_index: Path, options: dict) -> None:
    with open_index(sample_index) as index:
        with pytest.raises(UsageError):
            index.search("马拉松", **options)


# --------------------------------------------------------------------------- query syntax


def _text_of(index, path: str) -> str:
    document = index.document(path)
    return document.title + "\n" + document.text


def test_phrases_match_only_adjacent_words_in_order(sample_index: Path) -> None:
    with open_index(sample_index) as index:
        loose = _all(index, "人工智能 大模型")
        phrase = _all(index, '"人工智能 大模型"')
        assert phrase == {"科技/人工智能大模型开放公众测试.md"}
        assert phrase < loose  # other articles have one of the words, not the phrase
        assert _all(index, "“人工智能 大模型”") == phrase  # Chinese quotes
        assert _all(index, '"大模型 人工智能"') == set()  # wrong order
        # unspaced phrase: every hit has the words next to each other
        marathon = _all(index, '"城市马拉松"')
        assert marathon and all("城市马拉松" in _text_of(index, path) for path in marathon)
        assert marathon == {path for path in _all(index, "城市 马拉松") if "城市马拉松" in _text_of(index, path)}
        assert _all(index, '"马拉松城市"') == set()


def _titles_with(word: str) -> set[str]:
    return {path for path, meta in ORACLE.items() if word in meta["title"]}


@pytest.mark.parametrize("word", ["咖啡", "马拉松", "新能源汽车", "人工智能"])
def test_title_field_query_looks_at_titles_only(sample_index: Path, word: str) -> None:
    with open_index(sample_index) as index:
        assert _all(index, f"title:{word}") == _titles_with(word)
        assert _all(index, f"标题:{word}") == _titles_with(word)
        assert _titles_with(word) <= _all(index, word)


def test_title_field_query_excludes_body_only_matches(sample_index: Path) -> None:
    with open_index(sample_index) as index:
        anywhere = _all(index, "市民")
        in_title = _all(index, "title:市民")
        assert in_title == _titles_with("市民")
        assert in_title < anywhere


def test_category_and_author_field_queries(sample_index: Path) -> None:
    categories = _categories_index()
    with open_index(sample_index) as index:
        assert _all(index, "category:体育") == categories["体育"]
        assert _all(index, "category:马拉松") == categories["马拉松"]
        assert _all(index, "分类:财经") == categories["财经"]
        assert _all(index, "author:山海体育") == {p for p, m in ORACLE.items() if m["author"] == "山海体育"}
        assert _all(index, "马拉松 category:体育") >= categories["体育"]
        assert _all(index, "马拉松 AND category:博客") == {"博客/第一次跑半程马拉松.md"}
        assert _all(index, "马拉松 NOT category:体育") == {"博客/第一次跑半程马拉松.md"}


def test_plus_and_minus_apply_to_field_queries(sample_index: Path) -> None:
    """`+field:value` requires and `-field:value` excludes, like `+word` and `-word`."""
    with open_index(sample_index) as index:
        assert _all(index, "+马拉松 +category:博客") == {"博客/第一次跑半程马拉松.md"}
        assert _all(index, "马拉松 -category:体育") == {"博客/第一次跑半程马拉松.md"}
        # the blog post mentions 城市 in its text, not in its title: it stays
        assert "城市" in index.document("博客/第一次跑半程马拉松.md").text
        assert _all(index, "马拉松 -title:城市") == {"博客/第一次跑半程马拉松.md"}


def test_and_or_not_and_minus(sample_index: Path) -> None:
    with open_index(sample_index) as index:
        coffee, county, vaccine = _all(index, "咖啡"), _all(index, "县城"), _all(index, "疫苗")
        ai, photo = _all(index, "人工智能"), _all(index, "照片")
        assert coffee and county and vaccine and ai and photo
        assert _all(index, "咖啡 AND 县城") == coffee & county
        assert _all(index, "+咖啡 +县城") == coffee & county
        assert _all(index, "咖啡 OR 疫苗") == coffee | vaccine
        assert _all(index, "咖啡 疫苗") == coffee | vaccine  # words are optional by default
        assert _all(index, "人工智能 NOT 照片") == ai - photo
        assert _all(index, "人工智能 -照片") == ai - photo
        assert ai - photo != ai
        assert _all(index, "(咖啡 OR 疫苗) AND 县城") == (coffee | vaccine) & county


def test_articles_with_more_query_words_rank_first(sample_index: Path) -> None:
    with open_index(sample_index) as index:
        both = _all(index, "咖啡 AND 县城")
        ranked = _paths(index.search("咖啡 县城", limit=100))
        assert set(ranked[: len(both)]) == both


@pytest.mark.parametrize("limit", [1, 3, 10, 100])
def test_required_plus_optional_plus_excluded_words(sample_index: Path, limit: int) -> None:
    """Mixing required (+word / AND), optional and excluded words must not crash when hits exceed the limit."""
    with open_index(sample_index) as index:
        residents, km, coffee, marathon = (_all(index, w) for w in ("市民", "公里", "咖啡", "马拉松"))
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
            assert set(_paths(result)) <= expected, query
        top = _paths(index.search("+市民 公里", limit=limit))
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
        assert "社会/地铁新线开通首周客流破百万.md" not in _all(index, "脚本")
        text = index.document("社会/地铁新线开通首周客流破百万.md").text
        assert "trackingMarker" not in text and "<script" not in text


def test_full_width_and_sub_words_are_found(sample_index: Path) -> None:
    with open_index(sample_index) as index:
        assert "财经/江城一季度经济数据发布.md" in _all(index, "GDP")
        assert "财经/江城一季度经济数据发布.md" in _all(index, "ＧＤＰ")
        assert "国际/驻外使领馆提醒暑期出行安全.md" in _all(index, "人民")
        assert _all(index, "Win11") == _all(index, "win11") == {"科技/高校机房完成Win11升级.md"}


# --------------------------------------------------------------------------- hits, documents, stats


def test_hit_fields(sample_index: Path) -> None:
    with open_index(sample_index) as index:
        result = index.search("马拉松")
        texts = {hit.path: index.document(hit.path).text for hit in result.hits}
    assert result.total == 2 and result.query == "马拉松" and result.page == 1
    for hit in result.hits:
        expected = ORACLE[hit.path]
        assert hit.title == expected["title"]
        assert datetime.fromisoformat(hit.date) == expected["date"]
        assert datetime.fromisoformat(hit.date).tzinfo is not None
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
        assert data["title"] == hit.title_html and data["snippet"] == hit.snippet
        assert isinstance(data["score"], float)
        assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert set(result.to_json()) == {"query", "total", "page", "hits", "suggestion"}


@pytest.mark.parametrize("query", ["马拉松", "人工智能", "新能源汽车", "Win11", "gdp", "咖啡 县城", '"城市马拉松"', "中华人民共和国"])
def test_highlights_mark_whole_query_words(sample_index: Path, query: str) -> None:
    words = highlight_terms(parse(query))  # the query's words, as the highlighter looks for them
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


def test_snippets_and_titles_are_html_escaped(sample_copy: Path, tmp_path: Path) -> None:
    body = "比赛规则里写着 a &lt; b &amp; c，熊猫 &lt;b&gt;不是标签&lt;/b&gt;。"
    _write(sample_copy / "新增" / "转义.md", _article("熊猫 & 朋友 <特别版>", body))
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
    assert datetime.fromisoformat(document.date) == ORACLE[path]["date"]
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
    assert datetime.fromisoformat(stats.first_date) == min(dates)
    assert datetime.fromisoformat(stats.last_date) == max(dates)
    assert stats.corpus == str(SAMPLE)
    assert stats.size_bytes > 0 and stats.terms["body"] > 0
    assert stats.updated


def test_stats_show_categories_as_written(sample_copy: Path, tmp_path: Path) -> None:
    _write(sample_copy / "新增" / "熊猫.md", _article("大熊猫幼崽首次亮相", "熊猫。", categories=("Science", "Tech News")))
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
        assert _all(index, '"液冷散热"') == {traditional}
        assert _all(index, category="节能") == {traditional}


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
# --------------------------------------------------------------------------- facets


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
        matched = _all(index, query, **options)
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
    late = _article("一月末深夜的航班", "熊猫航班夜里起飞。", date_line="'Tue, 31 Jan 2023 20:00:00 GMT'")
    _write(corpus / "新增" / "一月末.md", late)
    _write(corpus / "新增" / "一月内.md", _article("一月内的熊猫", "熊猫在一月。", date_line="2023-01-31 23:59:00"))
    _write(corpus / "新增" / "无日期.md", _article("无日期熊猫", "熊猫没有日期。", date_line=None))
    _write(corpus / "新增" / "无分类.md", _article("无分类熊猫", "熊猫没有分类。", categories=()))
    index_corpus(corpus, location)  # an update: the new articles land in a segment of their own
    with open_index(location) as index:
        result = index.search("熊猫", facets=True)
        late_hit = next(hit for hit in result.hits if hit.path == "新增/一月末.md")
        uncategorised = next(hit for hit in result.hits if hit.path == "新增/无分类.md")
    assert late_hit.date == "2023-01-31T20:00:00+00:00" and uncategorised.categories == []
    assert result.total == 4
    assert result.facets.months == [("2024-05", 1), ("2023-02", 1), ("2023-01", 1)]
    assert result.facets.categories == [("新闻", 3)]


def test_facets_count_live_documents_and_name_categories_as_written(built) -> None:
    corpus, location = built
    marathon = corpus / "体育" / "城市马拉松三万跑者参赛.md"
    marathon.write_text(marathon.read_text("utf-8").replace(" - 马拉松", " - City Run"), "utf-8")
    _write(corpus / "新增" / "夜跑.md", _article("夜跑马拉松", "马拉松夜跑。", categories=("city run", "新闻")))
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
    assert set(data) == {"query", "total", "page", "hits", "facets", "suggestion"} and "facets" not in plain_json
    assert data["facets"] == {
        "categories": [
            {"category": "马拉松", "documents": 2},
            {"category": "体育", "documents": 1},
            {"category": "博客", "documents": 1},
            {"category": "新闻", "documents": 1},
            {"category": "运动", "documents": 1},
        ],
        "months": [{"month": "2023-11", "documents": 1}, {"month": "2023-10", "documents": 1}],
    }
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data


# --------------------------------------------------------------------------- similar


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
    assert path not in _paths(result)


def test_similar_never_lists_the_article_itself(sample_index: Path) -> None:
    with open_index(sample_index) as index:
        for path in ORACLE:
            result = index.similar(path, limit=1000)
            assert path not in _paths(result)
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
    assert [path for page in pages for path in _paths(page)] == _paths(whole)
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
    _write(sample_copy / "新增" / "虚词.md", _article("的了", "的。了！在……", categories=("新闻",)))
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

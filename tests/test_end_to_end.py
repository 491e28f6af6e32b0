"""End to end on the real shared corpora (see ../shared/corpora/*/SOURCE.md).

Each index is built once per module. Expected values are read from the corpus files at
test time with small, independent parsers written for each corpus's known shape.

The corpus folders each hold a ``SOURCE.md`` describing where the files came from; it is
not an article, so the indexes here leave it out with ``exclude=("SOURCE.md",)``.
The CCTV daily index covers the 2023 files only (``--include news/2023*.md``) to keep the
run short: indexing all 1,139 large daily files takes over a minute.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from dateutil import parser as dateparser
from marks import MARK, made_of, plain

from search import index_corpus, open_index
from search.cli import run
from search.query.syntax import highlight_terms, parse
from search.text.normalize import normalize
from search.text.tokens import terms as analyze_terms

CST = timezone(timedelta(hours=8))
HAN_CLAUSE = re.compile(r"[\u4e00-\u9fff]+")
NOT_ARTICLES = ("SOURCE.md",)
CCTV_INCLUDE = ("news/2023*.md",)


@dataclass
class Built:
    report: object
    location: Path
    corpus: Path


def _build(corpus: Path, location: Path, **options) -> Built:
    report = index_corpus(corpus, location, exclude=NOT_ARTICLES, **options)
    return Built(report, location, corpus)


def _all(index, query: str = "", **options) -> list[str]:
    """Every hit's path, in order, page by page (at most 1,000 hits a page)."""
    paths: list[str] = []
    page = 1
    while True:
        result = index.search(query, limit=1000, page=page, **options)
        paths += [hit.path for hit in result.hits]
        if len(paths) >= result.total or not result.hits:
            assert len(paths) == result.total
            return paths
        page += 1


def _local_day(moment: datetime | None) -> date | None:
    return moment.astimezone(CST).date() if moment else None


def _front_matter_lines(text: str) -> list[str]:
    text = text.replace("\r\n", "\n").lstrip()
    assert text.startswith("---\n")
    return text[4:].split("\n---", 1)[0].split("\n")


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    return value


def _list_value(lines: list[str], key: str) -> list[str]:
    """A YAML list written ``key: [a, b]`` or as ``- item`` lines (spaces or a tab before the dash)."""
    for number, line in enumerate(lines):
        if line.startswith(f"{key}:"):
            rest = line[len(key) + 1 :].strip()
            if rest.startswith("["):
                return [item.strip() for item in rest.strip("[]").split(",") if item.strip()]
            if rest:
                return [rest]
            items = []
            for following in lines[number + 1 :]:
                match = re.match(r"^[ \t]*-[ \t]+(.*)$", following)
                if not match:
                    break
                items.append(match.group(1).strip())
            return items
    return []


def _scalar(lines: list[str], key: str) -> str | None:
    for line in lines:
        if line.startswith(f"{key}:"):
            return line[len(key) + 1 :].strip()
    return None


# =========================================================================== rsshub (seed format, HTML bodies)


@pytest.fixture(scope="module")
def rsshub(rsshub_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(rsshub_corpus, tmp_path_factory.mktemp("rsshub-index"))


def _rsshub_articles(corpus: Path) -> dict[str, Path]:
    return {p.relative_to(corpus).as_posix(): p for p in sorted(corpus.rglob("*.md")) if p.name not in NOT_ARTICLES}


def _rsshub_with_line(corpus: Path, pattern: str) -> list[str]:
    found = []
    for path, file in _rsshub_articles(corpus).items():
        if re.search(pattern, "\n".join(_front_matter_lines(file.read_text("utf-8"))), re.M):
            found.append(path)
    return found


def test_rsshub_every_article_is_indexed(rsshub: Built) -> None:
    articles = _rsshub_articles(rsshub.corpus)
    assert len(articles) == 211  # SOURCE.md: 211 files
    report = rsshub.report
    assert report.skipped == []
    assert report.added == report.documents == 211
    warned = {warning.path for warning in report.warnings}
    invalid_date = _rsshub_with_line(rsshub.corpus, r"^date: Invalid Date$")
    broken_yaml = _rsshub_with_line(rsshub.corpus, r'^title: """')
    assert len(invalid_date) == 1 and len(broken_yaml) == 1
    assert set(invalid_date) | set(broken_yaml) <= warned
    with open_index(rsshub.location) as index:
        assert sorted(_all(index)) == sorted(articles)


def test_rsshub_broken_yaml_file_keeps_its_title(rsshub: Built) -> None:
    (path,) = _rsshub_with_line(rsshub.corpus, r'^title: """')
    lines = _front_matter_lines((rsshub.corpus / path).read_text("utf-8"))
    title = _scalar(lines, "title").strip("\"'")
    assert "比特币" in title
    with open_index(rsshub.location) as index:
        document = index.document(path)
        assert document.title == title
        assert document.categories == _list_value(lines, "categories")
        assert document.date is not None
        assert index.search(title).hits[0].path == path
        assert path in _all(index, "title:比特币")


def test_rsshub_invalid_date_file_has_no_date(rsshub: Built) -> None:
    (path,) = _rsshub_with_line(rsshub.corpus, r"^date: Invalid Date$")
    title = _unquote(_scalar(_front_matter_lines((rsshub.corpus / path).read_text("utf-8")), "title"))
    with open_index(rsshub.location) as index:
        document = index.document(path)
        assert document.date is None
        assert document.title == title
        assert index.search(title).hits[0].path == path
        assert path not in _all(index, since="1900-01-01")
        assert path in _all(index)
        assert len(_all(index, since="1900-01-01")) == 210


def test_rsshub_sort_by_date_puts_the_undated_article_last(rsshub: Built) -> None:
    (path,) = _rsshub_with_line(rsshub.corpus, r"^date: Invalid Date$")
    with open_index(rsshub.location) as index:
        ordered = index.search("", sort="date", limit=1000).hits
    assert ordered[-1].path == path
    assert all(hit.date is not None for hit in ordered[:-1])


def test_rsshub_categories_and_authors(rsshub: Built) -> None:
    expected: dict[str, tuple[list[str], str]] = {}
    for path, file in _rsshub_articles(rsshub.corpus).items():
        lines = _front_matter_lines(file.read_text("utf-8"))
        expected[path] = (_list_value(lines, "categories"), _scalar(lines, "author"))
    with open_index(rsshub.location) as index:
        for path, (categories, author) in expected.items():
            document = index.document(path)
            assert (document.categories, document.author) == (categories, author), path
        by_category: dict[str, set[str]] = {}
        for path, (categories, _) in expected.items():
            for category in categories:
                by_category.setdefault(category.lower(), set()).add(path)
        for category, paths in by_category.items():
            assert set(_all(index, category=category)) == paths, category
            assert set(_all(index, category=category.upper())) == paths, category
        assert set(_all(index, author="IT之家")) == {p for p, (_, a) in expected.items() if a == "IT之家"}


def test_rsshub_searching_a_title_finds_its_article_first(rsshub: Built) -> None:
    checked = 0
    with open_index(rsshub.location) as index:
        for path, file in _rsshub_articles(rsshub.corpus).items():
            raw = _scalar(_front_matter_lines(file.read_text("utf-8")), "title")
            match = re.fullmatch(r"'(.*)'", raw or "")
            if not match:
                continue
            title = match.group(1).replace("''", "'")
            # a leading -/+ is query syntax (exclude/require the word), not text
            if not re.search(r"[\u4e00-\u9fff]{2}", title) or title[0] in "-+":
                continue
            hits = index.search(title, limit=3).hits
            assert hits and hits[0].path == path, (title, [h.path for h in hits])
            checked += 1
    assert checked > 150


def test_rsshub_bodies_are_text_without_markup(rsshub: Built) -> None:
    markup = re.compile(r"<(p|div|img|span|section|br|a|svg|video|script)[\s>/]|data-zkinfo|&#1\d\d;|&nbsp;", re.I)
    with open_index(rsshub.location) as index:
        for path in _all(index):
            text = index.document(path).text
            assert not markup.search(text), (path, markup.search(text).group())
        zaker = [p for p in _all(index, category="ZAKER")]
        assert zaker and all(index.document(p).text for p in zaker)


def test_rsshub_date_filters_on_odd_dates(rsshub: Built) -> None:
    old = _rsshub_with_line(rsshub.corpus, r"^date: .*\b1936\b")
    assert old == ["post/新媒体/1936.md"]
    with open_index(rsshub.location) as index:
        assert _all(index, since="1936", until="1936") == old
        assert _all(index, until="1999-12-31") == old
        assert _local_day(index.document(old[0]).date) in (date(1936, 12, 31), date(1937, 1, 1))


# =========================================================================== huli (Traditional Chinese, Markdown)


@pytest.fixture(scope="module")
def huli(huli_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(huli_corpus, tmp_path_factory.mktemp("huli-index"))


@dataclass
class HuliPost:
    title: str
    date: datetime
    tags: list[str]
    categories: list[str]
    crlf: bool
    tabs: bool


def _huli_posts(corpus: Path) -> dict[str, HuliPost]:
    posts = {}
    for file in sorted((corpus / "source" / "_posts").glob("*.md")):
        raw = file.read_bytes().decode("utf-8")
        lines = _front_matter_lines(raw)
        moment = dateparser.parse(_scalar(lines, "date")).replace(tzinfo=CST)
        posts[file.relative_to(corpus).as_posix()] = HuliPost(
            title=" ".join(_unquote(_scalar(lines, "title")).split()),
            date=moment,
            tags=_list_value(lines, "tags"),
            categories=_list_value(lines, "categories"),
            crlf="\r\n" in raw,
            tabs=any(line.startswith("\t-") for line in lines),
        )
    return posts


def test_huli_all_169_posts_with_their_front_matter(huli: Built) -> None:
    posts = _huli_posts(huli.corpus)
    assert len(posts) == 169
    assert sum(post.crlf for post in posts.values()) == 32
    assert sum(post.tabs for post in posts.values()) == 5
    assert huli.report.skipped == [] and huli.report.documents == 169
    with open_index(huli.location) as index:
        assert sorted(_all(index)) == sorted(posts)
        for path, post in posts.items():
            document = index.document(path)
            assert document.title == post.title, path
            assert document.categories == post.categories, path
            assert document.tags == post.tags, path
            assert document.date == post.date, path
            assert "<!-- more -->" not in document.text, path
            assert not re.search(r"^\s*(```|~~~)", document.text, re.M), path  # fences dropped, code kept


def test_huli_tab_and_crlf_posts_are_filtered_by_their_categories(huli: Built) -> None:
    posts = _huli_posts(huli.corpus)
    tabbed = {path: post for path, post in posts.items() if post.tabs}
    with open_index(huli.location) as index:
        for path, post in tabbed.items():
            for category in post.categories:
                assert path in _all(index, category=category), (path, category)
            for tag in post.tags:
                assert path in _all(index, f"tag:{tag}"), (path, tag)
        cookie = "source/_posts/a-cookie-problem.md"
        assert posts[cookie].tabs and posts[cookie].crlf
        assert index.document(cookie).tags == ["Cookie"]


@pytest.mark.parametrize("word", ["漏洞", "Cookie", "XSS", "前端", "筆記"])
def test_huli_title_search_in_traditional_chinese(huli: Built, word: str) -> None:
    posts = _huli_posts(huli.corpus)
    def folded(text: str) -> str:  # 筆記 and 笔记 are one word to the search
        return normalize(text)[0].lower()

    expected = {path for path, post in posts.items() if folded(word) in folded(post.title)}
    assert expected
    with open_index(huli.location) as index:
        assert set(_all(index, f"title:{word}")) == expected
        ranked = _all(index, word)
        # title matches weigh 4x: the posts with the word in their title rank near the top
        assert ranked[0] in expected
        assert expected <= set(ranked[: 2 * len(expected)]), [posts[p].title for p in ranked[: 2 * len(expected)]]
        for hit in index.search(word, limit=5).hits:
            marks = MARK.findall(hit.snippet) + MARK.findall(hit.title_html)
            assert marks and all(folded(m) == folded(word) for m in marks), hit


def test_huli_categories_are_case_insensitive(huli: Built) -> None:
    posts = _huli_posts(huli.corpus)
    security = {path for path, post in posts.items() if "Security" in post.categories}
    assert len(security) > 50
    with open_index(huli.location) as index:
        for spelling in ("Security", "security", "SECURITY"):
            assert set(_all(index, category=spelling)) == security
        stats = dict(index.stats().categories)
    counts = Counter(c.lower() for post in posts.values() for c in post.categories)
    assert {name.lower(): count for name, count in stats.items()} == dict(counts)


def test_huli_date_range(huli: Built) -> None:
    posts = _huli_posts(huli.corpus)
    in_2021 = {path for path, post in posts.items() if post.date.year == 2021}
    assert len(in_2021) == 29  # SOURCE.md: 2021 29
    with open_index(huli.location) as index:
        assert set(_all(index, since="2021-01-01", until="2021-12-31")) == in_2021
        assert set(_all(index, since="2021", until="2021")) == in_2021
        newest = index.search("", sort="date", limit=1).hits[0]
    assert newest.path == max(posts, key=lambda p: posts[p].date)


# =========================================================================== CCTV daily transcripts (no front matter)


@pytest.fixture(scope="module")
def cctv(cctv_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(cctv_corpus, tmp_path_factory.mktemp("cctv-index"), include=CCTV_INCLUDE)


def _cctv_days(corpus: Path, pattern: str = "2023*.md") -> dict[str, Path]:
    return {p.relative_to(corpus).as_posix(): p for p in sorted((corpus / "news").glob(pattern))}


def _day_of(path: str) -> date:
    return datetime.strptime(Path(path).stem, "%Y%m%d").date()


def test_cctv_daily_files_are_indexed_with_title_and_date(cctv: Built) -> None:
    assert len(_cctv_days(cctv.corpus, "*.md")) == 1139  # SOURCE.md: 1,139 days in this folder
    days = _cctv_days(cctv.corpus)
    assert len(days) > 250
    assert cctv.report.skipped == [] and cctv.report.documents == len(days)
    with open_index(cctv.location) as index:
        assert sorted(_all(index)) == sorted(days)
        for path, file in days.items():
            heading = file.read_text("utf-8").split("\n", 1)[0]
            assert heading == f"# 《新闻联播》 ({Path(path).stem})"
            document = index.document(path)
            assert document.title == heading[2:].strip(), path
            assert _local_day(document.date) == _day_of(path), path
            assert document.categories == [] and document.author is None
            assert "###" not in document.text and "## " not in document.text


def test_cctv_date_filters_and_sort(cctv: Built) -> None:
    days = _cctv_days(cctv.corpus)
    with open_index(cctv.location) as index:
        for path in list(days)[::37]:
            day = _day_of(path).isoformat()
            assert _all(index, since=day, until=day) == [path]
        august = {p for p in days if _day_of(p).month == 8}
        assert set(_all(index, since="2023-08", until="2023-08")) == august
        assert set(_all(index, since="2023-08-01", until="2023-08-31")) == august
        ordered = _all(index, sort="date")
        assert ordered == sorted(days, reverse=True)
        stats = index.stats()
    assert stats.documents == len(days)
    assert _local_day(stats.first_date) == _day_of(min(days))
    assert _local_day(stats.last_date) == _day_of(max(days))


def _cctv_headlines(days: dict[str, Path]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path, file in days.items():
        for headline in re.findall(r"^### (.+)$", file.read_text("utf-8"), re.M):
            found.setdefault(headline.strip(), []).append(path)
    return found


def test_cctv_headline_phrase_finds_its_day_first(cctv: Built) -> None:
    days = _cctv_days(cctv.corpus)
    texts = {path: file.read_text("utf-8") for path, file in days.items()}
    headlines = _cctv_headlines(days)
    chosen = []
    for headline, paths in sorted(headlines.items()):
        clause = max(HAN_CLAUSE.findall(headline), key=len, default="")
        if len(paths) == 1 and 6 <= len(clause) <= 14 and sum(clause in t for t in texts.values()) == 1:
            chosen.append((clause, paths[0]))
    assert len(chosen) > 50
    with open_index(cctv.location) as index:
        for clause, path in chosen[:: len(chosen) // 12]:
            hits = index.search(f'"{clause}"', limit=3).hits
            assert hits and hits[0].path == path, (clause, path, [h.path for h in hits])


def test_cctv_listing_shows_the_day_of_the_broadcast(cctv: Built, capsys) -> None:
    code = run(["search", "新闻联播", "--index", str(cctv.location), "--since", "2023-08-08", "--until", "2023-08-08"])
    out = capsys.readouterr().out
    assert code == 0 and "news/20230808.md" in out
    assert "2023-08-08" in out.replace("20230808", "")


# =========================================================================== stories (seed format made from CCTV)


@pytest.fixture(scope="module")
def stories(story_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(story_corpus, tmp_path_factory.mktemp("story-index"))


@dataclass
class Story:
    title: str
    kind: str
    day: date
    body: str


@pytest.fixture(scope="module")
def story_files(story_corpus: Path) -> dict[str, Story]:
    found = {}
    for file in sorted(story_corpus.rglob("*.md")):
        text = file.read_text("utf-8")
        lines = _front_matter_lines(text)
        body = html.unescape(re.sub(r"<[^>]+>", "\n", text.split("\n---\n", 1)[1]))
        found[file.relative_to(story_corpus).as_posix()] = Story(
            title=_unquote(_scalar(lines, "title")),
            kind=_list_value(lines, "categories")[1],
            day=dateparser.parse(_scalar(lines, "date")).date(),
            body=body,
        )
    return found


def _phrase_picks(story_files: dict[str, Story], every: int = 50) -> list[tuple[str, str]]:
    """(story, clause): a 4–8 character clause of one story's text found in no other story.

    Punctuation takes no position in a phrase, so uniqueness is checked on the Chinese
    characters alone; clauses holding a stopword are left out.
    """
    everything = re.sub(r"[^\u4e00-\u9fff]+", "", "".join(s.title + s.body for s in story_files.values()))
    picks = []
    for path in sorted(story_files)[::every]:
        clauses = [
            c for c in HAN_CLAUSE.findall(story_files[path].body)
            if 4 <= len(c) <= 8 and everything.count(c) == 1 and "".join(analyze_terms(c)) == c
        ]  # fmt: skip
        if clauses:
            picks.append((path, clauses[len(clauses) // 2]))
    return picks


def test_stories_are_all_indexed(stories: Built, story_files: dict[str, Story]) -> None:
    assert len(story_files) == 1500
    assert stories.report.skipped == [] and stories.report.documents == 1500
    kinds = Counter(story.kind for story in story_files.values())
    assert set(kinds) == {"国内", "国际"}
    with open_index(stories.location) as index:
        stats = dict(index.stats().categories)
        assert stats["新闻联播"] == 1500
        assert stats["国内"] == kinds["国内"] and stats["国际"] == kinds["国际"]
        for path in sorted(story_files)[::97]:
            document = index.document(path)
            assert document.title == story_files[path].title
            assert _local_day(document.date) == story_files[path].day
            assert document.author == "央视网"


def test_story_phrase_finds_its_story_first(stories: Built, story_files: dict[str, Story]) -> None:
    picks = _phrase_picks(story_files)
    assert len(picks) >= 20
    with open_index(stories.location) as index:
        for path, clause in picks:
            hits = index.search(f'"{clause}"', limit=3).hits
            assert hits and hits[0].path == path, (clause, path, [h.path for h in hits])
            words = highlight_terms(parse(f'"{clause}"'))
            marks = MARK.findall(hits[0].snippet)
            assert marks and all(made_of(html.unescape(m), words) for m in marks), (clause, hits[0].snippet)


def test_story_phrase_snippet_shows_the_phrase(stories: Built, story_files: dict[str, Story]) -> None:
    """The snippet of a phrase hit shows the phrase itself, not only some of its words."""
    missing = []
    with open_index(stories.location) as index:
        for path, clause in _phrase_picks(story_files, every=15):
            (hit,) = [hit for hit in index.search(f'"{clause}"', limit=5).hits if hit.path == path]
            if clause not in plain(hit.snippet).replace(" ", ""):
                missing.append((path, clause, hit.snippet))
    assert missing == []


_ONE_CHAR_STOPWORDS = "的地得了着过是在和与及或而也都就又还被把将对于从向以之其该这那个吗呢吧啊呀嘛哦么呗我你他她它并且但等"


@pytest.mark.parametrize(("first", "second"), [("联合国", "秘书长"), ("俄罗斯", "总统"), ("经济", "发展")])
def test_story_phrase_needs_adjacent_words(stories: Built, story_files: dict[str, Story], first: str, second: str) -> None:
    """A phrase matches the two words next to each other (punctuation or a stopword may stand between)."""
    adjacent = re.compile(f"{first}(?:[^\u4e00-\u9fff]|[{_ONE_CHAR_STOPWORDS}])?{second}")
    with open_index(stories.location) as index:
        both = set(_all(index, f"+{first} +{second}"))
        phrase = set(_all(index, f'"{first} {second}"'))
    assert phrase and phrase < both
    wrong = sorted(p for p in phrase if not adjacent.search(story_files[p].title + "\n" + story_files[p].body))
    assert wrong == [], (len(wrong), len(phrase), [re.search(f"{first}.{{0,6}}{second}", story_files[p].title + story_files[p].body).group() for p in wrong[:5]])


def test_story_category_filter(stories: Built, story_files: dict[str, Story]) -> None:
    with open_index(stories.location) as index:
        for kind in ("国际", "国内"):
            expected = {path for path, story in story_files.items() if story.kind == kind}
            assert set(_all(index, category=kind)) == expected
        assert len(_all(index, category="新闻联播")) == 1500
        international = _all(index, "联合国", category="国际")
        domestic = _all(index, "联合国", category="国内")
        assert international and domestic and not set(international) & set(domestic)
        assert all(story_files[p].kind == "国际" for p in international)


def test_story_date_ranges(stories: Built, story_files: dict[str, Story]) -> None:
    def between(first: date, last: date) -> set[str]:
        return {path for path, story in story_files.items() if first <= story.day <= last}

    with open_index(stories.location) as index:
        october = between(date(2022, 10, 1), date(2022, 10, 31))
        assert october
        assert set(_all(index, since="2022-10-01", until="2022-10-31")) == october
        assert set(_all(index, since="2022-10", until="2022-10")) == october
        one_day = between(date(2022, 12, 1), date(2022, 12, 1))
        assert one_day and set(_all(index, since="2022-12-01", until="2022-12-01")) == one_day
        assert set(_all(index, until="2022-09-30")) == between(date(2000, 1, 1), date(2022, 9, 30))
        assert set(_all(index, since="2023-01-01")) == between(date(2023, 1, 1), date(2100, 1, 1))
        assert set(_all(index, "联合国", since="2022-12-01", until="2022-12-31")) <= between(date(2022, 12, 1), date(2022, 12, 31))


def test_story_sort_by_date(stories: Built, story_files: dict[str, Story]) -> None:
    with open_index(stories.location) as index:
        hits = index.search("联合国", sort="date", limit=1000).hits
        everything = index.search("", sort="date", limit=20).hits
    days = [_local_day(hit.date) for hit in hits]
    assert len(days) > 10 and days == sorted(days, reverse=True)
    assert _local_day(everything[0].date) == max(story.day for story in story_files.values())


def test_story_repeated_headline_by_title(stories: Built, story_files: dict[str, Story]) -> None:
    titles = Counter(story.title for story in story_files.values())
    headline, count = titles.most_common(1)[0]
    assert count > 20
    with open_index(stories.location) as index:
        found = set(_all(index, f'title:"{headline}"'))
    assert {p for p, s in story_files.items() if s.title == headline} <= found
    assert all(headline in story_files[p].title for p in found)


def test_story_facets_count_all_matches(stories: Built, story_files: dict[str, Story]) -> None:
    with open_index(stories.location) as index:
        for query, options in (("联合国", {}), ("经济", dict(since="2022-11-15")), ("", {})):
            matched = _all(index, query, **options)
            result = index.search(query, limit=5, facets=True, **options)
            assert len(matched) > 50 and result.total == len(matched)
            kinds = Counter(story_files[path].kind for path in matched)
            expected = sorted([("新闻联播", len(matched)), *kinds.items()], key=lambda pair: (-pair[1], pair[0]))
            assert result.facets.categories == expected
            months = Counter(story_files[path].day.strftime("%Y-%m") for path in matched)
            assert result.facets.months == sorted(months.items(), reverse=True)


@pytest.mark.parametrize(
    ("path", "topic", "at_least"),
    [
        ("2022/12/20221204-07.md", "神舟", 3),  # Shenzhou-14 leaves the space station
        ("2022/12/20221229-12.md", "职务调整", 5),  # provincial leaders reassigned
        ("2022/12/20221217-07.md", "疫苗接种", 1),  # vaccinating the elderly
    ],
)
def test_story_similar_finds_stories_on_the_same_topic(
    stories: Built, story_files: dict[str, Story], path: str, topic: str, at_least: int
) -> None:
    assert topic in story_files[path].title
    with open_index(stories.location) as index:
        result = index.similar(path, limit=5)
    titles = [story_files[hit.path].title for hit in result.hits]
    assert path not in [hit.path for hit in result.hits]
    assert sum(topic in title for title in titles) >= at_least, titles


def test_story_similar_never_lists_the_story_and_marks_its_words(stories: Built, story_files: dict[str, Story]) -> None:
    with open_index(stories.location) as index:
        for path in sorted(story_files)[::150]:
            result = index.similar(path, limit=1000)
            paths = [hit.path for hit in result.hits]
            assert path not in paths and len(paths) == result.total > 0
            words = set(result.query.split())
            for hit in result.hits[:10]:
                text = (story_files[hit.path].title + story_files[hit.path].body).lower()
                assert any(word in text for word in words), (path, hit.path)
                for marked in MARK.findall(hit.snippet):
                    assert made_of(html.unescape(marked), words), (marked, words)

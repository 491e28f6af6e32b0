"""The ``news-search`` command line: ``search.cli.run`` in-process, and the real console script."""

from __future__ import annotations

import html
import io
import json
import os
import pty
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from search.cli.render import category_lines
from clirun import assert_one_line_error, cli
from contract import HIT_KEYS, RESULT_KEYS, timeless

import search
from search import open_index
from search.storage import IndexDir

SAMPLE = Path(search.__file__).resolve().parent / "sample"
ANSI = re.compile(r"\x1b\[([0-9;]*)m")
MARK = re.compile(r"<mark>(.*?)</mark>", re.S)


def console_script() -> str:
    beside = Path(sys.executable).parent / "news-search"
    found = str(beside) if beside.exists() else shutil.which("news-search")
    assert found, "the news-search console script is not installed"
    return found


def _plain(fragment: str) -> str:
    return html.unescape(MARK.sub(r"\1", fragment))


@pytest.fixture(autouse=True)
def _no_index_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWS_SEARCH_INDEX", raising=False)
    monkeypatch.delenv("NEWS_SEARCH_DEBUG", raising=False)


@pytest.fixture
def built(sample_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    """A writable sample corpus and an index of it built with the CLI: (corpus, index)."""
    location = tmp_path / "index"
    code, _, _ = cli(capsys, "index", sample_copy, "--index", location)
    assert code == 0
    return sample_copy, location


def _malformed(corpus: Path) -> None:
    (corpus / "坏").mkdir()
    (corpus / "坏" / "未闭合.md").write_text("---\ntitle: 没有结束\n\n<p>正文</p>\n", "utf-8")
    (corpus / "坏" / "空白.md").write_text("   \n", "utf-8")


# --------------------------------------------------------------------------- index


def test_index_builds_and_prints_a_summary(sample_copy: Path, tmp_path: Path, capsys) -> None:
    location = tmp_path / "index"
    code, out, err = cli(capsys, "index", sample_copy, "--index", location)
    assert code == 0
    assert "built" in out and "30 added" in out and "0 skipped" in out and "30 documents" in out
    assert "skipped" not in err and "Traceback" not in err
    with open_index(location) as index:
        assert len(index) == 30

    code, out, _ = cli(capsys, "index", sample_copy, "--index", location)
    assert code == 0
    assert "updated" in out and "0 added" in out and "30 unchanged" in out


def test_index_json_report(sample_copy: Path, tmp_path: Path, capsys) -> None:
    code, out, _ = cli(capsys, "index", sample_copy, "--index", tmp_path / "index", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["rebuilt"] is True and report["added"] == 30 and report["documents"] == 30
    assert report["skipped"] == [] and report["unchanged"] == 0 and report["removed"] == 0


def test_skipped_files_are_reported_on_stderr_and_strict_fails(sample_copy: Path, tmp_path: Path, capsys) -> None:
    _malformed(sample_copy)
    location = tmp_path / "index"
    code, out, err = cli(capsys, "index", sample_copy, "--index", location)
    assert code == 0
    lines = err.splitlines()
    assert any(line.startswith("skipped 坏/未闭合.md: ") and "front matter" in line for line in lines), err
    assert any(line.startswith("skipped 坏/空白.md: ") and "empty" in line for line in lines), err
    assert "30 added" in out and "2 skipped" in out

    code, out, err = cli(capsys, "index", sample_copy, "--index", location, "--strict")
    assert code == 1
    assert "skipped 坏/未闭合.md: " in err and "30 unchanged" in out

    code, out, err = cli(capsys, "index", sample_copy, "--index", tmp_path / "json-index", "--json", "--strict")
    assert code == 1
    report = json.loads(out)
    assert {s["path"] for s in report["skipped"]} == {"坏/未闭合.md", "坏/空白.md"}
    assert all(s["reason"] for s in report["skipped"])


def test_index_without_corpus_reuses_the_recorded_corpus(built, capsys) -> None:
    corpus, location = built
    (corpus / "新增").mkdir()
    (corpus / "新增" / "熊猫.md").write_text("---\ntitle: 大熊猫幼崽首次亮相\n---\n\n熊猫幼崽今天首次亮相。\n", "utf-8")
    code, out, err = cli(capsys, "index", "--index", location)
    assert code == 0
    assert f"from {corpus.resolve()} " in out
    assert "1 added" in out and "30 unchanged" in out
    with open_index(location) as index:
        assert [hit.path for hit in index.search("熊猫").hits] == ["新增/熊猫.md"]


def test_index_without_corpus_or_index_uses_the_bundled_sample(tmp_path: Path, capsys) -> None:
    location = tmp_path / "fresh"
    code, out, err = cli(capsys, "index", "--index", location)
    assert code == 0
    assert f"from {SAMPLE}" in out and "30 added" in out
    with open_index(location) as index:
        assert Path(index.stats().corpus) == SAMPLE
        assert len(index) == 30


def test_index_location_from_environment_and_working_folder(
    sample_copy: Path, sample_index: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("NEWS_SEARCH_INDEX", str(sample_index))
    code, out, _ = cli(capsys, "search", "马拉松", "--json")
    assert code == 0 and json.loads(out)["total"] == 2

    monkeypatch.delenv("NEWS_SEARCH_INDEX")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    code, _, _ = cli(capsys, "index", sample_copy)
    assert code == 0
    assert IndexDir(work / "index").current() is not None
    code, out, _ = cli(capsys, "stats", "--json")
    assert code == 0 and json.loads(out)["documents"] == 30


# --------------------------------------------------------------------------- search


def test_search_json(sample_index: Path, capsys) -> None:
    code, out, err = cli(capsys, "search", "马拉松", "--index", sample_index, "--json")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert set(data) == RESULT_KEYS
    assert data["query"] == "马拉松" and data["total"] == 2 and data["page"] == 1 and data["suggestion"] is None
    assert all(set(hit) == HIT_KEYS for hit in data["hits"])
    with open_index(sample_index) as index:
        expected = index.search("马拉松").to_json()
    assert timeless(data) == timeless(json.loads(json.dumps(expected, ensure_ascii=False)))
    assert "<mark>马拉松</mark>" in data["hits"][0]["snippet"]


@pytest.mark.parametrize(
    ("args", "options"),
    [
        (["--limit", "3", "--page", "2"], dict(limit=3, page=2)),
        (["-n", "5", "-c", "体育"], dict(limit=5, category="体育")),
        (["--author", "山海体育"], dict(author="山海体育")),
        (["--since", "2023-01-01", "--until", "2023-12-31"], dict(since="2023-01-01", until="2023-12-31")),
        (["--sort", "date", "-n", "30"], dict(sort="date", limit=30)),
    ],
)
def test_search_options_reach_the_library(sample_index: Path, capsys, args: list[str], options: dict) -> None:
    code, out, _ = cli(capsys, "search", "", "--index", sample_index, "--json", *args)
    assert code == 0
    data = json.loads(out)
    with open_index(sample_index) as index:
        expected = index.search("", **options)
    assert data["total"] == expected.total
    assert [hit["path"] for hit in data["hits"]] == [hit.path for hit in expected.hits]
    assert data["hits"], "the options should leave some hits"


def test_batch_prints_one_json_object_per_query_in_order(sample_index: Path, tmp_path: Path, capsys) -> None:
    batch = tmp_path / "queries.txt"
    batch.write_text("马拉松\n\n咖啡\n   \n疫苗\n人工智能 -照片\n", "utf-8")
    code, out, err = cli(capsys, "search", "--batch", batch, "--index", sample_index)
    assert code == 0 and err == ""
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 6  # one per line of the file: blank ones answered with an error object
    assert [line["error"]["code"] for line in (lines[1], lines[3])] == ["empty_query", "empty_query"]
    results = [line for number, line in enumerate(lines) if number not in (1, 3)]
    assert [r["query"] for r in results] == ["马拉松", "咖啡", "疫苗", "人工智能 -照片"]
    for result in results:
        assert set(result) == RESULT_KEYS
        assert all(set(hit) == HIT_KEYS for hit in result["hits"])
        code, single, _ = cli(capsys, "search", result["query"], "--index", sample_index, "--json")
        assert timeless(json.loads(single)) == timeless(result)


def test_batch_from_stdin_applies_the_options(sample_index: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("马拉松\n\n新闻\n".encode())))
    code, out, _ = cli(capsys, "search", "--batch", "-", "--index", sample_index, "--category", "体育")
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines[1]["error"]["code"] == "empty_query"
    results = [lines[0], lines[2]]
    assert [r["query"] for r in results] == ["马拉松", "新闻"]
    assert [h["path"] for h in results[0]["hits"]] == ["体育/城市马拉松三万跑者参赛.md"]
    assert all("体育" in hit["categories"] for r in results for hit in r["hits"])


def test_listing_shows_titles_and_snippets_without_markup(sample_index: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    code, out, err = cli(capsys, "search", "新能源汽车", "--index", sample_index)
    assert code == 0 and err == ""
    with open_index(sample_index) as index:
        result = index.search("新能源汽车")
    assert result.hits
    for hit in result.hits:
        assert hit.title in out
        assert _plain(hit.snippet) in out
        assert hit.path in out
    for raw in ("<mark>", "</mark>", "<p>", "<div", "&lt;", "&amp;", "\x1b["):
        assert raw not in out
    assert f"of {result.total}" in out


def test_facets_json_and_listing(sample_index: Path, capsys) -> None:
    code, out, err = cli(capsys, "search", "", "--index", sample_index, "--json", "--facets", "-n", "3")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert set(data) == RESULT_KEYS | {"facets"} and len(data["hits"]) == 3
    with open_index(sample_index) as index:
        facets = index.search("", facets=True).facets
    assert data["facets"] == {
        "categories": [{"category": name, "documents": count} for name, count in facets.categories],
        "category_tree": [node.to_json() for node in facets.category_tree],
        "months": [{"month": month, "documents": count} for month, count in facets.months],
    }
    assert sum(entry["documents"] for entry in data["facets"]["months"]) == data["total"] == 30

    code, out, _ = cli(capsys, "search", "", "--index", sample_index, "--facets", "-n", "3")
    assert code == 0
    listing, _, counts = out.partition("\ncategories:\n")
    assert "1–3 of 30" in listing
    categories, _, months = counts.partition("\nmonths:\n")
    lines = categories.strip("\n").splitlines()  # the tree depth first, each level indented under its parent
    tree = list(category_lines(facets.category_tree))
    assert len(tree) > 30
    assert [(line.split()[0], line[11:]) for line in lines[:-1]] == [
        (str(node.documents), "  " * depth + node.category) for node, depth in tree[:30]
    ]
    assert lines[-1].strip() == f"… and {len(tree) - 30} more (--json lists all)"
    rows = [tuple(line.split()) for line in months.strip().splitlines()]
    assert rows == [(str(count), month) for month, count in facets.months]

    code, out, _ = cli(capsys, "search", "马拉松", "--index", sample_index)
    assert code == 0 and "categories:" not in out and "months:" not in out


def test_batch_with_facets(sample_index: Path, tmp_path: Path, capsys) -> None:
    batch = tmp_path / "queries.txt"
    batch.write_text("马拉松\n咖啡\n", "utf-8")
    code, out, _ = cli(capsys, "search", "--batch", batch, "--index", sample_index, "--facets")
    assert code == 0
    with open_index(sample_index) as index:
        expected = [index.search(query, facets=True).to_json() for query in ("马拉松", "咖啡")]
    assert timeless([json.loads(line) for line in out.splitlines()]) == timeless(json.loads(json.dumps(expected, ensure_ascii=False)))


def test_batch_file_that_cannot_be_read_is_a_usage_error(sample_index: Path, tmp_path: Path, capsys) -> None:
    code, out, err = cli(capsys, "search", "--batch", tmp_path / "missing.txt", "--index", sample_index)
    assert code == 2 and out == ""
    assert "missing.txt" in assert_one_line_error(err)


def test_json_page_past_the_end_keeps_the_total(sample_index: Path, capsys) -> None:
    code, out, _ = cli(capsys, "search", "马拉松", "--index", sample_index, "--json", "--page", "3")
    assert code == 0
    assert timeless(json.loads(out)) == {"query": "马拉松", "total": 2, "total_is_exact": True, "page": 3, "limit": 10, "pages": 1, "filters": {}, "hits": [], "suggestion": None}


@pytest.mark.parametrize(
    "args",
    [
        ["search", "新能源汽车"],
        ["search", "马拉松 城市", "-n", "3", "-p", "2"],
        ["search", "", "--facets", "-n", "2"],
        ["search", "鸭嘴兽"],
        ["search", "马拉送"],  # a suggestion
        ["similar", "体育/城市马拉松三万跑者参赛.md", "-n", "3"],
        ["stats"],
        ["show", "体育/城市马拉松三万跑者参赛.md"],
    ],
)
def test_listings_through_a_pipe_are_what_rich_prints_there(sample_index: Path, capsys, monkeypatch, args: list[str]) -> None:
    """Where nothing is styled (a pipe, a file), commands print their text without rich:
    the same text rich prints there."""
    import search.cli.render as render

    monkeypatch.delenv("NO_COLOR", raising=False)
    printed = {}
    for by_rich in (False, True):  # rich sees capsys's stream, not a terminal: it styles nothing
        monkeypatch.setattr(render, "_is_terminal", lambda stream: by_rich)
        code, out, err = cli(capsys, *args, "--index", sample_index)
        assert code == 0 and err == "", err
        printed[by_rich] = out
    assert printed[False] == printed[True] and printed[False].strip()
    assert "\x1b[" not in printed[True]


def test_listing_says_when_nothing_matches(sample_index: Path, capsys) -> None:
    code, out, _ = cli(capsys, "search", "鸭嘴兽", "--index", sample_index)
    assert code == 0 and "no results" in out
    code, out, _ = cli(capsys, "search", "马拉松", "--index", sample_index, "--page", "9")
    assert code == 0 and "no results" in out and "page 9" in out


def test_listing_shows_each_article_on_its_own_date(sample_index: Path, capsys) -> None:
    """The marathon is dated `2023-11-19 07:30:00` (China time); it was found by --since/--until that day."""
    code, out, _ = cli(capsys, "search", "马拉松", "--index", sample_index, "--since", "2023-11-19", "--until", "2023-11-19")
    assert code == 0 and "城市马拉松鸣枪开跑" in out
    assert "2023-11-19" in out


def test_no_color_output_has_no_escapes(sample_index: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    for args in (["search", "马拉松"], ["stats"], ["show", "体育/城市马拉松三万跑者参赛.md"]):
        code, out, err = cli(capsys, *args, "--index", sample_index)
        assert code == 0
        assert "\x1b" not in out and "\x1b" not in err


def _run_on_terminal(args: list[str], env: dict[str, str]) -> bytes:
    """Run the console script with stdout and stderr on a pseudo-terminal; return what it printed."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    output = b""
    try:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
    finally:
        os.close(leader)
        process.wait(timeout=60)
    assert process.returncode == 0, output
    return output


def _colour_codes(output: bytes) -> list[str]:
    colours = []
    for params in ANSI.findall(output.decode("utf-8", "replace")):
        for number in (int(p) for p in params.split(";") if p):
            if 30 <= number <= 49 or 90 <= number <= 107:
                colours.append(params)
    return colours


@pytest.mark.slow
def test_no_color_is_honoured_on_a_terminal(sample_index: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "NEWS_SEARCH_INDEX")}
    env.update(TERM="xterm-256color", COLUMNS="200")
    args = [console_script(), "search", "马拉松", "--index", str(sample_index)]
    coloured = _run_on_terminal(args, env)
    assert _colour_codes(coloured), "on a terminal, matched words are coloured"
    plain = _run_on_terminal(args, dict(env, NO_COLOR="1"))
    assert _colour_codes(plain) == []
    assert "马拉松".encode() in plain


# --------------------------------------------------------------------------- show, stats


def test_show_prints_the_article(sample_index: Path, capsys) -> None:
    path = "体育/城市马拉松三万跑者参赛.md"
    with open_index(sample_index) as index:
        document = index.document(path)
    code, out, err = cli(capsys, "show", path, "--index", sample_index)
    assert code == 0 and err == ""
    assert out.splitlines()[0] == document.title
    assert re.search(rf"^path:\s+{re.escape(path)}$", out, re.M)
    assert re.search(r"^categories:\s+新闻 / 体育 / 马拉松$", out, re.M)
    assert re.search(r"^author:\s+山海体育$", out, re.M)
    assert document.text in out
    assert "<p>" not in out

    code, out, _ = cli(capsys, "show", path, "--index", sample_index, "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"path", "title", "date", "categories", "tags", "author", "text"}
    assert data["path"] == path and data["title"] == document.title and data["text"] == document.text


def test_similar_json_and_listing(sample_index: Path, capsys) -> None:
    path = "体育/城市马拉松三万跑者参赛.md"
    with open_index(sample_index) as index:
        expected = index.similar(path, limit=3)
    code, out, err = cli(capsys, "similar", path, "--index", sample_index, "--json", "--limit", "3")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert set(data) == RESULT_KEYS
    assert all(set(hit) == HIT_KEYS for hit in data["hits"])
    assert timeless(data) == timeless(json.loads(json.dumps(expected.to_json(), ensure_ascii=False)))
    assert data["hits"][0]["path"] == "博客/第一次跑半程马拉松.md" and path not in [h["path"] for h in data["hits"]]

    code, out, err = cli(capsys, "similar", path, "--index", sample_index, "-n", "3", "-p", "2")
    assert code == 0 and err == ""
    with open_index(sample_index) as index:
        second = index.similar(path, limit=3, page=2)
    for number, hit in enumerate(second.hits, 4):
        assert re.search(rf"^\s*{number}\. {re.escape(hit.title)}$", out, re.M)
        assert hit.path in out and _plain(hit.snippet) in out
    assert f"4–6 of {second.total} (page 2 of {second.pages})" in out
    assert "<mark>" not in out


def test_stats_plain_and_json(sample_index: Path, capsys) -> None:
    code, out, _ = cli(capsys, "stats", "--index", sample_index, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["documents"] == 30
    categories = {entry["category"]: entry["documents"] for entry in data["categories"]}
    assert categories["新闻"] == 26 and categories["体育"] == 3 and categories["马拉松"] == 2
    assert data["first_date"] < data["last_date"]
    assert data["settings"]["schema_version"] >= 1
    assert Path(data["corpus"]) == SAMPLE

    code, out, _ = cli(capsys, "stats", "--index", sample_index)
    assert code == 0
    assert re.search(r"^documents:\s+30$", out, re.M)
    assert re.search(r"^\s+26\s+新闻$", out, re.M)
    assert re.search(rf"^index:\s+{re.escape(str(sample_index))}$", out, re.M)
    assert data["first_date"] in out and data["last_date"] in out


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "command", [["search", "马拉松"], ["stats"], ["show", "体育/城市马拉松三万跑者参赛.md"], ["similar", "体育/城市马拉松三万跑者参赛.md"]]
)
def test_missing_index_exits_3(tmp_path: Path, capsys, command: list[str]) -> None:
    code, out, err = cli(capsys, *command, "--index", tmp_path / "nowhere")
    assert code == 3 and out == ""
    line = assert_one_line_error(err)
    assert "no index" in line and "news-search index" in line


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["search", "马拉松", "--sort", "newest"], "--sort"),
        (["search", "马拉松", "--since", "yesterday"], "yesterday"),
        (["search", "马拉松", "--until", "2023-02-30"], "2023-02-30"),
        (["search", "马拉松", "--since", "2024-01-01", "--until", "2023-01-01"], "--since"),
        (["search", "马拉松", "--bogus"], "--bogus"),
        (["search", "马拉松", "--limit", "0"], "--limit"),
        (["search"], "QUERY"),
        (["show", "体育/没有这篇.md"], "体育/没有这篇.md"),
        (["similar", "体育/没有这篇.md"], "体育/没有这篇.md"),
        (["similar", "体育/城市马拉松三万跑者参赛.md", "--limit", "0"], "--limit"),
        (["frobnicate"], "frobnicate"),
    ],
)
def test_usage_errors_exit_2(sample_index: Path, capsys, args: list[str], needle: str) -> None:
    code, out, err = cli(capsys, *args, "--index", sample_index) if args != ["frobnicate"] else cli(capsys, *args)
    assert code == 2, err
    assert out == ""
    assert needle in assert_one_line_error(err)


def test_locked_index_exits_4(built, capsys) -> None:
    corpus, location = built
    with IndexDir(location).lock():
        code, out, err = cli(capsys, "index", corpus, "--index", location, "--wait", "0.2")
    assert code == 4 and out == ""
    line = assert_one_line_error(err)
    assert str(os.getpid()) in line  # names the writer holding the lock
    # searching does not need the writer lock
    with IndexDir(location).lock():
        code, out, _ = cli(capsys, "search", "马拉松", "--index", location, "--json")
    assert code == 0 and json.loads(out)["total"] == 2


@pytest.mark.parametrize("command", [["search", "马拉松"], ["stats"], ["show", "体育/城市马拉松三万跑者参赛.md"], ["index"]])
def test_incompatible_index_exits_3_and_says_rebuild(built, capsys, command: list[str]) -> None:
    corpus, location = built
    if command == ["index"]:
        command = ["index", str(corpus)]  # an update: refused, the index must be rebuilt
    meta_file = IndexDir(location).current() / "news-search.json"
    meta = json.loads(meta_file.read_text("utf-8"))
    meta["schema_version"] = meta["schema_version"] + 1
    meta_file.write_text(json.dumps(meta), "utf-8")
    code, out, err = cli(capsys, *command, "--index", location)
    assert code == 3
    assert "--rebuild" in assert_one_line_error(err)


def test_rebuild_repairs_an_incompatible_index(built, capsys) -> None:
    corpus, location = built
    meta_file = IndexDir(location).current() / "news-search.json"
    meta = json.loads(meta_file.read_text("utf-8"))
    meta["analysis"]["analysis_version"] += 1
    meta_file.write_text(json.dumps(meta), "utf-8")
    code, out, _ = cli(capsys, "index", "--index", location, "--rebuild")
    assert code == 0 and "built" in out and "30 added" in out
    code, out, _ = cli(capsys, "search", "马拉松", "--index", location, "--json")
    assert code == 0 and json.loads(out)["total"] == 2


def test_missing_corpus_is_one_line_error(tmp_path: Path, capsys) -> None:
    code, out, err = cli(capsys, "index", tmp_path / "no-such-corpus", "--index", tmp_path / "index")
    assert code != 0
    assert "no-such-corpus" in assert_one_line_error(err)


# --------------------------------------------------------------------------- the real console script


@pytest.mark.slow
def test_console_script_end_to_end(sample_copy: Path, tmp_path: Path) -> None:
    script = console_script()
    env = {k: v for k, v in os.environ.items() if k != "NEWS_SEARCH_INDEX"}
    location = tmp_path / "index"

    def call(*args: object) -> subprocess.CompletedProcess[str]:
        return subprocess.run([script, *map(str, args)], capture_output=True, text=True, env=env, timeout=120)

    built = call("index", sample_copy, "--index", location)
    assert built.returncode == 0, built.stderr
    assert "30 added" in built.stdout

    found = call("search", "马拉松", "--index", location, "--json")
    assert found.returncode == 0
    data = json.loads(found.stdout)
    assert data["total"] == 2 and all(set(hit) == HIT_KEYS for hit in data["hits"])

    missing = call("search", "马拉松", "--index", tmp_path / "nowhere")
    assert missing.returncode == 3 and missing.stdout == ""
    assert_one_line_error(missing.stderr)

    # A reading command ends without Python's teardown: its output still arrives whole,
    # here far more than a pipe holds.
    queries = tmp_path / "queries.txt"
    queries.write_text("马拉松\n城市\n" * 150, "utf-8")
    buffered = {k: v for k, v in env.items() if k != "PYTHONUNBUFFERED"}
    batch = subprocess.run([script, "search", "--batch", str(queries), "--index", str(location)], capture_output=True, text=True, env=buffered, timeout=120)
    assert batch.returncode == 0 and len(batch.stdout) > 256 * 1024
    assert [json.loads(line)["query"] for line in batch.stdout.splitlines()] == ["马拉松", "城市"] * 150
    # Output that cannot be written is one line on stderr, not a traceback; none is wanted
    # where stdout was closed.
    for redirect, status in ((">/dev/full", 1), (">&-", 0)):
        ended = subprocess.run(["bash", "-c", f'"$0" search 马拉松 --index "$1" {redirect}', script, str(location)], capture_output=True, text=True, env=buffered, timeout=120)
        assert ended.returncode == status, (redirect, ended.stderr)
        if status:
            assert "could not write the output" in assert_one_line_error(ended.stderr)
        else:
            assert ended.stderr == ""

    bad = call("search", "马拉松", "--index", location, "--sort", "sideways")
    assert bad.returncode == 2
    assert_one_line_error(bad.stderr)

    with IndexDir(location).lock():  # held by this process: the script is another writer
        locked = call("index", sample_copy, "--index", location, "--wait", "0.2")
    assert locked.returncode == 4
    assert str(os.getpid()) in assert_one_line_error(locked.stderr)


def test_unquoted_words_make_one_query(sample_index: Path, capsys) -> None:
    """`news-search search 新能源 汽车` is the query `新能源 汽车`, not an error."""
    code, out, err = cli(capsys, "search", "--index", sample_index, "--json", "新能源", "汽车")
    assert code == 0, err
    spaced = json.loads(out)
    code, out, _ = cli(capsys, "search", "--index", sample_index, "--json", "新能源 汽车")
    assert spaced["query"] == "新能源 汽车" and timeless(spaced) == timeless(json.loads(out))
    assert spaced["total"] > 0


@pytest.mark.slow
def test_searching_imports_neither_the_corpus_reader_nor_pinyin(sample_index: Path) -> None:
    """Start-up time: a search needs no HTML parser, YAML reader or pinyin tables, and
    no pydantic (Typer 0.29 imports it for every command: 80 ms, so pyproject.toml keeps
    Typer below it), nor jieba (the segmenter loads its compiled dictionary)."""
    script = (
        "import sys\n"
        "from search.cli import run\n"
        f"code = run(['search', '市民', '--index', {str(sample_index)!r}, '--json'])\n"
        f"code = code or run(['search', '市民', '--index', {str(sample_index)!r}])\n"
        "heavy = [m for m in ('bs4', 'lxml', 'yaml', 'frontmatter', 'pypinyin', 'pydantic', 'jieba', 'starlette', 'uvicorn', 'jinja2', 'watchfiles', 'rich') if m in sys.modules]\n"
        "print(code, heavy, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stderr.strip().splitlines()[-1] == "0 []"  # nor rich, for a listing through a pipe
    assert json.loads(done.stdout.splitlines()[0])["hits"] and "市民" in done.stdout.split("\n", 1)[1]

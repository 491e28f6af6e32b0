"""A Sphinx cluster behind the same API: real searchd servers (two shards and a head) on
free loopback ports, the shared Hexo corpus indexed into them, searched, updated, and
searched again with a shard down."""

from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path

import pytest
from clirun import cli
from contract import HIT_KEYS, RESULT_KEYS

from search import UsageError, index_corpus, open_index
from search.cluster.layout import Layout, init_cluster
from search.cluster.servers import free_ports, start_cluster, stop_cluster

pytestmark = pytest.mark.slow


def _cluster(folder: Path, mirrors: bool = False) -> Layout:
    if not shutil.which("searchd"):
        pytest.fail("searchd is not installed: run scripts/ci-setup (Debian's sphinxsearch)")
    copies = 2 if mirrors else 1
    layout = init_cluster(folder, 2, mirrors=mirrors, port=free_ports(2 * (1 + 2 * copies)))
    start_cluster(folder)
    return layout


def _kill(folder: Path, name: str) -> None:
    """Kill a server hard, as a crash would (no shutdown, no flush)."""
    pid = int((folder / name / "searchd.pid").read_text().split()[0])
    os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, rsshub_corpus: Path):
    folder = tmp_path_factory.mktemp("cluster")
    layout = _cluster(folder)
    report = index_corpus(rsshub_corpus, layout.url)
    assert report.added == report.documents > 200 and [item.path for item in report.skipped] == ["SOURCE.md"]
    yield folder, layout
    stop_cluster(folder)


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory, rsshub_corpus: Path) -> Path:
    location = tmp_path_factory.mktemp("embedded")
    index_corpus(rsshub_corpus, location)
    return location


def test_searches_find_what_the_folder_index_finds(cluster, embedded: Path) -> None:
    _, layout = cluster
    with open_index(layout.url) as remote, open_index(embedded) as local:
        assert len(remote) == len(local)
        for query in ("手机", "人工智能 芯片", '"开源中国"', "title:苹果", "华为 -手机"):
            there, here = remote.search(query, limit=10), local.search(query, limit=10)
            assert there.total == here.total > 0, query
            assert set(there.to_json()) == RESULT_KEYS and all(set(hit.to_json()) == HIT_KEYS for hit in there.hits)
            # The same top articles, mostly: the ranking is the cluster's own.
            overlap = {hit.path for hit in there.hits} & {hit.path for hit in here.hits}
            assert len(overlap) >= min(5, len(here.hits)) // 2, query
        marked = remote.search("手机").hits[0]
        assert "<mark>手机</mark>" in marked.snippet + marked.title_html


def test_filters_sorting_and_facets_agree_with_the_folder_index(cluster, embedded: Path) -> None:
    _, layout = cluster
    with open_index(layout.url) as remote, open_index(embedded) as local:
        for options in (dict(category="cnBeta"), dict(category="新媒体/IT 之家"), dict(since="2021-06-01", until="2021-12-31")):
            there, here = remote.search("", limit=5, sort="date", **options), local.search("", limit=5, sort="date", **options)
            assert there.total == here.total > 0, options
            assert [hit.date for hit in there.hits] == [hit.date for hit in here.hits], options
        there, here = remote.search("手机", facets=True).facets, local.search("手机", facets=True).facets
        assert sorted(count for _, count in there.categories) == sorted(count for _, count in here.categories)
        assert there.months == here.months
        assert [(node.path, node.documents) for node in there.category_tree] == [(node.path, node.documents) for node in here.category_tree]


def test_show_and_the_command_line_take_the_cluster_address(cluster, capsys) -> None:
    _, layout = cluster
    code, out, err = cli(capsys, "search", "手机", "--index", layout.url, "--json", "-n", "3")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert len(data["hits"]) == 3 and "partial" not in data
    path = data["hits"][0]["path"]
    code, out, _ = cli(capsys, "show", path, "--index", layout.url, "--json")
    assert code == 0 and json.loads(out)["path"] == path
    with open_index(layout.url) as remote:
        with pytest.raises(KeyError):
            remote.document("no/such/article.md")


def test_similar_articles_are_those_the_folder_index_finds(cluster, embedded: Path) -> None:
    _, layout = cluster
    with open_index(layout.url) as remote, open_index(embedded) as local:
        path = local.search("手机").hits[0].path
        there, here = remote.similar(path), local.similar(path)
        assert path not in {hit.path for hit in there.hits} and there.total > 0
        assert len(set(there.query.split()) & set(here.query.split())) >= 6  # the same distinctive words, mostly
        assert len({hit.path for hit in there.hits} & {hit.path for hit in here.hits}) >= 3
        with pytest.raises(KeyError):
            remote.similar("no/such/article.md")


def test_the_service_serves_the_cluster_to_many_requests_at_once(cluster) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from starlette.testclient import TestClient

    from search.service import create_app

    _, layout = cluster
    with TestClient(create_app(layout.url)) as client:
        expected = client.get("/api/v1/search", params={"q": "手机"}).json()
        assert expected["total"] > 0 and set(expected) == RESULT_KEYS
        with ThreadPoolExecutor(8) as pool:  # the service's threads share one connection
            answers = list(pool.map(lambda _: client.get("/api/v1/search", params={"q": "手机"}).json(), range(40)))
        assert all(answer["total"] == expected["total"] and answer["hits"] == expected["hits"] for answer in answers)
        page = client.get("/", params={"q": "手机"})
        assert page.status_code == 200 and "<mark>手机</mark>" in page.text


def test_updates_add_change_and_delete(tmp_path: Path, rsshub_corpus: Path) -> None:
    folder = tmp_path / "cluster"
    layout = _cluster(folder)
    corpus = tmp_path / "corpus"
    shutil.copytree(rsshub_corpus / "source" / "_posts" / "二次元", corpus)
    try:
        first = index_corpus(corpus, layout.url, workers=2)  # shared by two processes, as a large corpus is
        assert first.workers == 2 and first.added == first.documents > 0
        files = sorted(corpus.rglob("*.md"))
        files[0].unlink()
        files[1].write_text(files[1].read_text("utf-8") + "\n<p>独一无二的熊猫更新。</p>\n", "utf-8")
        (corpus / "新文章.md").write_text("---\ntitle: 新的熊猫文章\n---\n\n熊猫来了。\n", "utf-8")
        second = index_corpus(corpus, layout.url)
        assert (second.added, second.updated, second.removed) == (1, 1, 1)
        assert second.unchanged == first.documents - 2 and second.documents == first.documents
        with open_index(layout.url) as remote:
            assert {hit.path for hit in remote.search("熊猫").hits} == {"新文章.md", files[1].relative_to(corpus).as_posix()}
        assert index_corpus(corpus, layout.url).unchanged == second.documents
        files[2].unlink()  # a rebuild sends every article again, in place, and drops the rest
        rebuilt = index_corpus(corpus, layout.url, rebuild=True)
        assert rebuilt.rebuilt and rebuilt.added == rebuilt.documents == second.documents - 1 and rebuilt.removed == 1
        for file in corpus.rglob("*.md"):
            file.unlink()
        with pytest.raises(UsageError, match="allow-removals"):
            index_corpus(corpus, layout.url)
        with pytest.raises(UsageError, match="allow-removals"):
            index_corpus(corpus, layout.url, rebuild=True)
    finally:
        stop_cluster(folder)


def test_the_user_dictionary_and_synonyms_live_on_the_head(tmp_path: Path) -> None:
    folder = tmp_path / "cluster"
    layout = _cluster(folder)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.md").write_text("---\ntitle: 量子纠缠通信网今日开通\n---\n\n量子纠缠通信网连接了三座城市。\n", "utf-8")
    (corpus / "b.md").write_text("---\ntitle: 国家发展和改革委员会召开发布会\n---\n\n介绍经济运行情况。\n", "utf-8")
    (tmp_path / "words.txt").write_text("量子纠缠通信网 10\n", "utf-8")
    (tmp_path / "synonyms.txt").write_text("@news\n", "utf-8")
    try:
        index_corpus(corpus, layout.url, user_dict=tmp_path / "words.txt", synonyms=tmp_path / "synonyms.txt")
        with open_index(layout.url) as remote:
            hits = remote.search("量子纠缠通信网").hits
            assert [hit.path for hit in hits] == ["a.md"] and "<mark>量子纠缠通信网</mark>" in hits[0].title_html
            assert [hit.path for hit in remote.search("发改委").hits] == ["b.md"]
        (tmp_path / "other.txt").write_text("纠缠通信 10\n", "utf-8")
        with pytest.raises(UsageError, match="--rebuild"):
            index_corpus(corpus, layout.url, user_dict=tmp_path / "other.txt")
        assert index_corpus(corpus, layout.url).unchanged == 2  # kept by a run that names none
        with open_index(layout.url) as remote:
            assert [hit.path for hit in remote.search("发改委").hits] == ["b.md"]
    finally:
        stop_cluster(folder)


def test_a_dead_shard_gives_partial_results_with_a_warning(tmp_path: Path, rsshub_corpus: Path, capsys) -> None:
    folder = tmp_path / "cluster"
    layout = _cluster(folder)
    try:
        index_corpus(rsshub_corpus, layout.url)
        with open_index(layout.url) as remote:
            whole = remote.search("手机").total
        _kill(folder, "shard1")
        with open_index(layout.url) as remote:
            partial = remote.search("手机")
        assert 0 < partial.total < whole
        assert partial.warnings and partial.to_json()["partial"] is True
        code, out, err = cli(capsys, "search", "手机", "--index", layout.url)
        assert code == 0 and out and err.startswith("news-search: warning: partial results: ")
    finally:
        stop_cluster(folder)


def test_with_mirrors_a_dead_copy_loses_nothing(tmp_path: Path, rsshub_corpus: Path) -> None:
    folder = tmp_path / "cluster"
    layout = _cluster(folder, mirrors=True)
    try:
        index_corpus(rsshub_corpus, layout.url)
        with open_index(layout.url) as remote:
            whole = remote.search("手机").total
        _kill(folder, "shard0")
        _kill(folder, "shard1-copy1")
        with open_index(layout.url) as remote:
            for _ in range(3):  # whichever copy the head asks first
                assert remote.search("手机").total == whole
    finally:
        stop_cluster(folder)


def test_a_wrong_address_is_one_line(capsys) -> None:
    code, _, err = cli(capsys, "search", "手机", "--index", "sphinx://127.0.0.1:1/news")
    assert code != 0 and "Traceback" not in err and len(err.strip().splitlines()) == 1 and "cluster start" in err
    code, _, err = cli(capsys, "search", "手机", "--index", "sphinx://nowhere")
    assert code != 0 and "sphinx://HOST:PORT/INDEX" in err

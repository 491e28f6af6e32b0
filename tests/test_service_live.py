"""The service as a running process: Meilisearch's own client against it, start and stop,
and --watch applying a corpus folder's changes while searches go on."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

import meilisearch
import pytest
from meilisearch.errors import MeilisearchApiError
from sample_oracle import categories_index
from servers import Server

from search import index_corpus, open_index

pytestmark = pytest.mark.slow  # server processes


@pytest.fixture(scope="module")
def served(sample_index: Path):
    with Server(sample_index) as server:
        yield server


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


# --------------------------------------------------------------------------- Meilisearch's client


def test_the_meilisearch_client_searches_filters_and_counts_facets(served: Server) -> None:
    index = meilisearch.Client(served.url).index("news")  # no key: it sends "Bearer None"
    result = index.search("马拉松", {"filter": "category = 体育", "facets": ["category"], "attributesToHighlight": ["title"]})
    assert [hit["path"] for hit in result["hits"]] == ["体育/城市马拉松三万跑者参赛.md"]
    assert result["estimatedTotalHits"] == 1 and result["query"] == "马拉松" and isinstance(result["processingTimeMs"], int)
    assert "<em>马拉松</em>" in result["hits"][0]["_formatted"]["title"]
    assert result["facetDistribution"]["category"]["体育"] == 1
    either = index.search("", {"filter": [["category = 体育", "category = 健康"]], "limit": 100})
    categories = categories_index()
    assert {hit["path"] for hit in either["hits"]} == categories["体育"] | categories["健康"]


def test_the_meilisearch_client_pages_sorts_crops_and_ranks(served: Server) -> None:
    index = meilisearch.Client(served.url).index("news")
    paged = index.search("", {"page": 2, "hitsPerPage": 5, "sort": ["date:desc"]})
    assert paged["totalHits"] == 30 and paged["totalPages"] == 6 and paged["page"] == 2 and len(paged["hits"]) == 5
    everything = index.search("", {"limit": 30, "sort": ["date:desc"]})["hits"]
    assert [hit["path"] for hit in paged["hits"]] == [hit["path"] for hit in everything[5:10]]
    dates = [hit["timestamp"] for hit in everything]
    assert dates == sorted(dates, reverse=True)
    shifted = index.search("新能源", {"offset": 1, "limit": 2})
    assert [hit["path"] for hit in shifted["hits"]] == [hit["path"] for hit in index.search("新能源", {"limit": 3})["hits"][1:]]
    cropped = index.search(
        "电池", {"attributesToCrop": ["text"], "cropLength": 10, "highlightPreTag": "[", "highlightPostTag": "]", "showRankingScore": True}
    )
    first = cropped["hits"][0]
    assert "[电池]" in first["_formatted"]["text"] and len(first["_formatted"]["text"]) < 60
    scores = [hit["_rankingScore"] for hit in cropped["hits"]]
    assert scores == sorted(scores, reverse=True) and all(0 < score < 1 for score in scores)
    dated = index.search("", {"filter": "date >= 1700000000 AND date < 1710000000", "limit": 100})["hits"]
    assert dated and all(1700000000 <= hit["timestamp"] < 1710000000 for hit in dated)
    ranged = index.search("", {"filter": "date 1700000000 TO 1710000000", "limit": 100})["hits"]
    assert {hit["path"] for hit in ranged} == {hit["path"] for hit in dated}


def test_multi_search_answers_every_query(served: Server) -> None:
    client = meilisearch.Client(served.url)
    results = client.multi_search([{"indexUid": "news", "q": "马拉松"}, {"indexUid": "news", "q": "咖啡", "limit": 1}])["results"]
    assert [result["indexUid"] for result in results] == ["news", "news"]
    assert results[0]["estimatedTotalHits"] == 2 and len(results[1]["hits"]) == 1


@pytest.mark.parametrize(
    "parameters, code",
    [
        ({"vector": [0.1]}, "bad_request"),
        ({"filter": "title = 马拉松"}, "invalid_search_filter"),
        ({"filter": "category = 体育 OR author = 山海体育"}, "invalid_search_filter"),
        ({"sort": ["date:asc"]}, "invalid_search_sort"),
        ({"facets": ["author"]}, "invalid_search_facets"),
        ({"limit": -1}, "invalid_search_limit"),
    ],
)
def test_what_news_search_does_not_do_gets_meilisearchs_error_shape(served: Server, parameters: dict, code: str) -> None:
    with pytest.raises(MeilisearchApiError) as caught:
        meilisearch.Client(served.url).index("news").search("马拉松", parameters)
    assert caught.value.status_code == 400 and caught.value.code == code
    assert caught.value.link.endswith("#" + code) and caught.value.type == "invalid_request" and caught.value.message


def test_an_unknown_index_uid_is_index_not_found(served: Server) -> None:
    with pytest.raises(MeilisearchApiError) as caught:
        meilisearch.Client(served.url).index("movies").search("x")
    assert caught.value.status_code == 404 and caught.value.code == "index_not_found"


# --------------------------------------------------------------------------- start, stop, watch


def test_serve_prints_its_url_and_stops_cleanly_on_ctrl_c(sample_index: Path) -> None:
    server = Server(sample_index)
    code, err = server.stop()
    assert code == 0, err
    assert f"serving {sample_index.resolve()} at http://127.0.0.1:{server.port}/" in err and "Traceback" not in err


def test_an_open_host_is_warned_about(sample_index: Path) -> None:
    server = Server(sample_index, "--host", "0.0.0.0")
    _, err = server.stop()
    assert "warning: listening on 0.0.0.0: anyone who can reach port" in err


def test_watch_applies_new_changed_and_deleted_articles_while_searches_go_on(sample_copy: Path, tmp_path: Path) -> None:
    location = tmp_path / "index"
    index_corpus(sample_copy, location)
    failures: list[str] = []
    stop = threading.Event()

    with Server(location, "--watch") as server:

        def search_all_the_time() -> None:
            while not stop.is_set():
                try:
                    _get(f"{server.url}/api/v1/search?q={quote('马拉松')}")
                except Exception as error:  # noqa: BLE001 - any failure is what this counts
                    failures.append(repr(error))

        searcher = threading.Thread(target=search_all_the_time)
        searcher.start()

        def found(word: str) -> int:
            return _get(f"{server.url}/api/v1/search?q={quote(word)}")["total"]

        def within(seconds: float, condition) -> float:
            started = time.monotonic()
            while time.monotonic() - started < seconds:
                if condition():
                    return time.monotonic() - started
                time.sleep(0.05)
            raise AssertionError(f"not within {seconds} s")

        article = sample_copy / "新" / "冥王星.md"
        article.parent.mkdir()
        article.write_text("---\ntitle: 冥王星考察队出发\n---\n\n冥王星考察队今天出发。\n", "utf-8")
        assert within(2.5, lambda: found("冥王星") == 1) <= 2.5
        article.write_text("---\ntitle: 冥王星考察队返回\n---\n\n海王星考察队也返回了。\n", "utf-8")
        within(2.5, lambda: found("海王星") == 1)
        article.unlink()
        within(2.5, lambda: found("冥王星") == 0)
        stop.set()
        searcher.join()
    assert failures == []


def test_a_failed_update_is_logged_and_the_last_good_index_keeps_serving(sample_copy: Path, tmp_path: Path) -> None:
    location = tmp_path / "index"
    index_corpus(sample_copy, location)
    server = Server(location, "--watch")
    try:
        for article in sorted(sample_copy.rglob("*.md"))[:20]:  # most of the corpus at once: a safeguard refuses
            article.unlink()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert _get(f"{server.url}/api/v1/search")["total"] == 30
            time.sleep(0.2)
    finally:
        code, err = server.stop()
    assert code == 0
    assert "index update failed, still serving the last good index: this update would remove 20 of the 30 documents" in err


def test_the_watcher_walks_first_then_tells_each_update_what_changed_keeping_what_failed(sample_copy: Path, tmp_path: Path, monkeypatch) -> None:
    """After its first update (a walk), the watcher names the paths changed; those of an
    update that failed are named again with the next change, so none is left behind."""
    import search.watch
    from search.watch import watch_corpus

    location = tmp_path / "index"
    index_corpus(sample_copy, location)
    calls: list[list[str] | None] = []
    failures: list[Exception] = []

    def index_once_failing(corpus, index_dir, *, changed=None, **options):
        calls.append(None if changed is None else sorted(Path(path).name for path in changed))
        if len(calls) == 2:
            raise OSError("disk full")
        return index_corpus(corpus, index_dir, changed=changed, **options)

    monkeypatch.setattr(search.watch, "index_corpus", index_once_failing)
    stop, ready = threading.Event(), threading.Event()
    watcher = threading.Thread(target=watch_corpus, args=(sample_copy, location, stop), kwargs={"ready": ready, "on_error": failures.append, "debounce_ms": 50})
    watcher.start()
    try:
        assert ready.wait(20)
        (sample_copy / "健康" / "甲.md").write_text("---\ntitle: 甲烷监测\n---\n\n甲烷。\n", "utf-8")
        deadline = time.monotonic() + 10
        while not failures and time.monotonic() < deadline:
            time.sleep(0.05)
        (sample_copy / "健康" / "乙.md").write_text("---\ntitle: 乙醇汽油\n---\n\n乙醇。\n", "utf-8")
        while len(calls) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        watcher.join(10)
    assert calls[0] is None and calls[1] == ["甲.md"] and calls[2] == ["乙.md", "甲.md"]
    assert [str(error) for error in failures] == ["disk full"]
    with open_index(location) as index:
        assert index.search("甲烷").total == 1 and index.search("乙醇").total == 1


def test_the_watcher_walks_the_corpus_now_and_then_for_what_it_was_not_told(sample_copy: Path, tmp_path: Path, monkeypatch) -> None:
    """A change the watcher does not report (an event lost) is applied by the next walk."""
    import watchfiles

    import search.watch
    from search.watch import watch_corpus

    location = tmp_path / "index"
    index_corpus(sample_copy, location)
    told, untold = sample_copy / "健康" / "甲.md", sample_copy / "健康" / "乙.md"
    stop = threading.Event()

    def watcher_missing_one(corpus, **options):
        yield set()  # running: the first update walks
        told.write_text("---\ntitle: 甲烷监测\n---\n\n甲烷。\n", "utf-8")
        untold.write_text("---\ntitle: 乙醇汽油\n---\n\n乙醇。\n", "utf-8")
        yield {(watchfiles.Change.added, str(told))}  # the other event lost
        time.sleep(1.1)
        yield set()  # idle, and a walk is due
        stop.set()

    monkeypatch.setattr(watchfiles, "watch", watcher_missing_one)
    monkeypatch.setattr(search.watch, "WALK_EVERY_S", 1.0)
    reports: list = []
    watch_corpus(sample_copy, location, stop, on_update=reports.append)
    assert [(report.added, report.unchanged) for report in reports] == [(0, 30), (1, 0), (1, 31)]
    with open_index(location) as index:
        assert index.search("甲烷").total == 1 and index.search("乙醇").total == 1

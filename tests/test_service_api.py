"""The HTTP service through Starlette's test client: every endpoint, every error,
the one JSON contract, limits, headers, and an index that changes while it serves."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest
from contract import HIT_KEYS, RESULT_KEYS
from sample_oracle import ORACLE, categories_index
from starlette.testclient import TestClient

from search import index_corpus, open_index
from search.live import LiveIndex
from search.service import create_app
from search.service.guards import MAX_BODY

ARTICLE = "体育/城市马拉松三万跑者参赛.md"
MARK = re.compile(r"<mark>(.*?)</mark>")


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> Path:
    """An index of the sample, built by this version (dates kept with their offsets)."""
    from conftest import SAMPLE

    location = tmp_path_factory.mktemp("service") / "index"
    index_corpus(SAMPLE, location)
    return location


@pytest.fixture(scope="module")
def client(index: Path):
    with TestClient(create_app(index)) as test_client:
        yield test_client


def error_of(response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"} and body["error"]["code"] == code
    return body["error"]["message"]


# --------------------------------------------------------------------------- the JSON contract


def test_search_returns_what_search_json_prints_field_by_field(client, index: Path, capsys) -> None:
    from search.cli import run

    data = client.get("/api/v1/search", params={"q": "马拉松", "limit": 1}).json()
    assert set(data) == RESULT_KEYS
    assert (data["query"], data["total"], data["page"], data["limit"], data["pages"]) == ("马拉松", 2, 1, 1, 2)
    assert isinstance(data["took_ms"], (int, float)) and data["took_ms"] >= 0 and data["filters"] == {}
    hit = data["hits"][0]
    assert set(hit) == HIT_KEYS
    assert hit["title"] == ORACLE[hit["path"]]["title"] and "<" not in hit["title"]
    assert MARK.findall(hit["title_html"]) == ["马拉松"]
    assert [hit["title"][start:end] for start, end in hit["title_spans"]] == ["马拉松"]
    assert MARK.sub(r"\1", hit["snippet"]) == hit["snippet_text"]
    assert all(hit["snippet_text"][start:end] == "马拉松" for start, end in hit["snippet_spans"])
    assert datetime.fromisoformat(hit["date"]) == ORACLE[hit["path"]]["date"]
    assert hit["categories"] == ORACLE[hit["path"]]["categories"] and hit["author"] == ORACLE[hit["path"]]["author"]
    assert isinstance(hit["score"], float) and isinstance(hit["tags"], list)
    assert run(["search", "马拉松", "-n", "1", "--json", "--index", str(index)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert {key: value for key, value in printed.items() if key != "took_ms"} == {
        key: value for key, value in data.items() if key != "took_ms"
    }


def test_dates_keep_the_offset_the_article_gave(client) -> None:
    # 江城一季度经济数据发布.md gives an RFC 2822 GMT date; 手冲咖啡入门笔记.md a date without a zone.
    dates = {hit["path"]: hit["date"] for hit in client.get("/api/v1/search", params={"limit": 100}).json()["hits"]}
    assert dates["财经/江城一季度经济数据发布.md"] == "2024-04-16T02:00:00+00:00"
    zoneless = [path for path in dates if dates[path].endswith("+08:00")]
    assert zoneless and all(datetime.fromisoformat(dates[path]) == ORACLE[path]["date"] for path in zoneless)


def test_filters_repeat_and_facets_come_back(client) -> None:
    categories = categories_index()
    data = client.get("/api/v1/search?category=体育&category=健康&limit=100&facets=true").json()
    assert {hit["path"] for hit in data["hits"]} == categories["体育"] | categories["健康"]
    assert data["filters"] == {"category": ["体育", "健康"]}
    assert {entry["category"] for entry in data["facets"]["categories"]} >= {"体育", "健康"}
    dated = client.get("/api/v1/search", params={"since": "2024-01", "until": "2024-12", "sort": "date", "limit": 100}).json()
    assert dated["hits"] and all(hit["date"] >= "2024" for hit in dated["hits"])


def test_article_similar_stats_and_health(client) -> None:
    article = client.get(f"/api/v1/articles/{ARTICLE}").json()
    assert article["path"] == ARTICLE and article["title"] == ORACLE[ARTICLE]["title"] and "马拉松" in article["text"]
    similar = client.get("/api/v1/similar", params={"path": ARTICLE, "limit": 3}).json()
    assert similar["hits"] and ARTICLE not in [hit["path"] for hit in similar["hits"]] and similar["query"]
    stats = client.get("/api/v1/stats").json()
    assert stats["documents"] == 30
    health = client.get("/health")
    assert health.status_code == 200 and health.json()["documents"] == 30
    assert re.fullmatch(r"gen-[0-9a-f]+-\d+/\d+", health.json()["generation"])


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "params, needle",
    [
        ({"q": "马拉松", "sort": "newest"}, "sort must be one of relevance, date"),
        ({"q": "马拉松", "since": "昨天"}, "not a date"),
        ({"q": "马拉松", "limit": "1001"}, "limit must be between 1 and 1000"),
        ({"q": "马拉松", "limit": "0"}, "limit must be between 1 and 1000"),
        ({"q": "马拉松", "page": "zero"}, "page must be a whole number"),
        ({"q": "马拉松", "facets": "maybe"}, "facets must be true or false"),
        ({"q": "马拉松", "since": "2024-02", "until": "2024-01"}, "is after"),
    ],
)
def test_bad_parameters_are_400(client, params: dict, needle: str) -> None:
    assert needle in error_of(client.get("/api/v1/search", params=params), 400, "bad_parameter")


def test_a_query_over_the_cap_is_400(client) -> None:
    assert "at most 1,000" in error_of(client.get("/api/v1/search", params={"q": "马" * 1001}), 400, "query_too_long")


@pytest.mark.parametrize("path", ["没有.md", "..%2F..%2Fetc%2Fpasswd", "../../etc/passwd", "%2Fetc%2Fpasswd", "体育"])
def test_paths_reach_only_indexed_articles(client, path: str) -> None:
    response = client.get(f"/api/v1/articles/{path}")
    assert response.status_code == 404 and "root:" not in response.text
    assert response.json()["error"]["code"] in ("article_not_found", "not_found")


def test_similar_needs_a_path(client) -> None:
    assert "give the article's path" in error_of(client.get("/api/v1/similar"), 400, "bad_parameter")
    error_of(client.get("/api/v1/similar", params={"path": "没有.md"}), 404, "article_not_found")


def test_no_usable_index_is_503(tmp_path: Path) -> None:
    with TestClient(create_app(tmp_path / "nothing")) as client:
        for url in ("/api/v1/search?q=x", "/api/v1/stats", "/health", f"/api/v1/articles/{ARTICLE}"):
            assert "no index at" in error_of(client.get(url), 503, "index_unavailable")


def test_bodies_over_the_cap_and_unknown_routes(client) -> None:
    big = client.post("/indexes/news/search", content=b"{" + b" " * MAX_BODY + b"}", headers={"content-type": "application/json"})
    assert "over 65,536 bytes" in error_of(big, 413, "body_too_large")
    error_of(client.get("/api/v2/search"), 404, "not_found")
    error_of(client.post("/api/v1/search"), 405, "method_not_allowed")
    assert client.post("/api/v1/reindex").status_code == 404  # no admin token: no write endpoint at all


# --------------------------------------------------------------------------- headers


def test_every_response_has_a_content_security_policy(client) -> None:
    for response in (client.get("/"), client.get("/api/v1/search?q=x"), client.get("/nowhere")):
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "default-src 'none'" in policy and "unsafe-inline" not in policy
        assert response.headers["x-content-type-options"] == "nosniff"


def test_cors_is_off_unless_a_site_is_allowed(index: Path) -> None:
    origin = {"Origin": "https://news.example.org"}
    with TestClient(create_app(index)) as closed:
        assert "access-control-allow-origin" not in closed.get("/api/v1/search?q=x", headers=origin).headers
    with TestClient(create_app(index, cors_origins=["https://news.example.org"])) as opened:
        allowed = opened.get("/api/v1/search?q=x", headers=origin)
        assert allowed.headers["access-control-allow-origin"] == "https://news.example.org"
        other = opened.get("/api/v1/search?q=x", headers={"Origin": "https://evil.example.com"})
        assert "access-control-allow-origin" not in other.headers


# --------------------------------------------------------------------------- an index that changes


def test_the_next_request_sees_a_commit_and_a_reindex_needs_the_token(sample_copy: Path, tmp_path: Path) -> None:
    location = tmp_path / "index"
    index_corpus(sample_copy, location)
    with TestClient(create_app(location, admin_token="s3cret")) as client:
        assert client.get("/api/v1/search", params={"q": "冥王星考察"}).json()["total"] == 0
        (sample_copy / "新.md").write_text("---\ntitle: 冥王星考察队出发\n---\n\n冥王星考察队今天出发。\n", "utf-8")
        index_corpus(sample_copy, location)  # another writer commits
        assert client.get("/api/v1/search", params={"q": "冥王星考察"}).json()["total"] == 1
        (sample_copy / "新.md").unlink()
        error_of(client.post("/api/v1/reindex"), 401, "unauthorized")
        error_of(client.post("/api/v1/reindex", headers={"Authorization": "Bearer wrong"}), 401, "unauthorized")
        report = client.post("/api/v1/reindex", headers={"Authorization": "Bearer s3cret"}).json()
        assert report["removed"] == 1
        assert client.get("/api/v1/search", params={"q": "冥王星考察"}).json()["total"] == 0


def test_a_use_already_running_keeps_its_index_through_a_rebuild(sample_copy: Path, tmp_path: Path) -> None:
    location = tmp_path / "index"
    index_corpus(sample_copy, location)
    live = LiveIndex(location)
    with live.use() as before:
        generation = before.generation
        index_corpus(sample_copy, location, rebuild=True)  # a new generation; the old folder is removed
        assert before.search("马拉松").total == 2 and before.generation == generation
        with live.use() as after:
            assert after.generation != generation and after.search("马拉松").total == 2
    with pytest.raises(Exception):
        before.search("马拉松")  # closed once its last use ended
    live.close()
    with open_index(location) as fresh:
        assert len(fresh) == 30

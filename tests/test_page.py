"""The search page as a person uses it: real headless Chromium against ``news-search serve``
over the shared Hexo posts and one hostile article; screenshots go to the test's folder
(and to ``$NEWS_SEARCH_SCREENSHOTS`` when set, for looking at)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import browser
import pytest
from servers import Server

from search import index_corpus

pytestmark = pytest.mark.slow  # a server process and a browser

HOSTILE = """---
title: '<script>window.pwned = "title"</script>恶意标题<img src=x onerror="window.pwned = 1">'
categories:
 - 测试<script>window.pwned = "category"</script>
author: '<b onmouseover="window.pwned = 2">作者</b>'
---

<p>恶意正文 <script>window.pwned = "body"</script> <img src="x" onerror="window.pwned = 3"> 攻击测试。</p>
<p>&lt;script&gt;window.pwned = "escaped"&lt;/script&gt; 攻击测试结束。</p>
"""


@pytest.fixture(scope="module")
def served(rsshub_corpus: Path, tmp_path_factory) -> Server:
    browser.require()
    base = tmp_path_factory.mktemp("page")
    corpus = base / "corpus"
    shutil.copytree(rsshub_corpus, corpus)
    (corpus / "hostile.md").write_text(HOSTILE, "utf-8")
    index_corpus(corpus, base / "index")
    with Server(base / "index") as server:
        yield server


@pytest.fixture(scope="module")
def driver():
    browser.require()
    with browser.chromium() as running:
        yield running


@pytest.fixture
def shoot(tmp_path: Path, driver):
    folders = [tmp_path] + ([Path(os.environ["NEWS_SEARCH_SCREENSHOTS"])] if os.environ.get("NEWS_SEARCH_SCREENSHOTS") else [])

    def take(name: str) -> None:
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
            assert driver.save_screenshot(str(folder / f"{name}.png"))

    return take


def _by(css: str):
    from selenium.webdriver.common.by import By

    return By.CSS_SELECTOR, css


def _search(driver, served: Server, words: str) -> None:
    from selenium.webdriver.common.keys import Keys

    driver.get(served.url + "/")
    box = driver.find_element(*_by("#q"))
    box.clear()
    box.send_keys(words, Keys.ENTER)
    _wait(driver, lambda d: "q=" in d.current_url)


def _wait(driver, condition, seconds: float = 20):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds).until(condition)


def test_a_reader_searches_filters_pages_and_reads(driver, served: Server, shoot) -> None:
    _search(driver, served, "手机")
    hits = driver.find_elements(*_by(".hit"))
    assert len(hits) == 10
    marks = [mark.text for mark in driver.find_elements(*_by(".hit mark"))]
    assert marks and set(marks) <= {"手机"}, marks
    assert "共 27 篇" in driver.find_element(*_by(".count")).text
    assert driver.find_elements(*_by("svg.months rect")), "the months chart is drawn"
    times = [element.text for element in driver.find_elements(*_by(".hit time"))]
    assert all(len(text) == 16 for text in times)  # China Standard Time, minutes
    shoot("1-results")

    # A level under its parent: the link filters by the path, parent first.
    row = driver.find_element(*_by(".facet-categories .facet-children .row"))
    facet = row.find_element(*_by("a.facet"))
    category, count = facet.text, int(row.find_element(*_by(".n")).text)
    path = facet.get_attribute("title")
    assert path.endswith("/" + category)
    facet.click()
    _wait(driver, lambda d: "category=" in d.current_url)
    assert parse_qs(urlparse(driver.current_url).query)["category"] == [path]
    assert f"共 {count} 篇" in driver.find_element(*_by(".count")).text  # the count the facet showed
    for hit in driver.find_elements(*_by(".hit")):
        assert path.split("/") == [link.text for link in hit.find_elements(*_by("a.category"))][: len(path.split("/"))]
    shoot("2-category")

    driver.get(served.url + "/?q=手机")
    driver.find_element(*_by("a[rel=next]")).click()
    _wait(driver, lambda d: "page=2" in d.current_url)
    assert driver.find_element(*_by(".pages .current")).text == "2"
    assert driver.find_element(*_by(".hit-list")).get_attribute("start") == "11"
    shoot("3-page-2")

    first = driver.find_element(*_by(".hit a.title"))
    title = first.text
    first.click()
    _wait(driver, lambda d: "/articles/" in d.current_url)
    assert driver.find_element(*_by("article h1")).text == title
    assert [mark.text for mark in driver.find_elements(*_by("article .text mark"))], "the searched words are marked"
    shoot("4-article")


def test_did_you_mean_is_a_link_that_searches_the_correction(driver, served: Server, shoot) -> None:
    _search(driver, served, "华为手季")
    link = driver.find_element(*_by("#did-you-mean"))
    assert link.text == "华为手机"
    shoot("5-did-you-mean")
    link.click()
    _wait(driver, lambda d: parse_qs(urlparse(d.current_url).query).get("q") == ["华为手机"])
    assert driver.find_element(*_by("#q")).get_attribute("value") == "华为手机"
    assert driver.find_elements(*_by(".hit"))


def test_a_hostile_article_runs_nothing(driver, served: Server, shoot) -> None:
    _search(driver, served, "恶意")
    assert "<script>" in driver.find_element(*_by(".hit a.title")).text  # shown as text
    driver.find_element(*_by(".hit a.title")).click()
    _wait(driver, lambda d: "/articles/" in d.current_url)
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).move_to_element(driver.find_element(*_by(".author"))).perform()
    assert "window.pwned" in driver.find_element(*_by("article .text")).text
    shoot("6-hostile")
    assert driver.execute_script("return window.pwned === undefined")
    assert not driver.find_elements(*_by("article img, .hit img"))
    logs = [entry for entry in driver.get_log("browser") if "Content Security Policy" in entry.get("message", "")]
    assert logs == [], logs  # nothing even tried to run: it was all escaped text


def test_search_as_you_type_swaps_the_results_in(driver, served: Server) -> None:
    driver.get(served.url + "/")
    driver.find_element(*_by("#q")).send_keys("特斯拉")
    _wait(driver, lambda d: "q=%E7%89%B9%E6%96%AF%E6%8B%89" in d.current_url)
    _wait(driver, lambda d: [m.text for m in d.find_elements(*_by(".hit mark"))])
    assert {mark.text for mark in driver.find_elements(*_by(".hit mark"))} <= {"特斯拉"}

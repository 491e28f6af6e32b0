"""Headless Chromium driven by Selenium, with Debian's chromium and chromedriver.

``scripts/ci-setup`` installs them (and the font Chinese needs); a test that needs a
browser skips without one, unless ``NEWS_SEARCH_REQUIRE_BROWSER`` is set, as
``.ci/run`` sets it, and then a missing browser fails it.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
REQUIRE_ENV = "NEWS_SEARCH_REQUIRE_BROWSER"


def missing() -> str | None:
    """Why no browser can run here, or ``None``."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not shutil.which(path):
            return f"{path} is not installed (scripts/ci-setup installs Debian's chromium and chromium-driver)"
    return None


def require() -> None:
    reason = missing()
    if reason is None:
        return
    if os.environ.get(REQUIRE_ENV):
        pytest.fail(f"{reason}; {REQUIRE_ENV} is set, so the browser tests must run")
    pytest.skip(reason)


def chromium(width: int = 1280, height: int = 900):
    """A headless Chromium, for a ``with`` block (it quits at the end)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="news-search-chromium-")
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", f"--user-data-dir={profile}", f"--window-size={width},{height}",
        "--lang=zh-CN",
    ):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    return _Quitting(driver, profile)


class _Quitting:
    def __init__(self, driver, profile: str) -> None:
        self.driver, self.profile = driver, profile

    def __enter__(self):
        return self.driver

    def __exit__(self, *exc_info: object) -> None:
        self.driver.quit()
        shutil.rmtree(self.profile, ignore_errors=True)

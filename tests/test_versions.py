"""news-search runs only on the Whoosh and jieba releases whose internals it relies on."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

from search.engine.whoosh_seam import WHOOSH_VERSION
from search.text.segmenter import JIEBA_VERSION

REPO = Path(__file__).resolve().parent.parent


def _pinned() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    pins = (re.fullmatch(r"([\w-]+)==([\w.]+)", requirement) for requirement in project["dependencies"])
    return {pin.group(1): pin.group(2) for pin in pins if pin}


def test_the_project_pins_the_releases_the_code_was_written_for() -> None:
    assert _pinned() == {"whoosh": ".".join(map(str, WHOOSH_VERSION)), "jieba": JIEBA_VERSION}
    assert metadata.version("whoosh") == _pinned()["whoosh"]
    assert metadata.version("jieba") == _pinned()["jieba"]


def _failure(code: str, tmp_path: Path) -> str:
    """What a new process running ``code`` prints on stderr; it must fail."""
    environment = dict(os.environ, NEWS_SEARCH_CACHE=str(tmp_path / "cache"))  # nothing compiled yet
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, cwd=REPO)
    assert done.returncode != 0
    return done.stderr.strip().splitlines()[-1]


@pytest.mark.slow
def test_another_whoosh_is_refused_with_what_to_install(tmp_path: Path) -> None:
    line = _failure("import whoosh; whoosh.__version__ = (2, 7, 5); import search.engine.whoosh_seam", tmp_path)
    assert line.startswith("search.errors.DependencyError: news-search needs Whoosh 2.7.4, not 2.7.5")
    assert "pip install whoosh==2.7.4" in line


@pytest.mark.slow
def test_another_jieba_is_refused_when_its_dictionary_is_compiled(tmp_path: Path) -> None:
    code = "import jieba; jieba.__version__ = '0.43.0'; from search.text.segmenter import Segmenter; Segmenter()"
    line = _failure(code, tmp_path)
    assert line.startswith("search.errors.DependencyError: news-search needs jieba 0.42.1, not 0.43.0")
    assert "pip install jieba==0.42.1" in line

"""Shared fixtures: the real corpora in ../shared and indexes built from them."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

# CI runs a fixed set of examples so a run is reproducible; explore new ones with
# HYPOTHESIS_PROFILE=explore (random, and many more examples).
settings.register_profile("ci", derandomize=True)
settings.register_profile("explore", derandomize=False, max_examples=5000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

REPO = Path(__file__).resolve().parent.parent

# Compiled dictionaries (search.segmenter) go to a folder of this run, shared with
# the processes tests start, not to the user's cache.
if "NEWS_SEARCH_CACHE" not in os.environ:
    os.environ["NEWS_SEARCH_CACHE"] = tempfile.mkdtemp(prefix="news-search-test-cache-")
    atexit.register(shutil.rmtree, os.environ["NEWS_SEARCH_CACHE"], True)
SHARED = Path(os.environ.get("NEWS_SEARCH_SHARED", REPO.parent / "shared"))
SAMPLE = REPO / "search" / "sample"


#: Fixtures of whole shared corpora: a test that uses one is marked ``slow``.
CORPUS_FIXTURES = frozenset({"rsshub_corpus", "huli_corpus", "cctv_corpus", "story_corpus", "first_stories"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Corpus-wide tests are ``slow``, as multi-process tests are marked by hand:
    ``pytest -m "not slow"`` runs the rest in seconds while working."""
    for item in items:
        if CORPUS_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


def _shared(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"shared test data missing: {path} (set NEWS_SEARCH_SHARED to the shared/ folder)")
    return path


@pytest.fixture(scope="session")
def rsshub_corpus() -> Path:
    """Hexo posts with HTML bodies: the exact target format."""
    return _shared("corpora", "rsshub-page-hexo-html")


@pytest.fixture(scope="session")
def huli_corpus() -> Path:
    """Traditional-Chinese tech blog, Hexo front matter with Markdown bodies."""
    return _shared("corpora", "huli-blog-zhtw-hexo-markdown")


@pytest.fixture(scope="session")
def cctv_corpus() -> Path:
    """Daily CCTV transcripts in Markdown, no front matter."""
    return _shared("corpora", "xinwenlianbo-cctv-news-markdown")


@pytest.fixture(scope="session")
def story_corpus(tmp_path_factory: pytest.TempPathFactory, cctv_corpus: Path) -> Path:
    """One seed-format article per CCTV story (the first 1,500), made by the shared script."""
    out = tmp_path_factory.mktemp("stories")
    script = _shared("scripts", "make-story-corpus")
    subprocess.run(
        [sys.executable, str(script), str(cctv_corpus / "news"), str(out), "--limit", "1500"],
        check=True,
        capture_output=True,
    )
    return out


@pytest.fixture(scope="session")
def first_stories(story_corpus: Path, tmp_path_factory: pytest.TempPathFactory):
    """``first_stories(count, name)``: a new folder holding a copy of the first ``count``
    stories of :func:`story_corpus`, free to change or to index."""

    def copy(count: int, name: str) -> Path:
        folder = tmp_path_factory.mktemp(name)
        for source in sorted(story_corpus.rglob("*.md"))[:count]:
            target = folder / source.relative_to(story_corpus)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        return folder

    return copy


@pytest.fixture
def sample_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled sample corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(SAMPLE, target)
    return target


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the bundled sample corpus (read-only: do not update it in tests)."""
    from search import index_corpus

    location = tmp_path_factory.mktemp("sample-index")
    report = index_corpus(SAMPLE, location)
    assert report.added == 30 and not report.skipped
    return location


@pytest.fixture
def built(sample_copy: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A fresh index of a writable copy of the sample: (corpus, index)."""
    from search import index_corpus

    location = tmp_path / "index"
    report = index_corpus(sample_copy, location)
    assert report.added == 30 and not report.skipped
    return sample_copy, location


@pytest.fixture
def read_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Paths whose bytes the indexer read, in order."""
    calls: list[str] = []
    from search import build_apply as build_module

    original = build_module.read_source

    def counting(source):
        calls.append(source.path)
        return original(source)

    monkeypatch.setattr(build_module, "read_source", counting)
    return calls

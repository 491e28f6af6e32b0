"""A rebuild shared between worker processes gives the index one process would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from search import index_corpus, open_index
from search.build_workers import split_by_size
from search.ingest.corpus import SourceFile

pytestmark = pytest.mark.slow  # worker processes, on hundreds of stories

REPO = Path(__file__).resolve().parent.parent
QUERIES = ["中国", "习近平 会见", '"国务院常务会议"', "经济 发展", "联播快讯", "苏超联赛", "title:会议"]


@pytest.fixture(scope="module")
def corpus(first_stories) -> Path:
    """600 stories, one file that cannot be parsed, and one word only a user dictionary keeps whole."""
    folder = first_stories(600, "parallel-corpus")
    (folder / "broken.md").write_bytes(b"\x00binary")
    (folder / "user.md").write_text("---\ntitle: 苏超联赛开幕\ndate: 2022-10-01\n---\n<p>苏超联赛今天开幕。</p>\n", "utf-8")
    return folder


@pytest.fixture(scope="module")
def user_words(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("words") / "words.txt"
    path.write_text("苏超联赛 100000\n", "utf-8")
    return path


def _results(location: Path) -> list[tuple[int, list[str], list[float]]]:
    with open_index(location) as index:
        found = []
        for query in QUERIES:
            result = index.search(query, limit=20, suggest=False, exact_total=True)  # a pruned count depends on the segments
            found.append((result.total, [hit.path for hit in result.hits], [round(hit.score, 6) for hit in result.hits]))
        return found


def test_workers_build_the_index_one_process_builds(corpus, user_words, tmp_path):
    ticks: list[tuple[int, int]] = []
    alone = index_corpus(corpus, tmp_path / "alone", rebuild=True, workers=1, user_dict=user_words)
    shared = index_corpus(
        corpus, tmp_path / "shared", rebuild=True, workers=2, user_dict=user_words, progress=lambda *tick: ticks.append(tick)
    )
    assert shared.added == alone.added == 601 and shared.documents == 601
    assert [s.path for s in shared.skipped] == [s.path for s in alone.skipped] == ["broken.md"]
    assert ticks[-1] == (602, 602) and len(ticks) > 2
    with open_index(tmp_path / "shared") as index:
        assert len(index._searcher.subsearchers) == 2  # one segment per worker
        # The workers segmented with the index's user dictionary.
        assert index.search("苏超联赛").hits[0].path == "user.md"
        assert "<mark>苏超联赛</mark>" in index.search("苏超联赛").hits[0].title_html
    assert _results(tmp_path / "shared") == _results(tmp_path / "alone")


def test_an_update_after_a_parallel_rebuild_sees_every_file(corpus, tmp_path):
    location = tmp_path / "index"
    index_corpus(corpus, location, rebuild=True, workers=2)
    again = index_corpus(corpus, location)
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, 601)


def test_parts_keep_the_order_and_share_the_bytes():
    sources = [SourceFile(f"{n:03}.md", ".", size, 0) for n, size in enumerate([10] * 30 + [100] * 3)]
    parts = list(split_by_size(sources, 2))
    assert [source for part in parts for source in part] == sources
    assert len(parts) == 2 and abs(sum(s.size for s in parts[0]) - sum(s.size for s in parts[1])) <= 100


def test_workers_must_be_positive(corpus, tmp_path):
    from search import UsageError

    with pytest.raises(UsageError, match="workers"):
        index_corpus(corpus, tmp_path / "index", rebuild=True, workers=0)


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(child) for child in found]


def test_a_killed_worker_fails_the_rebuild_and_the_live_index_stays(corpus, tmp_path):
    location = tmp_path / "index"
    index_corpus(corpus, location, workers=1)
    before = _results(location)
    (corpus / "late.md").write_text("---\ntitle: 后来的文章\n---\n<p>后来</p>\n", "utf-8")
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", "from search.cli import main; main()"]
            + ["index", str(corpus), "--index", str(location), "--rebuild", "--workers", "2"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        deadline = time.monotonic() + 60
        workers: list[int] = []
        while time.monotonic() < deadline and not workers:
            workers = [
                child
                for child in _children(process.pid)
                if "worker_main" in Path(f"/proc/{child}/cmdline").read_bytes().decode(errors="replace")
            ]
            time.sleep(0.05)
        assert workers, "no worker process started"
        time.sleep(0.5)  # let it index a little
        os.kill(workers[0], signal.SIGKILL)
        _, stderr = process.communicate(timeout=120)
    finally:
        (corpus / "late.md").unlink()
    assert process.returncode == 1
    assert "worker process failed" in stderr and "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert _results(location) == before
    # The next run clears what the failed one left and builds.
    report = index_corpus(corpus, location, rebuild=True, workers=2)
    assert report.documents == 601


def test_a_script_without_a_main_guard_can_rebuild_in_parallel(corpus, tmp_path):
    """Workers never run the caller's script again (multiprocessing's spawn would)."""
    script = tmp_path / "rebuild.py"
    script.write_text(
        "from search import index_corpus\n"
        f"report = index_corpus({str(corpus)!r}, {str(tmp_path / 'index')!r}, rebuild=True, workers=2)\n"
        "print(report.workers, report.documents)\n",
        "utf-8",
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2", "601"]


def test_a_cold_dictionary_cache_is_compiled_outside_the_building_process(corpus, user_words, tmp_path):
    """A new install compiles jieba's dictionary once, in a process of its own: the
    process gathering the workers' segments never holds jieba's 100 MB."""
    script = (
        "import sys; from search import index_corpus; from search.text.words import segmenter_for\n"
        f"report = index_corpus({str(corpus)!r}, {str(tmp_path / 'index')!r}, rebuild=True, workers=2, user_dict={str(user_words)!r})\n"
        "print(report.workers, report.documents, 'jieba' in sys.modules, segmenter_for.cache_info().currsize)\n"
    )
    cache = tmp_path / "cache"
    environment = dict(os.environ, NEWS_SEARCH_CACHE=str(cache))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, env=environment, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2", "601", "False", "0"]
    assert len(list(cache.glob("jieba-*/words.marisa"))) == 1
    assert len(list(cache.glob("jieba-*/user/*.marshal"))) == 1
    with open_index(tmp_path / "index") as index:
        assert index.search("苏超联赛").hits[0].path == "user.md"


def test_source_files_keep_every_entry_compactly(tmp_path):
    """The walk's entries come back as they went in, through a worker's job file too,
    in a fifth of the memory of a list of tuples."""
    import pickle
    import tracemalloc

    from search.ingest.corpus import SourceFiles

    entries = [SourceFile(f"{year}/{n:05}-新闻.md", str(tmp_path), 1000 + n, 1_700_000_000_000_000_000 + n) for year in (2024, 2025) for n in range(5000)]
    tracemalloc.start()
    held = SourceFiles.of(iter(entries))
    compact, _ = tracemalloc.get_traced_memory()
    as_tuples = [SourceFile(*entry) for entry in held]
    both, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert as_tuples == entries and list(pickle.loads(pickle.dumps(held))) == entries and len(held) == 10_000
    assert compact * 5 < both - compact
    with pytest.raises(ValueError, match="under"):
        held.append(SourceFile("x.md", "/elsewhere", 1, 1))

"""Nothing is lost by mistake: updates that would wipe an index, interrupted builds,
empty indexes, files that are not articles, and setup mistakes that need a clear word."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clirun import assert_one_line_error, cli

from search import UsageError, check_index, index_corpus, open_index
from search.build import FEW_REMOVALS
from search.storage import IndexDir

REPO = Path(__file__).resolve().parent.parent


def _documents(location: Path) -> int:
    with open_index(location) as index:
        return len(index)


# --------------------------------------------------------------------------- updates that would wipe an index


def test_an_update_from_another_folder_is_refused_naming_the_recorded_one(built, tmp_path: Path, capsys) -> None:
    corpus, location = built
    other = tmp_path / "other"
    shutil.copytree(corpus / "体育", other / "体育")
    code, _, err = cli(capsys, "index", other, "--index", location)
    line = assert_one_line_error(err)
    assert code == 2 and str(corpus.resolve()) in line and "--rebuild" in line
    assert _documents(location) == 30
    code, out, _ = cli(capsys, "index", other, "--index", location, "--rebuild")
    assert code == 0 and _documents(location) == 3


def test_an_update_from_an_empty_folder_is_refused_and_allow_removals_lets_it(built, tmp_path: Path, capsys) -> None:
    corpus, location = built
    shutil.rmtree(corpus)
    corpus.mkdir()  # the recorded folder, now empty: an unmounted disk
    code, _, err = cli(capsys, "index", corpus, "--index", location)
    line = assert_one_line_error(err)
    assert code == 2 and "remove 30 of the 30 documents" in line and "--allow-removals" in line
    assert _documents(location) == 30
    code, out, _ = cli(capsys, "index", corpus, "--index", location, "--allow-removals")
    assert code == 0 and "30 removed" in out and "0 documents" in out
    assert _documents(location) == 0


def test_an_update_removing_most_documents_is_refused_but_a_few_pass(built) -> None:
    corpus, location = built
    articles = sorted(corpus.rglob("*.md"))
    for path in articles[: FEW_REMOVALS - 1]:  # a few: fine
        path.unlink()
    assert index_corpus(corpus, location).removed == FEW_REMOVALS - 1
    for path in articles[FEW_REMOVALS - 1 : 26]:  # 17 of the 21 left: more than half
        path.unlink()
    with pytest.raises(UsageError, match="remove 17 of the 21 documents"):
        index_corpus(corpus, location)
    assert _documents(location) == 21
    assert index_corpus(corpus, location, allow_removals=True).removed == 17


def test_a_rebuild_from_an_empty_folder_is_refused_over_an_index_with_documents(built, tmp_path: Path) -> None:
    _, location = built
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UsageError, match="has no files to index, so a rebuild would empty index"):
        index_corpus(empty, location, rebuild=True)
    assert _documents(location) == 30
    assert index_corpus(empty, location, rebuild=True, allow_removals=True).documents == 0


def test_an_empty_folder_or_globs_matching_nothing_say_so(tmp_path: Path, capsys) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out, err = cli(capsys, "index", empty, "--index", tmp_path / "index")
    assert code == 0 and "0 documents" in out
    assert f"note: no file in {empty} matches **/*.md" in err
    report = index_corpus(REPO / "search" / "sample", tmp_path / "other", include=["**/*.json"])
    assert report.documents == 0 and any("matches **/*.json" in note for note in report.notes)


# --------------------------------------------------------------------------- an empty index is healthy


def test_check_of_an_empty_index_reads_back(tmp_path: Path, capsys) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    index_corpus(empty, tmp_path / "index")
    report = check_index(tmp_path / "index")
    assert report.ok and report.documents == 0 and report.corpus == empty.resolve()
    code, out, _ = cli(capsys, "check", "--index", tmp_path / "index")
    assert code == 0 and "0 documents" in out and "matches" in out


# --------------------------------------------------------------------------- files that are not articles


def test_readme_source_license_and_changelog_are_not_articles(sample_copy: Path, tmp_path: Path) -> None:
    (sample_copy / "README.md").write_text("# 样例语料\n\n这些文章是为测试写的。\n", "utf-8")
    (sample_copy / "SOURCE.md").write_text("来源：自己写的。\n", "utf-8")
    (sample_copy / "社会" / "CHANGELOG.md").write_text("## 1.0\n\n第一版。\n", "utf-8")
    (sample_copy / "readme.html").write_text("<h1>说明</h1><p>不是新闻。</p>", "utf-8")
    (sample_copy / "LICENSE.md").write_text("---\ntitle: 一篇名叫许可的文章\n---\n\n有前言的就是文章。\n", "utf-8")
    report = index_corpus(sample_copy, tmp_path / "index")
    skipped = {item.path: item.reason for item in report.skipped}
    assert set(skipped) == {"README.md", "SOURCE.md", "社会/CHANGELOG.md", "readme.html"}
    assert all(reason.startswith("not an article:") and "front matter" in reason for reason in skipped.values())
    assert report.documents == 31  # LICENSE.md has front matter: an article
    assert {item.path for item in check_index(tmp_path / "index").unindexable} == set(skipped)
    # Globs of one's own bring them in.
    again = index_corpus(sample_copy, tmp_path / "all", include=["**/*.md"])
    assert not again.skipped and again.documents == 34


# --------------------------------------------------------------------------- setup mistakes


def test_a_file_given_as_the_corpus_says_a_folder_is_expected(sample_copy: Path, tmp_path: Path, capsys) -> None:
    article = next(sample_copy.rglob("*.md"))
    code, _, err = cli(capsys, "index", article, "--index", tmp_path / "index")
    assert code == 2 and assert_one_line_error(err).endswith(f"{article} is a file: give the folder that holds the articles")
    code, _, err = cli(capsys, "index", tmp_path / "nowhere", "--index", tmp_path / "index")
    assert code == 2 and "corpus folder not found" in assert_one_line_error(err)


def test_a_file_given_as_the_index_says_a_folder_is_expected(sample_copy: Path, tmp_path: Path, capsys) -> None:
    afile = tmp_path / "afile"
    afile.write_text("not an index", "utf-8")
    for args in (["index", sample_copy], ["search", "马拉松"], ["stats"]):
        code, _, err = cli(capsys, *args, "--index", afile)
        assert code == 2 and f"{afile} is a file, not an index folder" in assert_one_line_error(err)
    assert afile.read_text("utf-8") == "not an index"


def test_an_index_folder_that_cannot_be_written_is_named_as_such(built, capsys, monkeypatch) -> None:
    corpus, location = built
    real_open = open

    def read_only(path, mode="r", *args, **kwargs):
        if str(path).endswith("LOCK") and "a" in mode:
            raise OSError(30, "Read-only file system", str(path))
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", read_only)
    code, _, err = cli(capsys, "index", corpus, "--index", location)
    line = assert_one_line_error(err)
    assert code == 2 and f"cannot write to the index folder {location.resolve()} (read-only file system)" in line


def test_messages_give_the_absolute_index_path_and_count_in_the_singular(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(capsys, "search", "马拉松", "--index", "index")
    assert code == 3 and f"no index at {tmp_path / 'index'}:" in assert_one_line_error(err)
    corpus = tmp_path / "one"
    corpus.mkdir()
    (corpus / "a.md").write_text("---\ntitle: 一篇\n---\n\n正文。\n", "utf-8")
    code, out, _ = cli(capsys, "index", corpus, "--index", "index")
    assert code == 0 and out.rstrip().endswith("; 1 document")


# --------------------------------------------------------------------------- interrupted runs


def _interrupt(args: list[str], wait_for, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Start the command line, press Ctrl-C once ``wait_for()`` holds (SIGINT to its
    whole process group, as a terminal sends it), and wait for it."""
    process = subprocess.Popen(
        [sys.executable, "-c", "from search.cli import main; main()", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
        start_new_session=True,
        # Ctrl-C as a terminal gives it, though the suite runs as a background job (which ignores SIGINT).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 60
    while not wait_for() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert process.poll() is None, "the run finished before it could be interrupted"
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


@pytest.mark.slow
def test_ctrl_c_during_a_parallel_rebuild_leaves_the_live_index_and_no_temporary_files(first_stories, tmp_path: Path) -> None:
    corpus = first_stories(1200, "interrupted-parallel")
    location = tmp_path / "index"
    index_corpus(REPO / "search" / "sample", location)
    live = IndexDir(location).current()
    env = dict(os.environ, NEWS_SEARCH_INDEX=str(location))

    def workers_running() -> bool:
        return any(location.glob("gen-*/build-part-*.pickle"))

    done = _interrupt(["index", str(corpus), "--rebuild", "--workers", "2", "--allow-removals"], workers_running, env)
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "news-search: error: interrupted"
    assert "Traceback" not in done.stderr and "FileNotFoundError" not in done.stderr
    assert IndexDir(location).current() == live and _documents(location) == 30
    assert sorted(entry.name for entry in location.iterdir()) == ["CURRENT", "LOCK", live.name]
    assert not list(live.glob("*.tmp")) and not list(live.glob("build-part-*"))


@pytest.mark.slow
def test_ctrl_c_during_an_update_says_interrupted_and_keeps_the_index(first_stories, tmp_path: Path) -> None:
    corpus = first_stories(600, "interrupted-update")
    location = tmp_path / "index"
    index_corpus(corpus, location, workers=1)
    for story in sorted(corpus.rglob("*.md")):  # every story changed: a long update
        story.write_text(story.read_text("utf-8") + "\n补充一句。\n", "utf-8")
    env = dict(os.environ, NEWS_SEARCH_INDEX=str(location))
    report_before = json.loads((IndexDir(location).current() / "news-search.json").read_text("utf-8"))

    def started() -> bool:
        return (location / "LOCK").exists() and bool((location / "LOCK").read_text("utf-8").strip())

    done = _interrupt(["index", str(corpus)], started, env)
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "news-search: error: interrupted"
    assert _documents(location) == 600
    after = json.loads((IndexDir(location).current() / "news-search.json").read_text("utf-8"))
    assert after["updated"] == report_before["updated"]  # nothing committed

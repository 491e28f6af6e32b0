"""Building and updating an index: files added, changed, deleted, malformed; versions, locks, damage."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sample_oracle import ORACLE, all_paths, article, paths, write

from search import (
    IndexCorruptError,
    IndexLockedError,
    IndexNotFoundError,
    IndexVersionError,
    index_corpus,
    open_index,
)
from search.ingest.corpus import walk
from search.schema import SCHEMA_VERSION
from search.storage import IndexDir
from search.text import ANALYSIS_VERSION


def test_first_build_indexes_every_sample_article_with_its_fields(sample_copy: Path, tmp_path: Path) -> None:
    progress: list[tuple[int, int]] = []
    report = index_corpus(sample_copy, tmp_path / "index", progress=lambda done, total: progress.append((done, total)))
    assert report.rebuilt is True
    assert (report.added, report.updated, report.removed, report.unchanged) == (30, 0, 0, 0)
    assert report.skipped == [] and report.documents == 30
    assert progress[-1] == (30, 30)
    with open_index(tmp_path / "index") as index:
        assert len(index) == 30
        for path, expected in ORACLE.items():
            document = index.document(path)
            assert document.title == expected["title"], path
            assert document.categories == expected["categories"], path
            assert document.author == expected["author"], path
            assert document.date == expected["date"], path
            assert document.text and "<" not in document.text, path


def test_update_without_changes_opens_no_file(built, read_calls) -> None:
    corpus, location = built
    report = index_corpus(corpus, location)
    assert report.rebuilt is False
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 0, 30)
    assert read_calls == []
    assert report.documents == 30


def test_update_tells_progress_of_files_read_and_of_unchanged_ones_in_batches(built, monkeypatch) -> None:
    # A call per unchanged file cost an update of 160,000 files 0.6 s under the CLI's bar.
    corpus, location = built
    monkeypatch.setattr("search.build_apply.PROGRESS_EVERY", 10)
    (IndexDir(location).current() / "folders.marshal").unlink()  # every file compared, none skipped by its folder
    changed = corpus / "健康" / "流感季提醒接种疫苗.md"
    changed.write_text(changed.read_text("utf-8") + "\n补充。\n", "utf-8")
    ticks: list[tuple[int, int]] = []
    index_corpus(corpus, location, progress=lambda done, total: ticks.append((done, total)))
    order = [source.path for source in walk(corpus)]
    read_at = order.index("健康/流感季提醒接种疫苗.md") + 1
    assert ticks == sorted({(done, 30) for done in (10, 20, 30, read_at)})


def test_update_applies_added_changed_and_deleted_files(built, read_calls) -> None:
    corpus, location = built
    write(corpus / "新增" / "熊猫.md", article("大熊猫幼崽首次亮相", "动物园的大熊猫幼崽今天首次与游客见面。"))
    changed = corpus / "健康" / "流感季提醒接种疫苗.md"
    changed.write_text(changed.read_text("utf-8").replace("疫苗", "鸭嘴兽"), "utf-8")
    deleted = corpus / "国际" / "北极海冰观测报告发布.md"
    deleted.unlink()

    report = index_corpus(corpus, location)

    assert (report.added, report.updated, report.removed, report.unchanged) == (1, 1, 1, 28)
    assert report.rebuilt is False and report.documents == 30 and report.skipped == []
    assert sorted(read_calls) == sorted(["新增/熊猫.md", "健康/流感季提醒接种疫苗.md"])
    with open_index(location) as index:
        assert paths(index.search("熊猫")) == ["新增/熊猫.md"]
        assert paths(index.search("鸭嘴兽")) == ["健康/流感季提醒接种疫苗.md"]
        assert "健康/流感季提醒接种疫苗.md" not in all_paths(index, "疫苗")
        assert index.document("健康/流感季提醒接种疫苗.md").title == ORACLE["健康/流感季提醒接种疫苗.md"]["title"].replace("疫苗", "鸭嘴兽")
        assert index.search("海冰").total == 0
        with pytest.raises(KeyError):
            index.document("国际/北极海冰观测报告发布.md")
        assert len(index) == 30


def test_after_an_update_the_files_of_a_segment_with_deletions_are_known_unchanged(built, read_calls) -> None:
    """What the index holds of each file is read past the documents an update deleted."""
    corpus, location = built
    changed = corpus / "健康" / "流感季提醒接种疫苗.md"
    changed.write_text(changed.read_text("utf-8").replace("疫苗", "鸭嘴兽"), "utf-8")
    assert index_corpus(corpus, location).updated == 1
    with open_index(location) as index:
        assert any(segment.has_deletions() for segment, _ in index._searcher.reader().leaf_readers())
    read_calls.clear()
    again = index_corpus(corpus, location)
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, 30) and read_calls == []


def test_touched_file_with_same_content_is_unchanged(built, read_calls) -> None:
    corpus, location = built
    touched = corpus / "体育" / "夜间游泳场馆一票难求.md"
    later = touched.stat().st_mtime_ns + 5_000_000_000
    os.utime(touched, ns=(later, later))

    report = index_corpus(corpus, location)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 0, 30)
    assert read_calls == ["体育/夜间游泳场馆一票难求.md"]  # hashed, never parsed nor re-tokenized
    again = index_corpus(corpus, location)
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, 30)
    with open_index(location) as index:
        assert "体育/夜间游泳场馆一票难求.md" in all_paths(index, "游泳")


def test_rebuild_switches_generation_and_an_open_index_keeps_searching(built) -> None:
    corpus, location = built
    old = IndexDir(location).current()
    assert old is not None
    before = open_index(location)
    try:
        expected = paths(before.search("马拉松"))
        report = index_corpus(corpus, location, rebuild=True)
        assert report.rebuilt is True and report.added == 30 and report.documents == 30
        new = IndexDir(location).current()
        assert new is not None and new != old
        assert not old.exists()
        assert sorted(p.name for p in location.iterdir() if p.name.startswith("gen-")) == [new.name]
        # the index opened before the rebuild still answers
        result = before.search("马拉松")
        assert paths(result) == expected and all("<mark>" in hit.snippet for hit in result.hits)
        assert before.document("体育/城市马拉松三万跑者参赛.md").title == ORACLE["体育/城市马拉松三万跑者参赛.md"]["title"]
        assert before.search("", limit=100).total == 30
    finally:
        before.close()
    with open_index(location) as after:
        assert paths(after.search("马拉松")) == expected


def test_stats_of_an_index_opened_before_a_rebuild(built) -> None:
    """A long-lived Index must survive a rebuild for stats() too, not only search()."""
    corpus, location = built
    with open_index(location) as before:
        index_corpus(corpus, location, rebuild=True)
        assert before.stats().documents == 30


def test_malformed_files_are_skipped_with_path_and_reason(sample_copy: Path, tmp_path: Path) -> None:
    write(sample_copy / "坏" / "未闭合.md", "---\ntitle: 没有结束的头\ncategories: [x]\n\n<p>正文</p>\n")
    write(sample_copy / "坏" / "空白.md", "  \n\n")
    (sample_copy / "坏" / "二进制.md").write_bytes(b"\x00\x01\x02binary\x00" * 20)
    write(sample_copy / "好" / "国标编码.md", article("国标编码的文章", "这篇文章用国标编码保存，熊猫馆今天开放。"), "gb18030")

    report = index_corpus(sample_copy, tmp_path / "index")

    reasons = {skipped.path: skipped.reason for skipped in report.skipped}
    assert set(reasons) == {"坏/未闭合.md", "坏/空白.md", "坏/二进制.md"}
    assert "front matter" in reasons["坏/未闭合.md"]
    assert "empty" in reasons["坏/空白.md"]
    assert "binary" in reasons["坏/二进制.md"]
    assert report.added == 31 and report.documents == 31
    with open_index(tmp_path / "index") as index:
        assert paths(index.search("熊猫馆")) == ["好/国标编码.md"]
        assert index.document("好/国标编码.md").title == "国标编码的文章"
        for path in reasons:
            with pytest.raises(KeyError):
                index.document(path)


def test_file_that_becomes_malformed_is_removed_and_reported(built) -> None:
    corpus, location = built
    victim = corpus / "国际" / "北极海冰观测报告发布.md"
    original = victim.read_bytes()
    victim.write_text("---\ntitle: 写了一半\n", "utf-8")

    report = index_corpus(corpus, location)
    assert report.removed == 1 and report.added == 0 and report.updated == 0 and report.unchanged == 29
    assert [(s.path, bool(s.reason)) for s in report.skipped] == [("国际/北极海冰观测报告发布.md", True)]
    assert report.documents == 29
    with open_index(location) as index:
        assert index.search("海冰").total == 0
        with pytest.raises(KeyError):
            index.document("国际/北极海冰观测报告发布.md")

    victim.write_bytes(original)  # repaired: comes back
    report = index_corpus(corpus, location)
    assert report.added == 1 and report.documents == 30 and report.skipped == []


def test_index_records_schema_and_analysis_versions(sample_index: Path) -> None:
    generation = IndexDir(sample_index).current()
    meta = json.loads((generation / "news-search.json").read_text("utf-8"))
    assert meta["schema_version"] == SCHEMA_VERSION
    assert meta["analysis"]["analysis_version"] == ANALYSIS_VERSION
    assert meta["documents"] == 30
    with open_index(sample_index) as index:
        settings = index.stats().settings
    assert settings["schema_version"] == SCHEMA_VERSION
    assert settings["analysis"]["analysis_version"] == ANALYSIS_VERSION


@pytest.mark.parametrize("key", ["schema_version", "analysis_version"])
def test_incompatible_index_version_must_be_rebuilt(built, key: str) -> None:
    corpus, location = built
    meta_file = IndexDir(location).current() / "news-search.json"
    meta = json.loads(meta_file.read_text("utf-8"))
    if key == "schema_version":
        meta["schema_version"] = SCHEMA_VERSION + 1
    else:
        meta["analysis"]["analysis_version"] = ANALYSIS_VERSION + 1
    meta_file.write_text(json.dumps(meta), "utf-8")

    with pytest.raises(IndexVersionError) as error:
        open_index(location)
    assert "--rebuild" in str(error.value)
    with pytest.raises(IndexVersionError):
        index_corpus(corpus, location)  # an update would mix versions: refused too
    report = index_corpus(corpus, location, rebuild=True)
    assert report.rebuilt and report.documents == 30
    with open_index(location) as index:
        assert len(index) == 30


def test_an_index_of_an_empty_corpus_answers_every_kind_of_search(tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    assert index_corpus(tmp_path / "corpus", tmp_path / "index").documents == 0
    with open_index(tmp_path / "index") as index:
        for options in ({}, {"since": "2022-10-01"}, {"until": "2022-10-01", "category": "国内"}, {"sort": "date", "facets": True}):
            assert index.search("中国", **options).total == 0, options
        assert index.search("").hits == []


def test_missing_index_raises_index_not_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(IndexNotFoundError) as error:
        open_index(tmp_path / "nowhere")
    assert "news-search index" in str(error.value)
    assert not (tmp_path / "nowhere").exists()
    (tmp_path / "empty").mkdir()
    with pytest.raises(IndexNotFoundError):
        open_index(tmp_path / "empty")
    monkeypatch.setenv("NEWS_SEARCH_INDEX", str(tmp_path / "from-env"))
    with pytest.raises(IndexNotFoundError) as error:
        open_index()
    assert "from-env" in str(error.value)


def test_damaged_index_raises_index_corrupt(built) -> None:
    _, location = built
    for toc in IndexDir(location).current().glob("*.toc"):
        toc.unlink()
    with pytest.raises(IndexCorruptError) as error:
        open_index(location)
    assert "--rebuild" in str(error.value)


def test_second_writer_in_process_gets_index_locked_quickly(built) -> None:
    corpus, location = built
    with IndexDir(location).lock():
        started = time.monotonic()
        with pytest.raises(IndexLockedError) as error:
            index_corpus(corpus, location, lock_timeout=0.3)
        assert time.monotonic() - started < 3
    assert str(os.getpid()) in str(error.value)  # the message names the writer holding the lock
    assert index_corpus(corpus, location).unchanged == 30  # released: works again


@pytest.mark.slow
def test_second_writer_while_another_process_holds_the_lock(built) -> None:
    corpus, location = built
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\nfrom search.storage import IndexDir\n"
         "with IndexDir(sys.argv[1]).lock():\n    print('locked', flush=True)\n    time.sleep(60)\n",
         str(location)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with pytest.raises(IndexLockedError) as error:
            index_corpus(corpus, location, lock_timeout=0.3)
        assert time.monotonic() - started < 3
        assert str(holder.pid) in str(error.value)
    finally:
        holder.kill()
        holder.wait()
    assert index_corpus(corpus, location, lock_timeout=5).unchanged == 30


def _held(location: Path) -> dict:
    """Path → (size, mtime, hash) of every file the index holds."""
    from search.build_apply import indexed_files
    from search.storage import open_whoosh

    ix = open_whoosh(IndexDir(location).current())
    try:
        return indexed_files(ix)
    finally:
        ix.close()


def _fifo(path: Path) -> None:
    os.mkfifo(path)


# Each: what changes in the corpus, and the paths a watcher would name (under the corpus).
_TOLD_CHANGES = {
    "changed": (lambda c: (c / "健康/流感季提醒接种疫苗.md").write_text(article("流感季", "鸭嘴兽。"), "utf-8"), ["健康/流感季提醒接种疫苗.md"]),
    "added": (lambda c: write(c / "健康/熊猫.md", article("大熊猫", "幼崽亮相。")), ["健康/熊猫.md"]),
    "deleted": (lambda c: (c / "国际/北极海冰观测报告发布.md").unlink(), ["国际/北极海冰观测报告发布.md"]),
    "renamed": (lambda c: (c / "文化/博物馆青铜器特展.md").rename(c / "文化/青铜器.md"), ["文化/博物馆青铜器特展.md", "文化/青铜器.md"]),
    "hidden and not an article": (lambda c: (write(c / "健康/.草稿.md", article("草稿", "未完。")), write(c / "健康/笔记.txt", "笔记")), ["健康/.草稿.md", "健康/笔记.txt"]),
    "in a hidden folder": (lambda c: write(c / ".草稿箱/稿.md", article("草稿", "未完。")), [".草稿箱/稿.md"]),
    "not a regular file": (lambda c: _fifo(c / "健康/管道.md"), ["健康/管道.md"]),
    "a folder added": (lambda c: write(c / "新增/熊猫.md", article("大熊猫", "幼崽亮相。")), ["新增", "新增/熊猫.md"]),
    "a folder moved away": (lambda c: (c / "博客").rename(c.parent / "博客"), ["博客"]),
    "outside the corpus": (lambda c: write(c.parent / "别处.md", article("别处", "正文。")), ["../别处.md"]),
}
_WALKED = {"a folder added", "a folder moved away", "outside the corpus"}
_NOTHING_TO_APPLY = {"hidden and not an article", "in a hidden folder", "outside the corpus"}


@pytest.mark.parametrize("case", list(_TOLD_CHANGES))
def test_an_update_told_what_changed_leaves_the_index_a_walk_would(case, sample_copy: Path, tmp_path: Path, monkeypatch) -> None:
    told_index, walked_index = tmp_path / "told", tmp_path / "walked"
    index_corpus(sample_copy, told_index)
    index_corpus(sample_copy, walked_index)
    change, told = _TOLD_CHANGES[case]
    change(sample_copy)
    import search.build

    walks: list[str] = []
    walk_folders = search.build.walk_folders
    monkeypatch.setattr(search.build, "walk_folders", lambda *args: walks.append("walk") or walk_folders(*args))
    by_telling = index_corpus(sample_copy, told_index, changed=[sample_copy / path for path in told])
    assert bool(walks) == (case in _WALKED)
    by_walking = index_corpus(sample_copy, walked_index)
    assert _held(told_index) == _held(walked_index)
    assert (by_telling.added, by_telling.updated, by_telling.removed) == (by_walking.added, by_walking.updated, by_walking.removed)
    assert by_telling.skipped == by_walking.skipped and by_telling.documents == by_walking.documents
    assert (by_walking.added + by_walking.updated + by_walking.removed + len(by_walking.skipped) > 0) == (case not in _NOTHING_TO_APPLY)


def test_an_update_told_what_changed_walks_a_corpus_with_symlinked_folders(sample_copy: Path, tmp_path: Path, monkeypatch) -> None:
    """A walk follows a symlinked folder once, by the first path that reaches it: a
    path told cannot say whether the walk would take it."""
    (sample_copy / "0链接").symlink_to(sample_copy / "社会", target_is_directory=True)
    index_corpus(sample_copy, tmp_path / "index")
    import search.build

    walks: list[str] = []
    walk_folders = search.build.walk_folders
    monkeypatch.setattr(search.build, "walk_folders", lambda *args: walks.append("walk") or walk_folders(*args))
    write(sample_copy / "社会/新闻.md", article("新闻", "正文。"))
    report = index_corpus(sample_copy, tmp_path / "index", changed=["社会/新闻.md"])
    assert walks and report.added == 1
    assert "0链接/新闻.md" in _held(tmp_path / "index")  # the path the walk reaches it by


def test_an_update_told_of_most_files_gone_is_refused_as_a_walk_would_be(built) -> None:
    corpus, location = built
    gone = sorted(path.relative_to(corpus).as_posix() for path in corpus.rglob("*.md"))[:20]
    for path in gone:
        (corpus / path).unlink()
    with pytest.raises(Exception, match="would remove 20 of the 30 documents"):
        index_corpus(corpus, location, changed=gone)
    assert len(_held(location)) == 30


@pytest.mark.parametrize("case", [case for case in _TOLD_CHANGES if case != "outside the corpus"] + ["touched"])
def test_an_update_compares_only_the_folders_whose_listing_changed_and_ends_as_one_comparing_all(case, sample_copy: Path, tmp_path: Path, monkeypatch) -> None:
    by_folder, comparing_all = tmp_path / "by-folder", tmp_path / "all"
    index_corpus(sample_copy, by_folder)
    index_corpus(sample_copy, comparing_all)
    if case == "touched":
        later = time.time_ns() + 5_000_000_000
        os.utime(sample_copy / "体育" / "夜间游泳场馆一票难求.md", ns=(later, later))
    else:
        _TOLD_CHANGES[case][0](sample_copy)
    (IndexDir(comparing_all).current() / "folders.marshal").unlink()
    import search.build

    read_whole: list[int] = []
    indexed_files = search.build.indexed_files
    monkeypatch.setattr(search.build, "indexed_files", lambda ix: read_whole.append(1) or indexed_files(ix))
    by_folders = index_corpus(sample_copy, by_folder)
    assert not read_whole  # what the index holds was looked up for the changed folders' files only
    everything = index_corpus(sample_copy, comparing_all)
    assert read_whole
    assert _held(by_folder) == _held(comparing_all)
    for report in (by_folders, everything):
        report.seconds = 0.0
        report.index = ""
    assert by_folders == everything


def test_a_file_that_cannot_be_indexed_is_reported_at_every_update_though_its_folder_is_unchanged(built) -> None:
    corpus, location = built
    write(corpus / "健康" / "空白.md", "")
    for _ in range(3):
        report = index_corpus(corpus, location)
        assert [(skipped.path, skipped.reason) for skipped in report.skipped] == [("健康/空白.md", "empty file")]
        assert report.unchanged == 30


def test_folder_digests_of_another_commit_are_not_used(built, monkeypatch) -> None:
    """A commit that left the digests as they were (an older release, a run stopped
    before writing them): a file put back as it was, time and all, is still seen."""
    import search.build

    corpus, location = built
    changed = corpus / "健康" / "流感季提醒接种疫苗.md"
    before, stat = changed.read_bytes(), changed.stat()
    changed.write_text(article("流感季", "鸭嘴兽。"), "utf-8")
    with monkeypatch.context() as patched:  # an update that keeps no digests
        patched.setattr(search.build, "_keep_digests", lambda *args: None)
        assert index_corpus(corpus, location).updated == 1
    changed.write_bytes(before)
    os.utime(changed, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    report = index_corpus(corpus, location)
    assert (report.updated, report.unchanged) == (1, 29)
    with open_index(location) as index:
        assert index.search("鸭嘴兽").total == 0


def test_folder_digests_made_with_other_globs_are_not_used(built) -> None:
    corpus, location = built
    report = index_corpus(corpus, location, exclude=["体育/**"], allow_removals=True)
    assert report.removed == len(list((corpus / "体育").glob("*.md"))) > 0
    with open_index(location) as index:
        assert not any(path.startswith("体育/") for path in all_paths(index))


def test_a_file_only_touched_keeps_its_folder_compared_so_a_change_at_the_same_time_is_seen(built) -> None:
    """The index keeps a touched file's former time: its folder's digest must not vouch for it."""
    corpus, location = built
    story = corpus / "体育" / "城市马拉松三万跑者参赛.md"
    moment = 1_700_000_000_000_000_000
    os.utime(story, ns=(moment, moment))
    assert index_corpus(corpus, location).updated == 0
    data = story.read_bytes()
    story.write_bytes(data.replace("三万".encode(), "五万".encode(), 1))  # same size
    os.utime(story, ns=(moment, moment))  # and the same time
    assert index_corpus(corpus, location).updated == 1
    with open_index(location) as index:
        assert "五万" in index.document("体育/城市马拉松三万跑者参赛.md").title


def test_files_reached_by_several_paths_are_walked_when_one_is_told(sample_copy: Path, tmp_path: Path) -> None:
    real = sample_copy / "国际" / "北极海冰观测报告发布.md"
    (sample_copy / "科技" / "北极海冰.md").symlink_to(real)
    os.link(real, sample_copy / "社会" / "北极海冰-硬链接.md")
    index_corpus(sample_copy, tmp_path / "index")
    real.write_bytes(real.read_bytes() + "\n更正：海冰面积数据更新。\n".encode())
    report = index_corpus(sample_copy, tmp_path / "index", changed=[real])
    assert report.updated == 3
    with open_index(tmp_path / "index") as index:
        assert all_paths(index, "更正") == {"国际/北极海冰观测报告发布.md", "科技/北极海冰.md", "社会/北极海冰-硬链接.md"}


def test_a_file_failing_for_its_bytes_leaves_its_folder_unread_and_is_reported_at_every_update(built, monkeypatch) -> None:
    import search.build

    corpus, location = built
    write(corpus / "README.md", "# 说明\n\n本目录是样例。\n")  # not an article, in the corpus's own folder
    first = index_corpus(corpus, location)
    assert [skipped.path for skipped in first.skipped] == ["README.md"]
    monkeypatch.setattr(search.build, "indexed_files", lambda ix: pytest.fail("every file compared"))
    for _ in range(2):
        report = index_corpus(corpus, location)
        assert [(skipped.path, skipped.reason) for skipped in report.skipped] == [(s.path, s.reason) for s in first.skipped]
        assert (report.added, report.updated, report.unchanged) == (0, 0, 30)


def test_an_update_walked_for_a_first_build_that_another_process_made_meanwhile(sample_copy: Path, tmp_path: Path, monkeypatch) -> None:
    import search.build

    location = tmp_path / "index"
    walk_corpus = search.build.walk_corpus
    calls: list[bool] = []

    def walk_then_another_builds(report, include, exclude, compact=False):
        walked = walk_corpus(report, include, exclude, compact)
        if not calls:
            calls.append(compact)
            monkeypatch.setattr(search.build, "walk_corpus", walk_corpus)
            story = sample_copy / "体育" / "城市马拉松三万跑者参赛.md"
            story.write_bytes(story.read_bytes() + "\n补充。\n".encode())  # after this walk
            index_corpus(sample_copy, location)  # another process, between this walk and its lock
        return walked

    monkeypatch.setattr(search.build, "walk_corpus", walk_then_another_builds)
    report = index_corpus(sample_copy, location)
    assert calls == [True] and report.rebuilt is False and report.documents == 30

"""Reliability: killed writers, stale locks, concurrent processes, damaged indexes and hostile input.

Writers and readers here are real processes: the ``news-search`` console script, or small
``python -c`` drivers (``_DRIVER``, ``_READER``, ``_WRITER``) that import the same ``search``
package as the tests (``PYTHONPATH`` is set to it). They are stopped with SIGKILL, which no
``finally`` or ``atexit`` survives, at chosen moments: a driver can stop itself at a named
point (``half``: half the files applied; ``toc``: a Whoosh commit's segment written, its table
of contents about to be renamed into place; ``clean``: the new table of contents in place,
older segment files not yet deleted; ``switch``: a rebuilt generation complete but ``CURRENT``
not yet switched; ``switched``: ``CURRENT`` switched, the old generation not yet removed),
print that name and sleep until killed. Other kills land after measured or random delays.

The corpora are made from the story corpus (``A``: the first 200 stories, 60 for the
concurrency test; ``B``: ``A`` with four files changed, five deleted and eight added) so that
the states before and after an update or rebuild answer the fixed searches in ``QUERIES``
differently.
"""

from __future__ import annotations

import errno
import json
import os
import queue
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

import search
from search import check_index, index_corpus, open_index
from search.cli import run
from search.storage import IndexDir

PACKAGE_ROOT = Path(search.__file__).resolve().parent.parent
UPDATED_WORD = "zqxupdated"  # only in the files B changes or adds
QUERIES = ("", "经济", "国际", "发展 合作", "title:会议", "category:国际", '"高质量发展"', UPDATED_WORD)
TAGS = re.compile(r"</?mark>")


# --------------------------------------------------------------------------- processes


def _env() -> dict[str, str]:
    """The environment of child processes: they import the ``search`` package under test."""
    env = {k: v for k, v in os.environ.items() if k not in ("NEWS_SEARCH_INDEX", "NEWS_SEARCH_DEBUG")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), env.get("PYTHONPATH")]))
    env["NO_COLOR"] = "1"
    return env


def _console_script() -> str:
    beside = Path(sys.executable).parent / "news-search"
    found = str(beside) if beside.exists() else shutil.which("news-search")
    assert found, "the news-search console script is not installed"
    return found


def _cli(*args: object, timeout: float = 120, **options) -> subprocess.CompletedProcess[str]:
    """Run the real ``news-search`` console script."""
    return subprocess.run(
        [_console_script(), *map(str, args)], capture_output=True, text=True, env=_env(), timeout=timeout, **options
    )


def _assert_one_line_error(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip("\n").splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("news-search: error: "), stderr
    return lines[0]


class _Child:
    """A child process whose output lines are read as they come; killed on exit."""

    def __init__(self, args: list[object]) -> None:
        self.proc = subprocess.Popen(
            [str(arg) for arg in args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
        )  # fmt: skip
        self.pid = self.proc.pid
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._lines.put(line.strip())
        self._lines.put(None)

    def expect(self, word: str, timeout: float = 60.0) -> str:
        """Wait for a line starting with ``word``; fail if the child ends or stays silent."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"child {self.proc.args[1:3]} said no {word!r} within {timeout}s")
            if line is None:
                self.proc.wait()
                pytest.fail(
                    f"child ended with status {self.proc.returncode} before saying {word!r}: {self.proc.stderr.read()}"
                )
            if line.split(" ", 1)[0] == word:
                return line

    def go(self) -> None:
        """Let a driver that said ``ready`` start indexing."""
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def kill(self) -> int:
        """SIGKILL (if still running) and reap; the exit status."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        return self.proc.wait(timeout=30)

    def stderr(self) -> str:
        self.kill()
        return self.proc.stderr.read()

    def close(self) -> None:
        self.kill()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except OSError:
                pass

    def __enter__(self) -> "_Child":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@pytest.fixture
def spawn():
    """Start children that are killed at the end of the test whatever happens."""
    started: list[_Child] = []

    def start(args: list[object]) -> _Child:
        started.append(_Child(args))
        return started[-1]

    yield start
    for child in started:
        child.close()


#: ``python -c _DRIVER MODE CORPUS INDEX PAUSE``: index_corpus (MODE ``update`` or ``rebuild``),
#: stopping at PAUSE (see the module docstring; ``none`` runs through). Says ``ready`` when
#: the segmenter is loaded, starts when told ``go`` on stdin, and says ``done SECONDS`` at the end.
_DRIVER = r"""
import sys, time
mode, corpus, location, pause = sys.argv[1:5]
from search.text.tokens import terms
terms("预热")  # the segmenter is loaded before timing starts
import whoosh.index
from whoosh.filedb.filestore import FileStorage
from search import index_corpus, storage
from search.storage import IndexDir

def say(word):
    print(word, flush=True)

def hold(word):
    say(word)
    time.sleep(600)

progress = None
if pause == "half":
    def progress(done, total):  # told every file read, and every so many unchanged ones
        if done >= total // 2:
            hold("half")
elif pause == "toc":
    rename_file = FileStorage.rename_file
    def renaming(self, frm, to, safe=False):
        if to.endswith(".toc") and not to.endswith("_0.toc"):
            hold("toc")
        return rename_file(self, frm, to, safe)
    FileStorage.rename_file = renaming
elif pause == "clean":
    def clean_files(*args, **kwargs):
        hold("clean")
    whoosh.index.clean_files = clean_files
elif pause == "switch":
    def switch_to(self, generation):
        hold("switch")
    IndexDir.switch_to = switch_to
elif pause == "switched":
    def fsync_folder(folder):
        hold("switched")
    storage._fsync_folder = fsync_folder
else:
    assert pause == "none", pause
say("ready")
if sys.stdin.readline().strip() != "go":
    sys.exit(0)
started = time.perf_counter()
index_corpus(corpus, location, rebuild=mode == "rebuild", progress=progress)
say(f"done {time.perf_counter() - started:.3f}")
"""


def _driver(spawn, mode: str, corpus: Path, location: Path, pause: str = "none") -> _Child:
    """A driver process, loaded and waiting for :meth:`_Child.go` (start the next one early)."""
    return spawn([sys.executable, "-c", _DRIVER, mode, corpus, location, pause])


# --------------------------------------------------------------------------- corpora and states


def _corpus_pair(story_corpus: Path, base: Path, size: int) -> tuple[Path, Path]:
    """``A``: the first ``size`` stories; ``B``: A with 4 changed, 5 deleted and 8 added files.

    Unchanged files keep their size and modification time in B, so an index of one
    updated from the other applies exactly the changes.
    """
    stories = sorted(story_corpus.rglob("*.md"))
    assert len(stories) >= size + 8
    a, b = base / "A", base / "B"
    for source in stories[:size]:
        target = a / source.relative_to(story_corpus)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    shutil.copytree(a, b)
    kept = sorted(b.rglob("*.md"))
    for changed in kept[3:size:size // 4][:4]:
        text = changed.read_text("utf-8")
        changed.write_text(text.replace("</div>", f"<p>更新的段落 {UPDATED_WORD}</p>\n</div>"), "utf-8")
    for deleted in kept[-5:]:
        deleted.unlink()
    for source in stories[size : size + 8]:
        target = b / "added" / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source.read_text("utf-8").replace("</div>", f"<p>{UPDATED_WORD}</p>\n</div>"), "utf-8")
    return a, b


Answers = dict[str, tuple[int, tuple[str, ...]]]


def _answers(location: Path) -> Answers:
    """Total and hit paths (in rank order) of every fixed query, from a freshly opened index."""
    with open_index(location) as index:
        answers = {}
        for query in QUERIES:
            result = index.search(query, limit=1000, snippet_chars=1)  # snippets are slow and beside the point
            answers[query] = (result.total, tuple(hit.path for hit in result.hits))
        return answers


def _unordered(answers: Answers) -> dict[str, tuple[int, frozenset[str]]]:
    """Answers without rank order (scores depend on deleted documents not yet merged away)."""
    return {query: (total, frozenset(paths)) for query, (total, paths) in answers.items()}


def _generations(location: Path) -> set[str]:
    return {entry.name for entry in location.iterdir() if entry.name.startswith("gen-")}


@dataclass(frozen=True)
class States:
    a: Path  # corpus before
    b: Path  # corpus after
    pristine: Path  # an index of A: copy it, never write to it
    before: Answers  # answers of an index of A
    after: Answers  # answers of an index of B built from scratch


@pytest.fixture(scope="module")
def states(story_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> States:
    base = tmp_path_factory.mktemp("reliability")
    a, b = _corpus_pair(story_corpus, base, 200)
    index_corpus(a, base / "index-A")
    index_corpus(b, base / "index-B")
    before, after = _answers(base / "index-A"), _answers(base / "index-B")
    assert before[""][0] == 200 and after[""][0] == 203
    assert before[UPDATED_WORD][0] == 0 and after[UPDATED_WORD][0] == 12
    return States(a, b, base / "index-A", before, after)


def _fresh_copy(states: States, location: Path, built_from: Path | None = None) -> Path:
    """A copy of the index of A; ``built_from`` B: as if the files of its folder had become B's
    (an update from another folder than the index records is refused)."""
    shutil.copytree(states.pristine, location)
    if built_from is not None:
        _record_corpus(location, built_from)
    return location


def _record_corpus(location: Path, corpus: Path) -> None:
    live = IndexDir(location).current()
    meta = json.loads((live / "news-search.json").read_text("utf-8"))
    meta["corpus"] = str(corpus)
    (live / "news-search.json").write_text(json.dumps(meta), "utf-8")


# --------------------------------------------------------------------------- 1. rebuild crash safety


def _recover_after_killed_rebuild(corpus: Path, location: Path, leftovers: set[str], killed: int) -> None:
    """The next plain run removes the leftover generations itself and says so."""
    report = index_corpus(corpus, location, lock_timeout=0)
    notes = " | ".join(report.notes)
    assert "removed what an interrupted run left behind" in notes, notes
    for name in leftovers:
        assert name in notes, notes
    assert f"cleared a lock left by process {killed} " in notes, notes
    assert not leftovers & _generations(location)
    assert _generations(location) == {IndexDir(location).current().name}
    assert (report.added, report.updated, report.removed) == (0, 0, 0)


@pytest.mark.slow
def test_killed_rebuild_leaves_the_old_index_answering_and_the_next_run_cleans_up(
    states: States, tmp_path: Path, spawn
) -> None:
    location = _fresh_copy(states, tmp_path / "index")
    live = IndexDir(location).current().name

    def assert_untouched(moment: str) -> set[str]:
        assert IndexDir(location).current().name == live, f"killed at {moment}: CURRENT changed"
        assert _answers(location) == states.before, f"killed at {moment}: the old index answers differently"
        leftovers = _generations(location) - {live}
        assert leftovers, f"killed at {moment}: the rebuild left no generation of its own (did it write in place?)"
        return leftovers

    # Stopped by the driver: mid-way, as the new generation's commit is about to land,
    # and with the new generation complete but not yet switched to.
    pauses = ["half", "toc", "switch", "switched"]
    writer = _driver(spawn, "rebuild", states.b, location, pauses[0])
    for pause, following in zip(pauses[:-1], pauses[1:]):
        writer.expect("ready")
        writer.go()
        writer.expect(pause)
        writer.kill()
        killed, writer = writer.pid, _driver(spawn, "rebuild", states.b, location, following)
        _recover_after_killed_rebuild(states.a, location, assert_untouched(pause), killed)
        assert _answers(location) == states.before

    # The console script, killed as soon as its new generation folder appears; the next
    # run of the console script says on stderr what it removed.
    rebuild = subprocess.Popen(
        [_console_script(), "index", str(states.b), "--index", str(location), "--rebuild"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env(),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not _generations(location) - {live} and rebuild.poll() is None and time.monotonic() < deadline:
            time.sleep(0.0005)
    finally:
        rebuild.kill()
        rebuild.wait()
    leftovers = assert_untouched("the new generation's creation")
    again = _cli("index", states.a, "--index", location, "--wait", "0")
    assert again.returncode == 0, again.stderr
    assert "Traceback" not in again.stderr
    notes = [line for line in again.stderr.splitlines() if line.startswith("note: removed")]
    assert len(notes) == 1 and all(name in notes[0] for name in leftovers), again.stderr
    assert f"note: cleared a lock left by process {rebuild.pid} " in again.stderr
    assert _generations(location) == {live}
    assert _answers(location) == states.before

    # Killed after CURRENT was switched but before the old generation was removed: the
    # rebuilt index answers, and the next run removes the old generation.
    writer.expect("ready")
    writer.go()
    writer.expect("switched")
    writer.kill()
    new_live = IndexDir(location).current().name
    assert new_live != live and _generations(location) == {live, new_live}
    assert _answers(location) == states.after
    _recover_after_killed_rebuild(states.b, location, {live}, writer.pid)
    assert check_index(location, states.b).ok


# --------------------------------------------------------------------------- 2. incremental update killed


@pytest.mark.slow
def test_killed_incremental_update_leaves_a_consistent_index_the_next_run_completes(
    states: States, tmp_path: Path, spawn
) -> None:
    before, after = _unordered(states.before), _unordered(states.after)

    # How long an update of A's index to B takes once the driver is told to go.
    calibration = _fresh_copy(states, tmp_path / "calibration", built_from=states.b)
    writer = _driver(spawn, "update", states.b, calibration)
    writer.expect("ready")
    started = time.monotonic()
    writer.go()
    writer.expect("done")
    span = time.monotonic() - started
    assert _unordered(_answers(calibration)) == after and check_index(calibration, states.b).ok

    rng = random.Random(20240501)
    delays = [span * fraction for fraction in (0.15, 0.5, 0.85)] + [rng.uniform(0, span * 1.1) for _ in range(2)]
    plans: list[tuple[str, float | None, dict | None]] = [("none", delay, None) for delay in delays]
    plans += [("half", None, before), ("toc", None, before), ("clean", None, after)]
    locations = [tmp_path / f"index-{number}" for number in range(len(plans))]

    def start(number: int) -> _Child:
        return _driver(spawn, "update", states.b, _fresh_copy(states, locations[number], built_from=states.b), plans[number][0])

    seen = []
    writer = start(0)
    for number, (pause, delay, expected) in enumerate(plans):
        moment = f"after {delay:.3f}s" if delay is not None else f"at {pause!r}"
        location = locations[number]
        writer.expect("ready")
        writer.go()
        if delay is not None:
            time.sleep(delay)
        else:
            writer.expect(pause)
        writer.kill()
        killed = writer.pid
        if number + 1 < len(plans):
            writer = start(number + 1)  # loads while this index is checked

        got = _unordered(_answers(location))  # opens without error
        assert got in (before, after), f"killed {moment}: answers match neither the state before nor after"
        if expected is not None:
            assert got == expected, f"killed {moment}"
        check_index(location, states.b)  # reads every document, term and posting back
        seen.append("before" if got == before else "after")

        report = index_corpus(states.b, location, lock_timeout=0)  # the dead writer's lock is no obstacle
        if delay is None:  # it was stopped holding the lock
            assert any(f"process {killed} " in note for note in report.notes), report.notes
        final = check_index(location, states.b)
        assert final.ok, (moment, final.missing, final.stale, final.extra)
        assert _unordered(_answers(location)) == after, moment
    assert {"before", "after"} <= set(seen)


# --------------------------------------------------------------------------- 3. locks


_HOLDER = r"""
import sys, time
from search.storage import IndexDir
with IndexDir(sys.argv[1]).lock():
    print("locked", flush=True)
    time.sleep(600)
"""


@pytest.mark.slow
def test_lock_left_by_a_killed_writer_is_taken_at_once_with_a_note(states: States, tmp_path: Path, spawn) -> None:
    location = _fresh_copy(states, tmp_path / "index", built_from=states.b)
    writer = _driver(spawn, "update", states.b, location, "half")
    writer.expect("ready")
    writer.go()
    writer.expect("half")
    assert json.loads((location / "LOCK").read_text("utf-8"))["pid"] == writer.pid
    writer.kill()
    started = time.monotonic()
    done = _cli("index", states.b, "--index", location, "--wait", "0")  # would exit 4 if it had to wait
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 30
    notes = [line for line in done.stderr.splitlines() if line.startswith("note: cleared a lock")]
    assert len(notes) == 1 and f"process {writer.pid} " in notes[0], done.stderr
    assert (location / "LOCK").read_text("utf-8") == ""  # released and cleared
    assert check_index(location, states.b).ok


@pytest.mark.slow
def test_second_writer_waits_the_bounded_time_for_a_live_writer_then_exits_4(states: States, tmp_path: Path) -> None:
    location = _fresh_copy(states, tmp_path / "index")
    with _Child([sys.executable, "-c", _HOLDER, location]) as holder:
        holder.expect("locked")
        timings = {}
        for wait in (0, 2):
            started = time.monotonic()
            blocked = _cli("index", states.a, "--index", location, "--wait", wait)
            timings[wait] = time.monotonic() - started
            assert blocked.returncode == 4, blocked.stderr
            line = _assert_one_line_error(blocked.stderr)
            assert f"process {holder.pid} " in line and "locked" not in blocked.stdout
        # Same start-up cost either way: the difference is the time spent waiting.
        assert 1.5 <= timings[2] - timings[0] <= 4, timings
        assert holder.proc.poll() is None  # the holder was never disturbed
    assert _answers(location) == states.before


# --------------------------------------------------------------------------- 4. concurrent processes


_READER = r"""
import json, sys
from pathlib import Path
location, stop, out, queries = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), json.loads(sys.argv[4])
from search.text.tokens import terms
terms("预热")  # the segmenter is loaded before timing starts
from search import open_index

def totals(index):
    return [index.search(query, limit=20).total for query in queries]

seen, errors, kept, rounds = [], [], None, 0
while True:
    try:
        for _ in range(2):  # opening is where a switch or a commit can pull files away
            open_index(location).close()
        with open_index(location) as index:  # opened fresh
            seen.append(totals(index))
        if rounds % 4 == 0:  # and one kept open across several writes
            if kept is not None:
                kept.close()
            kept = open_index(location)
        seen.append(totals(kept))
    except Exception as error:
        errors.append(f"{type(error).__name__}: {error}")
    rounds += 1
    if rounds == 1:
        print("ready", flush=True)
    if stop.exists():
        break
out.write_text(json.dumps({"seen": seen, "errors": errors, "rounds": rounds}))
"""

_WRITER = r"""
import json, sys, time
from search.text.tokens import terms
terms("预热")  # the segmenter is loaded before timing starts
import os
from search import index_corpus
location, plan, folder = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
sys.stdin.readline()
for mode, corpus in plan:
    # One corpus folder whose files change: a symlink turned to A's or B's in one step.
    os.symlink(corpus, folder + ".next")
    os.replace(folder + ".next", folder)
    report = index_corpus(folder, location, rebuild=mode == "rebuild", lock_timeout=60)
    print(mode, report.documents, flush=True)
    time.sleep(0.1)
print("done", flush=True)
"""


@pytest.mark.slow
def test_reader_processes_see_only_whole_states_while_a_writer_updates_and_rebuilds(
    story_corpus: Path, tmp_path: Path, spawn
) -> None:
    a, b = _corpus_pair(story_corpus, tmp_path, 60)
    location, folder = tmp_path / "index", tmp_path / "corpus"
    folder.symlink_to(a)
    index_corpus(folder, location)
    valid = {}
    for name, corpus in (("A", a), ("B", b)):
        index_corpus(corpus, tmp_path / f"reference-{name}")
        with open_index(tmp_path / f"reference-{name}") as index:
            valid[name] = [index.search(query, limit=20).total for query in QUERIES]
    assert valid["A"] != valid["B"]

    stop = tmp_path / "stop"
    plan = [("update", b), ("update", a), ("rebuild", b), ("update", a), ("update", b), ("rebuild", a), ("update", b)]
    outputs = [tmp_path / f"reader-{n}.json" for n in range(3)]
    readers = [spawn([sys.executable, "-c", _READER, location, stop, out, json.dumps(QUERIES)]) for out in outputs]
    writer = spawn([sys.executable, "-c", _WRITER, location, json.dumps([(mode, str(c)) for mode, c in plan]), folder])
    for reader in readers:
        reader.expect("ready")
    writer.go()
    writer.expect("done", timeout=120)
    assert writer.proc.wait(timeout=30) == 0, writer.stderr()
    time.sleep(0.2)  # the readers look at the final state too
    stop.touch()
    for reader in readers:
        assert reader.proc.wait(timeout=60) == 0, reader.stderr()

    states_seen = set()
    for out in outputs:
        outcome = json.loads(out.read_text())
        assert outcome["errors"] == [], outcome["errors"][:5]
        assert outcome["rounds"] >= 10
        for totals in outcome["seen"]:
            named = [name for name, expected in valid.items() if totals == expected]
            assert named, f"a reader saw totals {totals}, neither A {valid['A']} nor B {valid['B']}"
            states_seen.add(named[0])
    assert states_seen == {"A", "B"}  # the readers really read across the switches


# --------------------------------------------------------------------------- 5. check


def _article(title: str, body: str) -> str:
    return f"---\ntitle: {title}\ndate: 2024-05-01 10:00:00\ncategories:\n  - 测试\n---\n\n<p>{body}</p>\n"


@pytest.mark.slow
def test_check_command_exit_codes_and_findings(sample_copy: Path, tmp_path: Path) -> None:
    corpus = sample_copy
    (corpus / "坏").mkdir()
    (corpus / "坏" / "空白.md").write_text("  \n\n", "utf-8")
    location = tmp_path / "index"
    index_corpus(corpus, location)

    healthy = _cli("check", "--index", location)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert "unindexable 坏/空白.md: empty file" in healthy.stdout
    assert not re.search(r"^(missing|stale|extra) ", healthy.stdout, re.M), healthy.stdout

    articles = sorted(path.relative_to(corpus).as_posix() for path in corpus.rglob("*.md") if "坏" not in path.parts)
    changed, deleted, touched = articles[0], articles[1], articles[2]
    (corpus / changed).write_text((corpus / changed).read_text("utf-8") + "\n<p>新加的一段。</p>\n", "utf-8")
    (corpus / deleted).unlink()
    os.utime(corpus / touched, ns=(time.time_ns(), time.time_ns() + 5_000_000_000))  # same bytes, new time
    (corpus / "新增.md").write_text(_article("新增的文章", "新的内容"), "utf-8")
    (corpus / "坏" / "二进制.md").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))

    out_of_step = _cli("check", "--index", location)
    assert out_of_step.returncode == 1, out_of_step.stdout + out_of_step.stderr
    lines = out_of_step.stdout.splitlines()
    assert "missing 新增.md" in lines and f"stale {changed}" in lines and f"extra {deleted}" in lines
    assert any(line.startswith("unindexable 坏/二进制.md: binary") for line in lines), lines
    as_json = json.loads(_cli("check", "--index", location, "--json").stdout)
    assert as_json["ok"] is False
    assert (as_json["missing"], as_json["stale"], as_json["extra"]) == (["新增.md"], [changed], [deleted])
    assert sorted(item["path"] for item in as_json["unindexable"]) == ["坏/二进制.md", "坏/空白.md"]

    def damaged(name: str, damage) -> Path:
        copy = tmp_path / name
        shutil.copytree(location, copy)
        (segment,) = IndexDir(copy).current().glob("*.seg")
        data = bytearray(segment.read_bytes())
        damage(data)
        segment.write_bytes(bytes(data))
        return copy

    def truncate(data: bytearray) -> None:
        del data[len(data) // 2 :]

    def overwrite(data: bytearray) -> None:
        middle = len(data) // 2
        data[middle : middle + 4096] = random.Random(3).randbytes(4096)

    for name, damage in (("truncated", truncate), ("overwritten", overwrite)):
        broken = _cli("check", "--index", damaged(name, damage))
        assert broken.returncode == 3, (name, broken.stdout, broken.stderr)
        _assert_one_line_error(broken.stderr)
        assert "matches" not in broken.stdout


# --------------------------------------------------------------------------- 6. hostile corpus


def _cli_in_process(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    code = run([str(arg) for arg in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _hostile_corpus(corpus: Path) -> tuple[dict[str, str], set[str]]:
    """Write the files; return the bad ones (path → expected words of the reason) and the good ones."""
    corpus.mkdir()

    def write(name: str, content: str | bytes, encoding: str = "utf-8") -> None:
        path = corpus / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))

    write("ordinary.md", _article("普通的文章", "plainword 一切正常"))
    write("binary.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    write("empty.md", b"")
    write("empty\x1b]0;title\x07.md", b"\n")
    write("gb18030.md", _article("国标编码的文章", "gbkword 这篇文章用国标编码保存"), "gb18030")
    write("undecodable.md", "---\ntitle: 坏字节\n---\n\n".encode() + b"\x80\xff\xfe\x81\xff" * 40)
    bom_crlf = "---\ntitle: BOM和CRLF\ndate: 2024-03-04 08:00:00\ncategories:\n  - 换行\n---\n\n<p>bomword 正文</p>\n"
    write("bom_crlf.md", "\ufeff" + bom_crlf.replace("\n", "\r\n"))
    write("broken_yaml.md", "---\ntitle: '破损的标题: YAML' 多余\ncategories: [未闭合\nauthor: 某作者\n---\n\n<p>yamlword 正文</p>\n")
    write("bad_date.md", "---\ntitle: 日期不是日期\ndate: Invalid Date\n---\n\n<p>dateword 正文</p>\n")
    write("cat_string.md", "---\ntitle: 单个分类\ncategories: 单一分类\ntags: 单一标签\n---\n\n<p>catword 正文</p>\n")
    style = "".join(f".c{n} {{ color: #{n % 4096:03x}; margin: {n % 97}px; }}\n" for n in range(260_000))
    words = " ".join(f"filler{n % 300}" for n in range(1_500))
    paragraphs = "".join(f"<p>{words}</p>\n" for _ in range(30))
    big = f"---\ntitle: 很大的文章\n---\n\n<div>\n<style>\n{style}</style>\n{paragraphs}<p>zyxfinale 结尾</p>\n</div>\n"
    write("big.md", big)  # 10.7 MB, most of it a style sheet; 430,000 characters of text
    write("deep.html", "<html><body>" + "<div>" * 5000 + "<p>deepword 深处的文字</p>" + "</div>" * 5000 + "</body></html>")
    write(
        "evil.md",
        "---\ntitle: '<script>alert(\"t\")</script> 恶意标题 <img src=x onerror=alert(1)> \x1b[2J'\n---\n\n"
        "<p>evilword 正文 &lt;script&gt;alert(2)&lt;/script&gt; <img src=x onerror=\"alert(3)\"> "
        "文字 onerror=alert(4) <b onerror=alert(5)>粗体</b> \x1b]0;pwned\x07 \x1b[31m红色</p>\n"
        "<script>alert('body')</script>\n",
    )
    write("esc\x1b[2Jname.md", _article("控制字符文件名", "escword 正文"))
    write("sub/inner.md", _article("子目录文章", "innerword 正文"))
    os.symlink("..", corpus / "sub" / "back")  # a folder loop: followed once, never around
    os.symlink("loop.md", corpus / "loop.md")  # a file that is a link to itself
    write("unreadable.md", _article("读不了的文章", "unreadableword"))
    (corpus / "unreadable.md").chmod(0)
    bad = {
        "binary.md": "binary",
        "empty.md": "empty",
        "empty\x1b]0;title\x07.md": "empty",
        "undecodable.md": "not UTF-8",
        "loop.md": "cannot read",
        "unreadable.md": "Permission denied",
    }
    good = {
        "ordinary.md", "gb18030.md", "bom_crlf.md", "broken_yaml.md", "bad_date.md", "cat_string.md", "big.md",
        "deep.html", "evil.md", "esc\x1b[2Jname.md", "sub/inner.md",
    }  # fmt: skip
    return bad, good


def _shown(path: str) -> str:
    """A path as the terminal shows it: control characters written out."""
    return re.sub(r"[\x00-\x1f\x7f-\x9f]", lambda match: f"\\x{ord(match.group()):02x}", path)


def _html_is_only_text_and_marks(fragment: str) -> None:
    assert "<script" not in fragment.lower(), fragment
    assert not re.search(r"<[^>]*onerror\s*=", fragment, re.I), fragment
    assert "<" not in TAGS.sub("", fragment) and ">" not in TAGS.sub("", fragment), fragment


def test_hostile_corpus_end_to_end(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWS_SEARCH_INDEX", raising=False)
    corpus, location = tmp_path / "corpus", tmp_path / "index"
    bad, good = _hostile_corpus(corpus)
    if os.access(corpus / "unreadable.md", os.R_OK):  # root reads anything: refuse it ourselves
        read_bytes = Path.read_bytes

        def refusing(self: Path) -> bytes:
            if self.name == "unreadable.md":
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
            return read_bytes(self)

        monkeypatch.setattr(Path, "read_bytes", refusing)

    code, out, err = _cli_in_process(capsys, "index", corpus, "--index", location, "--json")
    assert code == 0, err
    assert "Traceback" not in err and "unexpected" not in err
    report = json.loads(out)
    skipped = {item["path"]: item["reason"] for item in report["skipped"]}
    assert set(skipped) == set(bad), skipped
    for path, words in bad.items():
        assert words in skipped[path], (path, skipped[path])
        assert f"skipped {_shown(path)}: " in err  # the terminal also names every skipped file
    warnings = {item["path"]: item["reason"] for item in report["warnings"]}
    assert "not a date" in warnings.get("bad_date.md", ""), warnings
    assert "kept" in warnings.get("big.md", "") and "200,000" in warnings["big.md"], warnings
    assert report["added"] == report["documents"] == len(good)
    assert "\x1b" not in out + err

    with open_index(location) as index:
        assert {hit.path for hit in index.search("", limit=100).hits} == good
        for word, path in [
            ("plainword", "ordinary.md"), ("gbkword", "gb18030.md"), ("bomword", "bom_crlf.md"),
            ("yamlword", "broken_yaml.md"), ("dateword", "bad_date.md"), ("catword", "cat_string.md"),
            ("zyxfinale", "big.md"), ("deepword", "deep.html"), ("evilword", "evil.md"),
            ("escword", "esc\x1b[2Jname.md"), ("innerword", "sub/inner.md"),
        ]:  # fmt: skip
            assert [hit.path for hit in index.search(word).hits] == [path], word
        assert index.document("gb18030.md").title == "国标编码的文章"
        bom = index.document("bom_crlf.md")
        assert (bom.title, bom.categories, bom.date) == ("BOM和CRLF", ["换行"], datetime(2024, 3, 4, tzinfo=timezone.utc))
        assert "破损的标题" in index.document("broken_yaml.md").title
        assert index.document("bad_date.md").date is None
        assert [hit.path for hit in index.search("", category="单一分类").hits] == ["cat_string.md"]
        assert index.document("cat_string.md").tags == ["单一标签"]
        assert len(index.document("big.md").text) <= 200_000
        assert "zyxfinale" not in index.document("big.md").text  # stored text is capped, yet it is found
        for document in (index.document(path) for path in good):
            assert "\x1b" not in document.title + document.text and "alert('body')" not in document.text

    for query in ("evilword", "alert", "onerror", "script", "恶意标题"):
        code, out, err = _cli_in_process(capsys, "search", query, "--index", location, "--json")
        assert code == 0, err
        result = json.loads(out)
        assert "evil.md" in [hit["path"] for hit in result["hits"]], query
        for hit in result["hits"]:
            _html_is_only_text_and_marks(hit["title_html"])
            _html_is_only_text_and_marks(hit["snippet"])
            assert "\x1b" not in hit["title"] + hit["snippet"]
    for args in (
        ("search", "evilword"), ("search", "escword"), ("search", "alert"), ("show", "evil.md"),
        ("show", "esc\x1b[2Jname.md"),
    ):  # fmt: skip
        code, out, err = _cli_in_process(capsys, *args, "--index", location)
        assert code == 0, err
        assert "\x1b" not in out + err, (args, out)
        assert "恶意标题" in out or "控制字符文件名" in out

    code, out, err = _cli_in_process(capsys, "check", "--index", location, "--json")
    assert code == 0, (out, err)
    found = json.loads(out)
    assert found["ok"] and found["missing"] == found["stale"] == found["extra"] == []
    assert {item["path"] for item in found["unindexable"]} == set(bad)
    code, out, err = _cli_in_process(capsys, "check", "--index", location)
    assert code == 0 and "\x1b" not in out + err, out


@pytest.mark.slow
def test_an_article_of_many_ordinary_paragraphs_indexes_in_seconds(tmp_path: Path) -> None:
    """A long article with ordinary paragraphs (12,000 of them, 0.6 MB) indexes in a few seconds.

    A 10 MB article of such paragraphs would have ~100,000: any per-paragraph cost that
    grows with the number of paragraphs before it turns that into hours.
    """
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    paragraphs = "".join(f"<p>第{n}段，普通的一段话 para{n % 40}。</p>\n" for n in range(12_000))
    (corpus / "long.md").write_text(
        f"---\ntitle: 段落很多的文章\n---\n\n<div>\n{paragraphs}<p>lastparagraphword</p>\n</div>\n", "utf-8"
    )
    script = "import sys; from search import index_corpus; print(index_corpus(sys.argv[1], sys.argv[2]).added)"
    limit = 8.0  # about 2.5 s when the cost per paragraph is constant
    try:
        done = subprocess.run(
            [sys.executable, "-c", script, str(corpus), str(tmp_path / "index")],
            capture_output=True, text=True, env=_env(), timeout=limit,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail(f"indexing one article of 12,000 short paragraphs took more than {limit:g}s")
    assert done.returncode == 0 and done.stdout.split() == ["1"], done.stderr
    with open_index(tmp_path / "index") as index:
        assert [hit.path for hit in index.search("lastparagraphword").hits] == ["long.md"]


# --------------------------------------------------------------------------- 7. hostile queries


HOSTILE_QUERIES = [
    '"未闭合的引号', "“中文引号", "(马拉松", "马拉松)", "((((", "))", "AND", "OR", "NOT", "+", "-", "AND OR NOT",
    "马拉松 AND", "OR 马拉松", "title:", "title:\"\"", "category:", "author:", "tag:", "title:(", "body:\"",
    "*", "马*", "?", "a*b?c", "title:*拉*", "[a TO b]", "{}", "~", "^2", "\\", "date:2024", "nosuchfield:马拉松",
    "马拉松" * 3333 + "x", "a\x00b", "\x00", "\ufeff", "\u200b马拉松", "\U0001f600", "'", "\t马拉松\t",
]  # fmt: skip


@pytest.mark.slow
def test_hostile_queries_through_the_console_script(sample_index: Path, tmp_path: Path) -> None:
    batch = tmp_path / "queries.txt"
    batch.write_bytes("\n".join(HOSTILE_QUERIES).encode("utf-8") + b"\n\xff\xfe invalid utf-8\n")
    done = _cli("search", "--index", sample_index, "--batch", batch)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(results) == len(HOSTILE_QUERIES) + 1
    assert results.pop() == {"error": {"code": "not_text", "message": f"line {len(HOSTILE_QUERIES) + 1} is not text: not UTF-8 or GB18030 text"}}
    for result in results:
        assert isinstance(result["total"], int) and result["total"] >= len(result["hits"])
        for hit in result["hits"]:
            _html_is_only_text_and_marks(hit["title_html"])
            _html_is_only_text_and_marks(hit["snippet"])

    long_query = "马拉松" * 3333 + "x"  # 10,000 characters in argv
    for args, codes in [
        (("search", long_query), {0}),
        (("search", '"(title: AND'), {0}),
        (("search", "--", "-("), {0}),
        (("search", "-("), {2}),  # read as an option: a usage error
        (("search", "马拉松", "--since", "yesterday"), {2}),
        (("search", "马拉松", "--since", "2024-05-01", "--until", "2024-01-01"), {2}),
    ]:
        done = _cli(*args[:1], "--index", sample_index, *args[1:])
        assert done.returncode in codes, (args[:3], done.returncode, done.stderr)
        assert "Traceback" not in done.stdout + done.stderr
        if done.returncode:
            _assert_one_line_error(done.stderr)
        else:
            assert done.stderr == "" and done.stdout


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
def test_hostile_query_in_process_never_fails_unexpectedly(sample_index: Path, query: str, capsys) -> None:
    for extra in ((), ("--sort", "date"), ("--category", "体育"), ("--since", "2023", "--until", "2024-06")):
        code, out, err = _cli_in_process(capsys, "search", "--index", sample_index, "--json", *extra, "--", query)
        assert (code, err) == (0, ""), (extra, err)
        assert json.loads(out)["query"] == query

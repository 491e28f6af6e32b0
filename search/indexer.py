"""Building and updating an index from a corpus folder.

An update reads only what changed: files whose size and modification time match
the index are not opened; files that did change but hash the same are not
re-tokenized. A rebuild (or a first build) writes a new generation and switches
to it only when it is complete (see :mod:`search.storage`).
"""

from __future__ import annotations

import os
import pickle
import selectors
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator, Sequence

import whoosh.index
from whoosh.writing import IndexWriter

from .corpus import (
    DEFAULT_INCLUDE,
    MAX_STORED_BODY,
    Article,
    Skipped,
    SourceFile,
    content_hash,
    parse_article,
    read_source,
    walk,
)
from .analysis import UserDict, is_warm
from .errors import CorpusError, IndexBuildError, UsageError
from .schema import build_schema, check_compatible, exact_value, index_settings, user_dict_of
from .storage import IndexDir, corrupt, default_index_dir, open_whoosh, read_meta, write_meta
from .writer import NewsSegmentWriter

#: Called as ``progress(done, total)`` while files are processed.
ProgressCallback = Callable[[int, int], None]

#: A rebuild of this many files or more is shared between worker processes.
PARALLEL_FROM = 1000
MAX_WORKERS = 4
#: Memory for a writer's in-memory postings before it spills them to disk.
_LIMIT_MB = 256


@dataclass
class IndexReport:
    """What one ``index`` run did."""

    index: Path
    corpus: Path
    rebuilt: bool = False
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    documents: int = 0
    seconds: float = 0.0
    #: Processes that shared the work (more than 1 only for a large rebuild).
    workers: int = 1


@dataclass(frozen=True)
class IndexedFile:
    """What the index knows of a file: enough to tell whether it changed."""

    size: int
    mtime_ns: int
    content_hash: str


def index_corpus(
    corpus: str | os.PathLike[str],
    index_dir: str | os.PathLike[str] | None = None,
    *,
    rebuild: bool = False,
    include: Sequence[str] = DEFAULT_INCLUDE,
    exclude: Sequence[str] = (),
    lock_timeout: float = 10.0,
    progress: ProgressCallback | None = None,
    user_dict: str | os.PathLike[str] | None = None,
    workers: int | None = None,
) -> IndexReport:
    """Bring the index at ``index_dir`` up to date with the files under ``corpus``.

    Without ``rebuild``, new, changed and deleted files are applied to the live
    index; with it (or when there is no index yet) a new one is built beside it.
    Files that cannot be indexed are reported in the result, never raised.

    ``user_dict`` is a jieba user dictionary (``word [frequency] [tag]`` lines);
    its words are stored in the index and used for its queries too. A rebuild
    without one keeps the words the live index has; an empty file drops them.

    A rebuild of :data:`PARALLEL_FROM` files or more is split between ``workers``
    processes (default: one per CPU, at most :data:`MAX_WORKERS`), each writing
    one segment of the new index; ``workers=1`` builds in this process.
    """
    started = time.perf_counter()
    location = IndexDir(index_dir if index_dir is not None else default_index_dir())
    corpus_path = Path(corpus)
    report = IndexReport(index=location.root, corpus=corpus_path)
    try:
        user = None if user_dict is None else UserDict.read(user_dict)
    except ValueError as error:
        raise UsageError(str(error)) from None
    sources: list[SourceFile] = []
    for found in walk(corpus_path, include, exclude):
        if isinstance(found, Skipped):
            report.skipped.append(found)
        else:
            sources.append(found)

    with location.lock(lock_timeout) as stale_lock:
        if stale_lock:
            report.notes.append(stale_lock)
        leftovers = location.remove_stale()
        if leftovers:
            report.notes.append(f"removed what an interrupted run left behind: {', '.join(leftovers)}")
        live = location.current()
        live_meta = read_meta(live) if live is not None else {}
        report.rebuilt = rebuild or live is None
        if report.rebuilt:
            if user is None and live is not None:
                user = _live_user_dict(live)
            generation = location.new_generation()
            ix = whoosh.index.create_in(str(generation), build_schema(user or None))
            known: dict[str, IndexedFile] = {}
            meta = {"built": _now()}
        else:
            assert live is not None
            generation = live
            meta = dict(live_meta)
            check_compatible(meta, location.root)
            ix = open_whoosh(live)
            if user is not None and user != (user_dict_of(ix.schema) or UserDict(())):
                ix.close()
                raise UsageError(
                    f"{user_dict} differs from the user dictionary index {location.root} was built with: "
                    "add --rebuild to re-segment every article with it"
                )
        asked = _worker_count(workers, len(sources))  # checked on updates too
        report.workers = asked if report.rebuilt else 1
        try:
            if not report.rebuilt:
                known = indexed_files(ix)
            writer = NewsSegmentWriter(ix, limitmb=_LIMIT_MB)
        except Exception as error:  # damaged segment files
            raise corrupt(location.root, error) from None
        try:
            if report.workers > 1:
                _build_in_parallel(writer, generation, sources, report, progress)
            else:
                _apply(writer, sources, known, report, progress)
                writer.commit(optimize=report.rebuilt)
        except BaseException:
            writer.cancel()
            raise
        # Counted from the table of contents: opening a reader would map every segment.
        report.documents = sum(segment.doc_count() for segment in ix._segments())
        kept = user_dict_of(ix.schema)
        ix.close()
        meta.update(index_settings())
        # Words kept from the live index keep the file they were read from.
        source = str(Path(user_dict).resolve()) if user_dict is not None else (live_meta.get("user_dict") or {}).get("source")
        meta.update(
            user_dict={"words": len(kept), "digest": kept.digest, "source": source} if kept else None,
            corpus=str(corpus_path.resolve()),
            include=list(include),
            exclude=list(exclude),
            updated=_now(),
            documents=report.documents,
        )
        write_meta(generation, meta)
        if report.rebuilt:
            location.switch_to(generation)
    report.seconds = time.perf_counter() - started
    return report


def _worker_count(asked: int | None, files: int) -> int:
    if asked is not None:
        if asked < 1:
            raise UsageError(f"workers must be 1 or more, not {asked}")
        return min(asked, max(1, files))
    if files < PARALLEL_FROM:
        return 1
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


def _build_in_parallel(
    writer: IndexWriter,
    generation: Path,
    sources: list[SourceFile],
    report: IndexReport,
    progress: ProgressCallback | None,
) -> None:
    """Index ``sources`` into a new generation in ``report.workers`` processes, one segment each.

    Workers are new Python processes (``python -c``), not forks and not
    multiprocessing's ``spawn``, which would run the caller's main script again in
    each of them. They inherit no open files (not the index lock), open the
    generation themselves and segment with the user dictionary its schema holds.
    This process only gathers their segments and commits them together: if any
    worker fails, nothing is committed.
    """
    _compile_dictionary(user_dict_of(writer.schema))
    parts = _split_by_size(sources, report.workers)
    workers: list[_Worker] = []
    try:
        for number, part in enumerate(parts):
            # The memory one writer would have is shared between them.
            workers.append(_Worker(generation, number, part, _LIMIT_MB // len(parts)))
        done = 0
        for ticks in _Worker.progress(workers):
            done += ticks
            if progress:
                progress(done, len(sources))
        results = [worker.result() for worker in workers]
    finally:
        for worker in workers:
            worker.stop()
    for _, part_report in results:
        report.added += part_report.added
        report.skipped.extend(part_report.skipped)
        report.warnings.extend(part_report.warnings)
    writer._close_segment()  # this process's own segment is empty: it is not committed
    writer._commit_toc([segment for segment, _ in results])
    writer._finish()


def _compile_dictionary(user: UserDict | None) -> None:
    """Compile the segmenter's dictionary cache once for every worker, if it is not yet
    (a new install), in a short-lived process: compiling reads jieba's whole dictionary,
    100 MB that would stay this process's peak for the whole build. If that fails, each
    worker compiles it for itself, as this process would have."""
    if is_warm(user):
        return
    subprocess.run(
        [sys.executable, "-c", "import pickle, sys; from search.analysis import warm_up; warm_up(pickle.load(sys.stdin.buffer))"],
        input=pickle.dumps(user),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_child_environment(),
        check=False,
    )


def _child_environment() -> dict[str, str]:
    """The environment of a Python process that imports this package from where this
    process did, installed or not."""
    package_home = str(Path(__file__).resolve().parent.parent)
    return dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [package_home, os.environ.get("PYTHONPATH")])))


class _Worker:
    """One worker process of a parallel rebuild, and the files it is given and gives back."""

    def __init__(self, generation: Path, number: int, sources: list[SourceFile], limit_mb: int) -> None:
        self.job = generation / f"build-part-{number}.pickle"
        self.result_path = _result_of(self.job)
        self.errors = self.job.with_suffix(".stderr")
        self.job.write_bytes(pickle.dumps((str(generation), sources, limit_mb)))
        with open(self.errors, "wb") as errors:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from search.indexer import _worker_main; _worker_main()", str(self.job)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=errors,
                env=_child_environment(),
            )

    @staticmethod
    def progress(workers: list["_Worker"]) -> Iterator[int]:
        """Files done, as the workers report them (one line per batch), until all have stopped."""
        selector = selectors.DefaultSelector()
        for worker in workers:
            selector.register(worker.process.stdout.fileno(), selectors.EVENT_READ, data=bytearray())
        while selector.get_map():
            for key, _ in selector.select():
                chunk = os.read(key.fd, 4096)
                if not chunk:
                    selector.unregister(key.fd)
                    continue
                key.data.extend(chunk)
                *lines, rest = key.data.split(b"\n")
                key.data[:] = rest
                yield sum(int(line) for line in lines if line.strip().isdigit())
        selector.close()

    def result(self) -> tuple[object, IndexReport]:
        """The worker's segment and report; :class:`IndexBuildError` if it failed."""
        code = self.process.wait()
        if code != 0 or not self.result_path.exists():
            lines = self.errors.read_text("utf-8", errors="replace").strip().splitlines()
            reason = lines[-1] if lines else f"killed by signal {-code}" if code < 0 else f"exit status {code}"
            raise IndexBuildError(
                f"the rebuild stopped: a worker process failed ({reason}); "
                "the index that was live is unchanged: run it again, or with --workers 1"
            )
        return pickle.loads(self.result_path.read_bytes())

    def stop(self) -> None:
        """Kill the process if it still runs (the rebuild failed or was interrupted); remove its files."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()
        for path in (self.job, self.result_path, self.errors):
            path.unlink(missing_ok=True)


def _split_by_size(sources: list[SourceFile], parts: int) -> list[list[SourceFile]]:
    """``sources`` in runs of about equal bytes, in order (so documents keep the walk's order)."""
    total = sum(source.size for source in sources) or 1
    split: list[list[SourceFile]] = [[] for _ in range(parts)]
    seen = 0
    for source in sources:
        split[min(parts - 1, seen * parts // total)].append(source)
        seen += source.size
    return [part for part in split if part]


def _worker_main() -> None:
    """A worker process: index the files of the job named on the command line into a
    segment of the generation, uncommitted; report progress on stdout, write the
    segment and the report beside the job."""
    job = Path(sys.argv[1])
    generation, sources, limit_mb = pickle.loads(job.read_bytes())
    ix = whoosh.index.open_dir(generation)
    writer = NewsSegmentWriter(ix, _lk=False, limitmb=limit_mb)  # the parent holds the locks
    report = IndexReport(index=Path(generation), corpus=Path())
    pending = 0

    def tick(done: int, total: int) -> None:
        nonlocal pending
        pending += 1
        if pending == 20 or done == total:
            sys.stdout.write(f"{pending}\n")
            sys.stdout.flush()
            pending = 0

    try:
        _apply(writer, sources, {}, report, tick)
        segment = writer._finalize_segment()
    except BaseException:
        writer.cancel()
        raise
    staging = job.with_suffix(".partial")
    staging.write_bytes(pickle.dumps((segment, report)))
    os.replace(staging, _result_of(job))


def _result_of(job: Path) -> Path:
    """Where a worker leaves its segment and report: beside its job, when complete."""
    return job.with_suffix(".result")


def _live_user_dict(live: Path) -> UserDict | None:
    """The user dictionary of the live index, kept by a rebuild that names none."""
    try:
        ix = open_whoosh(live)
    except Exception:  # a damaged index is being replaced: nothing to keep
        return None
    try:
        return user_dict_of(ix.schema)
    finally:
        ix.close()


def _apply(
    writer: IndexWriter,
    sources: list[SourceFile],
    known: dict[str, IndexedFile],
    report: IndexReport,
    progress: ProgressCallback | None,
) -> None:
    for done, source in enumerate(sources, 1):
        indexed = known.pop(source.path, None)
        try:
            _apply_file(writer, source, indexed, report)
        except Exception as error:  # one odd file must never sink the run
            reason = str(error) if isinstance(error, CorpusError) else f"{type(error).__name__}: {error}"
            report.skipped.append(Skipped(source.path, reason))
            if indexed:
                writer.delete_by_term("path", source.path)
                report.removed += 1
        if progress:
            progress(done, len(sources))
    for path in known:
        writer.delete_by_term("path", path)
        report.removed += 1


def _apply_file(writer: IndexWriter, source: SourceFile, indexed: IndexedFile | None, report: IndexReport) -> None:
    """Add or update one file; one that did not change is only stat-ed, or hashed if touched."""
    if indexed and (indexed.size, indexed.mtime_ns) == (source.size, source.mtime_ns):
        report.unchanged += 1
        return
    data = read_source(source)
    if indexed and content_hash(data) == indexed.content_hash:
        report.unchanged += 1  # touched, not changed: not parsed nor re-tokenized
        return
    article = parse_article(source.path, data, size=source.size, mtime_ns=source.mtime_ns)
    report.warnings.extend(Skipped(article.path, warning) for warning in article.warnings)
    if indexed:
        writer.update_document(**document(article))
        report.updated += 1
    else:
        writer.add_document(**document(article))
        report.added += 1


def document(article: Article) -> dict[str, object]:
    """The Whoosh fields of an article."""
    fields: dict[str, object] = {
        "path": article.path,
        "title": article.title,
        "grams": article.title,
        "body": article.body,
        "_stored_body": article.body[:MAX_STORED_BODY],
        "categories": "\n".join(article.categories + article.tags),
        "content_hash": article.content_hash.encode("ascii"),
        "size": article.size,
        "mtime_ns": article.mtime_ns,
        "meta": {
            "title": article.title,
            "categories": list(article.categories),
            "tags": list(article.tags),
            "author": article.author,
            "date": article.date.isoformat() if article.date else None,
        },
    }
    if article.categories:
        fields["category"] = ",".join(exact_value(value) for value in article.categories)
    if article.tags:
        fields["tag"] = ",".join(exact_value(value) for value in article.tags)
    if article.author:
        fields["author"] = exact_value(article.author)
    if article.date:
        fields["date"] = article.date.astimezone(timezone.utc).replace(tzinfo=None)
    return fields


def indexed_files(ix: whoosh.index.Index) -> dict[str, IndexedFile]:
    """Path → (size, mtime, hash) of every live document, read from columns only."""
    with ix.reader() as reader:
        columns = [reader.column_reader(name) for name in ("path", "size", "mtime_ns", "content_hash")]
        return {
            paths[docnum]: IndexedFile(sizes[docnum], mtimes[docnum], hashes[docnum].decode("ascii"))
            for paths, sizes, mtimes, hashes in [columns]
            for docnum in reader.all_doc_ids()
        }


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")

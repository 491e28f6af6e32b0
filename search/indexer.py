"""Building and updating an index from a corpus folder.

An update reads only what changed: files whose size and modification time match
the index are not opened; files that did change but hash the same are not
re-tokenized. A rebuild (or a first build) writes a new generation and switches
to it only when it is complete (see :mod:`search.storage`).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

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
from .analysis import UserDict
from .errors import CorpusError, IndexBuildError, UsageError
from .schema import build_schema, check_compatible, exact_value, index_settings, user_dict_of
from .storage import IndexDir, corrupt, default_index_dir, open_whoosh, read_meta, write_meta

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
        workers = _worker_count(workers, len(sources)) if report.rebuilt else 1
        try:
            if not report.rebuilt:
                known = indexed_files(ix)
            writer = ix.writer(limitmb=_LIMIT_MB)
        except Exception as error:  # damaged segment files
            raise corrupt(location.root, error) from None
        try:
            if workers > 1:
                _build_in_parallel(writer, generation, sources, workers, report, progress)
            else:
                _apply(writer, sources, known, report, progress)
                writer.commit(optimize=report.rebuilt)
        except BaseException:
            writer.cancel()
            raise
        report.documents = ix.doc_count()
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
    workers: int,
    report: IndexReport,
    progress: ProgressCallback | None,
) -> None:
    """Index ``sources`` into a new generation in ``workers`` processes, one segment each.

    Workers are spawned (nothing of this process is inherited: not the index lock,
    not threads), open the generation themselves and segment with the user
    dictionary its schema holds. This process only gathers their segments and
    commits them together: if any worker fails, nothing is committed.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from .analysis import warm_up

    warm_up(user_dict_of(writer.schema))  # compiles the dictionary caches once, for every worker
    context = multiprocessing.get_context("spawn")
    ticks = context.SimpleQueue()
    parts = _split_by_size(sources, workers)
    with ProcessPoolExecutor(len(parts), mp_context=context, initializer=_start_worker, initargs=(ticks,)) as pool:
        futures = [pool.submit(_index_part, str(generation), part) for part in parts]
        done = 0
        while not all(future.done() for future in futures) or not ticks.empty():
            if ticks.empty():
                time.sleep(0.05)
                continue
            done += ticks.get()
            if progress:
                progress(done, len(sources))
        try:
            results = [future.result() for future in futures]
        except Exception as error:  # a worker died, or failed outside any one file
            for future in futures:
                future.cancel()
            raise IndexBuildError(
                f"the rebuild stopped: a worker process failed ({type(error).__name__}: {error}); "
                "the index that was live is unchanged: run it again, or with --workers 1"
            ) from error
    for _, part_report in results:
        report.added += part_report.added
        report.skipped.extend(part_report.skipped)
        report.warnings.extend(part_report.warnings)
    writer._close_segment()  # this process's own segment is empty: it is not committed
    writer._commit_toc([segment for segment, _ in results])
    writer._finish()


def _split_by_size(sources: list[SourceFile], parts: int) -> list[list[SourceFile]]:
    """``sources`` in runs of about equal bytes, in order (so documents keep the walk's order)."""
    total = sum(source.size for source in sources) or 1
    split: list[list[SourceFile]] = [[] for _ in range(parts)]
    seen = 0
    for source in sources:
        split[min(parts - 1, seen * parts // total)].append(source)
        seen += source.size
    return [part for part in split if part]


_worker_ticks = None


def _start_worker(ticks) -> None:
    global _worker_ticks
    _worker_ticks = ticks


def _index_part(generation: str, sources: list[SourceFile]):
    """In a worker: index ``sources`` into a segment of the index at ``generation``, uncommitted."""
    from whoosh.writing import SegmentWriter

    ix = whoosh.index.open_dir(generation)
    writer = SegmentWriter(ix, _lk=False, limitmb=_LIMIT_MB)  # the parent holds the locks
    report = IndexReport(index=Path(generation), corpus=Path())
    pending = 0

    def tick(done: int, total: int) -> None:
        nonlocal pending
        pending += 1
        if pending == 20 or done == total:
            _worker_ticks.put(pending)
            pending = 0

    try:
        _apply(writer, sources, {}, report, tick)
        return writer._finalize_segment(), report
    except BaseException:
        writer.cancel()
        raise


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
        "content_hash": article.content_hash,
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
            paths[docnum]: IndexedFile(sizes[docnum], mtimes[docnum], hashes[docnum])
            for paths, sizes, mtimes, hashes in [columns]
            for docnum in reader.all_doc_ids()
        }


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")

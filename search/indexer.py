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
from .errors import CorpusError, UsageError
from .schema import build_schema, check_compatible, exact_value, index_settings, user_dict_of
from .storage import IndexDir, corrupt, default_index_dir, open_whoosh, read_meta, write_meta

#: Called as ``progress(done, total)`` while files are processed.
ProgressCallback = Callable[[int, int], None]


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
) -> IndexReport:
    """Bring the index at ``index_dir`` up to date with the files under ``corpus``.

    Without ``rebuild``, new, changed and deleted files are applied to the live
    index; with it (or when there is no index yet) a new one is built beside it.
    Files that cannot be indexed are reported in the result, never raised.

    ``user_dict`` is a jieba user dictionary (``word [frequency] [tag]`` lines);
    its words are stored in the index and used for its queries too. A rebuild
    without one keeps the words the live index has; an empty file drops them.
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
        try:
            if not report.rebuilt:
                known = indexed_files(ix)
            writer = ix.writer(limitmb=256)
        except Exception as error:  # damaged segment files
            raise corrupt(location.root, error) from None
        try:
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

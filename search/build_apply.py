"""Corpus files applied to a segment writer: what each article becomes in the index,
and what the index already holds of each file (to tell what changed)."""

from __future__ import annotations

from datetime import timezone
from itertools import compress
from typing import TYPE_CHECKING, Callable

import whoosh.index
from whoosh.writing import IndexWriter

from .engine.docsets import bytes_column_values, column_values
from .engine.whoosh_seam import deleted_docs
from .errors import CorpusError
from .ingest.corpus import MAX_STORED_BODY, Article, Skipped, SourceFile, Sources, content_hash, parse_article, read_source
from .schema import category_paths, exact_value

if TYPE_CHECKING:
    from .build import IndexReport

#: Called as ``progress(done, total)`` while files are processed.
ProgressCallback = Callable[[int, int], None]

#: Unchanged files are told to ``progress`` this many at a time (files read, one by
#: one): a call per file cost an update of 160,000 files 0.6 s under a terminal's bar.
PROGRESS_EVERY = 1000


#: What the index knows of a file, enough to tell whether it changed: its size,
#: modification time (ns) and content hash (ASCII bytes, as stored). A plain tuple:
#: one is made per indexed file at every update (a named tuple costs 160k of them 0.2 s).
IndexedFile = tuple[int, int, bytes]


def apply_files(
    writer: IndexWriter,
    sources: Sources,
    known: dict[str, IndexedFile],
    report: IndexReport,
    progress: ProgressCallback | None,
    *,
    articles_only: bool = True,
    unsettled: dict[str, str | None] | None = None,
) -> None:
    """Add, update and remove documents so ``writer`` holds ``sources``; ``known`` is
    what the index held (emptied as files are seen: what is left was deleted).
    ``unsettled`` gets the files the index does not hold as they are: each failed one
    with its reason if its bytes decide it, else (a read failing, a file only touched) ``None``."""
    total, pop = len(sources), known.pop
    for done, source in enumerate(sources, 1):  # once per file: kept to what costs little
        path, _, size, mtime_ns = source
        indexed = pop(path, None)
        if indexed is not None and indexed[0] == size and indexed[1] == mtime_ns:
            report.unchanged += 1  # not even opened
            if done % PROGRESS_EVERY and done < total:
                continue
        else:
            try:
                if _apply_file(writer, source, indexed, report, articles_only) and unsettled is not None:
                    unsettled[path] = None  # touched: the index keeps its former time
            except Exception as error:  # one odd file must never sink the run
                reason = str(error) if isinstance(error, CorpusError) else f"{type(error).__name__}: {error}"
                report.skipped.append(Skipped(path, reason))
                if unsettled is not None:
                    unsettled[path] = reason if isinstance(error, CorpusError) and not reason.startswith("cannot read") else None
                if indexed:
                    writer.delete_by_term("path", path)
                    report.removed += 1
        if progress:
            progress(done, total)
    for path in known:
        writer.delete_by_term("path", path)
        report.removed += 1


def _apply_file(
    writer: IndexWriter, source: SourceFile, indexed: IndexedFile | None, report: IndexReport, articles_only: bool
) -> bool:
    """Add or update one file whose size or time changed; one only touched is hashed,
    not parsed (and then true is returned)."""
    data = read_source(source)
    if indexed and same_content(data, indexed):
        report.unchanged += 1  # touched, not changed: not parsed nor re-tokenized
        return True
    article = parse_article(source.path, data, size=source.size, mtime_ns=source.mtime_ns, articles_only=articles_only)
    report.warnings.extend(Skipped(article.path, warning) for warning in article.warnings)
    if indexed:
        writer.update_document(**document_fields(article, writer.schema))
        report.updated += 1
    else:
        writer.add_document(**document_fields(article, writer.schema))
        report.added += 1
    return False


def document_fields(article: Article, schema=None) -> dict[str, object]:
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
        if schema is None or "category_path" in schema:  # indexes built before it lack the field
            fields["category_path"] = ",".join(category_paths(article.categories))
    if article.tags:
        fields["tag"] = ",".join(exact_value(value) for value in article.tags)
    if article.author:
        fields["author"] = exact_value(article.author)
    if article.date:
        fields["date"] = article.date.astimezone(timezone.utc).replace(tzinfo=None)
    return fields


def same_content(data: bytes, indexed: IndexedFile) -> bool:
    """Whether ``data`` is what the index holds of the file (a file touched, not changed)."""
    return content_hash(data).encode("ascii") == indexed[2]


def indexed_files_at(ix: whoosh.index.Index, paths: list[str]) -> dict[str, IndexedFile]:
    """:func:`indexed_files` of ``paths`` only (those the index holds), each looked up by its path."""
    found: dict[str, IndexedFile] = {}
    with ix.searcher() as searcher:
        reader = searcher.reader()
        columns = [reader.column_reader(name, translate=False) for name in ("size", "mtime_ns", "content_hash")]
        for path in paths:
            docnum = searcher.document_number(path=path)
            if docnum is not None:
                found[path] = (columns[0][docnum], columns[1][docnum], columns[2][docnum])
    return found


def indexed_paths_in(ix: whoosh.index.Index, folders: list[str]) -> list[str]:
    """The paths the index has terms for right in ``folders`` (``a/b``; deleted files' may linger)."""
    found: list[str] = []
    with ix.reader() as reader:
        for folder in folders:
            prefix = f"{folder}/" if folder else ""
            found += [path for path in (term.decode("utf-8") for term in reader.expand_prefix("path", prefix)) if "/" not in path[len(prefix) :]]
    return found


def holds_under(ix: whoosh.index.Index, folder: str) -> bool:
    """Whether the index holds a file under ``folder`` (``a/b``)."""
    with ix.reader() as reader:
        return next(iter(reader.expand_prefix("path", folder + "/")), None) is not None


def indexed_files(ix: whoosh.index.Index) -> dict[str, IndexedFile]:
    """Path → (size, mtime, hash) of every live document, read from columns only."""
    found: dict[str, IndexedFile] = {}
    with ix.reader() as reader:
        if not reader.doc_count_all():  # an empty index has no columns to read
            return found
        for segment, _ in reader.leaf_readers():  # a column at a time, not a value at a time
            paths = map(bytes.decode, bytes_column_values(segment, "path"))
            hashes = bytes_column_values(segment, "content_hash")
            files = zip(paths, zip(column_values(segment, "size"), column_values(segment, "mtime_ns"), hashes))
            deleted = deleted_docs(segment)
            if deleted:  # an updated segment: its live documents picked in C, not one by one
                live = bytearray(b"\x01") * segment.doc_count_all()
                for docnum in deleted:
                    live[docnum] = 0
                files = compress(files, live)
            found.update(files)
    return found

"""Integrity check: does the index read back whole, and does it match its corpus?"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from .build_apply import indexed_files, same_content
from .errors import CorpusError, UsageError
from .ingest.corpus import DEFAULT_INCLUDE, Skipped, parse_article, walk
from .storage import IndexDir, corrupt, default_index_dir


@dataclass
class CheckReport:
    """What ``check`` found. ``ok`` is true when the index reads back and matches the corpus."""

    index: Path
    corpus: Path | None
    documents: int = 0
    terms: int = 0
    postings: int = 0
    missing: list[str] = field(default_factory=list)  # in the corpus, not in the index
    stale: list[str] = field(default_factory=list)  # changed since they were indexed
    extra: list[str] = field(default_factory=list)  # in the index, no longer in the corpus
    unindexable: list[Skipped] = field(default_factory=list)  # in the corpus, but cannot be indexed

    @property
    def ok(self) -> bool:
        return not (self.missing or self.stale or self.extra)

    def to_json(self) -> dict[str, object]:
        return {
            "index": str(self.index),
            "corpus": str(self.corpus) if self.corpus else None,
            "ok": self.ok,
            "documents": self.documents,
            "terms": self.terms,
            "postings": self.postings,
            "missing": list(self.missing),
            "stale": list(self.stale),
            "extra": list(self.extra),
            "unindexable": [skipped.to_json() for skipped in self.unindexable],
        }


def check_index(
    index_dir: str | os.PathLike[str] | None = None,
    corpus: str | os.PathLike[str] | None = None,
    *,
    include: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
) -> CheckReport:
    """Read every stored document, term and posting of the index; then, given a
    corpus (or the one recorded in the index when ``corpus`` is ``None``), list the
    files that are missing, stale or extra.

    Raises :class:`IndexNotFoundError`, :class:`IndexVersionError` or
    :class:`IndexCorruptError` when the index itself is not usable, and
    :class:`UsageError` for a cluster (its servers check their own data).
    """
    from .cluster import is_cluster

    if is_cluster(None if index_dir is None else str(index_dir)):
        raise UsageError(f"check reads a folder index; {index_dir} is a cluster, whose searchd servers check their own data (see their logs)")
    location = IndexDir(index_dir if index_dir is not None else default_index_dir())
    live = location.open_live()
    meta, ix = live.meta, live.ix
    report = CheckReport(index=location.root, corpus=None)
    try:
        with ix.reader() as reader:
            report.documents = sum(1 for _ in reader.iter_docs())
            for fieldname, text in reader.all_terms():
                report.terms += 1
                report.postings += sum(1 for _ in reader.postings(fieldname, text).all_ids())
        known = indexed_files(ix)
    except Exception as error:  # Whoosh raises many kinds on damaged files
        raise corrupt(location.root, error) from None
    finally:
        ix.close()
    if corpus is None and meta.get("corpus"):
        corpus = meta["corpus"]
    if corpus is None:
        return report
    report.corpus = Path(corpus)
    patterns = tuple(include or meta.get("include") or DEFAULT_INCLUDE)
    articles_only = patterns == DEFAULT_INCLUDE  # as the index was built
    for found in walk(report.corpus, patterns, exclude or meta.get("exclude") or ()):
        if isinstance(found, Skipped):
            report.unindexable.append(found)
            continue
        indexed = known.pop(found.path, None)
        if indexed is None:
            _missing_or_unindexable(found.path, found.absolute, report, articles_only)
        elif indexed[:2] != (found.size, found.mtime_ns):
            try:
                changed = not same_content(found.absolute.read_bytes(), indexed)
            except OSError:
                changed = True
            if changed:
                report.stale.append(found.path)
    report.extra = sorted(known)
    return report


def _missing_or_unindexable(path: str, absolute: Path, report: CheckReport, articles_only: bool) -> None:
    try:
        parse_article(path, absolute.read_bytes(), articles_only=articles_only)
    except CorpusError as error:
        report.unindexable.append(Skipped(path, str(error)))
    except OSError as error:
        report.unindexable.append(Skipped(path, f"cannot read file: {error.strerror}"))
    else:
        report.missing.append(path)

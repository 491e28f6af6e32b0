"""Indexing a corpus into a cluster: each article as our own tokens, on the shard a
hash of its path picks, in every copy of that shard; incremental by content hash."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from datetime import timezone
from pathlib import Path
from typing import Sequence

from ..build import (
    DEFAULT_INCLUDE,
    IndexReport,
    check_corpus_folder,
    corpus_sources,
    now_iso,
    read_synonyms,
    read_user_dict,
    removes_too_much,
    worker_count,
)
from ..build_apply import ProgressCallback
from ..build_workers import child_environment, split_by_size
from ..errors import CorpusError, IndexBuildError, UsageError, plural
from ..ingest.corpus import MAX_STORED_BODY, Article, Skipped, content_hash, parse_article, read_source
from ..schema import category_paths, exact_value
from ..text.tokens import analyze
from .layout import SHARD_INDEX
from ..text.user_dict import UserDict
from .sphinxql import Address, connect, has_settings, quoted, read_settings, rows, shard_copies, write_setting

#: Rows per REPLACE statement, and per page when reading what a shard holds.
BATCH = 64
PAGE = 1000


def document_id(path: str) -> int:
    """A stable, positive 63-bit id for a corpus path."""
    return int.from_bytes(hashlib.blake2b(path.encode("utf-8"), digest_size=8).digest(), "big") >> 1 or 1


def value_id(kind: str, value: str) -> int:
    """The 63-bit id a filter value (category, path of categories, author) is stored as."""
    return document_id(f"{kind}\x00{value}")


def index_into_cluster(
    corpus: str | os.PathLike[str],
    url: str,
    *,
    rebuild: bool = False,
    include: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
    allow_removals: bool = False,
    progress: ProgressCallback | None = None,
    workers: int | None = None,
    user_dict: str | os.PathLike[str] | None = None,
    synonyms: str | os.PathLike[str] | None = None,
) -> IndexReport:
    """Bring the cluster's index up to date with ``corpus`` (see :func:`search.index_corpus`).

    The user dictionary and synonyms are kept on the head (its ``settings`` index), as a
    folder index keeps them: later runs keep them, an empty file drops them, and another
    user dictionary needs ``rebuild`` (every article is segmented again)."""
    started = time.perf_counter()
    address = Address.parse(url)
    report = IndexReport(index=str(address), corpus=Path(corpus))
    check_corpus_folder(report.corpus)
    include, exclude = tuple(include or DEFAULT_INCLUDE), tuple(exclude or ())
    sources = corpus_sources(report, include, exclude)
    given_user, given_synonyms = read_user_dict(user_dict), read_synonyms(synonyms)
    head = connect(address)
    shards = [[connect(copy) for copy in copies] for copies in shard_copies(head, address.index)]
    try:
        keeps_settings = has_settings(head)
        if not keeps_settings and (given_user is not None or given_synonyms is not None):
            raise UsageError(
                f"the head of {address} keeps no settings index, so it cannot hold a user dictionary or synonyms: "
                "write the cluster again with `news-search cluster init`"
            )
        known = _held(shards)
        user = _user_for_run(head, address, user_dict, given_user, bool(known) and not rebuild)
        _refuse_losses(report, sources, known, rebuild, allow_removals)
        if rebuild:  # every article sent again, in place: an interrupted rebuild never leaves the shards empty
            known = {path: "" for path in known}
        report.rebuilt = rebuild
        report.workers = worker_count(workers, len(sources))
        articles_only = include == DEFAULT_INCLUDE
        if report.workers > 1:
            _apply_in_workers(address, sources, known, report, progress, articles_only, report.workers, user)
        else:
            _apply_all(shards, sources, known, report, progress, articles_only, user)
        if rebuild:  # as a folder's rebuild reports it: every article added to the new index
            report.added, report.updated = report.added + report.updated, 0
        _delete(shards, known)
        report.removed += len(known)
        report.documents = sum(_count(copies[0]) for copies in shards)
        if keeps_settings:
            write_setting(head, "corpus", {"corpus": os.path.abspath(report.corpus), "updated": now_iso()})
        if given_user is not None:
            write_setting(head, "user_dict", [list(entry) for entry in given_user.entries])
        if given_synonyms is not None:
            write_setting(head, "synonyms", given_synonyms.to_json())
    finally:
        for connection in [head, *(copy for copies in shards for copy in copies)]:
            connection.close()
    report.seconds = time.perf_counter() - started
    return report


def _user_for_run(head, address: Address, path, given: UserDict | None, refuse_change: bool) -> UserDict | None:
    """The user dictionary this run segments with: the one given, else the head's."""
    held = UserDict(tuple((word, freq) for word, freq in read_settings(head).get("user_dict") or []))
    if given is not None and given != held and refuse_change:
        raise UsageError(f"{path} differs from the user dictionary {address} was built with: add --rebuild to re-segment every article with it")
    return (given if given is not None else held) or None


def _delete(shards: list, paths: dict) -> None:
    """Delete the articles of ``paths`` from every copy of their shards."""
    removed = [document_id(path) for path in paths]
    for number, copies in enumerate(shards):
        ids = [str(doc) for doc in removed if doc % len(shards) == number]
        for at in range(0, len(ids), PAGE):
            for connection in copies:
                rows(connection, f"DELETE FROM {SHARD_INDEX} WHERE id IN ({','.join(ids[at : at + PAGE])})")


def _apply_all(shards: list, sources, known: dict, report: IndexReport, progress, articles_only: bool, user: UserDict | None) -> None:
    """Write the new and changed articles of ``sources`` to their shards; ``known`` keeps
    what is to be removed (files gone, or no longer readable)."""
    pending: list[list[str]] = [[] for _ in shards]
    for done, source in enumerate(sources, 1):
        _apply(source, known, shards, pending, report, articles_only, user)
        if progress:
            progress(done, len(sources))
    for number, values in enumerate(pending):
        _flush(shards[number], values)


def _apply_in_workers(
    address: Address, sources, known: dict, report: IndexReport, progress, articles_only: bool, count: int, user: UserDict | None
) -> None:
    """:func:`_apply_all` shared between ``count`` worker processes, each with its own connections."""
    with tempfile.TemporaryDirectory(prefix="news-search-cluster-") as folder:
        processes = []
        for number, part in enumerate(split_by_size(sources, count)):
            job = Path(folder) / f"part-{number}.pickle"
            held = {source.path: known[source.path] for source in part if source.path in known}
            job.write_bytes(pickle.dumps((str(address), part, held, articles_only, user)))
            command = [sys.executable, "-c", "from search.cluster.build import worker_main; worker_main()", str(job)]
            processes.append((job, subprocess.Popen(command, env=child_environment(), stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)))
        for job, process in processes:
            _, errors = process.communicate()
            if process.returncode != 0:
                raise IndexBuildError(f"a cluster indexing worker failed: {errors.decode('utf-8', 'replace').strip().splitlines()[-1:]}")
            part: IndexReport
            part, left = pickle.loads(job.with_suffix(".result").read_bytes())
            report.added += part.added
            report.updated += part.updated
            report.unchanged += part.unchanged
            report.skipped += part.skipped
            report.warnings += part.warnings
            for path in [source.path for source in pickle.loads(job.read_bytes())[1]]:
                known.pop(path, None)
            known.update(left)
        if progress:
            progress(len(sources), len(sources))


def worker_main() -> None:
    """A worker process: index the files of the job named on the command line into the cluster."""
    job = Path(sys.argv[1])
    url, sources, known, articles_only, user = pickle.loads(job.read_bytes())
    address = Address.parse(url)
    head = connect(address)
    shards = [[connect(copy) for copy in copies] for copies in shard_copies(head, address.index)]
    report = IndexReport(index=url, corpus=Path())
    _apply_all(shards, sources, known, report, None, articles_only, user)
    job.with_suffix(".result").write_bytes(pickle.dumps((report, known)))


def _refuse_losses(report: IndexReport, sources, known: dict, rebuild: bool, allow_removals: bool) -> None:
    """The safeguards of a folder index: no emptying rebuild, no update removing most documents."""
    if allow_removals:
        return
    if rebuild and not sources and known:
        raise UsageError(
            f"{report.corpus} has no files to index, so a rebuild would empty {report.index} of its "
            f"{plural(len(known), 'document')}: add --allow-removals if that is meant"
        )
    if rebuild:
        return
    present = {source.path for source in sources}
    removing = sum(1 for path in known if path not in present)
    if removes_too_much(removing, len(known)):
        raise UsageError(
            f"this update would remove {removing} of the {plural(len(known), 'document')} of {report.index}, "
            f"whose files are not in {report.corpus}: add --allow-removals if that is meant"
        )


def _apply(source, known: dict, shards: list, pending: list[list[str]], report: IndexReport, articles_only: bool, user: UserDict | None) -> None:
    held = known.pop(source.path, None)
    try:
        data = read_source(source)
        if held == content_hash(data):
            report.unchanged += 1
            return
        article = parse_article(source.path, data, size=source.size, mtime_ns=source.mtime_ns, articles_only=articles_only)
    except Exception as error:  # one odd file must never sink the run
        reason = str(error) if isinstance(error, CorpusError) else f"{type(error).__name__}: {error}"
        report.skipped.append(Skipped(source.path, reason))
        if held is not None:
            known[source.path] = held  # removed below, as a folder index drops it
        return
    report.warnings.extend(Skipped(article.path, warning) for warning in article.warnings)
    number = document_id(article.path) % len(shards)
    pending[number].append(_row(article, user))
    if len(pending[number]) >= BATCH:
        _flush(shards[number], pending[number])
        pending[number].clear()
    if held is None:
        report.added += 1
    else:
        report.updated += 1


def _row(article: Article, user: UserDict | None) -> str:
    """The VALUES tuple of one article, in :data:`COLUMNS` order."""
    date = article.date.astimezone(timezone.utc) if article.date else None
    meta = {
        "title": article.title,
        "categories": list(article.categories),
        "tags": list(article.tags),
        "author": article.author,
        "date": article.date.isoformat() if article.date else None,
    }
    categories = [value_id("category", exact_value(name)) for name in article.categories]
    categories += [value_id("path", path) for path in category_paths(article.categories)]
    authors = [value_id("author", exact_value(article.author))] if article.author else []
    values = [
        str(document_id(article.path)),
        quoted(_tokens(article.title, user)),
        quoted(_tokens(article.body, user)),
        quoted(_tokens("\n".join(article.categories + article.tags), user)),
        quoted(article.path),
        quoted(article.title),
        quoted(article.body[:MAX_STORED_BODY]),
        quoted(article.content_hash),
        quoted(json.dumps(meta, ensure_ascii=False)),
        str(int(date.timestamp()) if date else 0),
        "1" if date else "0",
        str(_month(article)),
        f"({','.join(map(str, dict.fromkeys(categories)))})",
        f"({','.join(map(str, authors))})",
    ]
    return f"({', '.join(values)})"


COLUMNS = "id, title, body, categories, path, title_text, body_text, content_hash, meta, date, has_date, month, category_ids, author_ids"


def _month(article: Article) -> int:
    """``YYYYMM`` of the article's date in China Standard Time, as the facets count it (0: no date)."""
    if not article.date:
        return 0
    from ..ingest.dates import LOCAL_TIMEZONE

    local = article.date.astimezone(LOCAL_TIMEZONE)
    return local.year * 100 + local.month


def _tokens(text: str, user: UserDict | None) -> str:
    """Our index-time terms of ``text`` (sub-words included), joined by spaces."""
    return " ".join(token.text for token in analyze(text, subwords=True, user=user))


def _flush(copies: list, values: list[str]) -> None:
    if values:
        for connection in copies:
            rows(connection, f"REPLACE INTO {SHARD_INDEX} ({COLUMNS}) VALUES {', '.join(values)}")


def _held(shards: list) -> dict[str, str]:
    """Path → content hash of every document the shards hold (read from each shard's first copy)."""
    found: dict[str, str] = {}
    for copies in shards:
        last = 0
        while True:
            page = rows(copies[0], f"SELECT id, path, content_hash FROM {SHARD_INDEX} WHERE id > {last} ORDER BY id ASC LIMIT {PAGE} OPTION max_matches={PAGE}")
            found.update((path, digest) for _, path, digest in page)
            if len(page) < PAGE:
                break
            last = page[-1][0]
    return found


def _count(connection) -> int:
    rows(connection, f"SELECT id FROM {SHARD_INDEX} LIMIT 1")
    meta = dict(rows(connection, "SHOW META"))
    return int(meta.get("total_found", 0))

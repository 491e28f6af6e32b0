"""Building and updating an index from a corpus folder.

An update reads only what changed: files whose size and modification time match
the index are not opened; files that did change but hash the same are not
re-tokenized. A rebuild (or a first build) writes a new generation and switches
to it only when it is complete (see :mod:`search.storage`); a large one is
shared between processes (:mod:`search.build_workers`).
"""

from __future__ import annotations

import functools
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from operator import attrgetter
from pathlib import Path
from typing import Iterable, Sequence

import whoosh.index
from whoosh.writing import IndexWriter

from . import build_folders
from .build_apply import IndexedFile, ProgressCallback, apply_files, holds_under, indexed_files, indexed_files_at, indexed_paths_in
from .engine.whoosh_seam import segment_document_count
from .engine.writer import NewsSegmentWriter
from .errors import UsageError, plural
from .ingest.corpus import DEFAULT_INCLUDE, Skipped, SourceFile, SourceFiles, Sources, files_at, walk_folders
from .cluster import is_cluster
from .schema import build_schema, index_settings, user_dict_of
from .storage import IndexDir, corrupt, default_index_dir, open_whoosh, read_meta, write_meta
from .text.synonyms import Synonyms
from .text.user_dict import UserDict

#: A rebuild of this many files or more is shared between worker processes.
PARALLEL_FROM = 1000
MAX_WORKERS = 4
#: Memory for a writer's in-memory postings before it writes them to disk as a run
#: (shared between the workers of a parallel build): what bounds a build's memory.
LIMIT_MB = 128
#: An update may remove this many documents without ``allow_removals``, unless they are all it holds.
FEW_REMOVALS = 10
#: Files of changed folders an update looks up in the index one by one; with more, it reads what
#: the index holds of every file at once.
FEW_TO_LOOK_UP = 5_000


@dataclass
class IndexReport:
    """What one ``index`` run did."""

    index: Path | str  # a folder, or a cluster's address
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

    def to_json(self) -> dict[str, object]:
        return {
            "index": str(self.index),
            "corpus": str(self.corpus),
            "rebuilt": self.rebuilt,
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "skipped": [skipped.to_json() for skipped in self.skipped],
            "warnings": [warning.to_json() for warning in self.warnings],
            "notes": list(self.notes),
            "documents": self.documents,
            "seconds": round(self.seconds, 3),
            "workers": self.workers,
        }


@dataclass
class _Target:
    """The generation a run writes to: its Whoosh index, its metadata so far, and
    the files it holds (none for a rebuild)."""

    generation: Path
    ix: whoosh.index.Index
    meta: dict
    rebuilt: bool
    known: dict[str, IndexedFile] = field(default_factory=dict)
    #: Files the index will not hold as they are (see :func:`apply_files`).
    unsettled: dict[str, str | None] = field(default_factory=dict)


def index_corpus(
    corpus: str | os.PathLike[str] | None,
    index_dir: str | os.PathLike[str] | None = None,
    *,
    rebuild: bool = False,
    include: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
    lock_timeout: float = 10.0,
    progress: ProgressCallback | None = None,
    user_dict: str | os.PathLike[str] | None = None,
    workers: int | None = None,
    allow_removals: bool = False,
    synonyms: str | os.PathLike[str] | None = None,
    changed: Iterable[str | os.PathLike[str]] | None = None,
) -> IndexReport:
    """Bring the index at ``index_dir`` up to date with the files under ``corpus``.

    Without ``rebuild``, new, changed and deleted files are applied to the live
    index; with it (or when there is no index yet) a new one is built beside it.
    Files that cannot be indexed are reported in the result, never raised.

    ``corpus`` ``None`` means the folder the index was last built from, and then
    ``include`` and ``exclude`` default to the globs it was built with; otherwise
    to :data:`DEFAULT_INCLUDE` and none. With the default globs, a README, SOURCE,
    LICENSE or CHANGELOG file without front matter is skipped as not an article.

    Nothing is lost by mistake: an update from another folder than the index was
    built from is refused (rebuild it to change folders), and so is an update that
    would remove every document, or more than half of them and more than
    :data:`FEW_REMOVALS`, or a rebuild from a folder with no files over an index with
    documents, unless ``allow_removals`` says that is meant.

    ``user_dict`` is a jieba user dictionary (``word [frequency] [tag]`` lines);
    its words are stored in the index and used for its queries too. A rebuild
    without one keeps the words the live index has; an empty file drops them.

    ``synonyms`` is a synonyms file in Solr's format (see :mod:`search.text.synonyms`),
    stored with the index and applied to its queries; later runs keep it, an update
    may replace it (queries use it at once, no rebuild needed), an empty file drops it.

    A rebuild of :data:`PARALLEL_FROM` files or more is split between ``workers``
    processes (default: one per CPU, at most :data:`MAX_WORKERS`), each writing
    one segment of the new index; ``workers=1`` builds in this process.

    ``changed`` tells an update the only paths that may have changed (absolute, or
    under ``corpus``), as a watcher knows them: only they are looked at, not every
    file (one file of 1.6 million: no walk of them all). A folder among them, a path
    outside ``corpus``, or a corpus with symlinks or hard links, means a walk after all;
    ``unchanged`` then counts only the paths told.
    """
    if is_cluster(index_dir if index_dir is not None else os.environ.get("NEWS_SEARCH_INDEX")):
        from .cluster.build import index_into_cluster

        url = str(index_dir if index_dir is not None else os.environ["NEWS_SEARCH_INDEX"])
        if corpus is None:
            raise UsageError(f"give the corpus folder to index into {url}")
        return index_into_cluster(
            corpus, url, rebuild=rebuild, include=include, exclude=exclude, allow_removals=allow_removals,
            progress=progress, workers=workers, user_dict=user_dict, synonyms=synonyms,
        )
    started = time.perf_counter()
    location = IndexDir(index_dir if index_dir is not None else default_index_dir())
    if corpus is None:
        corpus, include, exclude = _recorded_corpus(location, include, exclude)
    include, exclude = tuple(include or DEFAULT_INCLUDE), tuple(exclude or ())
    report = IndexReport(index=location.root, corpus=Path(corpus))
    check_corpus_folder(report.corpus)
    user = read_user_dict(user_dict)
    own_synonyms = read_synonyms(synonyms)
    told = None if rebuild or changed is None else _told_paths(report.corpus, changed)
    # A build from scratch holds every file's entry the whole time: compactly.
    walk = None if told is not None else walk_corpus(report, include, exclude, compact=rebuild or location.current() is None)
    with location.lock(lock_timeout) as stale_lock:
        _clear_leftovers(location, stale_lock, report)
        live = location.current()
        live_meta = read_meta(live) if live is not None else {}
        if rebuild or live is None:
            walk = walk or walk_corpus(report, include, exclude, compact=True)
            sources = walk.sources
            if not allow_removals:
                _refuse_emptying(location, live_meta, sources, report.corpus)
            target = _open_for_rebuild(location, live, user)
        else:
            target = _open_for_update(location, user, user_dict)
            try:
                sources, walk = _to_compare(location, report, target, told, walk, include, exclude)
            except BaseException:
                target.ix.close()
                raise
            _check_update(location, target, report.corpus, sources, allow_removals)
        if walk is not None:  # updates told what changed rely on there being none
            target.meta["linked_paths"] = len(walk.linked)
        report.rebuilt = target.rebuilt
        report.workers = worker_count(workers, len(sources)) if target.rebuilt else 1
        ahead = report.unchanged  # the files of unchanged folders: done before any is read
        if progress and ahead:
            progress = functools.partial(_progress_after, progress, ahead)
        # Files named in globs of the user's are indexed whatever their names.
        _apply(location, target, sources, report, progress, articles_only=include == DEFAULT_INCLUDE)
        commit = target.ix.latest_generation()
        _record(target, report, live_meta, user_dict, include, exclude, (synonyms, own_synonyms))
        if walk is not None:
            _keep_digests(target.generation, commit, walk, report, target.unsettled, include, exclude)
        if target.rebuilt:
            location.switch_to(target.generation)
    report.seconds = time.perf_counter() - started
    return report


def _recorded_corpus(
    location: IndexDir, include: Sequence[str] | None, exclude: Sequence[str] | None
) -> tuple[str, Sequence[str] | None, Sequence[str] | None]:
    """The folder and globs the live index was built from (globs given win)."""
    live = location.current()
    meta = read_meta(live) if live is not None else {}
    if not meta.get("corpus"):
        raise UsageError(f"give the corpus folder: no index at {location.root} records one")
    return meta["corpus"], include or meta.get("include"), exclude or meta.get("exclude")


def check_corpus_folder(corpus: Path) -> None:
    if corpus.is_file():
        raise UsageError(f"{corpus} is a file: give the folder that holds the articles")
    if not corpus.is_dir():
        raise UsageError(f"corpus folder not found: {corpus}")


def _refuse_emptying(location: IndexDir, live_meta: dict, sources: Sources, corpus: Path) -> None:
    """A rebuild from a folder with no files to index (an unmounted disk, a mistyped
    path) would leave an index that holds documents empty."""
    holding = live_meta.get("documents") or 0
    if not sources and holding:
        raise UsageError(
            f"{corpus} has no files to index, so a rebuild would empty index {location.root.resolve()} "
            f"of its {plural(holding, 'document')}: add --allow-removals if that is meant"
        )


def _check_update(
    location: IndexDir, target: _Target, corpus: Path, sources: Sources, allow_removals: bool
) -> None:
    """Refuse an update from another folder than the index's, or one that would remove
    most of it (see :func:`index_corpus`); the index is closed if refused."""
    recorded = target.meta.get("corpus")
    problem = None
    if recorded and not _same_folder(recorded, corpus):
        problem = (
            f"index {location.root.resolve()} was built from {recorded}, not {os.path.abspath(corpus)}: give that "
            "folder (or none) to update it, or add --rebuild to build it from this one"
        )
    elif not allow_removals:
        holding = segment_document_count(target.ix)  # known holds them all, or the paths told
        removing = len(target.known) - sum(map(target.known.__contains__, map(attrgetter("path"), sources)))  # in C
        if removes_too_much(removing, holding):
            problem = (
                f"this update would remove {removing} of the {plural(holding, 'document')} of index "
                f"{location.root.resolve()}, whose files are not in {corpus}: add --allow-removals if that is meant"
            )
    if problem:
        target.ix.close()
        raise UsageError(problem)


def removes_too_much(removing: int, holding: int) -> bool:
    """Whether an update removing ``removing`` of ``holding`` documents needs ``allow_removals``:
    all of them, or more than half and more than :data:`FEW_REMOVALS`."""
    return bool(removing) and (removing == holding or (removing > holding / 2 and removing > FEW_REMOVALS))


def _same_folder(recorded: str, corpus: Path) -> bool:
    """Whether ``corpus`` is the folder recorded, by its path (a symlink whose target
    changes stays the same folder) or by where it leads."""
    return os.path.abspath(recorded) == os.path.abspath(corpus) or os.path.realpath(recorded) == os.path.realpath(corpus)


def read_user_dict(path: str | os.PathLike[str] | None) -> UserDict | None:
    try:
        return None if path is None else UserDict.read(path)
    except ValueError as error:
        raise UsageError(str(error)) from None


def read_synonyms(path: str | os.PathLike[str] | None) -> Synonyms | None:
    try:
        return None if path is None else Synonyms.read(path)
    except ValueError as error:
        raise UsageError(str(error)) from None


@dataclass
class Walk:
    """A walk of the corpus: its files, each folder's digest and span of them, and the
    symlinked folders it met."""

    sources: Sources
    folders: dict[str, tuple[bytes, int, int]] = field(default_factory=dict)
    linked: list[str] = field(default_factory=list)


def walk_corpus(report: IndexReport, include: Sequence[str], exclude: Sequence[str], compact: bool = False) -> Walk:
    """The corpus files to index; those that cannot be read go to ``report.skipped``.
    ``compact``: kept as :class:`SourceFiles` (a fifth of the memory, slower to go through)."""
    walk = Walk(SourceFiles() if compact else [])
    for files, skipped in walk_folders(report.corpus, include, exclude, walk.linked):
        if files:
            start = len(walk.sources)
            walk.sources.extend(files)
            walk.folders[build_folders.folder_of(files[0].path)] = (build_folders.digest(files), start, len(walk.sources))
        report.skipped.extend(skipped)
    if not walk.sources:
        unless = f", except {', '.join(exclude)}" if exclude else ""
        report.notes.append(f"no file in {report.corpus} matches {', '.join(include)}{unless}: nothing to index")
    return walk


def corpus_sources(report: IndexReport, include: Sequence[str], exclude: Sequence[str], compact: bool = False) -> Sources:
    """:func:`walk_corpus`'s files."""
    return walk_corpus(report, include, exclude, compact).sources


def _clear_leftovers(location: IndexDir, stale_lock: str | None, report: IndexReport) -> None:
    """Remove what killed runs left in the index folder, and say so."""
    if stale_lock:
        report.notes.append(stale_lock)
    leftovers = location.remove_stale()
    if leftovers:
        report.notes.append(f"removed what an interrupted run left behind: {', '.join(leftovers)}")


def _open_for_rebuild(location: IndexDir, live: Path | None, user: UserDict | None) -> _Target:
    """A new, empty generation beside the live one; it keeps the live index's user
    dictionary unless another is given."""
    if user is None and live is not None:
        user = _live_user_dict(live)
    generation = location.new_generation()
    ix = whoosh.index.create_in(str(generation), build_schema(user or None))
    return _Target(generation, ix, {"built": now_iso()}, rebuilt=True)


def _open_for_update(location: IndexDir, user: UserDict | None, user_dict: object) -> _Target:
    """The live generation, checked; a user dictionary other than its own is refused
    (changing words means re-segmenting everything)."""
    live = location.open_live()
    if user is not None and user != (user_dict_of(live.ix.schema) or UserDict(())):
        live.ix.close()
        raise UsageError(
            f"{user_dict} differs from the user dictionary index {location.root} was built with: "
            "add --rebuild to re-segment every article with it"
        )
    return _Target(live.path, live.ix, dict(live.meta), rebuilt=False)


def _to_compare(
    location: IndexDir, report: IndexReport, target: _Target, told: list[str] | None, walk: Walk | None, include: Sequence[str], exclude: Sequence[str]
) -> tuple[Sources, Walk | None]:
    """The files an update compares with the index, and the walk if one was made;
    what the index holds of them goes to ``target.known``. They are the paths told,
    else the files of the folders whose digests changed since the last update, else
    every file."""
    if told is not None:
        target.known = _known_files(location, target.ix, told)
        sources = _told_sources(report, target, told, include, exclude)
        if sources is not None:
            return sources, None
        walk = walk_corpus(report, include, exclude)
    assert walk is not None
    if not isinstance(walk.sources, list):  # walked for a first build, which another process made meanwhile
        walk.sources = list(walk.sources)
    stored = build_folders.read(target.generation, target.ix.latest_generation(), include, exclude)
    digests, failed = stored or ({}, {})
    changed = [folder for folder, (digest, _, _) in walk.folders.items() if digests.get(folder) != digest]
    if stored is None or "" in changed or sum(walk.folders[folder][2] - walk.folders[folder][1] for folder in changed) > FEW_TO_LOOK_UP:
        target.known = _known_files(location, target.ix, None)
        return walk.sources, walk
    gone = [folder for folder in digests if folder not in walk.folders]
    sources = [source for folder in changed for source in walk.sources[walk.folders[folder][1] : walk.folders[folder][2]]]
    looked_up = {source.path for source in sources}.union(indexed_paths_in(target.ix, changed + gone))
    target.known = _known_files(location, target.ix, sorted(looked_up))
    report.unchanged += len(walk.sources) - len(sources)
    # The files of unchanged folders that failed for their bytes fail again: said, not tried.
    unchanged = walk.folders.keys() - set(changed)
    again = {path: reason for path, reason in failed.items() if build_folders.folder_of(path) in unchanged}
    report.skipped.extend(Skipped(path, reason) for path, reason in sorted(again.items()))
    report.unchanged -= len(again)
    target.unsettled.update(again)
    return sources, walk


def _keep_digests(generation: Path, commit: int, walk: Walk, report: IndexReport, unsettled: dict[str, str | None], include: Sequence[str], exclude: Sequence[str]) -> None:
    """The folders' digests, for the next update of ``commit``: none that matches for a
    folder with a file the index does not hold as it is, unless it failed for its bytes
    (a walk's skipped files, and a parallel build's, count as not)."""
    retry = {build_folders.folder_of(path) for path, reason in unsettled.items() if reason is None}
    retry.update(build_folders.folder_of(skipped.path) for skipped in report.skipped if skipped.path not in unsettled)
    digests = {folder: b"" if folder in retry else digest for folder, (digest, _, _) in walk.folders.items()}
    failed = {path: reason for path, reason in unsettled.items() if reason is not None}
    build_folders.write(generation, commit, include, exclude, digests, failed)


def _known_files(location: IndexDir, ix: whoosh.index.Index, paths: list[str] | None) -> dict[str, IndexedFile]:
    """What the index holds of ``paths`` (of every file if ``None``); the index is closed if damaged."""
    try:
        return indexed_files(ix) if paths is None else indexed_files_at(ix, paths)
    except Exception as error:  # damaged segment files
        ix.close()
        raise corrupt(location.root, error) from None


def _told_paths(corpus: Path, changed: Iterable[str | os.PathLike[str]]) -> list[str] | None:
    """``changed`` as POSIX paths under ``corpus``; ``None`` if one is not under it."""
    roots = {os.path.abspath(corpus), os.path.realpath(corpus)}
    told = []
    for path in changed:
        full = os.path.join(corpus, path)  # as given, if absolute
        relative = next((os.path.relpath(full, root) for root in roots if _is_under(full, root)), None)
        if relative is None:
            return None
        told.append(relative.replace(os.sep, "/"))
    return told


def _is_under(path: str, root: str) -> bool:
    return os.path.commonpath([os.path.abspath(path), root]) == root and os.path.abspath(path) != root


def _told_sources(report: IndexReport, target: _Target, told: list[str], include: Sequence[str], exclude: Sequence[str]) -> list[SourceFile] | None:
    """The files of the paths ``told``, with those that cannot be indexed in the
    report; ``None`` when only a walk can tell (see :func:`files_at`, and a path
    gone that was a folder the index holds files of)."""
    if target.meta.get("linked_paths", 1):  # some, or not known: a file may be reached by another path
        return None
    found = files_at(report.corpus, told, include, exclude)
    if found is None:
        return None
    files, skipped = found
    there = {source.path for source in files} | {skipped_file.path for skipped_file in skipped}
    if any(path not in there and path not in target.known and holds_under(target.ix, path) for path in told):
        return None
    report.skipped.extend(skipped)
    return files


def _apply(
    location: IndexDir,
    target: _Target,
    sources: Sources,
    report: IndexReport,
    progress: ProgressCallback | None,
    *,
    articles_only: bool,
) -> None:
    """Write the changes (or the whole corpus) and commit them; nothing is committed on failure."""
    try:
        writer = NewsSegmentWriter(target.ix, limitmb=LIMIT_MB)
    except Exception as error:  # damaged segment files
        raise corrupt(location.root, error) from None
    try:
        if report.workers > 1:
            from .build_workers import build_in_parallel

            build_in_parallel(writer, target.generation, sources, report, progress, articles_only=articles_only)
        else:
            apply_files(writer, sources, target.known, report, progress, articles_only=articles_only, unsettled=target.unsettled)
            if target.rebuilt or report.added or report.updated or report.removed:
                writer.commit(optimize=target.rebuilt)
            else:  # nothing changed: no new commit for readers to reopen
                _cancel(writer)
    except BaseException:  # failed or interrupted: nothing is committed, a new generation goes
        _cancel(writer)
        target.ix.close()
        if target.rebuilt:
            shutil.rmtree(target.generation, ignore_errors=True)
        raise


def _progress_after(progress: ProgressCallback, ahead: int, done: int, total: int) -> None:
    progress(ahead + done, ahead + total)


def _cancel(writer: IndexWriter) -> None:
    """Drop what ``writer`` wrote; a cancel that fails too (its temporary files already
    gone) must not hide why the run stopped."""
    try:
        writer.cancel()
    except Exception:
        pass


def _record(
    target: _Target,
    report: IndexReport,
    live_meta: dict,
    user_dict: str | os.PathLike[str] | None,
    include: Sequence[str],
    exclude: Sequence[str],
    synonyms: tuple[str | os.PathLike[str] | None, Synonyms | None],
) -> None:
    """Write what the generation now holds and how it was built into its metadata."""
    # Counted from the table of contents: opening a reader would map every segment.
    report.documents = segment_document_count(target.ix)
    kept = user_dict_of(target.ix.schema)
    target.ix.close()
    # Words kept from the live index keep the file they were read from.
    source = str(Path(user_dict).resolve()) if user_dict is not None else (live_meta.get("user_dict") or {}).get("source")
    meta = target.meta
    meta.update(index_settings())
    meta.update(
        user_dict={"words": len(kept), "digest": kept.digest, "source": source} if kept else None,
        synonyms=_synonyms_meta(*synonyms, live_meta),
        corpus=os.path.abspath(report.corpus),
        include=list(include),
        exclude=list(exclude),
        updated=now_iso(),
        documents=report.documents,
    )
    write_meta(target.generation, meta)


def _synonyms_meta(path: str | os.PathLike[str] | None, read: Synonyms | None, live_meta: dict) -> dict | None:
    """The synonyms to keep: the file given (none if it is empty), else the live index's."""
    if path is None:
        return live_meta.get("synonyms")
    if not read:
        return None
    return {"words": len(read), "digest": read.digest, "source": str(Path(path).resolve()), "rules": read.to_json()}


def worker_count(asked: int | None, files: int) -> int:
    if asked is not None:
        if asked < 1:
            raise UsageError(f"workers must be 1 or more, not {asked}")
        return min(asked, max(1, files))
    if files < PARALLEL_FROM:
        return 1
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


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


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")

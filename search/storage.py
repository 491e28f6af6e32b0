"""Where an index lives on disk, and how writers take turns.

An index folder holds generations (``gen-…`` folders, each a complete Whoosh
index plus our ``news-search.json``) and a ``CURRENT`` file naming the live one.
A rebuild writes a new generation beside the live one and switches ``CURRENT``
atomically when it is complete, so searches never see a half-built index and a
killed rebuild costs nothing. Writers hold ``LOCK`` (an ``flock``, released by
the kernel if its owner dies), which records the owner's pid and host.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import whoosh.index

from .errors import REBUILD_HINT, IndexCorruptError, IndexLockedError, IndexNotFoundError, UsageError
from .schema import check_compatible

INDEX_ENV = "NEWS_SEARCH_INDEX"
DEFAULT_INDEX = "index"
META_FILE = "news-search.json"
_CURRENT = "CURRENT"
_LOCK = "LOCK"
_GENERATION_PREFIX = "gen-"


@dataclass
class LiveIndex:
    """The live generation opened: its folder, its ``news-search.json`` and its Whoosh index."""

    path: Path
    meta: dict
    ix: whoosh.index.Index


def default_index_dir() -> Path:
    """``$NEWS_SEARCH_INDEX`` if set, else ``./index``."""
    return Path(os.environ.get(INDEX_ENV) or DEFAULT_INDEX)


class IndexDir:
    """An index folder: its live generation, new generations, and the writer lock."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def current(self) -> Path | None:
        """The live generation's folder, or ``None`` if there is no index yet."""
        try:
            name = (self.root / _CURRENT).read_text("utf-8").strip()
        except (FileNotFoundError, NotADirectoryError):
            return None
        generation = self.root / name
        return generation if name.startswith(_GENERATION_PREFIX) and generation.is_dir() else None

    def require_current(self) -> Path:
        """The live generation, or :class:`IndexNotFoundError` saying how to build one."""
        generation = self.current()
        if generation is None:
            self._check_not_a_file()
            raise IndexNotFoundError(
                f"no index at {self.root.resolve()}: build one with `news-search index CORPUS --index {self.root}`"
            )
        return generation

    def _check_not_a_file(self) -> None:
        if self.root.exists() and not self.root.is_dir():
            raise UsageError(f"{self.root} is a file, not an index folder: give --index a folder")

    def open_live(self) -> LiveIndex:
        """The live generation, checked to be one this version reads, and opened;
        :class:`IndexNotFoundError`, :class:`IndexVersionError` or
        :class:`IndexCorruptError` otherwise."""
        generation = self.require_current()
        meta = read_meta(generation)
        check_compatible(meta, self.root)
        return LiveIndex(generation, meta, open_whoosh(generation))

    def new_generation(self) -> Path:
        """A fresh, empty generation folder (not live until :meth:`switch_to`)."""
        self.root.mkdir(parents=True, exist_ok=True)
        generation = self.root / f"{_GENERATION_PREFIX}{time.time_ns():x}-{os.getpid()}"
        generation.mkdir()
        return generation

    def switch_to(self, generation: Path) -> None:
        """Make ``generation`` the live index in one atomic rename, then drop the old ones."""
        pending = self.root / f"{_CURRENT}.{os.getpid()}.tmp"
        with open(pending, "w", encoding="utf-8") as handle:
            handle.write(generation.name + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(pending, self.root / _CURRENT)
        _fsync_folder(self.root)
        self.remove_stale()

    def remove_stale(self) -> list[str]:
        """Delete generations and temporary files that are not live (left by killed
        runs, or replaced by a rebuild); return their names.

        Only call while holding the lock: a generation being built is not live yet.
        """
        live = self.current()
        removed = []
        for entry in sorted(self.root.iterdir()) if self.root.is_dir() else ():
            if entry.name.startswith(_GENERATION_PREFIX) and entry != live:
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry.name)
            elif entry.name.startswith(f"{_CURRENT}.") and entry.name.endswith(".tmp"):
                entry.unlink(missing_ok=True)
                removed.append(entry.name)
        return removed

    @contextlib.contextmanager
    def lock(self, timeout: float = 10.0) -> Iterator[str | None]:
        """Hold the writer lock; wait up to ``timeout`` seconds for another writer.

        Yields a message when the previous writer died holding the lock (its
        record was never cleared); the kernel has released its ``flock`` already.
        """
        self._check_not_a_file()
        path = self.root / _LOCK
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            handle = open(path, "a+", encoding="utf-8")
        except OSError as error:  # read-only, not ours
            raise UsageError(
                f"cannot write to the index folder {self.root.resolve()} ({(error.strerror or str(error)).lower()}): "
                "give --index a folder you can write to"
            ) from None
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise IndexLockedError(
                            f"index {self.root} is being written by {_owner(path)}; "
                            f"waited {timeout:g}s, try again when it finishes"
                        ) from None
                    time.sleep(0.1)
            handle.seek(0)
            left = handle.read().strip()
            stale = f"cleared a lock left by {_owner(path)}, which stopped without finishing" if left else None
            _write_owner(handle, {"pid": os.getpid(), "host": socket.gethostname()})
            try:
                yield stale
            finally:
                _write_owner(handle, None)  # finished, even with an error: not a dead owner
        finally:
            handle.close()


def _write_owner(handle, owner: dict | None) -> None:
    handle.seek(0)
    handle.truncate()
    if owner:
        handle.write(json.dumps(owner))
    handle.flush()


def _owner(lock_path: Path) -> str:
    try:
        owner = json.loads(lock_path.read_text("utf-8"))
        return f"process {owner['pid']} on {owner['host']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def read_meta(generation: Path) -> dict:
    """The ``news-search.json`` of a generation (empty if missing or unreadable)."""
    try:
        return json.loads((generation / META_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return {}


def write_meta(generation: Path, meta: dict) -> None:
    """Replace a generation's ``news-search.json`` atomically."""
    pending = generation / f"{META_FILE}.tmp"
    pending.write_text(json.dumps(meta, ensure_ascii=False, indent=2), "utf-8")
    os.replace(pending, generation / META_FILE)


def open_whoosh(generation: Path) -> whoosh.index.Index:
    """The Whoosh index of a generation, or :class:`IndexCorruptError` if it cannot be read."""
    try:
        return whoosh.index.open_dir(str(generation))
    except Exception as error:  # Whoosh raises many kinds on damaged files
        raise corrupt(generation.parent, error) from None


def corrupt(root: Path, error: BaseException) -> IndexCorruptError:
    """The error for an index whose files do not read back."""
    return IndexCorruptError(
        f"index at {root} cannot be read ({type(error).__name__}: {error}); {REBUILD_HINT}"
    )

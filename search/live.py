"""An index kept open by a long-running process, and reopened when it changes on disk.

A service opens the index once and answers many requests with it. When another
process commits to it (``news-search index``, a watcher), the next use opens the
new state; uses already running finish on the index they started with, which is
closed when the last of them ends. One :class:`Index` answers one use at a time:
Whoosh's readers share file positions, and a search holds the interpreter anyway,
so more processes (not threads) are how a service uses more cores.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from typing import Iterator

from .searcher import Index, open_index


class LiveIndex:
    """The index at ``path``, as it is on disk at each use (looked at no more often
    than every ``check_every`` seconds)."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *, check_every: float = 0.0) -> None:
        self._path, self._check_every = path, check_every
        self._lock = threading.Lock()  # guards the fields below
        self._current: _Held | None = None
        self._checked = 0.0
        self._closed = False

    @contextlib.contextmanager
    def use(self) -> Iterator[Index]:
        """The index as it is now, for one request; raises what :func:`open_index` raises
        when there is no usable index."""
        held = self._acquire()
        try:
            with held.busy:
                yield held.index
        finally:
            self._release(held)

    def _acquire(self) -> "_Held":
        with self._lock:
            if self._closed:
                raise RuntimeError("this LiveIndex is closed")
            current = self._current
            now = time.monotonic()
            if current is not None and now - self._checked < self._check_every:
                current.users += 1
                return current
        # Opening and checking read the disk: done outside the lock, then settled under it.
        fresh = None
        if current is None or not current.index.is_current():
            fresh = _Held(open_index(self._path))
        with self._lock:
            self._checked = now
            if fresh is not None and (self._current is current):
                if current is not None:
                    current.retired = True
                    _close_if_idle(current)
                self._current = fresh
            elif fresh is not None:  # another request reopened meanwhile: keep theirs
                fresh.index.close()
            held = self._current
            held.users += 1
            return held

    def _release(self, held: "_Held") -> None:
        with self._lock:
            held.users -= 1
            _close_if_idle(held)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._current is not None:
                self._current.retired = True
                _close_if_idle(self._current)
                self._current = None


class _Held:
    """An open index, how many uses hold it, and whether a newer one replaced it."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self.busy = threading.Lock()  # one search at a time on one Index
        self.users = 0
        self.retired = False
        self.closed = False


def _close_if_idle(held: _Held) -> None:
    if held.retired and held.users == 0 and not held.closed:
        held.closed = True
        held.index.close()

"""Live updates: a corpus folder watched, and its changes applied to the index as they happen.

Built on watchfiles (inotify on Linux). Changes are gathered for a short moment
(``debounce_ms``), then applied as one incremental update, so a new or changed
article is searchable about a second after it is written and a deleted one
disappears. Each update after the first looks only at the paths that changed (a
walk of every file took 15 s at 1.6 million), and every :data:`WALK_EVERY_S` a walk
catches whatever the watcher did not say. An update that fails (a file
half-written, a safeguard of :func:`~search.build.index_corpus` refusing) is
reported and the index stays as it was; the next change tries again, with the
paths of the failed one too.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Callable

from .build import IndexReport, index_corpus

#: How long changes are gathered before an update applies them, in milliseconds.
DEBOUNCE_MS = 300
#: Seconds between walks of the whole corpus: they catch what the watcher may not say
#: (events lost to a full inotify queue, a folder it could not watch).
WALK_EVERY_S = 600


def watch_corpus(
    corpus: str | os.PathLike[str],
    index_dir: str | os.PathLike[str] | None,
    stop: threading.Event,
    *,
    on_update: Callable[[IndexReport], None] = lambda report: None,
    on_error: Callable[[Exception], None] = lambda error: None,
    debounce_ms: int = DEBOUNCE_MS,
    ready: threading.Event | None = None,
) -> None:
    """Watch ``corpus``, bring the index up to date with it (then set ``ready``), and
    apply each change as it comes, until ``stop`` is set. Each update's report goes to
    ``on_update``, each failure to ``on_error``. The watcher runs before the first update,
    so no change made meanwhile is missed."""
    from watchfiles import watch

    corpus = os.path.abspath(corpus)  # so the paths it names are absolute
    synced = False
    walked = False  # until a walk of the whole corpus is applied, updates walk it
    walked_at = time.monotonic()
    pending: set[str] = set()  # paths changed and not yet applied (an update failed)
    # Idle, the watcher yields nothing every 200 ms: the first such yield says it is running.
    for changes in watch(corpus, stop_event=stop, debounce=debounce_ms, step=50, rust_timeout=200, yield_on_timeout=True):
        pending.update(path for _, path in changes)
        due = walked and time.monotonic() - walked_at >= WALK_EVERY_S
        if changes or not synced or due:
            whole = not walked or due
            if whole:
                walked_at = time.monotonic()  # tried again after as long, should it fail
            if _update(corpus, index_dir, on_update, on_error, None if whole else sorted(pending)):
                walked = walked or whole
                pending.clear()
        if not synced:
            synced = True
            if ready is not None:
                ready.set()


def _update(corpus, index_dir, on_update, on_error, changed: list[str] | None) -> bool:
    """One update (of the paths ``changed`` only, if given); whether it was applied."""
    try:
        report = index_corpus(corpus, index_dir, lock_timeout=30.0, changed=changed)
    except Exception as error:  # the service goes on with the last good index
        on_error(error)
        return False
    on_update(report)
    return True

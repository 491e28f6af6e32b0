"""Live updates: a corpus folder watched, and its changes applied to the index as they happen.

Built on watchfiles (inotify on Linux). Changes are gathered for a short moment
(``debounce_ms``), then applied as one incremental update, so a new or changed
article is searchable about a second after it is written and a deleted one
disappears. An update that fails (a file half-written, a safeguard of
:func:`~search.build.index_corpus` refusing) is reported and the index stays as it
was; the next change tries again.
"""

from __future__ import annotations

import os
import threading
from typing import Callable

from .build import IndexReport, index_corpus

#: How long changes are gathered before an update applies them, in milliseconds.
DEBOUNCE_MS = 300


def watch_corpus(
    corpus: str | os.PathLike[str],
    index_dir: str | os.PathLike[str] | None,
    stop: threading.Event,
    *,
    on_update: Callable[[IndexReport], None] = lambda report: None,
    on_error: Callable[[Exception], None] = lambda error: None,
    debounce_ms: int = DEBOUNCE_MS,
) -> None:
    """Bring the index up to date with ``corpus``, then apply each change as it comes,
    until ``stop`` is set. Each update's report goes to ``on_update``, each failure to
    ``on_error``."""
    from watchfiles import watch

    _update(corpus, index_dir, on_update, on_error)
    for _ in watch(corpus, stop_event=stop, debounce=debounce_ms, step=50, yield_on_timeout=False):
        _update(corpus, index_dir, on_update, on_error)


def _update(corpus, index_dir, on_update, on_error) -> None:
    try:
        report = index_corpus(corpus, index_dir, lock_timeout=30.0)
    except Exception as error:  # the service goes on with the last good index
        on_error(error)
    else:
        on_update(report)

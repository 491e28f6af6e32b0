"""Files kept between processes to save work: where they live, how they are read and written.

Everything here can be computed again, so a cache that is missing, damaged or
cannot be written is never an error: it only costs the work once more.
"""

from __future__ import annotations

import marshal
import os
from pathlib import Path


def cache_dir() -> Path:
    """Where compiled dictionaries live: ``$NEWS_SEARCH_CACHE``, else the user cache folder."""
    configured = os.environ.get("NEWS_SEARCH_CACHE")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "news-search"


def read_cached(path: Path | None) -> object | None:
    """The value :func:`write_cached` kept at ``path``; ``None`` if there is none or it is damaged."""
    if path is None:
        return None
    try:
        return marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return None


def write_cached(path: Path | None, value: object) -> None:
    """Keep ``value`` (plain data: numbers, strings, tuples, lists, dicts) at ``path``
    for later processes, replacing the file in one step so no reader sees half of it."""
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = path.with_name(f".{path.name}.{os.getpid()}")
        staging.write_bytes(marshal.dumps(value))
        os.replace(staging, path)
    except OSError:
        pass

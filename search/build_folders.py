"""What each corpus folder held when the index was last brought up to date with it.

An update walks and stats every file, but it need only compare with the index the
files of folders whose listing changed: a folder's digest covers its files' names,
sizes and modification times, as the walk found them. The digests are kept beside
the generation they describe, with the number of the commit they describe: after
any other commit (a run stopped before writing them, an update told what changed,
an older release), they are not used, and the next update compares every file.
A folder holding a file the index does not hold as it is (only touched, or failing to
be read) gets no digest that matches; one failing for its bytes (not an article, bad
markup) is kept with its reason, reported again while its folder is unchanged.
"""

from __future__ import annotations

import hashlib
from array import array
from operator import itemgetter
from pathlib import Path
from typing import Sequence

from .cache import read_cached, write_cached
from .ingest.corpus import SourceFile

FILE = "folders.marshal"
_VERSION = 2


def folder_of(path: str) -> str:
    """The folder (``a/b``, ``""`` for the corpus's own) of a file's path."""
    return path.rpartition("/")[0]


def digest(files: list[SourceFile]) -> bytes:
    """One folder's files' paths, sizes and times, as a digest (made in C: once per folder)."""
    made = hashlib.blake2b("\0".join(map(itemgetter(0), files)).encode("utf-8", "surrogateescape"), digest_size=16)
    made.update(array("q", map(itemgetter(2), files)).tobytes())
    made.update(array("q", map(itemgetter(3), files)).tobytes())
    return made.digest()


def read(generation: Path, commit: int, include: Sequence[str], exclude: Sequence[str]) -> tuple[dict[str, bytes], dict[str, str]] | None:
    """Folder → digest, and the files that failed for their bytes → why, as found with
    these globs by the update that made ``commit`` (Whoosh's generation number);
    ``None`` if there are none of that commit and globs."""
    kept = read_cached(generation / FILE)
    if not isinstance(kept, dict) or kept.get("key") != _key(commit, include, exclude):
        return None
    folders, failed = kept.get("folders"), kept.get("failed")
    return (folders, failed) if isinstance(folders, dict) and isinstance(failed, dict) else None


def write(generation: Path, commit: int, include: Sequence[str], exclude: Sequence[str], folders: dict[str, bytes], failed: dict[str, str]) -> None:
    write_cached(generation / FILE, {"key": _key(commit, include, exclude), "folders": folders, "failed": failed})


def _key(commit: int, include: Sequence[str], exclude: Sequence[str]) -> list:
    return [_VERSION, commit, list(include), list(exclude)]

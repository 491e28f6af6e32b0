"""The errors news-search raises, each with a message a user can act on."""

from __future__ import annotations

#: How to mend an index that this version cannot read.
REBUILD_HINT = "rebuild it with `news-search index CORPUS --rebuild`"


def plural(number: int, noun: str) -> str:
    """``1 document``, ``2 documents``: counts in messages."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


class NewsSearchError(Exception):
    """Base class: anything news-search reports to its user rather than crashing."""

    #: Exit status the CLI uses for this error.
    exit_code = 1


class CorpusError(NewsSearchError):
    """A corpus file or folder that cannot be read; the file is skipped."""


class IndexNotFoundError(NewsSearchError):
    """No index at the given location."""

    exit_code = 3


class IndexVersionError(NewsSearchError):
    """The index was built by an incompatible version; it must be rebuilt."""

    exit_code = 3


class IndexCorruptError(NewsSearchError):
    """The index exists but cannot be read."""

    exit_code = 3


class IndexLockedError(NewsSearchError):
    """Another process is writing to the index."""

    exit_code = 4


class IndexBuildError(NewsSearchError):
    """A rebuild could not be finished; the index that was live stays live."""


class UsageError(NewsSearchError):
    """A bad option value, such as a date that is not a date."""

    exit_code = 2


class ArticleNotFoundError(UsageError, KeyError):
    """No article at the given path in the index. A :class:`KeyError` too, as
    :meth:`Index.document` has always raised for a missing path."""

    # KeyError would show the message quoted, as a repr.
    __str__ = Exception.__str__


class DependencyError(NewsSearchError, ImportError):
    """An installed library is not the release news-search was built on."""

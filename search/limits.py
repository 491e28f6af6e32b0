"""What a search may ask for: shared by the library and every interface."""

from __future__ import annotations

from typing import Literal

from .errors import UsageError

SortOrder = Literal["relevance", "date"]
#: Orders of hits: by relevance (best first), or by date (newest first).
SORT_ORDERS: tuple[str, ...] = ("relevance", "date")
#: Most hits on one page.
MAX_LIMIT = 1000


def check_request(limit: int, page: int, snippet_chars: int, sort: str = "relevance") -> None:
    """:class:`UsageError` for a page, size, snippet length or sort order a search cannot take."""
    for name, value in (("limit", limit), ("page", page), ("snippet_chars", snippet_chars)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise UsageError(f"{name} must be a whole number, not {value!r}")
    if not 1 <= limit <= MAX_LIMIT:
        raise UsageError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    if page < 1:
        raise UsageError(f"page must be 1 or more, not {page}")
    if snippet_chars < 1:
        raise UsageError(f"snippet_chars must be 1 or more, not {snippet_chars}")
    if sort not in SORT_ORDERS:
        raise UsageError(f"sort must be one of {', '.join(SORT_ORDERS)}, not {sort!r}")

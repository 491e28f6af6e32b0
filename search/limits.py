"""What a search may ask for: shared by the library and every interface."""

from __future__ import annotations

from typing import Literal

SortOrder = Literal["relevance", "date"]
#: Orders of hits: by relevance (best first), or by date (newest first).
SORT_ORDERS: tuple[str, ...] = ("relevance", "date")
#: Most hits on one page.
MAX_LIMIT = 1000

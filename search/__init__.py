"""news-search: full-text search for Chinese news articles.

Build or update an index from a folder of articles, then search it::

    from search import index_corpus, open_index

    index_corpus("articles/", "index/")
    with open_index("index/") as index:
        for hit in index.search("新能源汽车 销量", limit=5).hits:
            print(hit.title, hit.snippet)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

# Names load on first use, so `news-search search` does not import the corpus
# reader (BeautifulSoup, lxml) and a library user pays only for what they touch.
_HOMES = {
    "CheckReport": "check",
    "check_index": "check",
    "Article": "ingest.corpus",
    "Skipped": "ingest.corpus",
    "ArticleNotFoundError": "errors",
    "CorpusError": "errors",
    "IndexBuildError": "errors",
    "IndexCorruptError": "errors",
    "IndexLockedError": "errors",
    "IndexNotFoundError": "errors",
    "IndexVersionError": "errors",
    "NewsSearchError": "errors",
    "UsageError": "errors",
    "Document": "results",
    "CategoryCount": "results",
    "Facets": "results",
    "Hit": "results",
    "Index": "searcher",
    "IndexStats": "results",
    "SearchResult": "results",
    "open_index": "searcher",
    "IndexReport": "build",
    "LiveIndex": "live",
    "index_corpus": "build",
}

if TYPE_CHECKING:
    from .check import CheckReport, check_index
    from .ingest.corpus import Article, Skipped
    from .errors import (
        ArticleNotFoundError,
        CorpusError,
        IndexBuildError,
        IndexCorruptError,
        IndexLockedError,
        IndexNotFoundError,
        IndexVersionError,
        NewsSearchError,
        UsageError,
    )
    from .build import IndexReport, index_corpus
    from .live import LiveIndex
    from .results import CategoryCount, Document, Facets, Hit, IndexStats, SearchResult
    from .searcher import Index, open_index


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'search' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "Article",
    "ArticleNotFoundError",
    "CheckReport",
    "CorpusError",
    "Document",
    "CategoryCount",
    "Facets",
    "Hit",
    "Index",
    "IndexBuildError",
    "IndexCorruptError",
    "IndexLockedError",
    "IndexNotFoundError",
    "IndexReport",
    "IndexStats",
    "IndexVersionError",
    "LiveIndex",
    "NewsSearchError",
    "SearchResult",
    "Skipped",
    "UsageError",
    "check_index",
    "index_corpus",
    "open_index",
]

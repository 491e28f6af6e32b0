"""news-search: full-text search for Chinese news articles.

Build or update an index from a folder of articles, then search it::

    from search import index_corpus, open_index

    index_corpus("articles/", "index/")
    with open_index("index/") as index:
        for hit in index.search("新能源汽车 销量", limit=5).hits:
            print(hit.title, hit.snippet)
"""

from .check import CheckReport, check_index
from .corpus import Article, Skipped
from .errors import (
    ArticleNotFoundError,
    CorpusError,
    IndexCorruptError,
    IndexLockedError,
    IndexNotFoundError,
    IndexVersionError,
    NewsSearchError,
    UsageError,
)
from .index import Document, Facets, Hit, Index, IndexStats, SearchResult, open_index
from .indexer import IndexReport, index_corpus

__all__ = [
    "Article",
    "ArticleNotFoundError",
    "CheckReport",
    "CorpusError",
    "Document",
    "Facets",
    "Hit",
    "Index",
    "IndexCorruptError",
    "IndexLockedError",
    "IndexNotFoundError",
    "IndexReport",
    "IndexStats",
    "IndexVersionError",
    "NewsSearchError",
    "SearchResult",
    "Skipped",
    "UsageError",
    "check_index",
    "index_corpus",
    "open_index",
]

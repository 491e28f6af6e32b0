"""An open index: search it, read one article back, describe it."""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Literal

from whoosh import query as wq
from whoosh import scoring

from . import query as query_syntax
from .dates import parse_bound, to_utc
from .errors import IndexCorruptError, IndexVersionError, UsageError
from .schema import TEXT_FIELDS, check_compatible, exact_value
from .snippets import SNIPPET_CHARS, highlight, snippet
from .storage import IndexDir, corrupt, default_index_dir, open_whoosh, read_meta
from .suggest import Suggester

SortOrder = Literal["relevance", "date"]
SORT_ORDERS: tuple[str, ...] = ("relevance", "date")
MAX_LIMIT = 1000
_OPEN_ATTEMPTS = 4

#: BM25F parameters; field weights live in the schema.
WEIGHTING = scoring.BM25F(B=0.75, K1=1.2)

DateBound = datetime | date | str | None


@dataclass(frozen=True)
class _Described:
    """The fields every article carries: where it is and what it is."""

    path: str
    title: str
    date: str | None
    categories: list[str]
    tags: list[str]
    author: str | None

    @staticmethod
    def fields_from(stored: dict) -> dict[str, object]:
        meta = stored.get("meta") or {}
        return {
            "path": stored["path"],
            "title": meta.get("title") or "",
            "date": meta.get("date"),
            "categories": list(meta.get("categories") or []),
            "tags": list(meta.get("tags") or []),
            "author": meta.get("author"),
        }


@dataclass(frozen=True)
class Hit(_Described):
    """One search result. ``snippet`` and ``title_html`` are HTML: escaped text and ``<mark>``.

    ``date`` is ISO 8601 in UTC. ``score`` is the relevance score, ``None`` when
    hits are sorted by date (no relevance is computed then).
    """

    score: float | None
    snippet: str
    title_html: str

    def to_json(self) -> dict[str, object]:
        """The JSON form: the title is given highlighted, like the snippet."""
        data = asdict(self)
        data["title"] = data.pop("title_html")
        data["score"] = None if self.score is None else round(self.score, 4)
        return data


@dataclass(frozen=True)
class SearchResult:
    """A page of hits, and how many documents matched in all.

    ``suggestion`` is a corrected query that finds more, when this one found
    little (see :mod:`search.suggest`), else ``None``.
    """

    query: str
    total: int
    page: int
    limit: int
    hits: list[Hit]
    suggestion: str | None = None

    @property
    def pages(self) -> int:
        return -(-self.total // self.limit)

    def to_json(self) -> dict[str, object]:
        return {
            "query": self.query,
            "total": self.total,
            "page": self.page,
            "hits": [h.to_json() for h in self.hits],
            "suggestion": self.suggestion,
        }


@dataclass(frozen=True)
class Document(_Described):
    """One indexed article as stored: its fields and its text."""

    text: str


@dataclass(frozen=True)
class IndexStats:
    """What an index holds and how it was built.

    ``terms`` counts distinct terms per field as the index's term lists hold
    them: until segments merge, that includes terms of replaced documents.
    """

    location: Path
    documents: int
    terms: dict[str, int]
    size_bytes: int
    categories: list[tuple[str, int]]
    first_date: str | None
    last_date: str | None
    corpus: str | None
    updated: str | None
    settings: dict[str, object] = field(default_factory=dict)


class Index:
    """A read-only view of an index; open it with :meth:`open` or :func:`open_index`.

    Keep one open to run many searches: the index and jieba are loaded once.
    """

    def __init__(self, location: IndexDir) -> None:
        self.location = location
        for attempt in range(_OPEN_ATTEMPTS):
            self._generation = location.require_current()
            try:
                self._meta = read_meta(self._generation)
                check_compatible(self._meta, location.root)
                self._whoosh = open_whoosh(self._generation)
                self._searcher = self._whoosh.searcher(weighting=WEIGHTING)
                self._suggester: Suggester | None = None  # made on first need
                # Measured now: a rebuild may delete this generation while it stays open.
                self._size_bytes = sum(e.stat().st_size for e in os.scandir(self._generation) if e.is_file())
                break
            except IndexVersionError:
                raise
            except Exception as error:
                # A rebuild may have switched generations, or a commit replaced a
                # segment, between reading CURRENT and opening the files: look again.
                if attempt == _OPEN_ATTEMPTS - 1:
                    raise error if isinstance(error, IndexCorruptError) else corrupt(location.root, error) from None
                time.sleep(0.05 * (attempt + 1))

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None) -> "Index":
        """Open the index at ``path`` (default: ``$NEWS_SEARCH_INDEX`` or ``./index``)."""
        return cls(IndexDir(path if path is not None else default_index_dir()))

    def close(self) -> None:
        self._searcher.close()
        self._whoosh.close()

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __len__(self) -> int:
        return self._searcher.doc_count()

    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        page: int = 1,
        category: str | None = None,
        author: str | None = None,
        since: DateBound = None,
        until: DateBound = None,
        sort: SortOrder = "relevance",
        snippet_chars: int = SNIPPET_CHARS,
        suggest: bool = True,
    ) -> SearchResult:
        """Search with the query syntax of :mod:`search.query`; filters are exact values.

        ``category`` matches any level of an article's categories; ``since`` and
        ``until`` are inclusive (a date alone covers its whole day). An empty
        query lists every article that passes the filters. With ``suggest``, a
        query that finds little gets a corrected query in ``suggestion``.
        """
        if not 1 <= limit <= MAX_LIMIT:
            raise UsageError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
        if page < 1:
            raise UsageError(f"page must be 1 or more, not {page}")
        if snippet_chars < 1:
            raise UsageError(f"snippet_chars must be 1 or more, not {snippet_chars}")
        if sort not in SORT_ORDERS:
            raise UsageError(f"sort must be one of {', '.join(SORT_ORDERS)}, not {sort!r}")
        tree = query_syntax.parse(query)
        compiled = query_syntax.to_whoosh(tree)
        if not query.strip():
            compiled = wq.Every()
        terms = query_syntax.highlight_terms(tree)
        phrases = query_syntax.highlight_phrases(tree)
        filters = _filters(category, author, since, until)
        results = self._searcher.search(
            compiled,
            limit=page * limit,
            filter=filters,
            sortedby="date" if sort == "date" else None,
            reverse=sort == "date",
            terms=False,
        )
        by_relevance = sort == "relevance"
        hits = [self._hit(result, terms, phrases, snippet_chars, by_relevance) for result in results[(page - 1) * limit : page * limit]]
        suggestion = self._suggest(query, len(results), filters) if suggest and query.strip() else None
        return SearchResult(query=query, total=len(results), page=page, limit=limit, hits=hits, suggestion=suggestion)

    def _suggest(self, query: str, total: int, filters: wq.Query | None) -> str | None:
        if self._suggester is None:
            self._suggester = Suggester(self._searcher)
        return self._suggester.suggest(query, total, filters)

    def _hit(self, result, terms: set[str], phrases: list[list[str]], snippet_chars: int, scored: bool) -> Hit:
        stored = result.fields()
        fields = Hit.fields_from(stored)
        return Hit(
            **fields,
            score=float(result.score or 0.0) if scored else None,
            snippet=snippet(stored.get("body") or "", terms, snippet_chars, phrases),
            title_html=highlight(str(fields["title"]), terms),
        )

    def document(self, path: str) -> Document:
        """The stored article at corpus-relative ``path``; :class:`KeyError` if absent."""
        stored = self._searcher.document(path=path)
        if stored is None:
            raise KeyError(path)
        return Document(**Document.fields_from(stored), text=stored.get("body") or "")

    def stats(self) -> IndexStats:
        """Counts, size on disk, categories, date range and build settings."""
        reader = self._searcher.reader()
        # Counted over live documents' stored fields: the lexicon still holds
        # replaced and deleted documents until their segments merge.
        counts: Counter[str] = Counter()
        for _, stored in reader.iter_docs():
            counts.update(set((stored.get("meta") or {}).get("categories") or ()))
        categories = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
        dated = self._searcher.search(wq.Every("date"), sortedby="date", limit=None)
        first = last = None
        if len(dated):
            first = dated[0].fields().get("meta", {}).get("date")
            last = dated[len(dated) - 1].fields().get("meta", {}).get("date")
        settings = {key: value for key, value in self._meta.items() if key in ("schema_version", "analysis", "include", "exclude")}
        return IndexStats(
            location=self.location.root,
            documents=reader.doc_count(),
            terms={name: sum(1 for _ in reader.lexicon(name)) for name in TEXT_FIELDS},
            size_bytes=self._size_bytes,
            categories=categories,
            first_date=first,
            last_date=last,
            corpus=self._meta.get("corpus"),
            updated=self._meta.get("updated"),
            settings=settings,
        )

    @property
    def corpus(self) -> str | None:
        """The corpus folder the index was last built or updated from."""
        return self._meta.get("corpus")


def open_index(path: str | os.PathLike[str] | None = None) -> Index:
    """Open the index at ``path`` (default: ``$NEWS_SEARCH_INDEX`` or ``./index``)."""
    return Index.open(path)


def _filters(category: str | None, author: str | None, since: DateBound, until: DateBound) -> wq.Query | None:
    filters: list[wq.Query] = []
    if category:
        filters.append(wq.Term("category", exact_value(category)))
    if author:
        filters.append(wq.Term("author", exact_value(author)))
    if since is not None or until is not None:
        start = _bound(since, end=False)
        end = _bound(until, end=True)
        if start and end and start > end:
            raise UsageError(f"--since {since} is after --until {until}")
        filters.append(wq.DateRange("date", start, end))
    if not filters:
        return None
    return filters[0] if len(filters) == 1 else wq.And(filters)


def _bound(value: DateBound, *, end: bool) -> datetime | None:
    """A naive UTC datetime for Whoosh's date field."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            moment = parse_bound(value, end=end)
        except ValueError as error:
            raise UsageError(str(error)) from None
    elif isinstance(value, datetime):
        moment = to_utc(value)
    else:
        moment = parse_bound(value.isoformat(), end=end)
    return moment.astimezone(timezone.utc).replace(tzinfo=None)

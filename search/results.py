"""What searches return: hits, pages of them, facets, stored articles and index stats.

Plain dataclasses, each with the JSON form the CLI prints.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class _Described:
    """The fields every article carries: where it is and what it is."""

    path: str
    title: str
    #: When it was published, time zone included; ``None`` for an undated article.
    date: datetime | None
    categories: list[str]
    tags: list[str]
    author: str | None

    @staticmethod
    def fields_from(stored: dict) -> dict[str, object]:
        meta = stored.get("meta") or {}
        return {
            "path": stored["path"],
            "title": meta.get("title") or "",
            "date": datetime.fromisoformat(meta["date"]) if meta.get("date") else None,
            "categories": list(meta.get("categories") or []),
            "tags": list(meta.get("tags") or []),
            "author": meta.get("author"),
        }


@dataclass(frozen=True)
class Hit(_Described):
    """One search result. ``snippet`` and ``title_html`` are HTML: escaped text and ``<mark>``.

    The same highlights as data: ``title_spans`` are ``(start, end)`` offsets of the
    query's words in ``title``; ``snippet_text`` is the snippet as plain text (``…``
    where text was left out) and ``snippet_spans`` the words' offsets in it.
    ``date`` is in the zone the article gave (UTC+8 when it gave none). ``score``
    is the relevance score, ``None`` when hits are sorted by date (no relevance is
    computed then).
    """

    score: float | None
    snippet: str
    title_html: str
    title_spans: tuple[tuple[int, int], ...] = ()
    snippet_text: str = ""
    snippet_spans: tuple[tuple[int, int], ...] = ()

    def to_json(self) -> dict[str, object]:
        """The JSON form (README: "The JSON contract"): every field, the date as ISO 8601
        with its offset, spans as ``[start, end]`` pairs."""
        # Field by field, lists copied: dataclasses.asdict deep-copies every value (slow in --batch).
        return {
            "path": self.path,
            "title": self.title,
            "title_html": self.title_html,
            "title_spans": [list(span) for span in self.title_spans],
            "date": _iso(self.date),
            "categories": list(self.categories),
            "tags": list(self.tags),
            "author": self.author,
            "score": None if self.score is None else round(self.score, 4),
            "snippet": self.snippet,
            "snippet_text": self.snippet_text,
            "snippet_spans": [list(span) for span in self.snippet_spans],
        }


@dataclass(frozen=True)
class CategoryCount:
    """One level of a category path, with the documents under it and its next levels.

    ``path`` is the levels from the top as written, joined by ``/``: what the
    ``category`` filter takes to find exactly these ``documents``.
    """

    category: str
    path: str
    documents: int
    children: list["CategoryCount"] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "category": self.category,
            "path": self.path,
            "documents": self.documents,
            "children": [child.to_json() for child in self.children],
        }


@dataclass(frozen=True)
class Facets:
    """How all matched documents (not only the page shown) divide by category and by month.

    ``categories``: (category as written, documents), most first, ties by name; an
    article counts under each of its categories (any level), and under none if it has
    none. ``category_tree``: the same articles by path of levels from the top
    (新媒体 › cnBeta › 最新), so a level that many sources share (最新, channel) is
    counted under each parent, not in one bucket. ``months``: (``YYYY-MM`` in China
    Standard Time, documents), newest first; undated articles are not counted. So no
    list need add up to the total.
    """

    categories: list[tuple[str, int]]
    months: list[tuple[str, int]]
    category_tree: list[CategoryCount] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        """The JSON form, shaped like the categories of ``stats --json``."""
        return {
            "categories": [{"category": name, "documents": count} for name, count in self.categories],
            "category_tree": [node.to_json() for node in self.category_tree],
            "months": [{"month": month, "documents": count} for month, count in self.months],
        }


@dataclass(frozen=True)
class SearchResult:
    """A page of hits, how many documents matched in all, and their facets if asked for.

    ``suggestion`` is a corrected query that finds more, when this one found
    little (see :mod:`search.suggest`), else ``None``.
    """

    query: str
    total: int
    page: int
    limit: int
    hits: list[Hit]
    facets: Facets | None = None
    suggestion: str | None = None
    #: The filters the search applied, as given (see :class:`search.query.filters.Filters`).
    filters: dict[str, object] = field(default_factory=dict)
    #: How long the search took, in milliseconds.
    took_ms: float = 0.0
    #: What a cluster said when part of it did not answer: the hits are then partial.
    warnings: list[str] = field(default_factory=list)
    #: Whether ``total`` counts every match. A search of many matches skips the ones
    #: that cannot make its page (:mod:`search.engine.maxscore`); ``total`` is then at
    #: least that many, and never under 10 (a count under 10 is always exact).
    total_is_exact: bool = True

    @property
    def pages(self) -> int:
        return -(-self.total // self.limit)

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "query": self.query,
            "total": self.total,
            "total_is_exact": self.total_is_exact,
            "page": self.page,
            "limit": self.limit,
            "pages": self.pages,
            "took_ms": round(self.took_ms, 2),
            "filters": self.filters,
            "hits": [h.to_json() for h in self.hits],
            "suggestion": self.suggestion,
        }
        if self.facets is not None:
            data["facets"] = self.facets.to_json()
        if self.warnings:
            data["partial"] = True
            data["warnings"] = list(self.warnings)
        return data


@dataclass(frozen=True)
class Document(_Described):
    """One indexed article as stored: its fields and its text."""

    text: str

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["date"] = _iso(self.date)
        return data


@dataclass(frozen=True)
class IndexStats:
    """What an index holds and how it was built.

    ``terms`` counts distinct terms per field as the index's term lists hold
    them: until segments merge, that includes terms of replaced documents.
    ``first_date`` and ``last_date`` are the oldest and newest articles' dates.
    """

    location: Path
    documents: int
    terms: dict[str, int]
    size_bytes: int
    categories: list[tuple[str, int]]
    first_date: datetime | None
    last_date: datetime | None
    corpus: str | None
    updated: str | None
    settings: dict[str, object] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["location"] = str(self.location)
        data["categories"] = [{"category": name, "documents": count} for name, count in self.categories]
        for name in ("first_date", "last_date"):
            data[name] = _iso(data[name])
        return data


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None

"""Filters and facets: category, author and date restrictions, and how matches divide.

Filters are exact values (see :func:`search.schema.exact_value`); several values
of one filter mean any of them. A category may be a path of levels as hits show
it (``新闻联播/国际``): an article matches when those levels stand in its
categories in that order, one after the other. Dates are read in China Standard
Time when they carry no zone.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone

from whoosh import query as wq
from whoosh import sorting
from whoosh.util.times import long_to_datetime

from ..engine.docsets import DocSet, matching_array
from ..errors import UsageError
from ..results import CategoryCount
from ..schema import exact_value

DateBound = datetime | date | str | None
#: One value of a filter, or several of which any may match.
Values = str | Sequence[str] | None
#: What separates the levels of a category path.
LEVELS = "/"


def local_month(value: int) -> str | None:
    """``YYYY-MM`` in China Standard Time of a ``date`` column value (0: no date)."""
    if not value:
        return None
    from ..ingest import dates  # dateutil: imported only when dates are asked for

    moment = long_to_datetime(value).replace(tzinfo=timezone.utc)
    try:
        moment = moment.astimezone(dates.LOCAL_TIMEZONE)
    except OverflowError:  # the last hours of year 9999
        pass
    return f"{moment.year:04d}-{moment.month:02d}"


#: What ``facets=True`` groups by: every level of the exact ``category`` terms, every
#: path of levels from the top (``category_path``), and the local month of the ``date``
#: column; no stored fields are read per match.
FACETS = {
    "category": sorting.FieldFacet("category", allow_overlap=True),
    "category_path": sorting.FieldFacet("category_path", allow_overlap=True),
    "month": sorting.TranslateFacet(local_month, sorting.FieldFacet("date")),
}


def category_tree(counts: dict[str, int], level_name: Callable[[str], str]) -> list[CategoryCount]:
    """Documents per exact path (``a``, ``a/b``) as a tree of levels, most documents
    first; ``level_name`` names a path's last level as articles write it."""
    children: dict[str, list[str]] = {}
    for key in counts:
        if key:
            children.setdefault(key.rpartition(LEVELS)[0], []).append(key)

    def nodes(parent: str, parent_path: str) -> list[CategoryCount]:
        found = []
        for key in children.get(parent, ()):
            name = level_name(key)
            path = f"{parent_path}{LEVELS}{name}" if parent_path else name
            found.append(CategoryCount(name, path, counts[key], nodes(key, path)))
        return sorted(found, key=lambda node: (-node.documents, node.category))

    return nodes("", "")


def facets_of(schema) -> dict[str, sorting.FacetType]:
    """:data:`FACETS` that ``schema`` can count (indexes built before paths have none)."""
    return {name: facet for name, facet in FACETS.items() if name != "category_path" or name in schema}


@dataclass(frozen=True)
class Filters:
    """The filters of one search, checked: any of ``categories``, any of ``authors``,
    and dates from ``since`` to ``until`` (inclusive; as given, for showing them)."""

    categories: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    since: DateBound = None
    until: DateBound = None

    @classmethod
    def of(cls, category: Values = None, author: Values = None, since: DateBound = None, until: DateBound = None) -> "Filters":
        """Filters from a search's arguments; :class:`UsageError` for a value that is not one."""
        filters = cls(_values("category", category), _values("author", author), since, until)
        start, end = filters.date_range()
        if start and end and start > end:
            raise UsageError(f"--since {since} is after --until {until}")
        return filters

    def __bool__(self) -> bool:
        return bool(self.categories or self.authors or self.since is not None or self.until is not None)

    def to_json(self) -> dict[str, object]:
        """The filters that were given: ``category`` and ``author`` lists, ``since`` and ``until`` as given."""
        found: dict[str, object] = {}
        if self.categories:
            found["category"] = list(self.categories)
        if self.authors:
            found["author"] = list(self.authors)
        for name, bound in (("since", self.since), ("until", self.until)):
            if bound is not None:
                found[name] = bound if isinstance(bound, str) else bound.isoformat()
        return found

    def documents(self, searcher) -> DocSet | None:
        """The (top-level) documents that pass every filter; ``None`` when there is none."""
        if not self:
            return None
        found: DocSet | None = None
        for part in self._parts(searcher):
            found = part if found is None else found & part
            if not found:
                break
        if found is not None and len(found) == searcher.doc_count():
            return None  # every live document passes (an author all the articles have): nothing to filter
        return found

    def _parts(self, searcher):
        if self.categories:
            yield functools.reduce(operator.or_, (_category_docs(searcher, category) for category in self.categories))
        if self.authors:
            yield DocSet(matching_array(searcher, wq.Or([wq.Term("author", exact_value(author)) for author in self.authors])))
        if self.since is not None or self.until is not None:
            yield DocSet(matching_array(searcher, wq.DateRange("date", *self.date_range())))

    def date_range(self) -> tuple[datetime | None, datetime | None]:
        return _bound(self.since, end=False), _bound(self.until, end=True)


def _values(name: str, given: Values) -> tuple[str, ...]:
    """A filter's values: one text, or a list of texts (any may match); blanks dropped."""
    if given is None:
        return ()
    values = [given] if isinstance(given, str) else list(given) if isinstance(given, (list, tuple, set, frozenset)) else None
    if values is None or not all(isinstance(value, str) for value in values):
        raise UsageError(f"{name} must be a text or a list of texts, not {given!r}")
    return tuple(dict.fromkeys(value.strip() for value in values if value.strip()))


def _category_docs(searcher, category: str) -> DocSet:
    """Documents with ``category`` as one of their categories, or, for a path of levels,
    with those levels one after the other in their categories."""
    whole = DocSet(matching_array(searcher, wq.Term("category", exact_value(category))))
    levels = [exact_value(level) for level in category.split(LEVELS) if level.strip()]
    if len(levels) < 2:
        return whole
    candidates = matching_array(searcher, wq.And([wq.Term("category", level) for level in levels]))
    others = set(candidates.tolist()) - whole.as_set()
    return whole | DocSet.of(sorted(docnum for docnum in others if _in_order(_categories_of(searcher, docnum), levels)))


def _categories_of(searcher, docnum: int) -> list[str]:
    return [exact_value(name) for name in (searcher.stored_fields(docnum).get("meta") or {}).get("categories") or ()]


def _in_order(categories: list[str], levels: list[str]) -> bool:
    """Whether ``levels`` stand in ``categories`` one after the other, in order."""
    width = len(levels)
    return any(categories[start : start + width] == levels for start in range(len(categories) - width + 1))


def _bound(value: DateBound, *, end: bool) -> datetime | None:
    """A naive UTC datetime for Whoosh's date field."""
    if value is None:
        return None
    from ..ingest import dates  # dateutil: imported only when dates are asked for

    if isinstance(value, str):
        try:
            moment = dates.parse_bound(value, end=end)
        except ValueError as error:
            raise UsageError(str(error)) from None
    elif isinstance(value, datetime):
        moment = dates.to_utc(value)
    elif isinstance(value, date):
        moment = dates.parse_bound(value.isoformat(), end=end)
    else:
        raise UsageError(f"{'until' if end else 'since'} must be a date, a datetime or a text, not {value!r}")
    return moment.astimezone(timezone.utc).replace(tzinfo=None)

"""Filters and facets: category, author and date restrictions, and how matches divide.

Filters are exact values (see :func:`search.schema.exact_value`), and dates are
read in China Standard Time when they carry no zone.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from whoosh import query as wq
from whoosh import sorting
from whoosh.util.times import long_to_datetime

from ..errors import UsageError
from ..schema import exact_value

DateBound = datetime | date | str | None


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


#: What ``facets=True`` groups by: every level of the exact ``category`` terms, and
#: the local month of the ``date`` column; no stored fields are read per match.
FACETS = {
    "category": sorting.FieldFacet("category", allow_overlap=True),
    "month": sorting.TranslateFacet(local_month, sorting.FieldFacet("date")),
}


def filter_query(category: str | None, author: str | None, since: DateBound, until: DateBound) -> wq.Query | None:
    """The query that documents passing every given filter match; ``None`` for no filter."""
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
    from ..ingest import dates  # dateutil: imported only when dates are asked for

    if isinstance(value, str):
        try:
            moment = dates.parse_bound(value, end=end)
        except ValueError as error:
            raise UsageError(str(error)) from None
    elif isinstance(value, datetime):
        moment = dates.to_utc(value)
    else:
        moment = dates.parse_bound(value.isoformat(), end=end)
    return moment.astimezone(timezone.utc).replace(tzinfo=None)

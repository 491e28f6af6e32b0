"""Dates as articles and users write them, turned into timezone-aware datetimes.

Articles carry RFC 2822 feed dates (``Mon, 11 Oct 2021 04:14:47 GMT``), ISO-like
``YYYY-MM-DD[ HH:MM[:SS]]`` strings, datetime objects from YAML, or a date in the
file name (``20230808.md``). A date without a time zone is read in China Standard
Time (UTC+8): the corpora are Chinese news, and their writers meant local time.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone

#: The zone a date without one is read in.
LOCAL_TIMEZONE = timezone(timedelta(hours=8), "CST")

_FILENAME_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12]\d|3[01])(?!\d)")
_DEFAULTS = (datetime(2000, 1, 1), datetime(2001, 2, 2))
_CHINESE_DATE = re.compile(r"^\s*(\d{4})年(\d{1,2})月(\d{1,2})[日号](?:\s*(\d{1,2})[:：时点](\d{1,2})分?(?:[:：](\d{1,2})秒?)?)?\s*$")


def to_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive value is taken to be local (UTC+8) time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=LOCAL_TIMEZONE)
    return value.astimezone(timezone.utc)


def in_given_zone(value: datetime) -> datetime:
    """``value`` in the zone it was given in; a naive value is taken to be local (UTC+8)
    time. :class:`OverflowError` when its instant has no UTC datetime (year 1, year 9999)."""
    zoned = value.replace(tzinfo=LOCAL_TIMEZONE) if value.tzinfo is None else value
    zoned.astimezone(timezone.utc)  # the index keeps the UTC instant: it must have one
    return zoned


def parse_date(value: object) -> datetime | None:
    """An aware datetime from a front-matter value, in the zone the article gave
    (UTC+8 when it gave none), or ``None`` if it holds no date."""
    try:
        if isinstance(value, datetime):
            return in_given_zone(value)
        if isinstance(value, date):
            return in_given_zone(datetime.combine(value, time()))
        if not isinstance(value, str) or not value.strip():
            return None
        chinese = _CHINESE_DATE.match(value)
        if chinese:
            return in_given_zone(datetime(*(int(part or 0) for part in chinese.groups())))
        # A date missing its year, month or day would be completed from today:
        # parse with two different defaults and refuse when they disagree.
        from dateutil import parser as _dateutil  # 20 ms to import: only when a date needs it

        first, second = (_dateutil.parse(value.strip(), default=default) for default in _DEFAULTS)
    except (ValueError, OverflowError, TypeError):
        return None
    if first != second:
        return None
    try:
        return in_given_zone(first)
    except OverflowError:
        return None


def date_from_filename(name: str) -> datetime | None:
    """A date spelled in a file name such as ``20230808.md`` or ``2023-08-08-post.md``."""
    match = _FILENAME_DATE.search(name)
    if not match:
        return None
    try:
        return in_given_zone(datetime(*(int(part) for part in match.groups())))
    except (ValueError, OverflowError):
        return None


_BOUND = re.compile(
    r"^\s*(?P<year>\d{4})(?:[-/.年](?P<month>\d{1,2})月?(?:[-/.](?P<day>\d{1,2})日?|(?P<cday>\d{1,2})日)?)?"
    r"(?:[ T]+(?P<hour>\d{1,2})[:：](?P<minute>\d{2})(?::(?P<second>\d{2}))?)?\s*$"
)


def parse_bound(text: str, *, end: bool) -> datetime:
    """A ``--since``/``--until`` bound: ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` (or
    ``YYYY年M月D日``), optionally with ``HH:MM[:SS]``, in local time (UTC+8); or a
    full ISO 8601 timestamp with its own zone.

    An end bound given without a time covers its whole day, month or year.
    Raises ``ValueError`` with a message fit for the user.
    """
    match = _BOUND.match(text)
    if match is None:
        try:
            return to_utc(datetime.fromisoformat(text.strip()))
        except ValueError:
            raise ValueError(f"not a date: {text!r} (use YYYY, YYYY-MM or YYYY-MM-DD, optionally with HH:MM)") from None
    parts = {key: int(value) for key, value in match.groupdict().items() if value is not None}
    if "cday" in parts:
        parts["day"] = parts.pop("cday")
    try:
        start = datetime(
            parts["year"], parts.get("month", 1), parts.get("day", 1),
            parts.get("hour", 0), parts.get("minute", 0), parts.get("second", 0),
        )  # fmt: skip
        if not end or "hour" in parts:
            return to_utc(start)
        if "day" in parts:
            following = start + timedelta(days=1)
        elif "month" in parts:
            following = datetime(start.year + (start.month == 12), start.month % 12 + 1, 1)
        else:
            following = datetime(start.year + 1, 1, 1)
        return to_utc(following - timedelta(microseconds=1))
    except (ValueError, OverflowError):
        if end and parts.get("year", 0) >= 9999:
            return datetime.max.replace(tzinfo=timezone.utc)
        raise ValueError(f"not a date: {text!r}") from None

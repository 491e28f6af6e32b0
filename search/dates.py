"""Dates as articles and users write them, turned into timezone-aware UTC datetimes.

Articles carry RFC 2822 feed dates (``Mon, 11 Oct 2021 04:14:47 GMT``), ISO-like
``YYYY-MM-DD[ HH:MM[:SS]]`` strings, datetime objects from YAML, or a date in the
file name (``20230808.md``). A date without a time zone is read in China Standard
Time (UTC+8): the corpora are Chinese news, and their writers meant local time.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone

from dateutil import parser as _dateutil

#: The zone a date without one is read in.
LOCAL_TIMEZONE = timezone(timedelta(hours=8), "CST")

_FILENAME_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12]\d|3[01])(?!\d)")
_DEFAULTS = (datetime(2000, 1, 1), datetime(2001, 2, 2))
_PARTIAL_DATE = re.compile(r"^\s*(\d{4})(?:[-/.](\d{1,2}))?\s*$")


def to_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive value is taken to be local (UTC+8) time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=LOCAL_TIMEZONE)
    return value.astimezone(timezone.utc)


def parse_date(value: object) -> datetime | None:
    """A UTC datetime from a front-matter value, or ``None`` if it holds no date."""
    try:
        if isinstance(value, datetime):
            return to_utc(value)
        if isinstance(value, date):
            return to_utc(datetime.combine(value, time()))
        if not isinstance(value, str) or not value.strip():
            return None
        # A date missing its year, month or day would be completed from today:
        # parse with two different defaults and refuse when they disagree.
        first, second = (_dateutil.parse(value.strip(), default=default) for default in _DEFAULTS)
    except (ValueError, OverflowError, TypeError):
        return None
    if first != second:
        return None
    try:
        return to_utc(first)
    except OverflowError:
        return None


def date_from_filename(name: str) -> datetime | None:
    """A date spelled in a file name such as ``20230808.md`` or ``2023-08-08-post.md``."""
    match = _FILENAME_DATE.search(name)
    if not match:
        return None
    try:
        return to_utc(datetime(*(int(part) for part in match.groups())))
    except ValueError:
        return None


def parse_bound(text: str, *, end: bool) -> datetime:
    """A ``--since``/``--until`` bound: a date, date and time, ``YYYY-MM`` or ``YYYY``.

    An end bound given without a time covers its whole day, month or year.
    Raises ``ValueError`` with a message fit for the user.
    """
    partial = _PARTIAL_DATE.match(text)
    if partial:
        year, month = int(partial.group(1)), int(partial.group(2) or 0)
        if month > 12:
            raise ValueError(f"not a date: {text!r} (month {month})")
        start = datetime(year, month or 1, 1)
        if not end:
            return to_utc(start)
        if month:
            following = datetime(year + (month == 12), month % 12 + 1, 1)
        else:
            following = datetime(year + 1, 1, 1)
        return to_utc(following - timedelta(microseconds=1))
    try:
        parsed = _dateutil.parse(text.strip())
    except (ValueError, OverflowError) as error:
        raise ValueError(f"not a date: {text!r} (use YYYY-MM-DD, optionally with HH:MM)") from error
    if end and parsed.time() == time() and not re.search(r"\d:\d", text):
        parsed = parsed + timedelta(days=1, microseconds=-1)
    return to_utc(parsed)

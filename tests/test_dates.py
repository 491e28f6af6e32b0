"""Dates: feed dates, YAML values, file names and --since/--until bounds, all in UTC."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.ingest.dates import LOCAL_TIMEZONE, date_from_filename, parse_bound, parse_date, to_utc

UTC = timezone.utc
CST = timezone(timedelta(hours=8))


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def assert_utc(value: datetime | None) -> None:
    assert value is not None
    assert value.tzinfo is not None
    assert value.utcoffset() == timedelta(0)


# --- to_utc -----------------------------------------------------------------


def test_local_timezone_is_china_standard_time():
    assert LOCAL_TIMEZONE.utcoffset(None) == timedelta(hours=8)


def test_to_utc_reads_a_naive_datetime_as_utc_plus_8():
    result = to_utc(datetime(2021, 3, 21, 16, 41, 54))
    assert result == utc(2021, 3, 21, 8, 41, 54)
    assert_utc(result)


def test_to_utc_keeps_the_instant_of_an_aware_datetime():
    aware = datetime(2021, 3, 21, 16, 41, 54, tzinfo=timezone(timedelta(hours=-5)))
    result = to_utc(aware)
    assert result == utc(2021, 3, 21, 21, 41, 54)
    assert_utc(result)


# --- parse_date: strings ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # RFC 2822 feed dates (rsshub) are already UTC: the clock time is kept.
        ("Fri, 26 Nov 2021 02:48:54 GMT", utc(2021, 11, 26, 2, 48, 54)),
        ("Thu, 31 Dec 1936 00:00:00 GMT", utc(1936, 12, 31, 0, 0, 0)),
        ("Mon, 11 Oct 2021 04:14:47 GMT", utc(2021, 10, 11, 4, 14, 47)),
        ("Mon, 11 Oct 2021 12:14:47 +0800", utc(2021, 10, 11, 4, 14, 47)),
        # ISO-like dates without a zone are China Standard Time.
        ("2021-03-21 16:41:54", utc(2021, 3, 21, 8, 41, 54)),
        ("2017-08-27 22:07", utc(2017, 8, 27, 14, 7)),
        ("2021-03-16", utc(2021, 3, 15, 16, 0)),
        ("  2022-09-11 04:59:42  ", utc(2022, 9, 10, 20, 59, 42)),
        # An explicit zone wins over the local default.
        ("2021-03-21T16:41:54+00:00", utc(2021, 3, 21, 16, 41, 54)),
        ("2021-03-21T16:41:54Z", utc(2021, 3, 21, 16, 41, 54)),
    ],
)
def test_parse_date_strings(text, expected):
    result = parse_date(text)
    assert result == expected
    # In the zone the text gives: UTC for GMT and Z, UTC+8 when it gives none.
    given = 0 if text.strip().endswith(("GMT", "Z", "+00:00")) else 8
    assert result.utcoffset() == timedelta(hours=given)


@pytest.mark.parametrize("value", ["Invalid Date", "", "   ", "not a date at all", "2021-02-30 10:00", "2021-13-01"])
def test_parse_date_returns_none_for_text_that_is_no_date(value):
    assert parse_date(value) is None


@pytest.mark.parametrize("value", [None, 20210316, 3.5, ["2021-03-16"], {"date": "2021-03-16"}, True])
def test_parse_date_returns_none_for_values_that_are_not_dates_or_strings(value):
    assert parse_date(value) is None


# --- parse_date: YAML objects ---------------------------------------------------


def test_parse_date_naive_datetime_from_yaml_is_local_time():
    assert parse_date(datetime(2022, 3, 27, 15, 15, 47)) == utc(2022, 3, 27, 7, 15, 47)


def test_parse_date_aware_datetime_keeps_its_instant():
    value = datetime(2022, 3, 27, 15, 15, 47, tzinfo=CST)
    result = parse_date(value)
    assert result == utc(2022, 3, 27, 7, 15, 47)
    assert result.utcoffset() == timedelta(hours=8)  # in the zone it was given


def test_parse_date_plain_date_is_local_midnight():
    assert parse_date(date(2021, 3, 16)) == utc(2021, 3, 15, 16, 0)


@pytest.mark.parametrize(
    "value",
    [
        date(1, 1, 1),  # YAML `date: 0001-01-01`
        datetime(1, 1, 1, 3, 0),  # local midnight-ish of year 1 is before year 1 in UTC
        datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-10))),  # after year 9999 in UTC
    ],
)
def test_parse_date_out_of_range_yaml_dates_give_none_instead_of_raising(value):
    # BUG: to_utc() overflows (OverflowError: date value out of range) and parse_date only
    # guards the *string* branch, so a post with `date: 0001-01-01` crashes the whole run.
    assert parse_date(value) is None


def test_parse_date_out_of_range_string_gives_none():
    assert parse_date("0001-01-01") is None


@pytest.mark.parametrize("text", ["10:30", "Mon", "March", "12"])
def test_parse_date_does_not_fill_a_missing_year_month_or_day_from_today(text):
    # BUG: dateutil fills missing fields from *today*, so `date: '10:30'` becomes
    # today 10:30 and the same file gets a different date every day it is indexed.
    assert parse_date(text) is None


def test_parse_date_year_only_does_not_depend_on_today():
    result = parse_date("2021")
    assert result is None or result == utc(2020, 12, 31, 16, 0)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_parse_date_never_raises_on_arbitrary_text(text):
    result = parse_date(text)
    if result is not None:
        assert result.utcoffset() is not None
        assert_utc(to_utc(result))


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)))
def test_parse_date_naive_datetimes_are_shifted_by_eight_hours(value):
    result = parse_date(value)
    assert result.utcoffset() == timedelta(hours=8) and result.replace(tzinfo=None) == value
    assert to_utc(result).replace(tzinfo=None) == value - timedelta(hours=8)


# --- date_from_filename ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("20230808.md", utc(2023, 8, 7, 16, 0)),
        ("20220924.md", utc(2022, 9, 23, 16, 0)),
        ("2023-08-08-post.md", utc(2023, 8, 7, 16, 0)),
        ("2023_08_08.md", utc(2023, 8, 7, 16, 0)),
        ("2023.08.08 news.md", utc(2023, 8, 7, 16, 0)),
        ("report-19991231.html", utc(1999, 12, 30, 16, 0)),
    ],
)
def test_date_from_filename(name, expected):
    result = date_from_filename(name)
    assert result == expected
    assert result.utcoffset() == timedelta(hours=8)  # local midnight


@pytest.mark.parametrize(
    "name",
    [
        "post.md",
        "1936.md",  # a year alone is not a date
        "2021.md",
        "20231301.md",  # month 13
        "20230230.md",  # 30 February
        "120230808.md",  # part of a longer number
        "202308081.md",
        "00_00                                      币世界晚行情：BTC回升至57000 USDT上方.md",
        "18000101.md",  # outside 19xx/20xx
    ],
)
def test_date_from_filename_without_a_date(name):
    assert date_from_filename(name) is None


# --- parse_bound --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "end", "expected"),
    [
        ("2021", False, utc(2020, 12, 31, 16, 0)),
        ("2021", True, utc(2021, 12, 31, 15, 59, 59, 999999)),
        ("2021-02", False, utc(2021, 1, 31, 16, 0)),
        ("2021-02", True, utc(2021, 2, 28, 15, 59, 59, 999999)),
        ("2020-02", True, utc(2020, 2, 29, 15, 59, 59, 999999)),
        ("2021-12", True, utc(2021, 12, 31, 15, 59, 59, 999999)),
        ("2021/3", False, utc(2021, 2, 28, 16, 0)),
        ("2021-03-16", False, utc(2021, 3, 15, 16, 0)),
        ("2021-03-16", True, utc(2021, 3, 16, 15, 59, 59, 999999)),
        ("2021-03-16 10:00", True, utc(2021, 3, 16, 2, 0)),
        ("2021-03-16 10:00", False, utc(2021, 3, 16, 2, 0)),
        ("2021-03-16 00:00", True, utc(2021, 3, 15, 16, 0)),
    ],
)
def test_parse_bound(text, end, expected):
    result = parse_bound(text, end=end)
    assert result == expected
    assert_utc(result)


@pytest.mark.parametrize("text", ["2021-13", "yesterday-ish", "2021-02-30", ""])
def test_parse_bound_rejects_non_dates_with_a_readable_message(text):
    with pytest.raises(ValueError, match="not a date"):
        parse_bound(text, end=False)


def test_parse_bound_start_is_before_end_for_the_same_day():
    assert parse_bound("2021-03-16", end=False) < parse_bound("2021-03-16", end=True)

"""YAML front matter, read leniently.

Real posts carry BOMs, CRLF line endings, leading blank lines, tab-indented lists
and YAML that does not parse (``title: """"'…'""""``). The block is split off and
parsed with python-frontmatter (PyYAML's safe loader); when that fails, tabs are
expanded and it is tried again, and last a line-by-line ``key: value`` reader
takes what it can. Only the keys we index are kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import yaml
from frontmatter.default_handlers import YAMLHandler

from ..errors import CorpusError
from .dates import parse_date

_HANDLER = YAMLHandler()
_KEY_LINE = re.compile(r"^([A-Za-z_][\w-]*)\s*:(?:\s+(.*?))?\s*$")
_LIST_ITEM = re.compile(r"^\s+-\s*(.*?)\s*$|^-\s+(.*?)\s*$")
_QUOTES = "'\""


@dataclass(frozen=True)
class FrontMatter:
    """The indexed keys of a post's front matter, and the body that follows it."""

    body: str
    title: str | None = None
    date: datetime | None = None
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    author: str | None = None
    present: bool = False
    warnings: tuple[str, ...] = field(default=())


def clean_text(text: str) -> str:
    """Drop a BOM and make every line ending a plain ``\\n``."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def read_front_matter(text: str) -> FrontMatter:
    """Split ``text`` (already cleaned) into front matter fields and body.

    Raises :class:`CorpusError` when a ``---`` block is opened and never closed.
    """
    stripped = text.lstrip()
    if not _HANDLER.detect(stripped):
        return FrontMatter(body=text)
    try:
        block, body = _HANDLER.split(stripped)
    except ValueError:
        raise CorpusError("front matter starts with '---' but has no closing '---' line") from None
    warnings: list[str] = []
    raw = _read_lines(block)
    data = _load_yaml(block)
    if data is None:
        data = _load_yaml(block.expandtabs(2))
        if data is None:
            warnings.append("front matter is not valid YAML; read line by line")
            data = raw
    return _fields(data, raw, body, warnings)


def _load_yaml(block: str) -> dict | None:
    try:
        data = _HANDLER.load(block)
    except (yaml.YAMLError, ValueError, OverflowError, TypeError, RecursionError):
        # PyYAML raises ValueError for impossible dates such as 2021-02-30
        return None
    if data is None:
        return {}
    return data if isinstance(data, dict) else None


def _read_lines(block: str) -> dict[str, object]:
    """``key: value`` lines and ``- item`` lists under a key, quotes stripped."""
    data: dict[str, object] = {}
    key: str | None = None
    for line in block.split("\n"):
        item = _LIST_ITEM.match(line)
        if item and key is not None:
            current = data.get(key)
            items = current if isinstance(current, list) else []
            items.append(_unquote(item.group(1) if item.group(1) is not None else item.group(2)))
            data[key] = items
            continue
        pair = _KEY_LINE.match(line)
        if pair:
            key = pair.group(1)
            data[key] = _unquote(pair.group(2) or "")
    return data


def _unquote(value: str) -> str:
    value = value.strip()
    while len(value) >= 2 and value[0] == value[-1] and value[0] in _QUOTES:
        quote, value = value[0], value[1:-1]
        if quote == "'":
            value = value.replace("''", "'")
    return value


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        value = " ".join(str(v) for v in value if v is not None)
    text = " ".join(str(value).split())
    return text or None


def _values(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, (list, tuple)) else [value]
    flattened: list[str] = []
    for item in items:
        if isinstance(item, (list, tuple)):
            flattened.extend(_values(item))
        elif (text := _text(item)) is not None:
            flattened.append(text)
    return tuple(dict.fromkeys(flattened))


def _fields(data: dict, raw: dict[str, object], body: str, warnings: list[str]) -> FrontMatter:
    def scalar(key: str) -> str | None:
        # YAML reads `title: 00_00` as the number 0 and `title: 2021` as an int:
        # for text keys, the characters as written win over a non-string value.
        value = data.get(key)
        if value is not None and not isinstance(value, str) and isinstance(raw.get(key), str):
            value = raw[key]
        return _text(value)

    date_value = data.get("date")
    date = parse_date(date_value)
    if date is None and _text(date_value):
        warnings.append(f"date {_text(date_value)!r} is not a date; indexed without one")
    return FrontMatter(
        body=body,
        title=scalar("title"),
        date=date,
        categories=_values(data.get("categories", data.get("category"))),
        tags=_values(data.get("tags", data.get("tag"))),
        author=scalar("author"),
        present=True,
        warnings=tuple(warnings),
    )

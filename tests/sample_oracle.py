"""What the sample articles say, read independently of the code under test, and
small helpers for writing articles and reading results in tests."""

from __future__ import annotations

import re
from datetime import timedelta, timezone
from pathlib import Path

from dateutil import parser as dateparser

import search
from search.text.normalize import normalize

SAMPLE = Path(search.__file__).resolve().parent / "sample"
CST = timezone(timedelta(hours=8))


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _front_matter(path: Path) -> dict[str, object]:
    """title, categories, author, date of a sample article, read line by line."""
    text = path.read_text("utf-8").lstrip()
    block = text.split("---\n", 2)[1]
    data: dict[str, object] = {}
    key = None
    for line in block.splitlines():
        item = re.match(r"^\s+-\s+(.*)$", line)
        if item and key:
            current = data.get(key)
            data[key] = (current if isinstance(current, list) else []) + [item.group(1).strip()]
            continue
        pair = re.match(r"^(\w+):\s*(.*)$", line)
        if pair:
            key = pair.group(1)
            data[key] = _unquote(pair.group(2))
    moment = dateparser.parse(str(data["date"]))
    if moment.tzinfo is None:  # no zone written: China Standard Time
        moment = moment.replace(tzinfo=CST)
    return {
        "title": data["title"],
        "categories": list(data.get("categories") or []),
        "author": data.get("author"),
        "date": moment,
    }


ORACLE: dict[str, dict[str, object]] = {
    path.relative_to(SAMPLE).as_posix(): _front_matter(path) for path in sorted(SAMPLE.rglob("*.md"))
}


def paths(result) -> list[str]:
    return [hit.path for hit in result.hits]


def all_paths(index, query: str = "", **options) -> set[str]:
    result = index.search(query, limit=1000, **options)
    assert len(result.hits) == result.total
    return set(paths(result))


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def article(title: str, body: str, *, categories=("新闻",), tags=(), author="测试作者", date_line="2024-05-01 10:00:00"):
    lines = ["", "---", f"title: '{title}'", "categories:"]
    lines += [f" - {c}" for c in categories]
    if tags:
        lines += ["tags:"] + [f" - {t}" for t in tags]
    if author:
        lines.append(f"author: {author}")
    if date_line:
        lines.append(f"date: {date_line}")
    lines += ["---", "", f"<div><p>{body}</p></div>", ""]
    return "\n".join(lines)


def categories_index() -> dict[str, set[str]]:
    """Paths by category, traditional and simplified spellings of a category counted as one."""
    found: dict[str, set[str]] = {}
    for path, meta in ORACLE.items():
        for category in meta["categories"]:
            found.setdefault(normalize(category)[0], set()).add(path)
    return found

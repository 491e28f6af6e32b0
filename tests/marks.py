"""Helpers for reading highlighted HTML in tests."""

from __future__ import annotations

import html
import re
import unicodedata

MARK = re.compile(r"<mark>(.*?)</mark>", re.S)


def plain(fragment: str) -> str:
    """The text of a highlighted fragment, marks removed and entities decoded."""
    return html.unescape(MARK.sub(r"\1", fragment))


def made_of(text: str, words: set[str]) -> bool:
    """Whether ``text`` (normalised) is a concatenation of whole query words."""
    text = unicodedata.normalize("NFKC", text).lower()
    reachable = [True] + [False] * len(text)
    for end in range(1, len(text) + 1):
        reachable[end] = any(reachable[end - len(w)] and text[end - len(w) : end] == w for w in words if len(w) <= end)
    return reachable[-1]

"""Highlighted snippets: the best passage of a text, cut at word boundaries.

Candidate passages are found by plain substring search for the query's terms in
the normalised text (fast, and no need to segment the whole body); only the
chosen passage is segmented, to cut it at word boundaries and to mark the words
that really are query terms (``人民`` inside ``人民币`` is a sub-word and counts;
``民币`` would not). Everything from the article is HTML-escaped.
"""

from __future__ import annotations

import html
from collections.abc import Collection

from .analysis import analyze, normalize, word_spans

SNIPPET_CHARS = 120
_SENTENCE_ENDS = "。！？；!?;\n…"
_MAX_OCCURRENCES = 500
_MARK_OPEN, _MARK_CLOSE = "<mark>", "</mark>"


def highlight(text: str, terms: Collection[str]) -> str:
    """All of ``text``, HTML-escaped, with query terms wrapped in ``<mark>``."""
    return _render(text, 0, len(text), _marks(text, 0, len(text), terms))


def snippet(text: str, terms: Collection[str], size: int = SNIPPET_CHARS) -> str:
    """The passage of about ``size`` characters that best shows ``terms``, highlighted.

    Starts at a sentence start when one is near, otherwise at a word boundary;
    ``…`` marks text left out at either end.
    """
    if not text:
        return ""
    occurrences = _occurrences(text, terms)
    anchor = _best_anchor(occurrences, size) if occurrences else 0
    start = _passage_start(text, anchor, size)
    end = _passage_end(text, start, size)
    start, end = _snap_to_words(text, start, end)
    body = _render(text, start, end, _marks(text, start, end, terms))
    prefix = "…" if start > 0 and text[start - 1] != "\n" else ""
    suffix = "…" if end < len(text) and text[end] != "\n" else ""
    return prefix + body.replace("\n", " ") + suffix


def _occurrences(text: str, terms: Collection[str]) -> list[tuple[int, str]]:
    """Where each term occurs in ``text`` (offsets into ``text``), in order."""
    normalized, origin = normalize(text)
    lowered = normalized.lower()
    if len(lowered) != len(normalized):
        lowered = normalized
    found: list[tuple[int, str]] = []
    for term in terms:
        at = lowered.find(term)
        count = 0
        while at >= 0 and count < _MAX_OCCURRENCES:
            found.append((origin[at] if origin else at, term))
            at = lowered.find(term, at + len(term))
            count += 1
    found.sort()
    return found


def _best_anchor(occurrences: list[tuple[int, str]], size: int) -> int:
    """Offset of the first occurrence in the window that holds the most distinct terms."""
    best, best_key = occurrences[0][0], (0, 0)
    window_end = 0
    for first, (offset, _) in enumerate(occurrences):
        window_end = max(window_end, first)
        while window_end + 1 < len(occurrences) and occurrences[window_end + 1][0] < offset + size * 2 // 3:
            window_end += 1
        inside = occurrences[first : window_end + 1]
        key = (len({term for _, term in inside}), len(inside))
        if key > best_key:
            best, best_key = offset, key
    return best


def _passage_start(text: str, anchor: int, size: int) -> int:
    """Begin at the sentence holding ``anchor`` when it starts close enough before it."""
    reach = max(0, anchor - size // 2)
    for index in range(anchor - 1, reach - 1, -1):
        if text[index] in _SENTENCE_ENDS:
            return index + 1
    return reach if reach > 0 else 0


def _passage_end(text: str, start: int, size: int) -> int:
    """End near ``start + size``, at a sentence end if one is close."""
    limit = start + size
    if limit >= len(text):
        return len(text)
    for index in range(limit, max(start, limit - size // 4), -1):
        if text[index - 1] in _SENTENCE_ENDS:
            return index
    return limit


def _snap_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Move ``start`` back and ``end`` forward to word boundaries (never mid-word cuts)."""
    margin = 24
    region_start = max(0, start - margin)
    spans = [(a + region_start, b + region_start) for a, b in word_spans(text[region_start : end + margin])]
    for a, b in spans:
        if a < start < b:
            start = a
        if a < end < b:
            end = b
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _marks(text: str, start: int, end: int, terms: Collection[str]) -> list[tuple[int, int]]:
    """Spans of query terms among the words (and sub-words) of ``text[start:end]``."""
    if not terms:
        return []
    spans = sorted(
        (token.start + start, token.end + start)
        for token in analyze(text[start:end], subwords=True)
        if token.text in terms
    )
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def _render(text: str, start: int, end: int, marks: list[tuple[int, int]]) -> str:
    pieces: list[str] = []
    cursor = start
    for a, b in marks:
        pieces.append(html.escape(text[cursor:a]))
        pieces.append(_MARK_OPEN + html.escape(text[a:b]) + _MARK_CLOSE)
        cursor = b
    pieces.append(html.escape(text[cursor:end]))
    return "".join(pieces)

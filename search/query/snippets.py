"""Highlighted snippets: the best passage of a text, cut at word boundaries.

Candidate passages are found by plain substring search for the query's terms in
the normalised text (fast, and no need to segment the whole body); only the
chosen passage is segmented, to cut it at word boundaries and to mark the words
that really are query terms (``人民`` inside ``人民币`` is a sub-word and counts;
``民币`` would not). Everything from the article is HTML-escaped.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from ..results import Hit
from ..text.normalize import normalize
from ..text.tokens import spans_of_words, tokens_of_words
from ..text.user_dict import UserDict
from ..text.words import stopwords, words_of

SNIPPET_CHARS = 120
_SENTENCE_ENDS = "。！？；!?;\n…"
_MAX_OCCURRENCES = 500
_MARK_OPEN, _MARK_CLOSE = "<mark>", "</mark>"
PHRASE = "\x00phrase"  # stands for any phrase occurrence among term occurrences
#: Characters examined beyond a passage's ends, to cut it between words.
_MARGIN = 24


@dataclass(frozen=True)
class Highlighted:
    """Text with the query's words in it marked: ``spans`` are ``(start, end)``
    offsets into ``text``, in order, never overlapping."""

    text: str
    spans: tuple[tuple[int, int], ...] = ()

    def html(self) -> str:
        """``text`` HTML-escaped, each span wrapped in ``<mark>``."""
        return _render(self.text, 0, len(self.text), self.spans)


def highlighted(text: str, terms: Collection[str], *, user: UserDict | None = None) -> Highlighted:
    """All of ``text``, with the spans of the query terms in it."""
    matches = spans_and_matches(text, terms, user=user)[1] if terms else []
    return Highlighted(text, tuple(_marks(matches, 0, 0, len(text))))


def best_passage(
    text: str,
    terms: Collection[str],
    size: int = SNIPPET_CHARS,
    phrases: Sequence[Sequence[str]] = (),
    *,
    user: UserDict | None = None,
) -> Highlighted:
    """The passage of about ``size`` characters that best shows ``terms``, with their spans.

    A passage where one of ``phrases`` (lists of terms) stands whole is preferred.
    Starts at a sentence start when one is near, otherwise at a word boundary
    (words as the index cut them, ``user`` dictionary included);
    ``…`` marks text left out at either end, and line breaks become spaces.
    """
    if not text:
        return Highlighted("")
    occurrences = _occurrences(text, terms, phrases)
    first, last_end = _best_window(occurrences, size) if occurrences else (0, 0)
    start = _passage_start(text, first, last_end, size)
    end = _passage_end(text, start, last_end, size)
    # One segmentation of the passage and a margin around it serves both the cut
    # (never inside a word) and the marks.
    region_start, region_end = max(0, start - _MARGIN), min(len(text), end + _MARGIN)
    spans, matches = spans_and_matches(text[region_start:region_end], terms, user=user)
    start, end = _snap_to_words(text, start, end, region_start, region_end, spans)
    prefix = "…" if start > 0 and text[start - 1] != "\n" else ""
    suffix = "…" if end < len(text) and text[end] != "\n" else ""
    shift = len(prefix) - start
    marks = tuple((a + shift, b + shift) for a, b in _marks(matches, region_start, start, end))
    return Highlighted(prefix + text[start:end].replace("\n", " ") + suffix, marks)


def _occurrences(
    text: str, terms: Collection[str], phrases: Sequence[Sequence[str]] = ()
) -> list[tuple[int, int, str]]:
    """Where each term (and each phrase, as ``PHRASE``) occurs in ``text``:
    (start, end, term), offsets into ``text``, in order."""
    lowered, origin = searchable_text(text)
    found: list[tuple[int, int, str]] = []
    for phrase in phrases:
        for count, match in enumerate(phrase_pattern(tuple(phrase)).finditer(lowered)):
            if count >= _MAX_OCCURRENCES:
                break
            at, end = match.span()
            found.append((origin[at], origin[end - 1] + 1, PHRASE) if origin else (at, end, PHRASE))
    for term in terms:
        at = lowered.find(term)
        count = 0
        while at >= 0 and count < _MAX_OCCURRENCES:
            end = at + len(term)
            found.append((origin[at], origin[end - 1] + 1, term) if origin else (at, end, term))
            at = lowered.find(term, end)
            count += 1
    found.sort()
    return found


def _best_window(occurrences: list[tuple[int, int, str]], size: int) -> tuple[int, int]:
    """Start of the first and end of the last occurrence in the stretch of text
    (two thirds of ``size``) that holds a phrase, then the most distinct terms, then
    the most occurrences."""
    best, best_key = (occurrences[0][0], occurrences[0][1]), (False, 0, 0)
    reach = size * 2 // 3
    last = 0
    for first, (start, _, _) in enumerate(occurrences):
        last = max(last, first)
        while last + 1 < len(occurrences) and occurrences[last + 1][1] <= start + reach:
            last += 1
        inside = occurrences[first : last + 1]
        distinct = {term for _, _, term in inside}
        key = (PHRASE in distinct, len(distinct), len(inside))
        if key > best_key:
            best, best_key = (start, max(end for _, end, _ in inside)), key
    return best


def _passage_start(text: str, first: int, last_end: int, size: int) -> int:
    """Begin at the start of the sentence holding ``first`` if the passage can still
    reach ``last_end``; otherwise a little before ``first``."""
    earliest = max(0, last_end - size)
    for index in range(first - 1, earliest - 1, -1):
        if text[index] in _SENTENCE_ENDS:
            return index + 1
    if earliest == 0 and first <= size // 3:
        return 0
    lead = min(size // 6, max(0, size - (last_end - first)) // 2)
    return max(earliest, first - lead)


def _passage_end(text: str, start: int, last_end: int, size: int) -> int:
    """End near ``start + size`` (never before ``last_end``), at a sentence end if one is close."""
    limit = start + size
    if limit >= len(text):
        return len(text)
    for index in range(limit, max(start, last_end, limit - size // 4), -1):
        if text[index - 1] in _SENTENCE_ENDS:
            return index
    return limit


def _snap_to_words(
    text: str, start: int, end: int, region_start: int, region_end: int, spans: list[tuple[int, int]]
) -> tuple[int, int]:
    """Move ``start`` and ``end`` out of the middle of words (never mid-word cuts);
    ``spans`` are the words of ``text[region_start:region_end]``.

    A cut word is taken whole, unless it runs past the text examined (a very long
    token such as a hash): then it is left out instead.
    """
    new_start, new_end = start, end
    for a, b in ((a + region_start, b + region_start) for a, b in spans):
        if a < start < b:
            new_start = a if a > region_start or region_start == 0 else b
        if a < end < b:
            new_end = b if b < region_end or region_end == len(text) else a
    start, end = new_start, max(new_end, new_start)
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _marks(matches: Iterable[tuple[int, int]], offset: int, start: int, end: int) -> list[tuple[int, int]]:
    """``matches`` (spans of query terms in a text that begins at ``offset``) that lie
    within ``[start, end)``, overlapping ones merged."""
    spans = sorted((a + offset, b + offset) for a, b in matches if start <= a + offset and b + offset <= end)
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def _render(text: str, start: int, end: int, marks: Iterable[tuple[int, int]]) -> str:
    pieces: list[str] = []
    cursor = start
    for a, b in marks:
        pieces.append(html.escape(text[cursor:a]))
        pieces.append(_MARK_OPEN + html.escape(text[a:b]) + _MARK_CLOSE)
        cursor = b
    pieces.append(html.escape(text[cursor:end]))
    return "".join(pieces)


def spans_and_matches(
    text: str, terms: Collection[str], *, user: UserDict | None = None
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """:func:`~search.text.tokens.word_spans` of ``text``, and the spans of its index-time tokens
    (sub-words included) that are among ``terms``, from one segmentation.

    Snippets need both for the same passage; only words that contain a term are
    taken apart into their sub-words.
    """
    normalized, origin = normalize(text)
    words = list(words_of(normalized, user))
    spans = spans_of_words(text, origin, words)
    matches: list[tuple[int, int]] = []
    stop = stopwords()
    for word, span in zip(words, spans):
        if word[0] in terms and word[0] not in stop:
            matches.append(span)
        if word[3] and len(word[0]) > 2 and any(term in word[0] for term in terms if term != word[0]):
            parts = tokens_of_words(text, origin, [word], True, user)
            matches.extend((part.start, part.end) for part in parts if part.subword and part.text in terms)
    return spans, matches


def searchable_text(text: str) -> tuple[str, list[int] | None]:
    """``text`` normalised and lower-cased as terms are, with the map of :func:`normalize`."""
    normalized, origin = normalize(text)
    lowered = normalized.lower()
    if len(lowered) != len(normalized):  # rare letters such as İ lower-case to two characters
        lowered = "".join(char if len(char.lower()) != 1 else char.lower() for char in normalized)
    return lowered, origin


@functools.lru_cache(maxsize=1024)
def phrase_pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    """Where a phrase's terms stand in :func:`searchable_text`: in order, with nothing
    but punctuation, spaces or stopwords between them (which take no position)."""
    stop = "|".join(re.escape(word) for word in sorted(stopwords(), key=len, reverse=True))
    return re.compile(f"(?:[\\W_]|{stop})*".join(re.escape(term) for term in terms))


def marked_hit(
    fields: dict[str, object], body: str, terms: set[str], phrases: list[list[str]], snippet_chars: int,
    score: float | None, user: UserDict | None = None, marks: dict | None = None,
) -> Hit:
    """A hit (``fields`` as :meth:`Hit.fields_from` gives them) with the query's words
    marked in its title and in the best passage of its text. ``marks``: the texts one
    search has marked so far, kept and reused (copies of a story on one page)."""
    key = (body, str(fields["title"]))
    found = None if marks is None else marks.get(key)
    if found is None:
        found = (best_passage(body, terms, snippet_chars, phrases, user=user), highlighted(key[1], terms, user=user))
        if marks is not None:
            marks[key] = found
    passage, title = found
    return Hit(
        **fields,
        score=score,
        snippet=passage.html(),
        title_html=title.html(),
        title_spans=title.spans,
        snippet_text=passage.text,
        snippet_spans=passage.spans,
    )

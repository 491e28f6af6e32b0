"""Tokens: the terms an index keeps of text, with their positions and spans.

A token is a word that is not a stopword, normalised and lower-cased, with its
position (a token index, so quoted phrases match) and its span in the original
text (so highlights land exactly). Positions count pieces: a compound of three
pieces takes three positions. At index time a compound also yields its sub-words
(pieces at their own positions, inner words at :data:`INNER_POSITIONS`);
queries are analysed without them.
"""

from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass
from typing import Iterable, Iterator

from .normalize import normalize, original_span
from .user_dict import UserDict
from .words import pieces, segmenter_for, stopwords, sub_words, words_of


#: Where inner words are placed in the index: far beyond any real position, so a
#: phrase can never line them up with the words around them (经济带 + 发展 must not
#: read as 经济 发展). Term queries, which ignore positions, still find them.
INNER_POSITIONS = 1 << 30


@dataclass(frozen=True, slots=True)
class Token:
    """One indexed term: normalised text, token index, and span in the source text."""

    text: str
    position: int
    start: int
    end: int
    subword: bool = False
    #: A dictionary word inside a longer word that is not one of its pieces
    #: (经济 in 经济带): indexed for recall, kept out of phrase positions.
    inner: bool = False


def analyze(text: str, *, subwords: bool = False, user: UserDict | None = None) -> Iterator[Token]:
    """Tokens of ``text`` with token-index positions and offsets into ``text``.

    Positions count the pieces of words (see :func:`pieces`), so a compound of
    three pieces takes three positions. Stopwords, punctuation and whitespace yield
    nothing and take no position. With ``subwords`` (index time), a compound also
    yields its pieces at their own positions and every other dictionary word inside
    it at the position of the piece where it starts; queries are analysed without.
    ``user`` adds an index's own words to jieba's dictionary.
    """
    normalized, origin = normalize(text)
    return tokens_of_words(text, origin, words_of(normalized, user), subwords, user)


def tokens_of_words(
    text: str,
    origin: list[int] | None,
    words: Iterable[tuple[str, int, int, bool]],
    subwords: bool,
    user: UserDict | None,
) -> Iterator[Token]:
    """The tokens of :func:`analyze`, from the words (:func:`~.words.words_of`) of ``text``'s normalised form."""
    stop = stopwords()
    segmenter = segmenter_for(user)
    position = 0

    def span(start: int, end: int) -> tuple[int, int]:
        return (start, end) if origin is None else original_span(text, origin, start, end)

    for word, start, end, chinese in words:
        if word in stop:
            continue
        yield Token(word, position, *span(start, end))
        parts = pieces(word, user) if chinese else (word,)
        if subwords and chinese and len(word) > 2:
            yield from sorted(_sub_word_tokens(word, parts, position, start, span, segmenter, stop), key=_by_position)
        position += len(parts)


def _sub_word_tokens(word, parts, position, start, span, segmenter, stop) -> Iterator[Token]:
    """The pieces of a compound at their own positions, and the other dictionary
    words inside it at the position of the piece where each starts."""
    piece_starts = [0]
    for part in parts:
        if len(parts) > 1:
            at = start + piece_starts[-1]
            yield Token(part, position + len(piece_starts) - 1, *span(at, at + len(part)), True)
        piece_starts.append(piece_starts[-1] + len(part))
    emitted = set(zip(piece_starts, parts))
    for inner, part in sub_words(word, segmenter):
        if (inner, part) not in emitted and part not in stop:
            slot = bisect.bisect_right(piece_starts, inner) - 1
            yield Token(part, position + slot, *span(start + inner, start + inner + len(part)), True, True)


def index_positions(text: str, user: UserDict | None = None) -> dict[str, list[int]]:
    """Each term the index keeps of ``text`` with its positions: what
    :class:`ChineseTokenizer` yields at index time (inner words from
    :data:`INNER_POSITIONS` on), without a token object per word."""
    normalized, origin = normalize(text)
    stop = stopwords()
    found: dict[str, list[int]] = {}
    inner: list[str] = []
    position = 0

    def span(start: int, end: int) -> tuple[int, int]:
        return original_span(text, origin, start, end)

    for word, start, _, chinese in words_of(normalized, user):
        if word in stop:
            continue
        if word in found:
            found[word].append(position)
        else:
            found[word] = [position]
        if not chinese:
            position += 1
            continue
        parts = pieces(word, user)
        if len(word) > 2:
            # Offsets of the normalised text (the usual case) leave a word's layout always the same.
            layout = _cached_sub_word_layout(word, user) if origin is None else _sub_word_layout(word, user, start, span)
            for part, offset, is_inner in layout:
                if is_inner:
                    inner.append(part)
                else:
                    found.setdefault(part, []).append(position + offset)
        position += len(parts)
    for number, word in enumerate(inner):
        found.setdefault(word, []).append(INNER_POSITIONS + number)
    return found


def _sub_word_layout(
    word: str, user: UserDict | None, start: int = 0, span=lambda start, end: (start, end)
) -> tuple[tuple[str, int, bool], ...]:
    """The pieces and inner words of a compound (starting at ``start``) as
    :func:`_sub_word_tokens` yields them, in index order: (text, position after the word's, inner)."""
    parts = _sub_word_tokens(word, pieces(word, user), 0, start, span, segmenter_for(user), stopwords())
    return tuple((part.text, part.position, part.inner) for part in sorted(parts, key=_by_position))


_cached_sub_word_layout = functools.lru_cache(maxsize=16384)(_sub_word_layout)  # see words.pieces


def _by_position(token: Token) -> tuple[int, int, int]:
    return token.position, token.start, token.end


def phrase_terms(text: str, user: UserDict | None = None) -> list[str]:
    """The terms a quoted phrase must find at consecutive positions: words cut into pieces."""
    normalized, _ = normalize(text)
    stop = stopwords()
    found: list[str] = []
    for word, _, _, chinese in words_of(normalized, user):
        if word not in stop:
            found.extend(pieces(word, user) if chinese else (word,))
    return found


def terms(text: str, user: UserDict | None = None) -> list[str]:
    """The query-time terms of ``text``, in order (no sub-words)."""
    return [token.text for token in analyze(text, user=user)]


def word_spans(text: str, user: UserDict | None = None) -> list[tuple[int, int]]:
    """Where every word of ``text`` starts and ends (stopwords too), in ``text``'s offsets."""
    normalized, origin = normalize(text)
    return spans_of_words(text, origin, words_of(normalized, user))


def spans_of_words(text: str, origin: list[int] | None, words: Iterable[tuple[str, int, int, bool]]) -> list[tuple[int, int]]:
    """Where ``words`` (of ``text``'s normalised form) stand in ``text``."""
    if origin is None:
        return [(start, end) for _, start, end, _ in words]
    return [original_span(text, origin, start, end) for _, start, end, _ in words]

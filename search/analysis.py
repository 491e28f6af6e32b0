"""The text analysis pipeline, shared by indexing, querying and highlighting.

Text is NFKC-normalised (full-width letters and digits become ASCII), split into
runs of Han characters and runs of other word characters, and the Han runs are
segmented with jieba. Each token carries its position as a *token index* (so
phrase queries work) and its character offsets in the *original* text (so
highlights land exactly). At index time, long Chinese words also yield the
dictionary words inside them (``中华人民共和国`` → ``中华``, ``人民``, ``共和国``,
``人民共和国`` …: jieba's search-mode parts and longer ones), placed at the
position of their parent word so phrases still line up.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Collection, Iterable, Iterator

from whoosh.analysis import Token as _WhooshToken
from whoosh.analysis import Tokenizer as _WhooshTokenizer

from .cache import cache_dir, read_cached, write_cached
from .segmenter import Segmenter, is_compiled

#: Bumped whenever a change here would make old indexes tokenize differently.
ANALYSIS_VERSION = 3

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f\u3007"
_TOKEN_RE = re.compile(
    rf"(?P<han>[{_HAN}]+)"  # a run of Chinese characters, segmented by jieba
    r"|(?P<number>\d+(?:\.\d+)+)"  # decimals and versions stay whole: 4.5, 40.0
    rf"|(?P<word>(?:(?![{_HAN}])[^\W_])+)"  # Latin, digits, kana…: Win11, 5g, 12306
)

# Characters NFKC leaves alone (ASCII, CJK ideographs and punctuation, kana,
# Hangul syllables), when no combining mark follows them.
_NFKC_STABLE = re.compile(
    r"(?:[\t\n\r\x20-\x7e\u4e00-\u9fff\u3001-\u3003\u3008-\u3011\u2018-\u201d\u3041-\u3096\u30a1-\u30fa\uac00-\ud7a3]"
    r"(?![\u0300-\u036f\u3099\u309a\uff9e\uff9f]))+"
)

_HAN_RUN = re.compile(f"[{_HAN}]+")

# CJK ideograph blocks whose traditional forms are folded to simplified ones.
_IDEOGRAPH_BLOCKS = ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00))

# Full-width ASCII and the ideographic space map one-to-one onto ASCII, which
# keeps offsets unchanged for the overwhelmingly common case.
_FULLWIDTH = {chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)} | {"\u3000": " "}
_FULLWIDTH_CHARS = re.compile("[\uff01-\uff5e\u3000]")


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


@functools.cache
def stopwords() -> frozenset[str]:
    """The small Chinese stopword list shipped with the package."""
    lines = resources.files("search").joinpath("stopwords.txt").read_text("utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


@dataclass(frozen=True, eq=False)
class UserDict:
    """Words added to jieba's dictionary for one index, as (word, frequency or None).

    Words are normalised like the text they will be found in. An index keeps its
    user dictionary in its schema (pickled with :class:`ChineseTokenizer`), so
    queries, and indexing in any process, segment with the same words.
    """

    entries: tuple[tuple[str, int | None], ...]
    digest: str = field(init=False)

    def __post_init__(self) -> None:
        listing = "\n".join(f"{word}\t{'' if freq is None else freq}" for word, freq in self.entries)
        object.__setattr__(self, "digest", hashlib.blake2b(listing.encode(), digest_size=12).hexdigest())

    def __hash__(self) -> int:
        return hash(self.digest)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UserDict) and other.digest == self.digest

    def __len__(self) -> int:
        return len(self.entries)

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> "UserDict":
        """Read jieba's user dictionary format: ``word [frequency] [tag]`` per line.

        Raises :class:`ValueError` naming the file (and line) that cannot be used.
        """
        try:
            text = open(path, encoding="utf-8-sig").read()
        except (OSError, UnicodeDecodeError) as error:
            raise ValueError(f"cannot read user dictionary {path}: {getattr(error, 'strerror', None) or error}") from None
        entries: dict[str, int | None] = {}
        for number, line in enumerate(text.splitlines(), 1):
            parts = line.split()
            if not parts or parts[0].startswith("#"):
                continue
            word = normalize(parts[0])[0].lower()
            # jieba's format: the frequency may be left out, the tag too (`word tag` is valid).
            frequency = parts[1] if len(parts) > 1 and parts[1].isascii() and parts[1].isdecimal() else None
            if len(parts) > 2 and frequency is None:
                raise ValueError(f"user dictionary {path}, line {number}: the frequency {parts[1]!r} is not a number")
            entries[word] = int(frequency) if frequency is not None else None
        return cls(tuple(entries.items()))


@functools.cache
def _segmenter(user: UserDict | None = None) -> Segmenter:
    """jieba's segmentation (with ``user``'s words), made once per process."""
    return Segmenter(user.entries if user else ())


def warm_up(user: UserDict | None = None) -> None:
    """Load (and if need be compile and cache) the segmenter for ``user``'s words now."""
    _segmenter(user)


def is_warm(user: UserDict | None = None) -> bool:
    """Whether a new process loads the segmenter for ``user``'s words from the cache
    rather than compiling it (jieba's whole dictionary: seconds and 100 MB)."""
    return is_compiled(user.entries if user else ())


def normalize(text: str) -> tuple[str, list[int] | None]:
    """NFKC-normalise ``text`` and fold traditional characters to simplified ones;
    return it with a map from its indexes to ``text``'s.

    The map is ``None`` when every character kept its index (the fast path).
    A character is normalised together with the combining marks that follow it
    (``e`` + U+0301 → ``é``, ``ｶ`` + ``ﾞ`` → ``ガ``).
    """
    narrowed = _narrowed(text)
    if unicodedata.is_normalized("NFKC", narrowed):
        return _simplified(narrowed), None
    folded_parts: list[str] = []
    origin: list[int] = []
    index = 0
    for stable in _NFKC_STABLE.finditer(narrowed):
        # Runs of characters NFKC never changes are copied; the rest go one by one.
        index = _fold(narrowed, index, stable.start(), folded_parts, origin)
        folded_parts.append(stable.group())
        origin.extend(range(stable.start(), stable.end()))
        index = stable.end()
    _fold(narrowed, index, len(narrowed), folded_parts, origin)
    return _simplified("".join(folded_parts)), origin


def _narrowed(text: str) -> str:
    """``text`` with full-width ASCII and the ideographic space made plain. Chinese
    text holds a few kinds of them (，：（）), each replaced in one pass: ``str.translate``
    looks every character up, several times slower."""
    for char in set(_FULLWIDTH_CHARS.findall(text)):
        text = text.replace(char, _FULLWIDTH[char])
    return text


def _simplified(text: str) -> str:
    """``text`` with traditional characters folded; most text has none, which a
    regular expression tells far faster than ``str.translate`` can map every character."""
    if _traditional_characters().search(text) is None:
        return text
    return text.translate(_simplified_table())


@functools.cache
def _traditional_characters() -> re.Pattern[str]:
    folded = "".join(re.escape(chr(code)) for code in sorted(_simplified_table()))
    return re.compile(f"[{folded}]" if folded else "(?!)")


@functools.cache
def _simplified_table() -> dict[int, int]:
    """Traditional → simplified Chinese, one character for one, from OpenCC's ``t2s``.

    Characters only, never phrases, so offsets stay exact and the folding is the
    same wherever a character appears (``縣`` → ``县``, ``臺灣`` → ``台湾``). Kept in
    the segmenter's cache folder: asking OpenCC about 28,000 characters takes 10 ms.
    """
    import opencc

    path = cache_dir() / f"t2s-opencc-{getattr(opencc, '__version__', 'unknown')}.marshal"
    cached = read_cached(path)
    if isinstance(cached, dict):
        return cached
    ideographs = [chr(code) for start, end in _IDEOGRAPH_BLOCKS for code in range(start, end)]
    converted = opencc.OpenCC("t2s").convert("\n".join(ideographs)).split("\n")
    if len(converted) != len(ideographs):  # never seen; keep the text unfolded rather than shifted
        return {}
    table = {
        ord(original): ord(simple)
        for original, simple in zip(ideographs, converted)
        if len(simple) == 1 and simple != original
    }
    write_cached(path, table)
    return table


def _fold(text: str, index: int, stop: int, folded_parts: list[str], origin: list[int]) -> int:
    """NFKC-normalise ``text[index:stop]`` character by character (a base character
    with the marks that combine with it), recording where each output character came from."""
    while index < stop:
        end = index + 1
        while end < len(text) and _joins_previous(text[end]):
            end += 1
        folded = unicodedata.normalize("NFKC", text[index:end])
        if end > index + 1 and folded == unicodedata.normalize("NFKC", text[index]) + unicodedata.normalize(
            "NFKC", text[index + 1 : end]
        ):
            end = index + 1  # the marks did not combine: map each character on its own
            folded = unicodedata.normalize("NFKC", text[index])
        folded_parts.append(folded)
        origin.extend([index] * len(folded))
        index = end
    return index


def _joins_previous(char: str) -> bool:
    """Combining marks, and the half-width kana voicing marks that NFKC merges."""
    return unicodedata.combining(char) != 0 or char in "\uff9e\uff9f"


def _subwords(word: str, segmenter: Segmenter) -> Iterator[tuple[int, str]]:
    """Dictionary words inside a longer word: jieba's search-mode 2- and 3-character
    parts, plus longer ones (``人民共和国`` in ``中华人民共和国``)."""
    for size in range(2, len(word)):
        for offset in range(len(word) - size + 1):
            part = word[offset : offset + size]
            if segmenter.frequency(part):
                yield offset, part


@functools.lru_cache(maxsize=65536)
def pieces(word: str, user: UserDict | None = None) -> tuple[str, ...]:
    """A Chinese word cut into the smallest dictionary words that make it up.

    ``华中科技大学`` → ``华中``, ``科技``, ``大学``. Each piece takes a position of its
    own, so a quoted phrase that is only part of a compound (``"科技大学"``) still
    finds its pieces side by side. Words of up to three characters are one piece.
    """
    if len(word) <= 3:
        return (word,)
    segmenter = _segmenter(user)
    graph = segmenter.edges(word)
    # Not the whole word: its first character alone if no shorter word starts it.
    graph[0] = [edge for edge in graph[0] if edge[0] != len(word) - 1] or [(0, segmenter.frequency(word[0]))]
    route = segmenter.route(graph)
    parts: list[str] = []
    start = 0
    while start < len(word):
        end = route[start][1] + 1
        parts.extend(pieces(word[start:end], user) if end - start < len(word) else [word[start:end]])
        start = end
    return tuple(parts)


def _words(normalized: str, user: UserDict | None = None) -> Iterator[tuple[str, int, int, bool]]:
    """Every word of normalised text, stopwords included: (word, start, end, is_chinese)."""
    segmenter = _segmenter(user)
    for match in _TOKEN_RE.finditer(normalized):
        if match.lastgroup != "han":
            yield match.group().lower(), match.start(), match.end(), False
            continue
        offset = match.start()
        for word in segmenter.cut(match.group()):
            yield word, offset, offset + len(word), True
            offset += len(word)


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
    return _tokens(text, origin, _words(normalized, user), subwords, user)


def spans_and_matches(
    text: str, terms: Collection[str], *, user: UserDict | None = None
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """:func:`word_spans` of ``text``, and the spans of its index-time tokens
    (sub-words included) that are among ``terms``, from one segmentation.

    Snippets need both for the same passage; only words that contain a term are
    taken apart into their sub-words.
    """
    normalized, origin = normalize(text)
    words = list(_words(normalized, user))
    spans = _spans(text, origin, words)
    matches: list[tuple[int, int]] = []
    stop = stopwords()
    for word, span in zip(words, spans):
        if word[0] in terms and word[0] not in stop:
            matches.append(span)
        if word[3] and len(word[0]) > 2 and any(term in word[0] for term in terms if term != word[0]):
            parts = _tokens(text, origin, [word], True, user)
            matches.extend((part.start, part.end) for part in parts if part.subword and part.text in terms)
    return spans, matches


def _tokens(
    text: str,
    origin: list[int] | None,
    words: Iterable[tuple[str, int, int, bool]],
    subwords: bool,
    user: UserDict | None,
) -> Iterator[Token]:
    """The tokens of :func:`analyze`, from the words of ``text``'s normalised form."""
    stop = stopwords()
    segmenter = _segmenter(user)
    position = 0

    def span(start: int, end: int) -> tuple[int, int]:
        return (start, end) if origin is None else _original_span(text, origin, start, end)

    for word, start, end, chinese in words:
        if word in stop:
            continue
        yield Token(word, position, *span(start, end))
        parts = pieces(word, user) if chinese else (word,)
        if subwords and chinese and len(word) > 2:
            yield from sorted(_parts(word, parts, position, start, span, segmenter, stop), key=_by_position)
        position += len(parts)


def _parts(word, parts, position, start, span, segmenter, stop) -> Iterator[Token]:
    """The pieces of a compound at their own positions, and the other dictionary
    words inside it at the position of the piece where each starts."""
    piece_starts = [0]
    for part in parts:
        if len(parts) > 1:
            at = start + piece_starts[-1]
            yield Token(part, position + len(piece_starts) - 1, *span(at, at + len(part)), True)
        piece_starts.append(piece_starts[-1] + len(part))
    emitted = set(zip(piece_starts, parts))
    for inner, part in _subwords(word, segmenter):
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
        return _original_span(text, origin, start, end)

    for word, start, _, chinese in _words(normalized, user):
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
            layout = _layout(word, user) if origin is None else _word_layout(word, user, start, span)
            for part, offset, is_inner in layout:
                if is_inner:
                    inner.append(part)
                else:
                    found.setdefault(part, []).append(position + offset)
        position += len(parts)
    for number, word in enumerate(inner):
        found.setdefault(word, []).append(INNER_POSITIONS + number)
    return found


def _word_layout(
    word: str, user: UserDict | None, start: int = 0, span=lambda start, end: (start, end)
) -> tuple[tuple[str, int, bool], ...]:
    """The pieces and inner words of a compound (starting at ``start``) as
    :func:`_parts` yields them, in index order: (text, position after the word's, inner)."""
    parts = _parts(word, pieces(word, user), 0, start, span, _segmenter(user), stopwords())
    return tuple((part.text, part.position, part.inner) for part in sorted(parts, key=_by_position))


_layout = functools.lru_cache(maxsize=65536)(_word_layout)


def _by_position(token: Token) -> tuple[int, int, int]:
    return token.position, token.start, token.end


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


def phrase_terms(text: str, user: UserDict | None = None) -> list[str]:
    """The terms a quoted phrase must find at consecutive positions: words cut into pieces."""
    normalized, _ = normalize(text)
    stop = stopwords()
    found: list[str] = []
    for word, _, _, chinese in _words(normalized, user):
        if word not in stop:
            found.extend(pieces(word, user) if chinese else (word,))
    return found


def word_spans(text: str, user: UserDict | None = None) -> list[tuple[int, int]]:
    """Where every word of ``text`` starts and ends (stopwords too), in ``text``'s offsets."""
    normalized, origin = normalize(text)
    return _spans(text, origin, _words(normalized, user))


def _spans(text: str, origin: list[int] | None, words: Iterable[tuple[str, int, int, bool]]) -> list[tuple[int, int]]:
    """Where ``words`` (of ``text``'s normalised form) stand in ``text``."""
    if origin is None:
        return [(start, end) for _, start, end, _ in words]
    return [_original_span(text, origin, start, end) for _, start, end, _ in words]


def _original_span(text: str, origin: list[int], start: int, end: int) -> tuple[int, int]:
    """The span of ``text`` that normalised to ``[start, end)``, combining marks included."""
    # A token may end inside what one source character expanded to (カ + two voicing
    # marks → ガ + mark): the span then runs to the end of that source character's group.
    group_end = end
    while group_end < len(origin) and origin[group_end] == origin[end - 1]:
        group_end += 1
    last = origin[end - 1] + 1
    limit = origin[group_end] if group_end < len(origin) else len(text)
    while last < limit and _joins_previous(text[last]):
        last += 1
    return origin[start], last


def is_chinese(text: str) -> bool:
    """Whether ``text`` is all Chinese characters (what jieba is given to segment)."""
    return _HAN_RUN.fullmatch(text) is not None


def terms(text: str, user: UserDict | None = None) -> list[str]:
    """The query-time terms of ``text``, in order (no sub-words)."""
    return [token.text for token in analyze(text, user=user)]


def settings() -> dict[str, object]:
    """What an index records about how its text was analysed."""
    from importlib import metadata

    return {
        "analysis_version": ANALYSIS_VERSION,
        "segmenter": f"jieba {metadata.version('jieba')} (its dictionary and algorithm, compiled: search.segmenter)",
        "normalization": "NFKC, lower-case, traditional to simplified (OpenCC t2s, per character)",
        "positions": "one per dictionary piece of a word (华中科技大学 = 华中 科技 大学)",
        "subwords": "every dictionary word inside a longer word",
        "stopwords": len(stopwords()),
    }


#: Where inner words are placed in the index: far beyond any real position, so a
#: phrase can never line them up with the words around them (经济带 + 发展 must not
#: read as 经济 发展). Term queries, which ignore positions, still find them.
INNER_POSITIONS = 1 << 30


class ChineseTokenizer(_WhooshTokenizer):
    """Whoosh adapter for :func:`analyze`: sub-words at index time, none at query time.

    Inner words come last, at positions from :data:`INNER_POSITIONS` on, so every
    term's positions still rise. Instances are pickled into the index schema with
    the index's user dictionary, their only state.
    """

    user: UserDict | None = None

    def __init__(self, user: UserDict | None = None) -> None:
        self.user = user or None

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.user == other.user  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self.user))

    def __call__(  # type: ignore[override]
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[_WhooshToken]:
        token = _WhooshToken(positions, chars, removestops=removestops, mode=mode, **kwargs)
        items = list(analyze(value, subwords=mode == "index", user=self.user))
        inner = [item for item in items if item.inner]
        placed = [item for item in items if not item.inner]
        placed += [replace(item, position=INNER_POSITIONS + n) for n, item in enumerate(inner)]
        for item in placed:
            token.text = item.text
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = value[item.start : item.end]
            if positions:
                token.pos = start_pos + item.position
            if chars:
                token.startchar = start_char + item.start
                token.endchar = start_char + item.end
            yield token


_GRAM_RUN = re.compile(rf"(?P<han>[{_HAN}]+)|(?P<other>(?:(?![{_HAN}])[^\W_])+)")


def grams(text: str) -> list[str]:
    """Character n-grams of ``text``: pairs of Chinese characters, triples of Latin
    letters and digits (a run too short for one is kept whole).

    They find what words cannot when a query is cut differently from the text
    (``五菱宏光`` in a title jieba cut as ``款五 菱宏光``) or runs words together
    (``bluestacks`` in ``bluestacksappplayer``).
    """
    normalized = normalize(text)[0].lower()
    found: list[str] = []
    for match in _GRAM_RUN.finditer(normalized):
        run = match.group()
        size = 2 if match.lastgroup == "han" else 3
        if len(run) <= size:
            found.append(run)
        else:
            found.extend(run[index : index + size] for index in range(len(run) - size + 1))
    return found


class GramTokenizer(_WhooshTokenizer):
    """Whoosh adapter for :func:`grams` (no positions: grams only add evidence)."""

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))

    def __call__(self, value: str, positions: bool = False, chars: bool = False, **kwargs: object) -> Iterator[_WhooshToken]:  # type: ignore[override]
        token = _WhooshToken(positions, chars, **kwargs)
        for number, gram in enumerate(grams(value)):
            token.text = gram
            token.boost = 1.0
            token.stopped = False
            if positions:
                token.pos = number
            yield token

"""Normalisation: the one form of text that indexing, querying and highlighting share.

Text is NFKC-normalised (full-width letters and digits become ASCII) and its
traditional characters are folded to simplified ones, one character for one.
Every function that changes lengths also returns a map from the normalised
text's indexes back to the original's, so a span found in one form can be shown
exactly in the other (:func:`original_span`).
"""

from __future__ import annotations

import functools
import re
import unicodedata

from ..cache import cache_dir, read_cached, write_cached

# Characters NFKC leaves alone (ASCII, CJK ideographs and punctuation, kana,
# Hangul syllables), when no combining mark follows them.
_NFKC_STABLE = re.compile(
    r"(?:[\t\n\r\x20-\x7e\u4e00-\u9fff\u3001-\u3003\u3008-\u3011\u2018-\u201d\u3041-\u3096\u30a1-\u30fa\uac00-\ud7a3]"
    r"(?![\u0300-\u036f\u3099\u309a\uff9e\uff9f]))+"
)

# CJK ideograph blocks whose traditional forms are folded to simplified ones.
_IDEOGRAPH_BLOCKS = ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00))

# Full-width ASCII and the ideographic space map one-to-one onto ASCII, which
# keeps offsets unchanged for the overwhelmingly common case.
_FULLWIDTH = {chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)} | {"\u3000": " "}
_FULLWIDTH_CHARS = re.compile("[\uff01-\uff5e\u3000]")


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
    """``text`` with traditional characters folded; most text has none, which is told
    far faster than ``str.translate`` can map every character."""
    table = _simplified_table()
    return text.translate(table) if _has_traditional(text, table) else text


class _TraditionalFinder:
    """Whether a text holds a traditional character: looked up character by character
    until that has cost about what compiling one expression of them all costs (10 ms,
    as much as 100,000 characters), then by that expression, 15 times quicker. A cold
    search's queries and snippets never get that far; an indexer soon does."""

    BY_CHARACTER_UP_TO = 100_000

    def __init__(self) -> None:
        self.looked_up = 0
        self.pattern: re.Pattern[str] | None = None

    def __call__(self, text: str, table: dict[int, int]) -> bool:
        if self.pattern is None:
            if self.looked_up < self.BY_CHARACTER_UP_TO:
                self.looked_up += len(text)
                return not table.keys().isdisjoint(map(ord, text))
            self.pattern = _traditional_characters()
        return self.pattern.search(text) is not None


_has_traditional = _TraditionalFinder()


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


def original_span(text: str, origin: list[int], start: int, end: int) -> tuple[int, int]:
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

"""Words: text cut into the words of its language, before any become tokens.

Normalised text is split into runs of Chinese characters, decimals and runs of
other word characters (Latin, digits, kana: ``Win11``, ``12306``, ``4.5``), and
the Chinese runs are cut with jieba (:mod:`search.text.segmenter`), with an
index's user dictionary when it has one. A Chinese word of four characters or
more is also cut into its *pieces*, and holds other dictionary words, its
*sub-words* (see :mod:`search.text` for these names).
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from typing import Iterator

from .segmenter import Segmenter, is_compiled
from .user_dict import UserDict

#: The characters read as Chinese (Han ideographs, their extensions, 〇).
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f\u3007"
_TOKEN_RE = re.compile(
    rf"(?P<han>[{HAN}]+)"  # a run of Chinese characters, segmented by jieba
    r"|(?P<number>\d+(?:\.\d+)+)"  # decimals and versions stay whole: 4.5, 40.0
    rf"|(?P<word>(?:(?![{HAN}])[^\W_])+)"  # Latin, digits, kana…: Win11, 5g, 12306
)
_HAN_RUN = re.compile(f"[{HAN}]+")


@functools.cache
def stopwords() -> frozenset[str]:
    """The small Chinese stopword list shipped with the package."""
    lines = resources.files(__package__).joinpath("stopwords.txt").read_text("utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


@functools.cache
def segmenter_for(user: UserDict | None = None) -> Segmenter:
    """jieba's segmentation (with ``user``'s words), made once per process."""
    return Segmenter(user.entries if user else ())


def warm_up(user: UserDict | None = None) -> None:
    """Load (and if need be compile and cache) the segmenter for ``user``'s words now."""
    segmenter_for(user)


def is_warm(user: UserDict | None = None) -> bool:
    """Whether a new process loads the segmenter for ``user``'s words from the cache
    rather than compiling it (jieba's whole dictionary: seconds and 100 MB)."""
    return is_compiled(user.entries if user else ())


@functools.lru_cache(maxsize=16384)  # the common words: a larger cache grows a build worker by tens of MB
def pieces(word: str, user: UserDict | None = None) -> tuple[str, ...]:
    """A Chinese word cut into the smallest dictionary words that make it up.

    ``华中科技大学`` → ``华中``, ``科技``, ``大学``. Each piece takes a position of its
    own, so a quoted phrase that is only part of a compound (``"科技大学"``) still
    finds its pieces side by side. Words of up to three characters are one piece.
    """
    if len(word) <= 3:
        return (word,)
    segmenter = segmenter_for(user)
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


def sub_words(word: str, segmenter: Segmenter) -> Iterator[tuple[int, str]]:
    """Dictionary words inside a longer word: jieba's search-mode 2- and 3-character
    parts, plus longer ones (``人民共和国`` in ``中华人民共和国``)."""
    for size in range(2, len(word)):
        for offset in range(len(word) - size + 1):
            part = word[offset : offset + size]
            if segmenter.frequency(part):
                yield offset, part


def words_of(normalized: str, user: UserDict | None = None) -> Iterator[tuple[str, int, int, bool]]:
    """Every word of normalised text, stopwords included: (word, start, end, is_chinese)."""
    segmenter = segmenter_for(user)
    for match in _TOKEN_RE.finditer(normalized):
        if match.lastgroup != "han":
            yield match.group().lower(), match.start(), match.end(), False
            continue
        offset = match.start()
        for word in segmenter.cut(match.group()):
            yield word, offset, offset + len(word), True
            offset += len(word)


def is_chinese(text: str) -> bool:
    """Whether ``text`` is all Chinese characters (what jieba is given to segment)."""
    return _HAN_RUN.fullmatch(text) is not None

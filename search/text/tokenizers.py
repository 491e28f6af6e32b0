"""Whoosh's side of the analysis: tokenizers for the index schema, and title n-grams.

These classes are pickled into every index's schema, with the index's user
dictionary, their only state. Indexes of schema 3 and earlier name them
``search.analysis.*`` (kept as an alias module for them).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Iterator

from whoosh.analysis import Token as _WhooshToken
from whoosh.analysis import Tokenizer as _WhooshTokenizer

from .normalize import normalize
from .tokens import INNER_POSITIONS, analyze
from .user_dict import UserDict
from .words import HAN


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


_GRAM_RUN = re.compile(rf"(?P<han>[{HAN}]+)|(?P<other>(?:(?![{HAN}])[^\W_])+)")


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

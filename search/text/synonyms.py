"""Synonyms: the other words a query word also finds.

Three lists, applied at query time only (the index keeps the words as written, so
a list can change without a rebuild):

- regional vocabulary, always on: Taiwan forms and their mainland equivalents
  (軟體 ⇔ 软件, 網路 ⇔ 网络, 人工智慧 ⇔ 人工智能), from OpenCC's phrase tables;
- an index's own list (``index --synonyms FILE``), in the format Solr and
  Elasticsearch read: ``a, b, c`` for words that find each other, ``a => b`` for
  a query word searched as another (``a => a, b`` keeps it);
- :func:`news_abbreviations`, our short list of news abbreviations, which a
  synonyms file can name with the line ``@news``.

Words are compared as query terms (normalised, segmented), so 軟體 and 软体 are
one word, and a rule's words must stand whole in the query (软体动物 is not 软体).
"""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass, field
from importlib import util
from pathlib import Path

from ..cache import cache_dir, read_cached, write_cached
from .normalize import normalize
from .segmenter import JIEBA_VERSION
from .user_dict import UserDict

#: The line of a synonyms file that adds :func:`news_abbreviations`.
NEWS_LIST = "@news"

#: A Taiwan form counts as regional vocabulary when jieba's (mainland) dictionary
#: gives it fewer uses than this: 软体, 网路, 伺服器 are in, 资料, 档案, 文件 are out,
#: since they are mainland words of their own with another meaning.
RARE_IN_MAINLAND = 100

Rule = tuple[str, tuple[str, ...]]


@dataclass(frozen=True, eq=False)
class Synonyms:
    """Rules ``word → the words a query for it searches`` (itself included when kept)."""

    rules: tuple[Rule, ...] = ()
    digest: str = field(init=False)

    def __post_init__(self) -> None:
        listing = "\n".join(f"{word}\t{'|'.join(found)}" for word, found in self.rules)
        object.__setattr__(self, "digest", hashlib.blake2b(listing.encode(), digest_size=12).hexdigest())

    def __hash__(self) -> int:
        return hash(self.digest)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Synonyms) and other.digest == self.digest

    def __len__(self) -> int:
        return len(self.rules)

    def __add__(self, other: "Synonyms") -> "Synonyms":
        """Both lists; where both have a word, what they search is joined."""
        if not other.rules or not self.rules:  # nothing to merge: the big regional list is not copied
            return self if other.rules == () else other
        return Synonyms.of(self.rules + other.rules)

    @classmethod
    def of(cls, rules: tuple[Rule, ...] | list[Rule]) -> "Synonyms":
        """Rules with each word once, what it searches joined in order."""
        merged: dict[str, dict[str, None]] = {}
        for word, found in rules:
            merged.setdefault(word, {}).update(dict.fromkeys(found))
        return cls(tuple((word, tuple(found)) for word, found in merged.items()))

    @classmethod
    def parse(cls, text: str, source: str = "synonyms") -> "Synonyms":
        """Read Solr's synonyms format; :class:`ValueError` names the line that cannot be read."""
        rules: list[Rule] = []
        extra = Synonyms()
        for number, line in enumerate(text.splitlines(), 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            if line == NEWS_LIST:
                extra = extra + news_abbreviations()
                continue
            if line.count("=>") > 1:
                raise ValueError(f"{source}, line {number}: more than one '=>' in {line!r}")
            left, arrow, right = line.partition("=>")
            words = _words(left)
            targets = _words(right) if arrow else words
            if not words or not targets:
                raise ValueError(f"{source}, line {number}: expected 'a, b, c' or 'a => b', got {line!r}")
            rules.extend((word, tuple(targets)) for word in words)
        return Synonyms.of(rules) + extra

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> "Synonyms":
        """A synonyms file; :class:`ValueError` names the file (and line) that cannot be used."""
        try:
            text = Path(path).read_text("utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise ValueError(f"cannot read synonyms file {path}: {getattr(error, 'strerror', None) or error}") from None
        return cls.parse(text, f"synonyms file {path}")

    def to_json(self) -> list[list]:
        return [[word, list(found)] for word, found in self.rules]

    @classmethod
    def restored(cls, rules: tuple[Rule, ...], digest: str) -> "Synonyms":
        """Rules and their digest as a cache kept them, taken as they are."""
        synonyms = object.__new__(cls)
        object.__setattr__(synonyms, "rules", rules)
        object.__setattr__(synonyms, "digest", digest)
        return synonyms

    @classmethod
    def from_json(cls, rules: list) -> "Synonyms":
        return cls(tuple((str(word), tuple(str(item) for item in found)) for word, found in rules))


def _words(text: str) -> list[str]:
    return [normalize(word.strip())[0].lower() for word in text.split(",") if word.strip()]


class Lookup:
    """Synonyms for the words of a query: a run of its terms → the term lists it searches."""

    MAX_RUN = 4

    def __init__(self, synonyms: Synonyms, user: UserDict | None) -> None:
        # Keyed by text: a rule's terms are worked out only when a query has its word.
        self.user = user
        words, found = zip(*synonyms.rules) if synonyms.rules else ((), ())
        self.table = dict(zip(map("".join, map(str.split, words)), found))  # a word's spaces dropped, in C

    def slots(self, words: list[str]) -> list[tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]]:
        """``words`` cut into runs, each with what it searches (the run alone when it has no synonyms)."""
        found = []
        at = 0
        while at < len(words):
            for end in range(min(len(words), at + self.MAX_RUN), at, -1):
                run = tuple(words[at:end])
                alternatives = self._alternatives("".join(run))
                if alternatives and alternatives != (run,):
                    found.append((run, alternatives))
                    at = end
                    break
            else:
                found.append(((words[at],), ((words[at],),)))
                at += 1
        return found

    def _alternatives(self, text: str) -> tuple[tuple[str, ...], ...]:
        if text not in self.table:
            return ()
        from .tokens import terms  # tokens loads jieba's dictionary, which a query has loaded by now

        found = (tuple(terms(item, self.user)) for item in self.table[text])
        return tuple(dict.fromkeys(item for item in found if item))


@functools.lru_cache(maxsize=32)
def lookup(synonyms: Synonyms, user: UserDict | None) -> Lookup:
    """The :class:`Lookup` of ``synonyms`` segmented with ``user``, made once."""
    return Lookup(synonyms, user)


@functools.cache
def news_abbreviations() -> Synonyms:
    """Our list of news abbreviations (``news-synonyms.txt`` beside this module)."""
    return Synonyms.parse((Path(__file__).parent / "news-synonyms.txt").read_text("utf-8"), "news-synonyms.txt")


@functools.cache
def regional() -> Synonyms:
    """Taiwan vocabulary ⇔ mainland vocabulary, from OpenCC (kept in the cache folder:
    working it out converts jieba's whole dictionary, about 1.5 s)."""
    import opencc  # imported by now: it folds traditional characters

    spec = util.find_spec("jieba")  # jieba's word list, without importing jieba (70 ms)
    if spec is None or spec.origin is None:
        return Synonyms()
    path = cache_dir() / f"regional-opencc-{getattr(opencc, '__version__', 'unknown')}-jieba-{JIEBA_VERSION}-{RARE_IN_MAINLAND}.v2.marshal"
    cached = read_cached(path)
    if isinstance(cached, tuple) and len(cached) == 2:  # kept as made: a cold search converts nothing (7 ms)
        return Synonyms.restored(*cached)
    synonyms = _regional_pairs(opencc, Path(spec.origin).parent / "dict.txt")
    write_cached(path, (synonyms.rules, synonyms.digest))
    return synonyms


def _regional_pairs(opencc, dictionary: Path) -> Synonyms:
    """Every jieba word that OpenCC's Taiwan phrases write differently (not just in
    other characters), paired with that form when it is rare in mainland text."""
    uses: dict[str, int] = {}
    for line in dictionary.read_text("utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].isdecimal():
            uses[parts[0]] = int(parts[1])
    words = list(uses)
    text = "\n".join(words)
    characters = opencc.OpenCC("s2tw").convert(text).split("\n")
    phrases = opencc.OpenCC("s2twp").convert(text).split("\n")
    if not len(words) == len(characters) == len(phrases):  # never seen: no list rather than a shifted one
        return Synonyms()
    rules: list[Rule] = []
    for word, by_character, by_phrase in zip(words, characters, phrases):
        if by_character == by_phrase:
            continue
        taiwan = normalize(by_phrase)[0]
        if taiwan != word and uses.get(taiwan, 0) < RARE_IN_MAINLAND:
            rules += [(word, (word, taiwan)), (taiwan, (taiwan, word))]
    return Synonyms.of(rules)

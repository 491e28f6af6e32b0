"""Did you mean: a corrected query built from the index's own vocabulary.

A query *finds little* when fewer than :data:`FEW_HITS` documents match it, when
one of its words is in no document, or (a query of plain words, no ``OR`` or
brackets) when fewer than :data:`FEW_HITS` documents hold all its words. That last
test matters because words are ``OR``-ed: the hits of ``新能源`` would hide the typo
in ``新能源气车``. Unspaced text that jieba cut into a single character counts as
a phrase there (``中国式现代话``: ``现代`` and ``话`` are common apart, never side by side).

Only then are the query's *doubtful* words looked at: words in fewer than
:data:`RARE` documents, and runs of adjacent Chinese words, with a single
character or a rare word among them, that may be one mistyped word (``冬奥汇`` is cut
into ``冬奥`` + ``汇``). Each gets candidates from the index's vocabulary:

- Chinese: words that sound the same, toneless pinyin syllable by syllable, or
  nearly so (zh/z, ch/c, sh/s, n/l, an/ang, en/eng, in/ing), from the words of the
  ``title`` and ``categories`` fields; or two such words in a row (新冠疫请: 新冠 疫情);
- Latin: words one edit away (a letter added, dropped, changed, or two swapped);
- pinyin typed in Latin letters (``zhongguo``): the Chinese words it spells.

Candidates rank by the documents that have them between the Chinese words typed
right against them (合作共营: 合作共赢 before 合作供应), then with the other words of the
query, then alone; each step away from the typed text (a fuzzy syllable, an edit,
a change of script) divides that by ten. A rare word's replacement must be in
:data:`RARER_BY` times more documents. The best candidate of each doubtful word
replaces it in the query text, which is otherwise kept as typed (fields,
operators, quotes), and the result is suggested only if it finds more: more
documents holding all its words, else more documents.

Cost: checking whether a query finds little takes term lookups and at most a
few capped intersections (under 5 ms on 16,000 news stories). The pinyin map is
built on first need, once per state of the index: importing pypinyin (0.2–0.5 s,
57 MB) and reading 13,000 title words (0.5–1 s, 8 MB) on those 16,000 stories; it is
then kept in the index folder (``suggest-pinyin-N.marshal``, N the commit) and later
processes load it in milliseconds. A query that finds enough never builds it nor
imports pypinyin.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Iterable, Iterator

from ..cache import read_cached, write_cached
from ..engine.docsets import DocSet, count_together
from ..schema import TEXT_FIELDS
from ..text.tokens import Token, analyze, phrase_terms
from ..text.user_dict import UserDict
from ..text.words import is_chinese, pieces
from . import compile as query_compile
from . import syntax as query_syntax
from .pinyin import LATIN, deletions, edit_distance, fuzzy, pinyin_readings

#: A query that finds fewer documents than this may get a suggestion.
FEW_HITS = 3
#: A word in fewer documents than this is doubtful when the query finds little.
RARE = 3
#: A replacement for a word found in some documents must be in this many times more.
RARER_BY = 10
#: How much each step away from the typed word (a fuzzy syllable, an edit) weighs.
STEP_WEIGHT = 0.1
#: Fields whose words are candidates for Chinese replacements.
VOCABULARY_FIELDS = ("title", "categories")

_COUNT_CAP = 1000  # counting documents stops here
_CANDIDATES = 8  # candidates per doubtful word that are counted with the other words
_SPANS = 8  # doubtful words (or runs of words) looked at per query
_CONTEXT = 4  # other words of the query (the nearest) a candidate is counted with
_WINDOW_TOKENS = 3
_WINDOW_CHARS = 6


@dataclass(frozen=True)
class _Span:
    """Doubtful text of the query: ``query[start:end]``, analysed as ``text``, in ``frequency`` documents."""

    start: int
    end: int
    text: str
    frequency: int


class Suggester:
    """Suggestions for one open index; the vocabularies are built on first need.

    ``pinyin_cache`` is where the pinyin map of this state of the index is kept
    between processes (written by the first that builds it, if it can).
    """

    def __init__(self, searcher, user: UserDict | None = None, pinyin_cache: Path | None = None) -> None:
        self._searcher = searcher
        self._pinyin_cache = pinyin_cache
        self._user = user  # the index's own words: queries are cut as its text was
        self._reader = searcher.reader()
        self._lock = threading.Lock()
        self._pinyin: dict[tuple[str, ...], list[tuple[str, tuple[str, ...]]]] | None = None
        self._latin: dict[str, list[str]] | None = None

    @property
    def pinyin_map_built(self) -> bool:
        return self._pinyin is not None

    def suggest(self, query: str, total: int | None, allowed: DocSet | None = None) -> str | None:
        """A better query than ``query`` (which found ``total`` documents among the
        ``allowed`` ones, all if ``None``; ``None``: at least 10, not counted), or ``None``."""
        tree = query_syntax.parse(query)
        wanted = query_syntax.highlight_terms(tree, self._user)
        tokens = [token for token in analyze(query, user=self._user) if _looked_for(token.text, wanted, self._user)]
        if not tokens:
            return None
        frequency = {token.text: self._frequency(token.text) for token in tokens}
        words = _plain_words(tree, self._user)
        finds_little = (
            (total is not None and total < FEW_HITS)
            or min(frequency.values()) == 0
            or (words is not None and _several(words) and self._count(words, allowed, FEW_HITS) < FEW_HITS)
        )
        if not finds_little:
            return None
        spans = list(islice(self._doubtful(tokens, frequency), _SPANS))
        edits: list[tuple[tuple[float, ...], _Span, str]] = []
        for span in spans:
            others = [t for t in tokens if not (span.start <= t.start < span.end) and frequency[t.text] > 0]
            nearest = sorted(others, key=lambda t: abs(t.start - span.start))
            context = list(dict.fromkeys(t.text for t in nearest))[:_CONTEXT]
            best = self._best(span, context, _glued(tokens, span, self._user), allowed)
            if best is not None:
                edits.append((best[0], span, best[1]))
        if not edits:
            return None
        edits.sort(key=lambda edit: (edit[0], edit[1].end - edit[1].start), reverse=True)
        chosen: list[tuple[_Span, str]] = []
        for _, span, replacement in edits:
            if all(span.end <= other.start or other.end <= span.start for other, _ in chosen):
                chosen.append((span, replacement))
        attempts = [chosen] + ([chosen[:1]] if len(chosen) > 1 else [])  # all edits, else the best alone
        if total is None:  # a count that is only a lower bound would favour any suggestion
            total = self._found(tree, allowed)
        for attempt in attempts:
            suggestion = _replaced(query, attempt)
            if suggestion != query and self._finds_more(suggestion, words, total, allowed):
                return suggestion
        return None

    # -- counting -------------------------------------------------------------

    def _frequency(self, term: str) -> int:
        """In how many documents ``term`` is, at least (the most of any one text field)."""
        return max(self._reader.doc_frequency(name, term) for name in TEXT_FIELDS)

    def _count(self, words: Iterable[str | tuple[str, ...]], allowed: DocSet | None, cap: int) -> int:
        """Documents (among ``allowed``) that hold every one of ``words``, counted up to ``cap``.

        A word is a term, or a tuple of terms that must stand side by side.
        """
        distinct = [word if isinstance(word, tuple) else (word,) for word in dict.fromkeys(words)]
        return count_together(self._searcher, distinct, TEXT_FIELDS, allowed, cap)

    def _finds_more(
        self, suggestion: str, words: list[str | tuple[str, ...]] | None, total: int, allowed: DocSet | None
    ) -> bool:
        """Whether ``suggestion`` finds more than the query of ``words`` that found ``total``.

        Between queries of plain words: more documents with all the words, else more of
        the words in some document. Otherwise: more documents (one more search).
        """
        tree = query_syntax.parse(suggestion)
        suggested_words = _plain_words(tree, self._user)
        if words is not None and suggested_words is not None:
            return self._holding(suggested_words, allowed) > self._holding(words, allowed)
        return self._found(tree, allowed) > total

    def _found(self, tree, allowed) -> int:
        """How many documents the parsed query ``tree`` finds, all counted."""
        return len(self._searcher.search(query_compile.to_whoosh(tree, user=self._user), limit=None, filter=None if allowed is None else allowed.as_filter(), scored=False, terms=False))

    def _holding(self, words: list[str | tuple[str, ...]], allowed: DocSet | None) -> tuple[int, int]:
        """Documents with all ``words`` (up to a cap), and how many of them some document has."""
        distinct = list(dict.fromkeys(words))
        return self._count(distinct, allowed, _COUNT_CAP), sum(1 for word in distinct if self._count([word], allowed, 1))

    # -- doubtful words ---------------------------------------------------------

    def _doubtful(self, tokens: list[Token], frequency: dict[str, int]) -> Iterator[_Span]:
        """Rare words, and runs of adjacent Chinese words with a single character or a rare word."""
        seen: set[tuple[int, int]] = set()
        for token in tokens:
            if frequency[token.text] < RARE and (token.start, token.end) not in seen:
                seen.add((token.start, token.end))
                yield _Span(token.start, token.end, token.text, frequency[token.text])
        for first in range(len(tokens)):
            run = [tokens[first]]
            for token in tokens[first + 1 : first + _WINDOW_TOKENS]:
                if token.start != run[-1].end or not is_chinese(token.text) or not is_chinese(run[0].text):
                    break
                run.append(token)
                text = "".join(t.text for t in run)
                if len(text) > _WINDOW_CHARS or (run[0].start, token.end) in seen:
                    continue
                if any(len(t.text) == 1 or frequency[t.text] < RARE for t in run):
                    joined = self._frequency(text)
                    if joined < RARE:
                        seen.add((run[0].start, token.end))
                        yield _Span(run[0].start, token.end, text, joined)

    def _best(
        self, span: _Span, context: list[str], glued: tuple[tuple[str, ...], tuple[str, ...]], allowed: DocSet | None
    ) -> tuple[tuple[float, ...], str] | None:
        """The best replacement of a span, with its rank: documents with it between the words
        typed against it (合作共营: 合作共赢 before 合作供应), with the other words, alone; × weight."""
        least = max(1, RARER_BY * span.frequency)
        candidates: dict[tuple[str, ...], int] = {}
        for words, steps in self._candidates(span.text):
            if "".join(words) == span.text or any(word in context for word in words):
                continue  # the typed text itself, or a word the query already has
            if steps < candidates.get(words, steps + 1):
                candidates[words] = steps
        ranked = []
        for words, steps in candidates.items():
            frequency = self._frequency(words[0]) if len(words) == 1 else self._count([words], None, _COUNT_CAP)
            if frequency >= least:
                ranked.append((frequency * STEP_WEIGHT**steps, words, steps))
        ranked.sort(reverse=True)
        best = None
        for _, words, steps in ranked[:_CANDIDATES]:
            alone = self._count([words], allowed, _COUNT_CAP)
            if not alone:
                continue
            together = self._count([words, *context], allowed, _COUNT_CAP) if context else alone
            left, right = glued
            phrase = (*left, *(piece for word in words for piece in pieces(word, self._user)), *right)
            adjacent = self._count([phrase], allowed, _COUNT_CAP) if left or right else 0
            weight = STEP_WEIGHT**steps
            rank = (adjacent * weight, together * weight, alone * weight)
            if best is None or rank > best[0]:
                best = (rank, "".join(words))
        return best

    def _candidates(self, text: str) -> Iterator[tuple[tuple[str, ...], int]]:
        """Vocabulary words near ``text`` (one, or two for a long text), with how many steps away."""
        if is_chinese(text):
            from pypinyin import lazy_pinyin

            yield from self._sounding(tuple(lazy_pinyin(text)), 0)
        elif LATIN.fullmatch(text):
            if len(text) >= 4:
                yield from (((word,), steps) for word, steps in self._spelled(text))
            for syllables in pinyin_readings(text):
                if len(syllables) > 1:
                    yield from self._sounding(syllables, 1)  # Latin letters for Chinese: one step

    def _sounding(self, syllables: tuple[str, ...], extra_steps: int) -> Iterator[tuple[tuple[str, ...], int]]:
        """Words whose pinyin is ``syllables`` or fuzzily so, or else two such words
        one after the other (新冠疫请: 新冠 疫情); steps = fuzzy syllables."""
        if not all(LATIN.fullmatch(syllable) for syllable in syllables):
            return
        whole = list(self._sounding_word(syllables))
        yield from (((word,), extra_steps + steps) for word, steps in whole)
        if whole:
            return
        for cut in range(2, len(syllables) - 1):
            heads, tails = (self._likeliest(part) for part in (syllables[:cut], syllables[cut:]))
            for head, head_steps in heads:
                for tail, tail_steps in tails:
                    yield (head, tail), extra_steps + head_steps + tail_steps

    def _likeliest(self, syllables: tuple[str, ...]) -> list[tuple[str, int]]:
        """The words sounding like ``syllables`` that are closest, then in most documents."""
        found = self._sounding_word(syllables)
        return sorted(found, key=lambda pair: (pair[1], -self._frequency(pair[0])))[:_CANDIDATES]

    def _sounding_word(self, syllables: tuple[str, ...]) -> Iterator[tuple[str, int]]:
        for word, reading in self._pinyin_map().get(tuple(map(fuzzy, syllables)), ()):
            yield word, sum(a != b for a, b in zip(reading, syllables))

    def _spelled(self, text: str) -> Iterator[tuple[str, int]]:
        """Latin words of the index one edit away (two for long words, partly)."""
        latin = self._latin_map()
        limit = 1 if len(text) < 8 else 2
        found: set[str] = set()
        for key in deletions(text):
            found.update(latin.get(key, ()))
        for word in found:
            distance = edit_distance(text, word)
            if 0 < distance <= limit:
                yield word, distance

    # -- vocabularies -----------------------------------------------------------

    def _pinyin_map(self) -> dict[tuple[str, ...], list[tuple[str, tuple[str, ...]]]]:
        """Fuzzy pinyin → (word, pinyin) for the Chinese words of :data:`VOCABULARY_FIELDS`."""
        with self._lock:
            if self._pinyin is None:
                self._pinyin = read_cached(self._pinyin_cache) or _recent_pinyin_map(self._pinyin_cache)
            if self._pinyin is None:
                from pypinyin import lazy_pinyin

                sounds: dict[tuple[str, ...], list[tuple[str, tuple[str, ...]]]] = {}
                words = {term for name in VOCABULARY_FIELDS for term in _terms(self._reader, name)}
                for word in sorted(words):
                    if len(word) > 1 and is_chinese(word):
                        reading = tuple(lazy_pinyin(word))
                        sounds.setdefault(tuple(map(fuzzy, reading)), []).append((word, reading))
                self._pinyin = sounds
                _keep_pinyin_map(self._pinyin_cache, sounds)
            return self._pinyin

    def _latin_map(self) -> dict[str, list[str]]:
        """Each Latin word of the text fields, and each of it with a letter dropped → the words."""
        with self._lock:
            if self._latin is None:
                words = {term for name in ("title", "body") for term in _terms(self._reader, name, ascii_only=True)}
                by_deletion: dict[str, list[str]] = {}
                for word in sorted(words):
                    if len(word) >= 3 and LATIN.fullmatch(word):
                        for key in deletions(word):
                            by_deletion.setdefault(key, []).append(word)
                self._latin = by_deletion
            return self._latin


def _keep_pinyin_map(path: Path | None, sounds: dict) -> None:
    """Keep the pinyin map for later processes, in place of the maps of earlier
    states of the index; an index folder that cannot be written is left alone."""
    if path is None:
        return
    write_cached(path, sounds)
    for old in path.parent.glob(f"{_PINYIN_CACHE}-*.marshal"):
        if old != path:
            old.unlink(missing_ok=True)


#: A commit may use the pinyin map of one this many commits before it: an update's new
#: words are then missing from it for a while, but a service applying a change every
#: second does not rebuild the map (0.5–1 s on 16,000 stories) after each.
REUSE_PINYIN_FOR = 20


def _recent_pinyin_map(path: Path | None) -> dict | None:
    """The pinyin map of a recent earlier commit of the same generation, if one is kept."""
    if path is None:
        return None
    state = _state_of(path)
    kept = [(_state_of(other), other) for other in path.parent.glob(f"{_PINYIN_CACHE}-*.marshal")]
    for earlier, other in sorted(kept, reverse=True):
        if state - REUSE_PINYIN_FOR <= earlier < state:
            found = read_cached(other)
            if isinstance(found, dict):
                return found
    return None


def _state_of(path: Path) -> int:
    try:
        return int(path.stem.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return -1


def pinyin_cache_name(state: int) -> str:
    """The file a generation keeps its pinyin map in, for one state (commit) of it."""
    return f"{_PINYIN_CACHE}-{state}.marshal"


_PINYIN_CACHE = "suggest-pinyin"


def _terms(reader, name: str, ascii_only: bool = False) -> Iterator[str]:
    """The terms of a field; with ``ascii_only`` only the leading ASCII ones (they sort first)."""
    if name not in reader.schema:
        return
    for term in reader.lexicon(name):
        if isinstance(term, bytes):
            if ascii_only and term[:1] >= b"\x80":
                return
            term = term.decode("utf-8")
        elif ascii_only and term[:1] >= "\x80":
            return
        yield term


def _looked_for(term: str, wanted: set[str], user: UserDict | None = None) -> bool:
    """Whether an analysed word of the query text is one the query looks for."""
    return term in wanted or (len(term) > 3 and all(piece in wanted for piece in pieces(term, user)))


def _plain_words(tree: query_syntax.Alternatives, user: UserDict | None = None) -> list[str | tuple[str, ...]] | None:
    """What a query without ``OR`` or brackets looks for, each of which a document
    should hold: terms, and the terms of phrases side by side; ``None`` for other queries.

    Unspaced Chinese text that jieba cut into single characters (``现代话``: ``现代`` +
    ``话``) counts as a phrase: that is how it was typed, and its parts alone are common.
    """
    if len(tree.options) != 1:
        return None
    words: list[str | tuple[str, ...]] = []
    for occur, node in tree.options[0].clauses:
        if not isinstance(node, (query_syntax.Words, query_syntax.Phrase)):
            return None
        if occur == "must_not" or node.field not in (None, "title", "body"):
            continue
        if isinstance(node, query_syntax.Phrase):
            terms = phrase_terms(node.text, user)
            words.extend([tuple(terms)] if len(terms) > 1 else terms)
            continue
        for run in _runs(list(analyze(node.text, user=user))):
            alone = [True] * len(run)
            for at, token in enumerate(run):
                if len(token.text) == 1 and len(run) > 1:  # with the words typed against it
                    around = run[max(0, at - 1) : at + 2]
                    words.append(tuple(piece for word in around for piece in pieces(word.text, user)))
                    alone[max(0, at - 1) : at + 2] = [False] * len(around)
            words.extend(token.text for token, single in zip(run, alone) if single)
    return words


def _runs(tokens: list[Token]) -> Iterator[list[Token]]:
    """Tokens grouped into runs of Chinese words typed without anything between them."""
    run: list[Token] = []
    for token in tokens:
        if run and not (token.start == run[-1].end and is_chinese(token.text) and is_chinese(run[-1].text)):
            yield run
            run = []
        run.append(token)
    if run:
        yield run


def _glued(tokens: list[Token], span: _Span, user: UserDict | None = None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The pieces of the Chinese words typed right before and right after a Chinese span."""
    if not is_chinese(span.text):
        return (), ()
    left = [t for t in tokens if t.end == span.start and is_chinese(t.text)]
    right = [t for t in tokens if t.start == span.end and is_chinese(t.text)]
    return (pieces(left[0].text, user) if left else (), pieces(right[0].text, user) if right else ())


def _several(words: list[str | tuple[str, ...]]) -> bool:
    """Whether there is more to hold than one term."""
    return len(set(words)) > 1 or any(isinstance(word, tuple) for word in words)


def _replaced(query: str, edits: list[tuple[_Span, str]]) -> str:
    for span, replacement in sorted(edits, key=lambda edit: edit[0].start, reverse=True):
        query = query[: span.start] + replacement + query[span.end :]
    return query

"""The best documents of a sum of word scores without scoring every match: MaxScore.

A free-text query scores a document by adding up, word by word, a rising
function (``transform``) of the word's BM25F score, which is itself the sum of a
few posting lists' scores (the word in the title, the body, the categories).
No document scores more in a list than its bound (:func:`bm25f.term_bound`).
Lists are read whole from the highest bound down, until no document missing from
all of them could reach the k-th best score known; the rest are read only for
the documents that still could (Turtle and Flood's MaxScore, a list at a time).

The documents kept get their scores as the exhaustive sum gives them, added in
the same order, so the page is the same, float for float. How many documents
match is then only known to be at least the number found.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from typing import Callable

from whoosh import query as wq

from . import bm25f

#: Bounds are raised by this share before they prune, so that float rounding
#: never drops a document that ties.
_MARGIN = 1e-9


class Scored:
    """One posting list's part of a word's score (or a query scored whole)."""

    def __init__(self, query: wq.Query, context=None) -> None:
        self.query, self.context = query, context

    def bound(self, searcher) -> float:
        return math.inf

    def all(self, searcher) -> dict[int, float]:
        return bm25f.query_scores(searcher, self.query, self.context)

    def some(self, searcher, docs: list[int]) -> dict[int, float]:
        found = self.all(searcher)
        return {docnum: found[docnum] for docnum in docs if docnum in found}


class _TermList(Scored):
    def bound(self, searcher) -> float:
        return bm25f.term_bound(searcher, self.query)

    def some(self, searcher, docs: list[int]) -> dict[int, float]:
        return bm25f.term_scores_of(searcher, self.query, docs)


class _PhraseList(Scored):
    def bound(self, searcher) -> float:
        return bm25f.phrase_bound(searcher, self.query)

    def some(self, searcher, docs: list[int]) -> dict[int, float]:
        return bm25f.phrase_scores_of(searcher, self.query, docs)


@dataclass
class Word:
    """One word of a query: the lists whose scores add up to its score (times ``boost``)."""

    lists: list[Scored]
    boost: float = 1.0

    @classmethod
    def of(cls, searcher, query: wq.Query, context=None) -> "Word":
        """``query`` as bm25f scores it: a term, a phrase, or an OR of them (a word in
        several fields) as its lists; any other query whole, without a bound."""
        if bm25f.is_fast(searcher, query):
            return cls([_list_of(query, context)])
        if isinstance(query, wq.Or) and query.scale is None and all(bm25f.is_fast(searcher, sub) for sub in query.subqueries):
            return cls([_list_of(sub, context) for sub in query.subqueries], query.boost)
        return cls([Scored(query, context)])


def scored(searcher, query: wq.Query, context=None) -> Scored:
    """``query`` as one list: a term's or phrase's posting list, else the query scored whole."""
    if not bm25f.is_fast(searcher, query):
        return Scored(query, context)
    return _list_of(query, context)


def _list_of(query: wq.Query, context) -> Scored:
    return _TermList(query, context) if type(query) is wq.Term else _PhraseList(query, context)


@dataclass
class Bonus:
    """Scores added to documents the words found, from ``lists`` (added up) when at least ``least`` of them have the document."""

    lists: list[Scored]
    least: int = 1


@dataclass
class Best:
    """A segment's documents that may be among the best, with their exact scores."""

    scores: dict[int, float]
    matched: int  # documents that match: all of them if ``exact``, else at least this many
    exact: bool


def best(
    searcher,
    words: list[Word],
    transform: Callable[[float], float],
    bonuses: list[Bonus],
    k: int,
    floor: float = -math.inf,
    keep: Callable[[int], bool] | None = None,
) -> Best:
    """The documents of ``searcher``'s segment (those ``keep`` allows) that may be among
    the ``k`` best, none of them below ``floor`` (a score known elsewhere to make the page)."""
    return _Search(searcher, words, transform, bonuses, keep).run(k, floor)


class _Search:
    def __init__(self, searcher, words: list[Word], transform, bonuses: list[Bonus], keep) -> None:
        self.searcher, self.words, self.transform, self.bonuses, self.keep = searcher, words, transform, bonuses, keep
        self.bounds = [[scored.bound(searcher) for scored in word.lists] for word in words]
        self.bonus_bound = sum(scored.bound(searcher) for bonus in bonuses for scored in bonus.lists)
        # Per word and list: its scores, once read whole (None until then).
        self.found: list[list[dict[int, float] | None]] = [[None] * len(word.lists) for word in words]
        self.known: list[dict[int, float]] = [{} for _ in words]  # each word's lists read so far, added up
        self.unread = {(i, j) for i, word in enumerate(words) for j in range(len(word.lists))}

    def run(self, k: int, floor: float) -> Best:
        candidates: set[int] = set()
        threshold = floor
        for i, j in sorted(self.unread, key=self._by_bound):
            candidates.update(self._read(i, j, self.words[i].lists[j].all(self.searcher)))
            if not self.unread:
                return Best(self._exact(sorted(candidates)), len(candidates), True)
            outside = _raised(self._outside())
            if outside < threshold:
                break
            if math.isinf(outside) or not 0 < k <= len(candidates):
                continue
            threshold = max(threshold, self._kth_best(k, candidates))
            if outside < threshold:
                break
        # No other document can make it: read the other lists for those that still can.
        kept = sorted(candidates)
        for i, j in sorted(self.unread, key=self._by_bound):
            kept = self._able(kept, threshold)
            self._read(i, j, self.words[i].lists[j].some(self.searcher, kept))
            least = self._gains(kept, unread=False)
            if len(least) >= k > 0:
                threshold = max(threshold, heapq.nlargest(k, least.values())[-1])
        return Best(self._exact(self._able(kept, threshold)), len(candidates), False)

    def _by_bound(self, at: tuple[int, int]) -> tuple[float, int, int]:
        return (-self.bounds[at[0]][at[1]], *at)

    def _read(self, i: int, j: int, scores: dict[int, float]) -> dict[int, float]:
        """Take list ``j`` of word ``i`` as read (whole, or for the only documents that matter)."""
        if self.keep is not None:
            scores = {docnum: score for docnum, score in scores.items() if self.keep(docnum)}
        self.found[i][j] = scores
        self.unread.discard((i, j))
        known = self.known[i]
        if not known:
            self.known[i] = scores
        else:
            known = self.known[i] = dict(known)
            for docnum, score in scores.items():
                known[docnum] = known.get(docnum, 0.0) + score
        return scores

    def _able(self, docs: list[int], threshold: float) -> list[int]:
        """Those of ``docs`` that may still reach ``threshold``."""
        outside = self._outside()
        gains = self._gains(docs, unread=True)
        return [docnum for docnum in docs if _raised(outside + gains.get(docnum, 0.0)) >= threshold]

    def _unread_bound(self, i: int) -> float:
        return sum(bound for j, bound in enumerate(self.bounds[i]) if (i, j) in self.unread)

    def _outside(self) -> float:
        """The most a document in none of the lists read can score."""
        total = self.bonus_bound
        for i, word in enumerate(self.words):
            unread = self._unread_bound(i)
            if unread > 0.0:
                total += self.transform(unread * word.boost)
        return total

    def _gains(self, docs, unread: bool) -> dict[int, float]:
        """Per document of ``docs`` found so far: what the lists read add to the most it
        can score (``unread``: to :meth:`_outside`), or else the least it scores."""
        gains: dict[int, float] = {}
        transform = self.transform
        for i, word in enumerate(self.words):
            more = self._unread_bound(i) if unread else 0.0
            boost = word.boost
            base = transform(more * boost) if more > 0.0 else 0.0
            known = self.known[i]
            gain = gains.get
            for docnum in docs:
                score = known.get(docnum)
                if score is not None:
                    gains[docnum] = gain(docnum, 0.0) + (transform((score + more) * boost) - base)
        return gains

    def _kth_best(self, k: int, candidates: set[int]) -> float:
        """A score the k-th best document reaches at least: the k-th best exact score
        among the k documents whose lists read so far score best."""
        least = self._gains(candidates, unread=False)
        leaders = sorted(heapq.nlargest(k, least, key=least.__getitem__))
        exact = self._exact(leaders)
        return heapq.nlargest(k, exact.values())[-1] if len(exact) >= k else -math.inf

    def _exact(self, docs: list[int]) -> dict[int, float]:
        """The exact scores of ``docs`` (rising), added up in the exhaustive order:
        word by word, each word's lists in order, then the bonuses."""
        totals: dict[int, float] = {}
        for i, word in enumerate(self.words):
            lists = self._complete(i, docs)
            transform, boost = self.transform, word.boost
            for docnum in docs:
                score = _added(lists, docnum)
                if score is None:
                    continue
                if boost != 1.0:
                    score *= boost
                covered = transform(score)
                before = totals.get(docnum)
                totals[docnum] = covered if before is None else before + covered
        for bonus in self.bonuses:
            found = sorted(totals)
            lists = [scored.some(self.searcher, found) for scored in bonus.lists]
            for docnum in found:
                score = _added(lists, docnum, bonus.least)
                if score is not None:
                    totals[docnum] += score
        return totals

    def _complete(self, i: int, docs: list[int]) -> list[dict[int, float]]:
        """Word ``i``'s lists with every one of ``docs`` in them, the unread lists read for those."""
        return [
            scored.some(self.searcher, docs) if (i, j) in self.unread else self.found[i][j]
            for j, scored in enumerate(self.words[i].lists)
        ]


def _added(lists: list[dict[int, float]], docnum: int, least: int = 1) -> float | None:
    """``docnum``'s scores in ``lists`` added up in order (``None`` if fewer than ``least`` have it)."""
    total, count = None, 0
    for scores in lists:
        score = scores.get(docnum)
        if score is not None:
            total = score if total is None else total + score
            count += 1
    return total if count >= least else None


def _raised(bound: float) -> float:
    return bound + abs(bound) * _MARGIN

"""The best documents of a sum of word scores without scoring every match: MaxScore.

A free-text query scores a document by adding up, word by word, a rising
function (``transform``) of the word's BM25F score, which is itself the sum of a
few posting lists' scores (the word in the title, the body, the categories).
No document scores more in a list than its bound (:func:`bm25f.term_bound`).
Lists are read whole from the highest bound down, until no document missing from
all of them could reach the k-th best score known; the rest are read only for
the documents that still could (Turtle and Flood's MaxScore, a list at a time),
and only their blocks that hold one.

Lists are numpy arrays (:mod:`.arrays`). The documents kept get their scores as
the exhaustive sum gives them, added in the same order, so the page is the same,
float for float. How many documents match is then only known to be at least the
number found.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from collections.abc import Callable

import numpy
from whoosh import query as wq

from . import arrays, bm25f

#: Bounds are raised by this share before they prune, so that float rounding
#: never drops a document that ties.
_MARGIN = 1e-9
#: Documents few enough to read the remaining lists for without narrowing them down first.
_FEW = 256


class Scored:
    """One posting list's part of a word's score (or a query scored whole, unbounded)."""

    def __init__(self, query: wq.Query, context=None) -> None:
        self.query, self.context = query, context

    def bound(self, searcher) -> float:
        return math.inf

    def all(self, searcher) -> arrays.Arrays:
        return arrays.of_dict(bm25f.query_scores(searcher, self.query, self.context))

    def some(self, searcher, docs: numpy.ndarray) -> arrays.Arrays:
        """The scores of ``docs`` (rising) only."""
        return arrays.only(self.all(searcher), docs)

    def hopes(self, searcher) -> arrays.Arrays | None:
        """The documents that may be in the list, each with the most it may score there,
        when that is much cheaper than :meth:`all` (whose scores are then checked only
        for the documents that need them); else ``None``."""
        return None


class _TermList(Scored):
    _scorer = None  # the term's scorer in the one segment a list is made for

    def scorer(self, searcher):
        if self._scorer is None:
            self._scorer = bm25f.term_scorer(searcher, self.query)
        return self._scorer

    def bound(self, searcher) -> float:
        scorer = self.scorer(searcher)
        return math.inf if scorer is False else 0.0 if scorer is True else scorer.bound()

    def all(self, searcher) -> arrays.Arrays:
        return arrays.term_arrays(searcher, self.query, scorer=self.scorer(searcher))

    def some(self, searcher, docs: numpy.ndarray) -> arrays.Arrays:
        return arrays.term_arrays(searcher, self.query, docs, self.scorer(searcher))


class _PhraseList(Scored):
    _arrays = None  # the phrase in the one segment a list is made for

    def arrays(self, searcher) -> arrays.PhraseArrays:
        if self._arrays is None:
            self._arrays = arrays.PhraseArrays(searcher, self.query)
        return self._arrays

    def bound(self, searcher) -> float:
        return bm25f.phrase_bound(searcher, self.query)

    def hopes(self, searcher) -> arrays.Arrays | None:
        return self.arrays(searcher).hopes()

    def all(self, searcher) -> arrays.Arrays:
        return self.arrays(searcher).checked()

    def some(self, searcher, docs: numpy.ndarray) -> arrays.Arrays:
        return self.arrays(searcher).checked(docs)


def scored(searcher, query: wq.Query, context=None) -> Scored:
    """``query`` as one list: a term's or phrase's posting list, else the query scored whole."""
    if not bm25f.is_fast(searcher, query):
        return Scored(query, context)
    return _TermList(query, context) if type(query) is wq.Term else _PhraseList(query, context)


@dataclass
class Word:
    """One word of a query: the lists whose scores add up to its score (times ``boost``)."""

    lists: list[Scored]
    boost: float = 1.0

    @classmethod
    def of(cls, searcher, query: wq.Query, context=None) -> Word:
        """``query`` as bm25f scores it: a term, a phrase, or an OR of them (a word in
        several fields) as its lists; any other query whole, without a bound."""
        if isinstance(query, wq.Or) and query.scale is None and all(bm25f.is_fast(searcher, sub) for sub in query.subqueries):
            return cls([scored(searcher, sub, context) for sub in query.subqueries], query.boost)
        return cls([scored(searcher, query, context)])


@dataclass
class Bonus:
    """Scores added to documents the words found, from ``lists`` (added up) when at least ``least`` of them have the document."""

    lists: list[Scored]
    least: int = 1


@dataclass
class Best:
    """A segment's documents that may be among the best (rising), with their exact scores."""

    docs: numpy.ndarray
    scores: numpy.ndarray
    matched: int  # documents that match: all of them if ``exact``, else at least this many
    exact: bool

    def page(self, limit: int, offset: int) -> list[tuple[float, int]]:
        """(score, -document number from ``offset``) of the documents scoring at least
        the ``limit``-th best: the only ones that can make a page of ``limit``."""
        docs, scores = self.docs, self.scores
        if 0 < limit < len(scores):
            chosen = scores >= _kth(scores, limit)
            docs, scores = docs[chosen], scores[chosen]
        return list(zip(scores.tolist(), (-offset - docs).tolist()))


def best(
    searcher,
    words: list[Word],
    transform: Callable,
    bonuses: list[Bonus],
    k: int,
    floor: float = -math.inf,
    keep: numpy.ndarray | None = None,
) -> Best:
    """The documents of ``searcher``'s segment (of ``keep`` only, if given: document
    numbers in the segment, in any order, any out of its range ignored) that may be
    among the ``k`` best, none below ``floor`` (a score known elsewhere to make the page).
    ``transform`` maps a word's score to its share of the document's, elementwise."""
    return _Search(searcher, words, transform, bonuses, keep).run(k, floor)


def every(searcher, words: list[Word], transform: Callable, bonuses: list[Bonus], keep: numpy.ndarray | None = None) -> Best:
    """Every match of ``searcher``'s segment (of ``keep`` only), exactly scored and
    counted, as :func:`best` scores them: lists read whole, a list at a time."""
    return _Search(searcher, words, transform, bonuses, keep)._everything()


class _Search:
    def __init__(self, searcher, words: list[Word], transform, bonuses: list[Bonus], keep: numpy.ndarray | None) -> None:
        self.searcher, self.words, self.transform, self.bonuses = searcher, words, transform, bonuses
        size = searcher.doc_count_all()
        self.keep = None
        if keep is not None:
            self.keep = numpy.zeros(size, bool)
            self.keep[keep[(keep >= 0) & (keep < size)]] = True
        self.found: list[list[arrays.Arrays | None]] = [[None] * len(word.lists) for word in words]
        self.seen = numpy.zeros(size, bool)  # in a list read: a match
        self.unread = {(i, j) for i, word in enumerate(words) for j in range(len(word.lists))}
        self.unchecked: dict[tuple[int, int], arrays.Arrays] = {}  # lists hoped for, not read
        self.leaders: dict[int, float] = {}  # exact scores of documents that looked best, by number

    # What pruning needs, made when first asked: scoring every match (every()) never does.

    @functools.cached_property
    def bounds(self) -> list[list[float]]:
        return [[list_.bound(self.searcher) for list_ in word.lists] for word in self.words]

    @functools.cached_property
    def bonus_bound(self) -> float:
        return sum(list_.bound(self.searcher) for bonus in self.bonuses for list_ in bonus.lists)

    @functools.cached_property
    def known(self) -> list[numpy.ndarray]:
        """Per word, per document: its lists read added up (the least it scores)."""
        return [numpy.zeros(len(self.seen)) for _ in self.words]

    @functools.cached_property
    def hoped(self) -> list[numpy.ndarray]:
        """Per word, per document: the most the lists it may be in (hoped, unchecked) can add."""
        return [numpy.zeros(len(self.seen)) for _ in self.words]

    @functools.cached_property
    def maybe(self) -> numpy.ndarray:
        """Per document: in a list hoped for, so perhaps a match."""
        return numpy.zeros(len(self.seen), bool)

    def run(self, k: int, floor: float) -> Best:
        """Lists read whole from the highest bound down, until those unread cannot bring in a document."""
        threshold = floor
        for i, j in sorted(self.unread, key=self._by_bound):
            list_ = self.words[i].lists[j]
            hopes = list_.hopes(self.searcher)
            if hopes is None:
                self._read(i, j, list_.all(self.searcher))
            else:
                self._hope(i, j, hopes)
            if not self.unread and not self.unchecked:
                found = numpy.flatnonzero(self.seen)
                return Best(found, self._exact(found), len(found), True)
            outside = _raised(self._outside())
            if outside < threshold:
                break
            if math.isinf(outside):
                continue
            threshold = max(threshold, self._kth_best(k, outside))
            if outside < threshold:
                break
        return self._settle(k, threshold)

    def _settle(self, k: int, threshold: float) -> Best:
        """No other document can make it: the other lists, read for those that still can."""
        kept = numpy.flatnonzero(self.seen | self.maybe)
        for i, j in sorted(self.unread, key=self._by_bound):
            if len(kept) > _FEW:  # a few more documents cost less than narrowing them down
                kept = self._able(kept, threshold)
            list_ = self.words[i].lists[j]
            hopes = list_.hopes(self.searcher)
            if hopes is None:
                self._read(i, j, list_.some(self.searcher, kept))
            else:  # checked below, for as few documents as it takes
                self._hope(i, j, arrays.only(hopes, kept))
            if len(kept) > _FEW and 0 < k <= len(kept):
                threshold = max(threshold, _kth(self._gains(kept, optimistic=False), k))
        kept = self._able(kept, threshold)
        if self.unchecked:
            kept, scores = self._checked_in_order(kept, k)
        else:
            kept = kept[self.seen[kept]]  # every list is read for these: one in none does not match
            scores = self._exact(kept)
        matched = int(self.seen.sum())
        if matched < k:  # too few matches known for a count that is at least the page's
            return self._everything()
        return Best(kept, scores, matched, False)

    def _checked_in_order(self, kept: numpy.ndarray, k: int) -> arrays.Arrays:
        """Those of ``kept`` (every list read or hoped for them) that match and may make
        the page, with their exact scores: the lists hoped for (phrases) are checked for
        as few of them as it takes.

        A document's hoped score, added up as :meth:`_exact` adds, is its exact score if
        its phrases hold, and less by a whole phrase's score if not. Documents are checked
        best hope first, ties by rising number as the page breaks them, a list at a time
        (highest bound first); once k match, a document whose hope no longer beats the
        k-th is dropped, and one that does not at the outset ends the search. (Copies of
        a story tie: 20,000 held '联播快讯', and all were checked, not about a page.)"""
        hoped, _ = self._scores(kept, hoping=True)
        order = numpy.lexsort((kept, -hoped))
        kept, hoped = kept[order], hoped[order]
        lists = sorted(self.unchecked, key=self._by_bound)
        docs, scores = [], []
        best: list[tuple[float, int]] = []  # the k best (score, -document) found, best first
        start, size = 0, max(k, 1)
        end = len(kept)
        while start < end:
            chunk, exact = self._check(numpy.sort(kept[start : min(start + size, end)]), lists, best, k)
            start, size = start + size, size * 2
            self.seen[chunk] = True
            docs.append(chunk)
            scores.append(exact)
            best = sorted(best + list(zip(exact.tolist(), (-chunk).tolist())), reverse=True)[:k]
            if start < end and len(best) >= k:  # the hopes are in falling order: those that can still beat it come first
                beating = _beating(best, k, hoped[start:end], kept[start:end])
                end = start + (int(numpy.argmin(beating)) if not beating.all() else len(beating))
        if not docs:
            return arrays.empty()
        docs, scores = numpy.concatenate(docs), numpy.concatenate(scores)
        order = numpy.argsort(docs)
        return docs[order], scores[order]

    def _check(self, chunk: numpy.ndarray, lists: list[tuple[int, int]], best: list[tuple[float, int]], k: int) -> arrays.Arrays:
        """Those of ``chunk`` that match, with their exact scores: ``lists`` (hoped for)
        checked one after the other, each for the documents whose hope still beats the
        k-th of ``best``."""
        checked: dict[tuple[int, int], arrays.Arrays] = {}
        for i, j in lists:
            checked[(i, j)] = self.words[i].lists[j].some(self.searcher, chunk)
            if len(best) >= k:
                chunk = chunk[_beating(best, k, self._scores(chunk, True, checked)[0], chunk)]
        exact, matching = self._scores(chunk, checked=checked)
        return chunk[matching], exact[matching]

    def _everything(self) -> Best:
        """Every list read whole: every match, exactly scored and counted."""
        self.unread, self.unchecked = set(), {}
        for i, word in enumerate(self.words):  # some were read for some documents only
            for j, list_ in enumerate(word.lists):
                self.found[i][j] = self._allowed(list_.all(self.searcher))
                self.seen[self.found[i][j][0]] = True
        found = numpy.flatnonzero(self.seen)
        return Best(found, self._exact(found), len(found), True)

    def _by_bound(self, at: tuple[int, int]) -> tuple[float, int, int]:
        return (-self.bounds[at[0]][at[1]], *at)

    def _allowed(self, found: arrays.Arrays) -> arrays.Arrays:
        ids, scores = found
        if self.keep is None:
            return ids, scores
        allowed = self.keep[ids]
        return ids[allowed], scores[allowed]

    def _read(self, i: int, j: int, found: arrays.Arrays) -> None:
        """Take list ``j`` of word ``i`` as read (whole, or for the only documents that matter)."""
        ids, scores = self._allowed(found)
        hoped = self.unchecked.pop((i, j), None)
        if hoped is not None:  # its checked scores replace what was hoped
            self.hoped[i][hoped[0]] -= hoped[1]
        self.found[i][j] = (ids, scores)
        self.unread.discard((i, j))
        self.known[i][ids] += scores
        self.seen[ids] = True

    def _hope(self, i: int, j: int, hopes: arrays.Arrays) -> None:
        """Take list ``j`` of word ``i`` as read, its scores still to check."""
        ids, most = self._allowed(hopes)
        self.unchecked[(i, j)] = (ids, most)
        self.unread.discard((i, j))
        self.hoped[i][ids] += most
        self.maybe[ids] = True

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

    def _gains(self, docs: numpy.ndarray, optimistic: bool) -> numpy.ndarray:
        """Per document of ``docs``: what the lists read add to the most it can score
        (``optimistic``: to :meth:`_outside`, with what is hoped), or else the least it scores."""
        gains = numpy.zeros(len(docs))
        for i, word in enumerate(self.words):
            more = self._unread_bound(i) if optimistic else 0.0
            if math.isinf(more):
                return numpy.full(len(docs), math.inf)
            base = self.transform(more * word.boost) if more > 0.0 else 0.0
            value = self.known[i][docs] + self.hoped[i][docs] if optimistic else self.known[i][docs]
            has = value > 0.0
            gains[has] += self.transform((value[has] + more) * word.boost) - base
        return gains

    def _able(self, docs: numpy.ndarray, threshold: float) -> numpy.ndarray:
        """Those of ``docs`` that may still reach ``threshold``."""
        upper = self._outside() + self._gains(docs, optimistic=True)
        return docs[_raised(upper) >= threshold]

    def _kth_best(self, k: int, outside: float) -> float:
        """A score the k-th best document reaches at least: the k-th best least score
        so far, or the k-th best exact score of the k documents that look best (read
        only if that could rise above ``outside``, the score to beat)."""
        if k <= 0:
            return -math.inf
        seen = numpy.flatnonzero(self.seen)
        least = _kth(self._gains(seen, optimistic=False), k)
        hopeful = numpy.flatnonzero(self.seen | self.maybe)
        if least > outside or len(hopeful) < k:
            return least
        likely = self._gains(hopeful, optimistic=True)
        if _kth(likely, k) + self._outside() <= outside:  # even the best hopes would not beat it
            return least
        leaders = numpy.sort(hopeful[numpy.argpartition(likely, len(likely) - k)[-k:]])
        return max(least, _kth(self._leaders_exact(leaders), k))

    def _leaders_exact(self, leaders: numpy.ndarray) -> numpy.ndarray:
        """The exact scores of ``leaders`` (rising), scored once each: after each list
        read, the leaders are mostly the same documents (and each new one reads every
        unread list)."""
        known = self.leaders
        new = numpy.array([docnum for docnum in leaders.tolist() if docnum not in known], numpy.int64)
        if len(new):
            known.update(zip(new.tolist(), self._exact(new).tolist()))
        return numpy.array([known[docnum] for docnum in leaders.tolist()])

    def _exact(self, docs: numpy.ndarray) -> numpy.ndarray:
        """The exact scores of ``docs`` (rising)."""
        return self._scores(docs)[0]

    def _scores(
        self, docs: numpy.ndarray, hoping: bool = False, checked: dict[tuple[int, int], arrays.Arrays] | None = None
    ) -> tuple[numpy.ndarray, numpy.ndarray]:
        """Per document of ``docs`` (rising): its score, added up in the exhaustive order
        (word by word, each word's lists in order, then the bonuses; 0.0 + x is x), and
        whether a word matches it. Lists hoped for, unchecked, are taken as ``checked``
        gives them (for these documents), else as hoped if ``hoping``, else checked here."""
        totals, matched = numpy.zeros(len(docs)), numpy.zeros(len(docs), bool)
        for i, word in enumerate(self.words):
            lists = [self._list_for(i, j, docs, hoping, checked or {}) for j in range(len(word.lists))]
            score, count = _added(lists, docs)
            if word.boost != 1.0:
                score = score * word.boost
            has = count > 0
            totals[has] = totals[has] + self.transform(score[has])
            matched |= has
        for bonus in self.bonuses:
            score, count = _added([list_.some(self.searcher, docs) for list_ in bonus.lists], docs)
            has = count >= bonus.least
            totals[has] = totals[has] + score[has]
        return totals, matched

    def _list_for(self, i: int, j: int, docs: numpy.ndarray, hoping: bool, checked: dict) -> arrays.Arrays:
        """List ``j`` of word ``i``: as read, or checked, or hoped, or else read for ``docs``."""
        if self.found[i][j] is not None:
            return self.found[i][j]
        if (i, j) in checked:
            return checked[(i, j)]
        if hoping and (i, j) in self.unchecked:
            return self.unchecked[(i, j)]
        return self.words[i].lists[j].some(self.searcher, docs)


def _beating(best: list[tuple[float, int]], k: int, scores: numpy.ndarray, docs: numpy.ndarray) -> numpy.ndarray:
    """Which documents scoring at most ``scores`` could still beat the k-th of ``best``
    (score, -document), best first: all while fewer than k are known."""
    if len(best) < k or k <= 0:
        return numpy.full(len(docs), k > 0)
    score, negative_doc = best[k - 1]
    return (scores > score) | ((scores == score) & (docs < -negative_doc))


def _added(lists: list[arrays.Arrays], docs: numpy.ndarray) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Per document of ``docs``: its scores in ``lists`` added up in order, and how many have it."""
    total, count = numpy.zeros(len(docs)), numpy.zeros(len(docs), numpy.int64)
    for ids, scores in lists:
        if not len(ids):
            continue
        at = numpy.minimum(numpy.searchsorted(ids, docs), len(ids) - 1)
        has = ids[at] == docs
        total[has] = total[has] + scores[at[has]]
        count += has
    return total, count


def _kth(values: numpy.ndarray, k: int) -> float:
    if len(values) < k:
        return -math.inf
    return float(numpy.partition(values, len(values) - k)[len(values) - k])


def _raised(bound):
    return bound + abs(bound) * _MARGIN

"""Queries scored a whole segment at a time, and their page of best hits.

Queries with a ``scores`` method (the free-text query, filters applied to it)
give every matching document's score in a dict. :func:`top_results` takes the
page straight from those scores; where Whoosh's collectors still run (sorting
by date, facets), :class:`ScoredDocs` hands them the scores as a matcher, with
per-block maxima so the top-N collector skips what cannot make the page.
"""

from __future__ import annotations

import bisect
import heapq
import math
from typing import TYPE_CHECKING

from whoosh import matching
from whoosh import query as wq
from whoosh.searching import Results

from .bm25f import query_scores
from .whoosh_seam import results_of

if TYPE_CHECKING:
    from . import maxscore

#: Documents per block of :class:`ScoredDocs` (what the top-N collector can skip at once).
BLOCK = 32


class Precomputed:
    """For queries that score a whole segment at once (their ``scores`` method).

    After a top-N search Whoosh asks for a matcher again to count the matches;
    each segment's scores are kept for the life of the query object, so they are
    computed once.
    """

    def scores(self, searcher, context=None) -> dict[int, float]:
        raise NotImplementedError

    def best(self, searcher, k: int, floor: float, keep=None, context=None) -> "maxscore.Best | None":
        """The documents that may be among the ``k`` best (see :mod:`.maxscore`; ``keep``:
        an array of the segment's document numbers allowed), or ``None``: then
        :meth:`scores` gives them all."""
        return None

    def matcher(self, searcher, context=None) -> "ScoredDocs":
        computed = self.__dict__.setdefault("_scored_segments", {})
        key = id(searcher.reader())
        if key not in computed:
            computed[key] = ScoredDocs(self.scores(searcher, context))
        return computed[key].copy()


def top_results(searcher, query: Precomputed, limit: int, exact_below: int = 0) -> Results:
    """Whoosh's results of a top-``limit`` search for ``query``: the same hits in the
    same order (best score first, ties in document order), without its collector
    stepping through the matches and then counting them all again.

    A query that can (:meth:`Precomputed.best`) skips what cannot make the page; the
    count is then a lower bound (``results.total_is_exact`` is false), though never
    one under ``exact_below``: a count under it is exact (``math.inf``: count every match).

    For scores above 0 (BM25F's are) and a weighting without ``final`` (ours):
    Whoosh's collector would leave out documents scoring 0 or less, and apply ``final``.
    """
    context = searcher.context()
    total, exact = 0, True
    depth = max(limit, exact_below)
    floor = -math.inf  # the depth-th best score so far: a later segment needs to beat it
    candidates: list[tuple[float, int]] = []
    for segment, offset in searcher.leaf_searchers():
        best = query.best(segment, depth, floor, context=context) if 0 < depth < math.inf else None
        if best is None:
            scores = query.scores(segment, context)
            total += len(scores)
            # Only documents scoring at least the segment's limit-th best can make the page.
            cut = heapq.nlargest(limit, scores.values())[-1] if 0 < limit < len(scores) else -math.inf
            candidates.extend((score, -offset - docnum) for docnum, score in scores.items() if score >= cut)
        else:
            total += best.matched
            exact = exact and best.exact
            candidates.extend(best.page(limit, offset))
        if len(candidates) >= depth > 0:
            floor = max(floor, heapq.nlargest(depth, candidates)[-1][0])
    top = heapq.nlargest(limit, candidates)  # ties: the lower document number first, as Whoosh
    return results_of(searcher, query, [(score, -negated) for score, negated in top], total, exact)


class Restricted(Precomputed, wq.WrappingQuery):
    """``child`` with only the documents (top-level numbers) in ``allowed`` (a set, or a
    :class:`~.docsets.DocSet`).

    A filter applied to the scores before any collector sees them: Whoosh's
    filtering collector tests every match one by one.
    """

    def __init__(self, child: wq.Query, allowed: set[int]) -> None:
        super().__init__(child)
        self.allowed = allowed

    def __eq__(self, other: object) -> bool:
        return super().__eq__(other) and self.allowed == getattr(other, "allowed", None)

    __hash__ = wq.WrappingQuery.__hash__

    def _rewrap(self, child: wq.Query) -> "Restricted":
        return Restricted(child, self.allowed)

    def scores(self, searcher, context=None) -> dict[int, float]:
        found = query_scores(searcher, self.child, context)
        offset, allowed = _offset(searcher), self.allowed
        return {docnum: score for docnum, score in found.items() if docnum + offset in allowed}

    def best(self, searcher, k: int, floor: float, keep=None, context=None) -> "maxscore.Best | None":
        if not isinstance(self.child, Precomputed):
            return None
        if "_allowed" not in self.__dict__:  # made once for all the segments
            import numpy

            given = self.allowed
            self._allowed = given.array if hasattr(given, "array") else numpy.fromiter(given, numpy.int64, len(given))
        allowed = self._allowed - _offset(searcher)
        if keep is not None:  # restricted again from outside
            import numpy

            allowed = numpy.intersect1d(allowed, keep)
        return self.child.best(searcher, k, floor, allowed, context)


def _offset(searcher) -> int:
    """The top-level number of a (segment) searcher's first document."""
    parent = searcher.get_parent()
    if parent is searcher:
        return 0
    return next(offset for sub, offset in parent.subsearchers if sub is searcher)


class ScoredDocs(matching.Matcher):
    """A matcher over documents whose scores are already known, in document order.

    Blocks of :data:`BLOCK` documents carry their best score, so Whoosh's top-N
    collector skips blocks that cannot beat its current page (and then counts the
    matches with :meth:`all_ids`).
    """

    def __init__(self, scores: dict[int, float] | None = None, *, _state: tuple | None = None) -> None:
        if _state is not None:
            self._ids, self._scores, self._block_best, self._i = _state
            return
        self._ids = sorted(scores or ())
        self._scores = [scores[docnum] for docnum in self._ids] if scores else []
        self._block_best = [max(self._scores[at : at + BLOCK]) for at in range(0, len(self._scores), BLOCK)]
        self._i = 0

    def is_active(self) -> bool:
        return self._i < len(self._ids)

    def id(self) -> int:
        # Past the end: one more than the last document (Whoosh's AndNot asks after skipping).
        return self._ids[self._i] if self._i < len(self._ids) else (self._ids[-1] + 1 if self._ids else 0)

    def score(self) -> float:
        return self._scores[self._i]

    weight = score

    def next(self) -> bool:
        self._i += 1
        return self._i % BLOCK == 0

    def skip_to(self, target: int) -> None:
        self._i = bisect.bisect_left(self._ids, target, self._i)

    def supports(self, astype: str) -> bool:
        return False

    def supports_block_quality(self) -> bool:
        return True

    def max_quality(self) -> float:
        return max(self._block_best[self._i // BLOCK :], default=0.0)

    def block_quality(self) -> float:
        return self._block_best[self._i // BLOCK] if self._i < len(self._ids) else 0.0

    def skip_to_quality(self, minquality: float) -> int:
        skipped = 0
        while self._i < len(self._ids) and self._block_best[self._i // BLOCK] <= minquality:
            self._i = (self._i // BLOCK + 1) * BLOCK
            skipped += 1
        return skipped

    def replace(self, minquality: float = 0) -> matching.Matcher:
        if not self.is_active() or (minquality and self.max_quality() <= minquality):
            return matching.NullMatcher()
        return self

    def all_ids(self):
        return iter(self._ids[self._i :])

    def copy(self) -> "ScoredDocs":
        return ScoredDocs(_state=(self._ids, self._scores, self._block_best, self._i))

    def children(self) -> list:
        return []

    def term_matchers(self):
        return iter(())

    def matching_terms(self, id=None):
        return iter(())

    def spans(self):
        return []

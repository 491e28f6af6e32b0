"""Posting lists as numpy arrays: many documents' BM25F scores at once.

The scores are :mod:`.bm25f`'s, computed by the same operations in the same order
on the same doubles, so they are the same floats; this module only does them a
whole list at a time. Imported by :mod:`.maxscore` only, so that commands which
never rank (index, stats, show) do not load numpy.
"""

from __future__ import annotations

import weakref

import numpy
from whoosh import query as wq

from . import bm25f
from .postings import PositionCursor, live_mask, together
from .whoosh_seam import posting_arrays

Arrays = tuple[numpy.ndarray, numpy.ndarray]  # rising document numbers (int64), their scores

# Per segment reader: each field's K1 * ((1 - B) + B * length / average length), by document.
_NORMS: "weakref.WeakKeyDictionary[object, dict]" = weakref.WeakKeyDictionary()


def empty() -> Arrays:
    return numpy.zeros(0, numpy.int64), numpy.zeros(0)


def of_dict(scores: dict[int, float]) -> Arrays:
    """A document → score dict as arrays."""
    if not scores:
        return empty()
    ids = numpy.fromiter(scores, numpy.int64, len(scores))
    order = numpy.argsort(ids)
    return ids[order], numpy.fromiter(scores.values(), numpy.float64, len(scores))[order]


def only(found: Arrays, docs: numpy.ndarray) -> Arrays:
    """``found`` for the documents of ``docs`` (rising) only."""
    ids, scores = found
    keep = within(ids, docs)
    return ids[keep], scores[keep]


def within(ids: numpy.ndarray, docs: numpy.ndarray) -> numpy.ndarray:
    """Which of ``ids`` are in ``docs`` (both rising): a binary search each, quicker
    than ``numpy.isin``'s sort of both when ``docs`` are few."""
    if not len(docs):
        return numpy.zeros(len(ids), bool)
    at = numpy.searchsorted(docs, ids)
    at[at == len(docs)] = 0
    return docs[at] == ids


def term_arrays(searcher, term: wq.Term, docs: numpy.ndarray | None = None, scorer=None) -> Arrays | None:
    """:func:`bm25f._term_scores` as arrays; of the ``docs`` (rising) only if given,
    reading only the blocks that may hold them. ``None`` if BM25F does not score the
    term. ``scorer``: the term's :func:`bm25f.term_scorer` in this segment, if known."""
    scorer = bm25f.term_scorer(searcher, term) if scorer is None else scorer
    if scorer is False:
        return None
    if scorer is True or (docs is not None and not len(docs)):
        return empty()
    matcher, deleted = scorer.postings()
    ids, weights = posting_arrays(matcher, docs)
    keep = None if docs is None else within(ids, docs)
    live = live_mask(ids, deleted)
    if live is not None:
        keep = live if keep is None else keep & live
    if keep is not None:
        ids, weights = ids[keep], weights[keep]
    norms = _norms(scorer)[ids]
    # bm25f's expression, operation for operation: the same doubles.
    scores = scorer.idf * ((weights * scorer.top) / (weights + norms))
    if scorer.boost != 1.0:
        scores = scores * scorer.boost
    return ids, scores


class PhraseArrays:
    """A phrase in one segment as :func:`bm25f._phrase_scores` scores it: the documents
    holding every word, their words' scores added up in its order, and those whose words
    stand side by side (checked only for the documents asked, each block read once).
    Each word's list is read once. For a phrase :func:`bm25f.is_fast` scores."""

    def __init__(self, searcher, phrase: wq.Phrase) -> None:
        self.searcher, self.phrase = searcher, phrase
        self._kept: list[PositionCursor] | None = None
        per_word = [term_arrays(searcher, wq.Term(phrase.fieldname, word)) for word in phrase.words]
        ids = per_word[0][0]
        for other, _ in per_word[1:]:
            ids = numpy.intersect1d(ids, other, assume_unique=True)
        self.ids = ids
        # bm25f's sum works on arrays too: the same order of additions, elementwise.
        self.most = bm25f._binary_sum([found[1][numpy.searchsorted(found[0], ids)] for found in per_word])
        if phrase.boost != 1.0:
            self.most = self.most * phrase.boost

    def hopes(self) -> Arrays:
        """Each document holding every word, with its score if the words stand side by side."""
        return self.ids, self.most

    def checked(self, docs: numpy.ndarray | None = None) -> Arrays:
        """The documents (of ``docs`` only, if given) whose words stand side by side, scored."""
        ids, most = (self.ids, self.most) if docs is None else only((self.ids, self.most), docs)
        if not len(ids):
            return ids, most
        held = numpy.array(together(self._cursors(), ids.tolist()), numpy.int64)
        keep = within(ids, held)
        return ids[keep], most[keep]

    def _cursors(self) -> list[PositionCursor]:
        """The words' position cursors: kept from one call to the next where they can
        go back (documents are asked best hope first, a few at a time)."""
        if self._kept is None or not all(cursor.seekable for cursor in self._kept):
            field, reader = self.phrase.fieldname, self.searcher.reader()
            to_bytes = self.searcher.schema[field].to_bytes
            self._kept = [PositionCursor(reader, field, to_bytes(word), keep=True) for word in self.phrase.words]
        return self._kept


def _norms(scorer: bm25f.TermScorer) -> numpy.ndarray:
    key = (scorer.field, scorer.average, scorer.b, scorer.k1)
    cached = _NORMS.setdefault(scorer.reader, {})
    if key not in cached:
        table = numpy.array(bm25f.norm_table(scorer.average, scorer.b, scorer.k1))
        stored = bm25f.field_length_bytes(scorer.reader, scorer.field)
        cached[key] = table[numpy.frombuffer(stored, numpy.uint8) if isinstance(stored, bytes) else numpy.array(stored, numpy.uint8)]
    return cached[key]

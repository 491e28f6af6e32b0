"""BM25F scoring a term at a time: Whoosh's formula and statistics, the same scores.

Whoosh scores a query one document at a time through a tree of Python matchers,
about 10 µs per document and word, and a free-text query of common words matches
thousands of documents. Most of a free-text query is plain terms, so here each
term's posting list is read a block at a time and scored in one loop with
Whoosh's own BM25F formula and statistics, and the words are combined in dicts.
A phrase is scored the same way where all its words are, and its positions are
read only for those documents. Anything else (nested groups, exact fields) is
scored by its own Whoosh matcher.
"""

from __future__ import annotations

import functools
import math
import weakref
from collections import Counter
from typing import Iterable

from whoosh import scoring
from whoosh import query as wq
from whoosh.util.numeric import byte_to_length, length_to_byte

from .postings import PositionCursor, ids_near, live_ids, live_postings, together
from .whoosh_seam import blocks_holding, field_b, iter_blocks, length_bytes, per_document_reader, rewind

#: Posting lists this long score blocks of equal weights from a per-document table.
_TABLED_FROM = 1000

# Per segment reader and field: every document's field length byte, by which the part
# of BM25 that depends on the document only is looked up (:func:`norm_table`).
_LENGTHS: "weakref.WeakKeyDictionary[object, dict]" = weakref.WeakKeyDictionary()


def query_scores(searcher, query: wq.Query, context=None) -> dict[int, float]:
    """Document number → score of ``query`` in ``searcher``'s segment (queries
    with a ``scores`` method of their own are asked for it)."""
    if hasattr(query, "scores"):
        return query.scores(searcher, context)
    fast = _fast_scores(searcher, query)
    if fast is not None:
        return fast
    found: dict[int, float] = {}
    matcher = query.matcher(searcher, context)
    while matcher.is_active():
        found[matcher.id()] = matcher.score()
        matcher.next()
    return found


def accumulate(scores: Iterable[dict[int, float]]) -> tuple[dict[int, float], dict[int, int]]:
    """Summed scores, and how many of ``scores`` have each document."""
    sums: dict[int, float] = {}
    counts: Counter[int] = Counter()
    for found in scores:
        if not sums:
            sums = dict(found)
        else:
            before = sums.get
            for docnum, score in found.items():
                sums[docnum] = before(docnum, 0.0) + score  # 0.0 + x is x
        counts.update(found.keys())  # counted in C
    return sums, counts


def postings_of(searcher, query: wq.Query) -> int:
    """How many postings scoring ``query`` in the segment would read (its terms', and its
    phrases' words'): what decides between scoring every match and MaxScore."""
    reader = searcher.reader()
    total = 0
    for fieldname, text in query.iter_all_terms(phrases=True):
        try:
            total += reader.doc_frequency(fieldname, searcher.schema[fieldname].to_bytes(text))
        except Exception:  # a field or value the schema cannot hold: nothing to read
            continue
    return total


def is_fast(searcher, query: wq.Query) -> bool:
    """Whether ``query`` is a term or phrase this module scores from its posting lists."""
    if type(query) is wq.Term:
        return term_scorer(searcher, query) is not False
    if type(query) is wq.Phrase:
        return _phrase_is_fast(searcher, query) and all(term_scorer(searcher, wq.Term(query.fieldname, word)) is not False for word in query.words)
    return False


def _fast_scores(searcher, query: wq.Query) -> dict[int, float] | None:
    """Scores of a term, a phrase, or an OR of them, from their posting lists;
    ``None`` for any other query, or a weighting other than BM25F."""
    if type(query) is wq.Term:
        return _term_scores(searcher, query)
    if type(query) is wq.Phrase:
        return _phrase_scores(searcher, query)
    if isinstance(query, wq.Or) and query.scale is None and all(_is_sum(sub) for sub in query.subqueries):
        combined: dict[int, float] = {}
        for sub in query.subqueries:
            if type(sub) is wq.Term:  # added in place: no dict per field
                if _term_scores(searcher, sub, combined) is None:
                    return None
                continue
            scores = _fast_scores(searcher, sub)  # a phrase, or an OR (a word over fields) in an OR group
            if scores is None:
                return None
            for docnum, score in scores.items():
                combined[docnum] = combined.get(docnum, 0.0) + score
        if query.boost != 1.0:
            combined = {docnum: score * query.boost for docnum, score in combined.items()}
        return combined
    return None


def _is_sum(query: wq.Query) -> bool:
    """Whether an OR scores ``query`` as :func:`_fast_scores` adds it up: a term, a
    phrase, or an OR of them (Whoosh's matchers scored an OR group word by word)."""
    if type(query) in (wq.Term, wq.Phrase):
        return True
    return isinstance(query, wq.Or) and query.scale is None and all(type(sub) in (wq.Term, wq.Phrase) for sub in query.subqueries)


class TermScorer:
    """What scoring one term in one segment takes: Whoosh's BM25F with its statistics,
    the document's part of it looked up by its length byte."""

    def __init__(self, searcher, term: wq.Term, text: bytes) -> None:
        weighting, reader = searcher.weighting, searcher.reader()
        self.reader, self.field, self.text, self.boost = reader, term.fieldname, text, term.boost
        parent = searcher.get_parent()
        self.idf = parent.idf(self.field, text)
        self.average = parent.avg_field_length(self.field) or 1
        self.k1 = weighting.K1
        self.b = field_b(weighting, self.field)
        self.top = self.k1 + 1

    _postings: tuple | None = None

    def postings(self) -> tuple:
        """A matcher at the start of the term's list, and the segment's deleted
        documents: looked up once and rewound after, where the matcher can be."""
        if self._postings is not None and rewind(self._postings[0]):
            return self._postings
        self._postings = live_postings(self.reader, self.field, self.text)
        return self._postings

    @functools.cached_property
    def lengths(self) -> bytes | list[int]:
        """Every document's field length byte: its part of BM25 is ``table[length]``. (A
        list of every document's part cost a cold search 2 ms a field at 80,000 documents.)"""
        return _lengths(self.reader, self.field)

    @functools.cached_property
    def table(self) -> list[float]:
        return norm_table(self.average, self.b, self.k1)

    def bound(self) -> float:
        """The most any document can score: the term's highest weight in its shortest field."""
        info = self.reader.term_info(self.field, self.text)
        weight, shortest = info.max_weight(), info.min_length() or 0
        norm = self.k1 * ((1 - self.b) + self.b * shortest / self.average)
        return self.idf * ((weight * self.top) / (weight + norm)) * self.boost


def term_scorer(searcher, term: wq.Term) -> "TermScorer | bool":
    """The term's scorer in the segment; ``False`` if BM25F cannot score it here,
    ``True`` if it is scorable but not in the segment."""
    schema = searcher.schema
    if type(searcher.weighting) is not scoring.BM25F or term.fieldname not in schema or not schema[term.fieldname].scorable:
        return False
    try:
        text = schema[term.fieldname].to_bytes(term.text)
    except Exception:  # a value the field cannot hold: let Whoosh say what it does
        return False
    if (term.fieldname, text) not in searcher.reader():
        return True
    return TermScorer(searcher, term, text)


def term_bound(searcher, term: wq.Term) -> float:
    """The highest score ``term`` can give a document of the segment (``inf`` if it is
    not scored here; 0.0 if no document has it)."""
    scorer = term_scorer(searcher, term)
    return math.inf if scorer is False else 0.0 if scorer is True else scorer.bound()


def term_scores_of(searcher, term: wq.Term, docs: list[int]) -> dict[int, float] | None:
    """The scores :func:`_term_scores` gives, for the live ``docs`` (rising) only:
    blocks holding none of them are passed over by their headers."""
    scorer = term_scorer(searcher, term)
    if scorer is False:
        return None
    if scorer is True or not docs:
        return {}
    matcher, deleted = live_postings(scorer.reader, scorer.field, scorer.text)
    idf, top, table, lengths, boost = scorer.idf, scorer.top, scorer.table, scorer.lengths, scorer.boost
    wanted_docs = set(docs) - deleted
    found: dict[int, float] = {}
    for ids, weights in blocks_holding(matcher, docs):
        weight_of = dict(zip(ids, weights))
        for docnum in wanted_docs.intersection(ids):
            weight = weight_of[docnum]
            # The same expression as _term_scores', so the same float.
            if boost == 1.0:
                found[docnum] = idf * ((weight * top) / (weight + table[lengths[docnum]]))
            else:
                found[docnum] = idf * ((weight * top) / (weight + table[lengths[docnum]])) * boost
    return found


def _term_scores(searcher, term: wq.Term, into: dict[int, float] | None = None) -> dict[int, float] | None:
    """Document → score of ``term`` in the segment, added to the scores ``into`` has if given."""
    scorer = term_scorer(searcher, term)
    if scorer is False:
        return None
    scores: dict[int, float] = {} if into is None else into
    if scorer is True:
        return scores
    reader, field, text = scorer.reader, scorer.field, scorer.text
    idf, top, boost, table, lengths = scorer.idf, scorer.top, scorer.boost, scorer.table, scorer.lengths
    shape = (scorer.average, scorer.b, scorer.k1)
    matcher, deleted = live_postings(reader, field, text)
    found = scores.get
    # A long list's blocks mostly weigh the same (a word once, times the field's
    # boost): its BM25 part per document is then read from a table, same value.
    long = reader.doc_frequency(field, text) >= _TABLED_FROM
    for ids, weights in iter_blocks(matcher):
        if long and boost == 1.0 and not deleted and weights and weights.count(weights[0]) == len(weights):
            part = _parts_of_weight(*shape, weights[0])
            for docnum in ids:
                scores[docnum] = found(docnum, 0.0) + idf * part[lengths[docnum]]
            continue
        pairs = zip(ids, weights)
        if deleted:
            pairs = [(docnum, weight) for docnum, weight in pairs if docnum not in deleted]
        # Whoosh's scoring.bm25, with the document's part looked up (0.0 + x is x).
        if boost == 1.0:
            for docnum, weight in pairs:
                scores[docnum] = found(docnum, 0.0) + idf * ((weight * top) / (weight + table[lengths[docnum]]))
        else:
            for docnum, weight in pairs:
                scores[docnum] = found(docnum, 0.0) + idf * ((weight * top) / (weight + table[lengths[docnum]])) * boost
    return scores


def _phrase_scores(searcher, phrase: wq.Phrase) -> dict[int, float] | None:
    """Scores of a phrase of words side by side: Whoosh's (the sum of its terms'
    scores where they stand in order). Positions are read only for the documents
    holding every word, and scores only for those where the words stand together:
    the rest of the words' lists are never scored (a phrase of two common words
    holds a few of their thousands of documents)."""
    if not _phrase_is_fast(searcher, phrase):
        return None
    terms = [wq.Term(phrase.fieldname, word) for word in phrase.words]
    scorers = [term_scorer(searcher, term) for term in terms]
    if any(scorer is False for scorer in scorers):
        return None
    if any(scorer is True for scorer in scorers):
        return {}  # a word the segment lacks
    cursors = [PositionCursor(scorer.reader, scorer.field, scorer.text) for scorer in scorers]
    docs = together(cursors, _holding_every(scorers))
    per_term = [term_scores_of(searcher, term, docs) for term in terms]
    found = {docnum: _binary_sum([scores[docnum] for scores in per_term]) for docnum in docs}
    if phrase.boost != 1.0:
        found = {docnum: score * phrase.boost for docnum, score in found.items()}
    return found


def _holding_every(scorers: list[TermScorer]) -> list[int]:
    """The live documents holding every term (rising): the rarest term's, narrowed by
    each other term's blocks that may hold them."""
    rarest, *others = sorted(scorers, key=lambda scorer: scorer.reader.doc_frequency(scorer.field, scorer.text))
    docs = list(live_ids(rarest.reader, rarest.field, rarest.text))
    for scorer in others:
        near = ids_near(scorer.reader, scorer.field, scorer.text, docs)
        docs = [docnum for docnum in docs if docnum in near]
    return docs


def phrase_bound(searcher, phrase: wq.Phrase) -> float:
    """The highest score ``phrase`` can give a document of the segment (``inf`` if it
    is not scored here): its words' bounds added up."""
    if not _phrase_is_fast(searcher, phrase):
        return math.inf
    return sum(term_bound(searcher, wq.Term(phrase.fieldname, word)) for word in phrase.words) * phrase.boost


def _phrase_is_fast(searcher, phrase: wq.Phrase) -> bool:
    field = phrase.fieldname
    # Otherwise Whoosh says why a phrase cannot be searched there.
    return phrase.slop == 1 and len(phrase.words) >= 2 and field in searcher.schema and searcher.schema[field].format.supports("positions")


def _binary_sum(values: list[float]) -> float:
    """``values`` added up in the order of Whoosh's binary tree of matchers (the same last bits)."""
    if len(values) == 1:
        return values[0]
    half = len(values) // 2
    return _binary_sum(values[:half]) + _binary_sum(values[half:])


def _lengths(reader, field: str) -> bytes | list[int]:
    cached = _LENGTHS.setdefault(reader, {})
    if field not in cached:
        cached[field] = field_length_bytes(reader, field)
    return cached[field]


@functools.lru_cache(maxsize=64)
def norm_table(average: float, b: float, k1: float) -> list[float]:
    """A document's part of BM25 for each of the 256 length bytes: a segment's
    lengths are looked up in it, not computed document by document."""
    # Whoosh's doc_field_length: a stored byte of 0 reads as no length.
    return [k1 * ((1 - b) + b * (byte_to_length(value) if value else 0) / average) for value in range(256)]


@functools.lru_cache(maxsize=256)
def _parts_of_weight(average: float, b: float, k1: float, weight: float) -> list[float]:
    """``(weight * (k1 + 1)) / (weight + norm)`` (BM25 but for the idf) for each of the
    256 length bytes."""
    top = k1 + 1
    return [(weight * top) / (weight + norm) for norm in norm_table(average, b, k1)]


def field_length_bytes(reader, field: str) -> bytes | list[int]:
    """Every document's field length as Whoosh stores it (one byte, log scale)."""
    count = reader.doc_count_all()
    try:
        return length_bytes(per_document_reader(reader), field, count)
    except AttributeError:  # not a Whoosh 3 segment: ask document by document
        return [length_to_byte(reader.doc_field_length(docnum, field, 0)) for docnum in range(count)]

"""Fast paths for evaluating queries: term-at-a-time scoring, and filters as sets.

Whoosh scores a query one document at a time through a tree of Python matchers,
about 10 µs per document and word, and a free-text query of common words matches
thousands of documents. Most of a free-text query is plain terms, so here each
term's posting list is read a block at a time and scored in one loop with Whoosh's
own BM25F formula and statistics (the scores are Whoosh's), and the words are
combined in dicts. A phrase is scored the same way where all its words are, and
its positions are read only for those documents. Anything else (nested groups,
exact fields) is scored by its own Whoosh matcher. :class:`ScoredDocs` then hands the scores to Whoosh's
collectors, with per-block maxima so the top-N collector skips what cannot make
the page.

Filters (exact terms, date ranges) become sets of document numbers read from
posting lists and columns, instead of Whoosh's matchers over hundreds of terms;
the suggester's counts of documents holding several words are set intersections.
"""

from __future__ import annotations

import array
import bisect
import heapq
import sys
import weakref
from collections import Counter
from typing import Iterable

from whoosh import matching, scoring
from whoosh import query as wq
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.matching.wrappers import FilterMatcher
from whoosh.searching import Results
from whoosh.util.numeric import byte_to_length, length_to_byte

#: Documents per block of :class:`ScoredDocs` (what the top-N collector can skip at once).
BLOCK = 32
#: Posting lists this long score blocks of equal weights from a per-document table.
_TABLED_FROM = 1000

# Per segment reader and field: K1 * ((1 - B) + B * length / average length) of every
# document, the part of BM25 that depends on the document only.
_NORMS: "weakref.WeakKeyDictionary[object, dict]" = weakref.WeakKeyDictionary()
# Per segment reader and field: every document's value of a numeric column.
_COLUMNS: "weakref.WeakKeyDictionary[object, dict]" = weakref.WeakKeyDictionary()


def matching_docs(searcher, query: wq.Query) -> set[int]:
    """The (top-level) numbers of the documents ``query`` matches, unscored: for filters and counts."""
    if isinstance(query, wq.And):
        found = matching_docs(searcher, query.subqueries[0])
        for sub in query.subqueries[1:]:
            if not found:
                break
            found &= matching_docs(searcher, sub)
        return found
    if isinstance(query, wq.Or):
        return set().union(*(matching_docs(searcher, sub) for sub in query.subqueries))
    if type(query) is wq.Term:
        return _term_docs(searcher, query)
    if isinstance(query, wq.NumericRange) and searcher.schema[query.fieldname].column_type is not None:
        return _range_docs(searcher, query)
    return set(searcher.docs_for_query(query))


def _term_docs(searcher, term: wq.Term) -> set[int]:
    found: set[int] = set()
    text = searcher.schema[term.fieldname].to_bytes(term.text)
    for reader, offset in searcher.reader().leaf_readers():
        docs = _segment_term_docs(reader, term.fieldname, text)
        found.update(map(offset.__add__, docs) if offset else docs)
    return found


def _range_docs(searcher, query: wq.NumericRange) -> set[int]:
    """Live documents whose column value lies in the range; 0 is the column's "no value"."""
    low, high = query.start, query.end
    found: set[int] = set()
    for reader, offset in searcher.reader().leaf_readers():
        if not reader.doc_count_all():  # an empty index has no column to read
            continue
        values, docnums = _sorted_column(reader, query.fieldname)
        start = 0 if low is None else (bisect.bisect_right if query.startexcl else bisect.bisect_left)(values, low)
        end = len(values) if high is None else (bisect.bisect_left if query.endexcl else bisect.bisect_right)(values, high)
        inside = docnums[start:end]
        if reader.has_deletions():
            inside = [docnum for docnum in inside if not reader.is_deleted(docnum)]
        found.update(map(offset.__add__, inside) if offset else inside)
    return found


def _sorted_column(reader, field: str) -> tuple[list, list[int]]:
    """A segment's column values other than 0 ("no value"), sorted, and the document
    of each: a range is then two binary searches, not a test of every document."""
    cached = _COLUMNS.setdefault(reader, {})
    key = ("sorted", field)
    if key not in cached:
        pairs = sorted((value, docnum) for docnum, value in enumerate(_column_values(reader, field)) if value)
        cached[key] = ([value for value, _ in pairs], [docnum for _, docnum in pairs])
    return cached[key]


def _column_values(reader, field: str):
    cached = _COLUMNS.setdefault(reader, {})
    if field not in cached:
        column = reader.column_reader(field, translate=False)
        try:  # Whoosh stores fixed-size numbers big-endian, one after another
            values = array.array(column._typecode)
            values.frombytes(_stored_bytes(column))
            if sys.byteorder == "little":
                values.byteswap()
        except AttributeError:  # another kind of column: read value by value
            values = [column[docnum] for docnum in range(reader.doc_count_all())]
        cached[field] = values
    return cached[field]


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


def _fast_scores(searcher, query: wq.Query) -> dict[int, float] | None:
    """Scores of a term, a phrase, or an OR of them, from their posting lists;
    ``None`` for any other query, or a weighting other than BM25F."""
    if type(query) is wq.Term:
        return _term_scores(searcher, query)
    if type(query) is wq.Phrase:
        return _phrase_scores(searcher, query)
    if isinstance(query, wq.Or) and query.scale is None and all(type(sub) in (wq.Term, wq.Phrase) for sub in query.subqueries):
        combined: dict[int, float] = {}
        for sub in query.subqueries:
            if type(sub) is wq.Term:  # added in place: no dict per field
                if _term_scores(searcher, sub, combined) is None:
                    return None
                continue
            scores = _phrase_scores(searcher, sub)
            if scores is None:
                return None
            for docnum, score in scores.items():
                combined[docnum] = combined.get(docnum, 0.0) + score
        if query.boost != 1.0:
            combined = {docnum: score * query.boost for docnum, score in combined.items()}
        return combined
    return None


def _term_scores(searcher, term: wq.Term, into: dict[int, float] | None = None) -> dict[int, float] | None:
    """Document → score of ``term`` in the segment, added to the scores ``into`` has if given."""
    weighting = searcher.weighting
    schema = searcher.schema
    if type(weighting) is not scoring.BM25F or term.fieldname not in schema or not schema[term.fieldname].scorable:
        return None
    reader = searcher.reader()
    field, text = term.fieldname, term.text
    try:
        text = schema[field].to_bytes(text)
    except Exception:  # a value the field cannot hold: let Whoosh say what it does
        return None
    scores: dict[int, float] = {} if into is None else into
    if (field, text) not in reader:
        return scores
    parent = searcher.get_parent()
    idf = parent.idf(field, text)
    average = parent.avg_field_length(field) or 1
    k1 = weighting.K1
    b = weighting._field_B.get(field, weighting.B)
    norms = _norms(reader, field, average, b, k1)
    matcher, deleted = _postings(reader, field, text)
    boost = term.boost
    top = k1 + 1
    found = scores.get
    # A long list's blocks mostly weigh the same (a word once, times the field's
    # boost): its BM25 part per document is then read from a table, same value.
    long = reader.doc_frequency(field, text) >= _TABLED_FROM
    for ids, weights in _blocks(matcher):
        if long and boost == 1.0 and not deleted and weights and weights.count(weights[0]) == len(weights):
            part = _parts_of_weight(reader, field, average, b, k1, weights[0])
            for docnum in ids:
                scores[docnum] = found(docnum, 0.0) + idf * part[docnum]
            continue
        pairs = zip(ids, weights)
        if deleted:
            pairs = [(docnum, weight) for docnum, weight in pairs if docnum not in deleted]
        # Whoosh's scoring.bm25, with the document's part precomputed (0.0 + x is x).
        if boost == 1.0:
            for docnum, weight in pairs:
                scores[docnum] = found(docnum, 0.0) + idf * ((weight * top) / (weight + norms[docnum]))
        else:
            for docnum, weight in pairs:
                scores[docnum] = found(docnum, 0.0) + idf * ((weight * top) / (weight + norms[docnum])) * boost
    return scores


def _phrase_scores(searcher, phrase: wq.Phrase) -> dict[int, float] | None:
    """Scores of a phrase of words side by side: Whoosh's (the sum of its terms'
    scores where they stand in order), with positions read only for documents that
    hold every word."""
    field = phrase.fieldname
    if phrase.slop != 1 or len(phrase.words) < 2 or field not in searcher.schema:
        return None
    if not searcher.schema[field].format.supports("positions"):
        return None  # Whoosh says why a phrase cannot be searched there
    per_term = [_term_scores(searcher, wq.Term(field, word)) for word in phrase.words]
    if any(scores is None for scores in per_term):
        return None
    if not all(per_term):
        return {}
    candidates = sorted(set.intersection(*(set(scores) for scores in sorted(per_term, key=len))))
    reader = searcher.reader()
    cursors = [_PositionCursor(reader, field, searcher.schema[field].to_bytes(word)) for word in phrase.words]
    found = {docnum: _binary_sum([scores[docnum] for scores in per_term]) for docnum in candidates if _side_by_side(cursors, docnum)}
    if phrase.boost != 1.0:
        found = {docnum: score * phrase.boost for docnum, score in found.items()}
    return found


def _binary_sum(values: list[float]) -> float:
    """``values`` added up in the order of Whoosh's binary tree of matchers (the same last bits)."""
    if len(values) == 1:
        return values[0]
    half = len(values) // 2
    return _binary_sum(values[:half]) + _binary_sum(values[half:])


def _side_by_side(cursors: list["_PositionCursor"], docnum: int) -> bool:
    """Whether the cursors' terms stand at consecutive positions, in order, in ``docnum``."""
    starts: set[int] | None = None
    for shift, cursor in enumerate(cursors):
        positions = cursor.positions(docnum)
        if not positions:
            return False
        shifted = {position - shift for position in positions}
        starts = shifted if starts is None else starts & shifted
        if not starts:
            return False
    return True


class _PositionCursor:
    """A term's positions in one segment, for documents asked in rising order;
    only the blocks that hold them are read."""

    def __init__(self, reader, field: str, text: bytes) -> None:
        matcher = reader.postings(field, text) if (field, text) in reader else None
        if isinstance(matcher, FilterMatcher):
            matcher = matcher.child  # deleted documents are never asked for
        self._matcher = matcher
        self._by_block = isinstance(matcher, W3LeafMatcher)
        self._ids: tuple = ()
        self._values = None

    def positions(self, docnum: int) -> list[int] | None:
        matcher = self._matcher
        if matcher is None:
            return None
        if not self._by_block:  # any other matcher: step it
            if matcher.is_active() and matcher.id() < docnum:
                matcher.skip_to(docnum)
            if not matcher.is_active() or matcher.id() != docnum:
                return None
            return list(matcher.value_as("positions"))
        while not matcher._atend and matcher._maxid < docnum:
            matcher._next_block()
            self._ids = ()
        if matcher._atend:
            return None
        if not self._ids:
            matcher._read_ids()
            self._ids, self._values = matcher._ids, None
        at = bisect.bisect_left(self._ids, docnum)
        if at == len(self._ids) or self._ids[at] != docnum:
            return None
        if self._values is None:
            matcher._read_values()
            self._values = matcher._values
        return matcher.format.decode_positions(self._values[at])


def count_together(searcher, words: list[tuple[str, ...]], fields: tuple[str, ...], allowed: set[int] | None, cap: int) -> int:
    """Documents (among ``allowed``, all if ``None``) holding every one of ``words``,
    counted up to ``cap``; a word is a tuple of terms that stand side by side in
    one of ``fields`` (one term: anywhere in them)."""
    if not words or not all(words):  # nothing asked for, or a word of no terms that no document holds
        return 0
    found = 0
    for reader, offset in searcher.reader().leaf_readers():
        found += _count_in_segment(reader, offset, words, fields, allowed, cap - found)
        if found >= cap:
            return cap
    return found


def _count_in_segment(reader, offset: int, words, fields, allowed, cap: int) -> int:
    docs: dict[tuple[str, str], set[int]] = {}

    def holding(field: str, term: str) -> set[int]:
        if (field, term) not in docs:
            docs[field, term] = _segment_term_docs(reader, field, term.encode("utf-8"))
        return docs[field, term]

    candidates: set[int] | None = None
    phrases: list[tuple[str, ...]] = []
    for word in sorted(words, key=len):  # single terms narrow the candidates cheaply
        per_field = [set.intersection(*(holding(field, term) for term in word)) for field in fields]
        having = set().union(*per_field)
        candidates = having if candidates is None else candidates & having
        if len(word) > 1:
            phrases.append(word)
        if not candidates:
            return 0
    assert candidates is not None
    if allowed is not None:
        candidates = {docnum for docnum in candidates if docnum + offset in allowed}
    if not phrases:
        return min(cap, len(candidates))
    cursors = {
        (phrase, field): [_PositionCursor(reader, field, term.encode("utf-8")) for term in phrase]
        for phrase in phrases
        for field in fields
        if all(holding(field, term) for term in phrase)
    }
    found = 0
    for docnum in sorted(candidates):
        if all(
            any(
                (phrase, field) in cursors and docnum in holding(field, phrase[0]) and _side_by_side(cursors[phrase, field], docnum)
                for field in fields
            )
            for phrase in phrases
        ):
            found += 1
            if found >= cap:
                break
    return found


def _segment_term_docs(reader, field: str, text: bytes) -> set[int]:
    """Live documents of one segment (its own numbers) holding ``text`` in ``field``."""
    if (field, text) not in reader:
        return set()
    matcher, deleted = _postings(reader, field, text)
    found: set[int] = set()
    for ids, _ in _blocks(matcher):
        found.update(ids)
    return found - deleted if deleted else found


def _postings(reader, field: str, text: bytes) -> tuple[matching.Matcher, frozenset[int]]:
    """A term's posting matcher in one segment, and the segment's deleted documents
    (which Whoosh would filter out one by one)."""
    matcher = reader.postings(field, text)
    if isinstance(matcher, FilterMatcher):
        return matcher.child, matcher._ids
    return matcher, frozenset()


def _blocks(matcher) -> Iterable[tuple]:
    """(ids, weights) of a fresh posting matcher, a block at a time."""
    if isinstance(matcher, W3LeafMatcher):
        while not matcher._atend:
            matcher._read_ids()
            matcher._read_weights()
            yield matcher._ids, matcher._weights
            matcher._next_block()
    elif isinstance(matcher, matching.ListMatcher):  # postings inlined in the term's entry
        weights = matcher._weights
        if weights is None:  # one weight for all, or 1.0 (as ListMatcher.weight() reads them)
            weights = [matcher._all_weights or 1.0] * len(matcher._ids)
        yield matcher._ids, weights
    else:
        ids, weights = [], []
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
        yield ids, weights


def _norms(reader, field: str, average: float, b: float, k1: float) -> list[float]:
    key = (field, average, b, k1)
    cached = _NORMS.setdefault(reader, {})
    if key not in cached:
        # Whoosh's doc_field_length: a stored byte of 0 reads as no length.
        cached[key] = [k1 * ((1 - b) + b * (byte_to_length(value) if value else 0) / average) for value in _length_bytes(reader, field)]
    return cached[key]


def _parts_of_weight(reader, field: str, average: float, b: float, k1: float, weight: float) -> list[float]:
    """Every document's ``(weight * (k1 + 1)) / (weight + norm)``: BM25 but for the idf."""
    key = (field, average, b, k1, weight)
    cached = _NORMS.setdefault(reader, {})
    if key not in cached:
        top = k1 + 1
        cached[key] = [(weight * top) / (weight + norm) for norm in _norms(reader, field, average, b, k1)]
    return cached[key]


def _length_bytes(reader, field: str) -> bytes | list[int]:
    """Every document's field length as Whoosh stores it (one byte, log scale)."""
    count = reader.doc_count_all()
    try:
        return length_bytes(reader._perdoc, field, count)
    except AttributeError:  # not a Whoosh 3 segment: ask document by document
        return [length_to_byte(reader.doc_field_length(docnum, field, 0)) for docnum in range(count)]


def length_bytes(per_document, field: str, count: int) -> bytes:
    """A field's length bytes for ``count`` documents, read at once from a Whoosh 3
    per-document reader (0 where a document has none)."""
    column = per_document._cached_reader(_lenfield(field), LENGTHS_COLUMN)
    if column is None:
        return bytes(count)
    stored = _stored_bytes(column)
    return stored[:count] + bytes(max(0, count - len(stored)))


def _stored_bytes(column) -> bytes:
    """All the values a fixed-size Whoosh column holds, as stored, read at once
    (documents after the last stored one have the column's default)."""
    return bytes(column._dbfile.get(column._basepos, column._count * column._fixedlen))


class Precomputed:
    """For queries that score a whole segment at once (their ``scores`` method).

    After a top-N search Whoosh asks for a matcher again to count the matches;
    each segment's scores are kept for the life of the query object, so they are
    computed once.
    """

    def scores(self, searcher, context=None) -> dict[int, float]:
        raise NotImplementedError

    def matcher(self, searcher, context=None) -> "ScoredDocs":
        computed = self.__dict__.setdefault("_scored_segments", {})
        key = id(searcher.reader())
        if key not in computed:
            computed[key] = ScoredDocs(self.scores(searcher, context))
        return computed[key].copy()


def top_results(searcher, query: Precomputed, limit: int) -> Results:
    """Whoosh's results of a top-``limit`` search for ``query``: the same hits in the
    same order (best score first, ties in document order) and the same count, without
    its collector stepping through the matches and then counting them all again.

    For scores above 0 (BM25F's are) and a weighting without ``final`` (ours):
    Whoosh's collector would leave out documents scoring 0 or less, and apply ``final``.
    """
    context = searcher.context()
    total = 0
    candidates: list[tuple[float, int]] = []
    for segment, offset in searcher.leaf_searchers():
        scores = query.scores(segment, context)
        total += len(scores)
        # Only documents scoring at least the segment's limit-th best can make the page.
        floor = heapq.nlargest(limit, scores.values())[-1] if 0 < limit < len(scores) else float("-inf")
        candidates.extend((score, -offset - docnum) for docnum, score in scores.items() if score >= floor)
    top = heapq.nlargest(limit, candidates)  # ties: the lower document number first, as Whoosh
    results = Results(searcher, query, [(score, -negated) for score, negated in top])
    results._total = total
    return results


class Restricted(Precomputed, wq.WrappingQuery):
    """``child`` with only the documents (top-level numbers) in ``allowed``.

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

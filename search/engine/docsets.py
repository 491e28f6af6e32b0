"""Sets of documents: filters and counts, read from posting lists and columns.

Filters (exact terms, date ranges) become sorted arrays of (top-level) document
numbers (:class:`DocSet`), instead of Whoosh's matchers over hundreds of terms; the
suggester's counts of documents holding several words look the other words up for
the rarest word's documents, with positions read only for the documents that hold
every word of a phrase.
"""

from __future__ import annotations

import array
import bisect
import heapq
import sys
import weakref
from itertools import islice
from typing import Iterator

from whoosh import query as wq

from .postings import PositionCursor, distinct, ids_near, live_ids, live_mask, live_postings, numpy_loaded, side_by_side
from .whoosh_seam import column_bytes, column_typecode, deleted_docs, variable_bytes

# Per segment reader and field: every document's value of a numeric column.
_COLUMNS: "weakref.WeakKeyDictionary[object, dict]" = weakref.WeakKeyDictionary()


class DocSet:
    """Top-level document numbers as a rising numpy array, for filters: a Python set
    of them is made only when asked (membership, Whoosh's collectors). A filter that
    lets most of a large archive through is then a few array operations, not a set
    of a million numbers."""

    def __init__(self, array) -> None:
        self.array = array
        self._set: set[int] | None = None

    @classmethod
    def of(cls, docs: list[int]) -> "DocSet":
        """A DocSet of rising document numbers."""
        import numpy

        return cls(numpy.array(docs, numpy.int64))

    def __len__(self) -> int:
        return len(self.array)

    def __bool__(self) -> bool:
        return len(self.array) > 0

    def __contains__(self, docnum: object) -> bool:
        return docnum in self.as_set()

    def as_set(self) -> set[int]:
        if self._set is None:
            self._set = set(self.array.tolist())
        return self._set

    def as_filter(self) -> set[int]:
        """The set for a Whoosh ``filter``, which reads an empty one as no filter at all:
        then a set that allows no real document."""
        return self.as_set() or {-1}

    def __and__(self, other: "DocSet") -> "DocSet":
        import numpy

        return DocSet(numpy.intersect1d(self.array, other.array, assume_unique=True))

    def __or__(self, other: "DocSet") -> "DocSet":
        import numpy

        return DocSet(distinct(numpy.concatenate((self.array, other.array))))


def matching_array(searcher, query: wq.Query):
    """The (top-level) numbers of the live documents ``query`` matches, unscored, as a
    rising numpy array: for filters. Terms, ORs and ANDs of them, and column ranges are
    read from posting lists and columns; any other query through Whoosh."""
    import numpy

    if isinstance(query, wq.And):
        found = matching_array(searcher, query.subqueries[0])
        for sub in query.subqueries[1:]:
            if not len(found):
                break
            found = numpy.intersect1d(found, matching_array(searcher, sub), assume_unique=True)
        return found
    if isinstance(query, wq.Or):
        parts = [matching_array(searcher, sub) for sub in query.subqueries]
        if len(parts) == 1:
            return parts[0]
        return distinct(numpy.concatenate(parts)) if parts else numpy.zeros(0, numpy.int64)
    if type(query) is wq.Term:
        return _term_array(searcher, query)
    if isinstance(query, wq.NumericRange) and searcher.schema[query.fieldname].column_type is not None:
        return _range_array(searcher, query)
    return numpy.array(sorted(searcher.docs_for_query(query)), numpy.int64)


def _range_array(searcher, query: wq.NumericRange):
    """Live documents whose column value lies in the range (0 is the column's "no
    value"): two binary searches in the sorted column."""
    import numpy

    low, high = query.start, query.end
    parts = []
    for reader, offset in searcher.reader().leaf_readers():
        if not reader.doc_count_all():  # an empty index has no column to read
            continue
        values, docnums = _sorted_column(reader, query.fieldname)
        start = 0 if low is None else (bisect.bisect_right if query.startexcl else bisect.bisect_left)(values, low)
        end = len(values) if high is None else (bisect.bisect_left if query.endexcl else bisect.bisect_right)(values, high)
        inside = numpy.sort(numpy.asarray(docnums[start:end], numpy.int64))
        live = live_mask(inside, deleted_docs(reader))
        parts.append((inside if live is None else inside[live]) + offset)
    return numpy.concatenate(parts) if parts else numpy.zeros(0, numpy.int64)


def _term_array(searcher, term: wq.Term):
    import numpy

    from .whoosh_seam import posting_arrays

    text = searcher.schema[term.fieldname].to_bytes(term.text)
    parts = []
    for reader, offset in searcher.reader().leaf_readers():
        if (term.fieldname, text) not in reader:
            continue
        matcher, deleted = live_postings(reader, term.fieldname, text)
        ids = posting_arrays(matcher)[0]
        live = live_mask(ids, deleted)
        parts.append((ids if live is None else ids[live]) + offset)
    return numpy.concatenate(parts) if parts else numpy.zeros(0, numpy.int64)


def _sorted_column(reader, field: str) -> tuple[list, list[int]]:
    """A segment's column values other than 0 ("no value"), sorted, and the document
    of each: a range is then two binary searches, not a test of every document."""
    cached = _COLUMNS.setdefault(reader, {})
    key = ("sorted", field)
    if key not in cached:
        pairs = sorted((value, docnum) for docnum, value in enumerate(column_values(reader, field)) if value)
        cached[key] = ([value for value, _ in pairs], array.array("q", [docnum for _, docnum in pairs]))
    return cached[key]


def column_values(reader, field: str):
    """Every document's value of a segment's numeric column, read at once (cached with the reader)."""
    cached = _COLUMNS.setdefault(reader, {})
    if field not in cached:
        column = reader.column_reader(field, translate=False)
        try:  # Whoosh stores fixed-size numbers big-endian, one after another
            values = array.array(column_typecode(column))
            values.frombytes(column_bytes(column))
            if sys.byteorder == "little":
                values.byteswap()
        except AttributeError:  # another kind of column: read value by value
            values = [column[docnum] for docnum in range(reader.doc_count_all())]
        cached[field] = values
    return cached[field]


def bytes_column_values(reader, field: str) -> list[bytes]:
    """Every document's value of a segment's bytes column (stored bytes, untranslated), read at once."""
    column = reader.column_reader(field, translate=False)
    try:
        return variable_bytes(column)
    except AttributeError:  # another kind of column: read value by value
        return [column[docnum] for docnum in range(reader.doc_count_all())]


def count_together(searcher, words: list[tuple[str, ...]], fields: tuple[str, ...], allowed: "DocSet | set[int] | None", cap: int) -> int:
    """Documents (among ``allowed``, all if ``None``) holding every one of ``words``,
    counted up to ``cap``; a word is a tuple of terms that stand side by side in
    one of ``fields`` (one term: anywhere in them)."""
    if not words or not all(words):  # nothing asked for, or a word of no terms that no document holds
        return 0
    # Without numpy loaded, in plain Python: the count seldom reads past the first chunk.
    counting = _count_in_segment if numpy_loaded() else _count_plainly
    found = 0
    for reader, offset in searcher.reader().leaf_readers():
        found += counting(reader, offset, words, fields, allowed, cap - found)
        if found >= cap:
            return cap
    return found


def _count_in_segment(reader, offset: int, words, fields, allowed, cap: int) -> int:
    """The documents of one segment holding every word, counted up to ``cap``: the
    rarest word's documents are the candidates, and the other words are looked for a
    chunk of candidates at a time, in the blocks that hold them, until ``cap`` are found."""
    import numpy

    rarest = min(words, key=lambda word: _frequency(reader, word, fields))
    candidates = _holding(reader, rarest, fields, None)
    live = live_mask(candidates, deleted_docs(reader))
    if live is not None:
        candidates = candidates[live]
    others = [word for word in words if word is not rarest]
    phrases = [word for word in words if len(word) > 1]
    cursors = _phrase_cursors(reader, phrases, fields)
    found = 0
    for start in range(0, len(candidates), _CHUNK):
        alive = candidates[start : start + _CHUNK]
        if isinstance(allowed, DocSet):
            alive = alive[numpy.isin(alive + offset, allowed.array, assume_unique=True)]
        elif allowed is not None:
            alive = alive[numpy.fromiter((docnum + offset in allowed for docnum in alive.tolist()), bool, len(alive))]
        for word in others:
            alive = alive[numpy.isin(alive, _holding(reader, word, fields, alive), assume_unique=True)]
            if not len(alive):
                break
        for docnum in alive.tolist():
            if _phrases_hold(cursors, phrases, fields, docnum):
                found += 1
                if found >= cap:
                    return found
    return found


def _count_plainly(reader, offset: int, words, fields, allowed, cap: int) -> int:
    """:func:`_count_in_segment` without numpy: the candidates are the documents of the
    rarest word's rarest term, read a block at a time as far as the count goes; the
    other words (and that word's other terms) narrow each chunk, and phrases are checked last."""
    rarest = min(words, key=lambda word: _frequency(reader, word, fields))
    first = min(rarest, key=lambda term: _frequency(reader, (term,), fields))
    candidates = _term_documents(reader, first, fields)
    others = [word for word in words if word is not rarest] + [(term,) for term in rarest if term != first]
    phrases = [word for word in words if len(word) > 1]
    cursors = _phrase_cursors(reader, phrases, fields)
    found = 0
    while chunk := list(islice(candidates, _CHUNK)):
        alive = chunk if allowed is None else [docnum for docnum in chunk if docnum + offset in allowed]
        for word in others:
            held = _holding_plainly(reader, word, fields, alive)
            alive = [docnum for docnum in alive if docnum in held]
            if not alive:
                break
        for docnum in alive:
            if _phrases_hold(cursors, phrases, fields, docnum):
                found += 1
                if found >= cap:
                    return found
    return found


def _term_documents(reader, term: str, fields) -> Iterator[int]:
    """The live documents holding ``term`` in one of ``fields``, rising, a block at a time."""
    text = term.encode("utf-8")
    last = -1
    for docnum in heapq.merge(*(live_ids(reader, field, text) for field in fields if (field, text) in reader)):
        if docnum != last:
            yield docnum
        last = docnum


def _holding_plainly(reader, word: tuple[str, ...], fields, docs: list[int]) -> set[int]:
    """:func:`_holding` without numpy: those of ``docs`` (rising) holding every term of
    ``word`` in one of ``fields``, from the blocks that may hold them."""
    found: set[int] = set()
    for field in fields:
        inside: set[int] | None = None
        for term in word:
            text = term.encode("utf-8")
            ids = ids_near(reader, field, text, docs) if (field, text) in reader else set()
            inside = ids if inside is None else inside & ids
            if not inside:
                break
        found |= inside or set()
    return found


def _phrases_hold(cursors: dict, phrases, fields, docnum: int) -> bool:
    """Whether every phrase's terms stand side by side in ``docnum``, in one of ``fields``."""
    return all(any((phrase, field) in cursors and side_by_side(cursors[phrase, field], docnum) for field in fields) for phrase in phrases)


def _phrase_cursors(reader, phrases, fields) -> dict:
    """Position cursors of each phrase's terms, per field that holds them all."""
    return {
        (phrase, field): [PositionCursor(reader, field, term.encode("utf-8")) for term in phrase]
        for phrase in phrases
        for field in fields
        if all((field, term.encode("utf-8")) in reader for term in phrase)
    }


#: Candidates looked up at once when counting words together.
_CHUNK = 256


def _frequency(reader, word: tuple[str, ...], fields) -> int:
    """How many documents may hold ``word`` (its rarest term's in any field): which word to start from."""
    return min(sum(reader.doc_frequency(field, term.encode("utf-8")) for field in fields) for term in word)


def _holding(reader, word: tuple[str, ...], fields, docs):
    """Documents (of ``docs`` only, a rising array, if given) holding every term of
    ``word`` in one of ``fields`` (deleted ones included), rising."""
    import numpy

    from .whoosh_seam import posting_arrays

    found = []
    for field in fields:
        inside = None
        for term in word:
            text = term.encode("utf-8")
            ids = posting_arrays(live_postings(reader, field, text)[0], docs)[0] if (field, text) in reader else numpy.zeros(0, numpy.int64)
            inside = ids if inside is None else numpy.intersect1d(inside, ids, assume_unique=True)
        found.append(inside)
    return distinct(numpy.concatenate(found)) if found else numpy.zeros(0, numpy.int64)



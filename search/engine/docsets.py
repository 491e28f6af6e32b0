"""Sets of documents: filters and counts, read from posting lists and columns.

Filters (exact terms, date ranges) become sets of (top-level) document numbers,
instead of Whoosh's matchers over hundreds of terms; the suggester's counts of
documents holding several words are set intersections, with positions read only
for the documents that hold every word of a phrase.
"""

from __future__ import annotations

import array
import bisect
import sys
import weakref

from whoosh import query as wq

from .postings import PositionCursor, segment_term_docs, side_by_side
from .whoosh_seam import column_bytes, column_typecode

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
        docs = segment_term_docs(reader, term.fieldname, text)
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
        pairs = sorted((value, docnum) for docnum, value in enumerate(column_values(reader, field)) if value)
        cached[key] = ([value for value, _ in pairs], [docnum for _, docnum in pairs])
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
            docs[field, term] = segment_term_docs(reader, field, term.encode("utf-8"))
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
        (phrase, field): [PositionCursor(reader, field, term.encode("utf-8")) for term in phrase]
        for phrase in phrases
        for field in fields
        if all(holding(field, term) for term in phrase)
    }
    found = 0
    for docnum in sorted(candidates):
        if all(
            any(
                (phrase, field) in cursors and docnum in holding(field, phrase[0]) and side_by_side(cursors[phrase, field], docnum)
                for field in fields
            )
            for phrase in phrases
        ):
            found += 1
            if found >= cap:
                break
    return found

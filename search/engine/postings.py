"""A term's postings in one segment: its live documents, a block at a time, and
its positions for a few documents at a time (phrases)."""

from __future__ import annotations

import bisect
import sys
from typing import Iterator

from .whoosh_seam import BlockCursor, blocks_holding, iter_blocks, positions_decoder, unfiltered


def numpy_loaded() -> bool:
    """Whether this process has imported numpy. Small work uses it only then: a one-off
    CLI search would pay its import (50 ms) to save a few milliseconds."""
    return "numpy" in sys.modules


#: Postings a process scores in dicts, where MaxScore would prune them, before it loads
#: numpy for that: its import costs a one-off search at 10x what scoring about this many
#: in dicts does (cold CLI searches: dicts quicker by 40 ms at 47,000, even at 72,000-110,000).
LOAD_NUMPY_AFTER = 80_000
_scored_without_numpy = [0]  # postings so far, in this process


def numpy_pays(postings: int) -> bool:
    """Whether a search of ``postings`` (the whole index's) should load numpy to prune
    them: yes once this search and those scored in dicts before it add up to what the
    import costs (ski rental). A server soon loads it; a one-off search of fairly
    common words does not."""
    if numpy_loaded() or _scored_without_numpy[0] + postings >= LOAD_NUMPY_AFTER:
        return True
    _scored_without_numpy[0] += postings
    return False


def live_postings(reader, field: str, text: bytes):
    """A term's posting matcher in one segment, and the segment's deleted documents
    (which Whoosh would filter out one by one)."""
    return unfiltered(reader.postings(field, text))


def live_ids(reader, field: str, text: bytes) -> Iterator[int]:
    """A term's live documents in one segment, rising, read a block at a time."""
    matcher, deleted = live_postings(reader, field, text)
    for ids, _ in iter_blocks(matcher):
        yield from (docnum for docnum in ids if docnum not in deleted) if deleted else ids


def ids_near(reader, field: str, text: bytes, docs: list[int]) -> set[int]:
    """The documents of the blocks of a term's list that may hold any of ``docs``
    (rising): those of ``docs`` it holds among them, its other blocks never read."""
    near: set[int] = set()
    for ids, _ in blocks_holding(live_postings(reader, field, text)[0], docs):
        near.update(ids)
    return near


def live_mask(ids, deleted: frozenset[int]):
    """Which of a numpy array of a segment's document numbers are not ``deleted``
    (``None``: all of them)."""
    if not deleted:
        return None
    import numpy

    return ~numpy.isin(ids, numpy.fromiter(deleted, numpy.int64, len(deleted)))


def distinct(values):
    """The distinct numbers of a numpy array, rising. ``numpy.unique`` (numpy 2.4, which
    hashes) took 1.1 s for 1.6 million document numbers; a sort takes 20 ms."""
    import numpy

    values = numpy.sort(values)
    if len(values) < 2:
        return values
    return values[numpy.concatenate(([True], values[1:] != values[:-1]))]


class PositionCursor:
    """A term's positions in one segment, for documents asked in rising order (in
    any order if :attr:`seekable`); only the blocks that hold them are read. ``keep``:
    every block read is kept for later calls, not only the last."""

    def __init__(self, reader, field: str, text: bytes, keep: bool = False) -> None:
        # Deleted documents are never asked for: no need to filter them.
        matcher = live_postings(reader, field, text)[0] if (field, text) in reader else None
        self._matcher = matcher
        self._blocks = BlockCursor(matcher, keep) if BlockCursor.supports(matcher) else None
        self._ids: tuple = ()
        self._decode = None if matcher is None else positions_decoder(matcher.format)

    @property
    def seekable(self) -> bool:
        return self._matcher is None or (self._blocks is not None and self._blocks.seekable)

    def positions(self, docnum: int) -> list[int] | None:
        matcher, blocks = self._matcher, self._blocks
        if matcher is None:
            return None
        if self.seekable:
            return self.positions_of([docnum])[0]
        if blocks is None:  # any other matcher: step it
            if matcher.is_active() and matcher.id() < docnum:
                matcher.skip_to(docnum)
            if not matcher.is_active() or matcher.id() != docnum:
                return None
            return list(matcher.value_as("positions"))
        if blocks.skip_to_block_of(docnum):
            self._ids = ()
        if blocks.at_end:
            return None
        if not self._ids:
            self._ids = blocks.ids()
        at = bisect.bisect_left(self._ids, docnum)
        if at == len(self._ids) or self._ids[at] != docnum:
            return None
        return self._decode(blocks.value(at))

    def positions_of(self, docs: list[int]) -> list[list[int] | None]:
        """The positions of each of ``docs`` (rising; in any order from one call to the
        next if :attr:`seekable`), ``None`` where the term is not."""
        if self._matcher is None:
            return [None] * len(docs)
        if self._blocks is None or not self._blocks.seekable:
            return [self.positions(docnum) for docnum in docs]
        decode = self._decode
        return [None if value is None else decode(value) for value in self._blocks.values_of(docs)]


#: Documents whose positions are held at once when checking where words stand.
_TOGETHER_AT_ONCE = 2048


def together(cursors: list[PositionCursor], docs: list[int]) -> list[int]:
    """Those of ``docs`` (rising) where the cursors' terms stand at consecutive
    positions, in order; a term's positions are read only for the documents that the
    terms before it leave, a few thousand documents at a time."""
    if len(docs) > _TOGETHER_AT_ONCE:
        return [docnum for at in range(0, len(docs), _TOGETHER_AT_ONCE) for docnum in together(cursors, docs[at : at + _TOGETHER_AT_ONCE])]
    first, *others = cursors
    held = [(docnum, set(positions)) for docnum, positions in zip(docs, first.positions_of(docs)) if positions]
    for shift, cursor in enumerate(others, 1):
        if not held:
            break
        found = cursor.positions_of([docnum for docnum, _ in held])
        held = [
            (docnum, starts)
            for (docnum, before), positions in zip(held, found)
            if positions and (starts := before.intersection([position - shift for position in positions]))
        ]
    return [docnum for docnum, _ in held]


def side_by_side(cursors: list[PositionCursor], docnum: int) -> bool:
    """Whether the cursors' terms stand at consecutive positions, in order, in ``docnum``."""
    return bool(together(cursors, [docnum]))

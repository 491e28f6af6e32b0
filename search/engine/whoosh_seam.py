"""The one module that reaches into Whoosh's private internals.

Whoosh's public API cannot write or read posting blocks in another layout, read
a block's ids and weights without stepping posting by posting, read a column's
stored bytes at once, add a document without a token object per word, or commit
segments written by other processes. The codec, the segment writer, the scorer
and the parallel build need each of these for speed, so every private name of
Whoosh they rely on is used here, and only here, behind named functions and
small base classes. The rest of the package calls those.

The contract, for Whoosh 2.7.4 (any other version is refused at import):

- ``W3Codec`` keeps its settings in ``_blocklimit`` and ``_compression``.
- ``W3PostingsWriter`` buffers a block in ``_ids``, ``_weights`` (arrays ``I`` and
  ``f``), ``_values`` (bytes, empty when the format has none), ``_minlength``,
  ``_maxlength`` and ``_maxweight``; ``_write_block(last)`` writes it, and must pass
  it to ``_terminfo.add_block`` before ``_new_block()`` clears it; ``_blockcount``
  counts the blocks written; ``_postfile``, ``_blocklimit``, ``_compression`` and
  ``_format`` are its settings.
- ``W3LeafMatcher`` holds its current block in ``_blocklength``, ``_maxid``,
  ``_maxweight``, ``_minlength``, ``_maxlength``, ``_lastblock``, ``_nextoffset``
  and ``_atend``, fills ``_ids``, ``_weights`` and ``_values`` on demand through
  ``_read_ids``, ``_read_weights`` and ``_read_values``, loads a block with
  ``_goto(offset)`` and moves on with ``_next_block()``.
- ``ListMatcher`` (postings inlined in the term dictionary) keeps ``_ids``,
  ``_weights`` (``None``: all weigh ``_all_weights``, else 1.0); ``FilterMatcher``
  keeps the excluded (deleted) documents in ``_ids``.
- A Whoosh 3 segment reader's per-document reader is ``_perdoc``; field lengths
  are a column named by ``_lenfield(field)`` read with ``_cached_reader``; a
  fixed-size column reader keeps its values big-endian from ``_basepos`` of
  ``_dbfile``, ``_count`` values of ``_fixedlen`` bytes, typecode ``_typecode``; a
  variable-length one keeps each value's ``_offsets`` (from ``_basepos``) and ``_lengths``.
- ``BM25F`` keeps per-field ``B`` in ``_field_B``; ``Results`` keeps its count in
  ``_total``.
- ``SegmentWriter.add_document`` is ``_check_state``, ``_doc_boost``,
  ``_check_fields``, ``_field_boost`` and ``_added``; ``_flush_segment`` writes the
  pool at commit; spill files live in ``_tempstorage``; a field writer's postings
  writer is ``_postwriter``. A segment is finished without a commit by
  ``_finalize_segment``, and committed with others by ``_close_segment``,
  ``_commit_toc`` and ``_finish``; an index's segments are ``_segments()``.
- ``W3FieldWriter`` writes its term table through ``_tindex``, an ``OrderedHashWriter``
  (keys rising from ``lastkey``, each key's place appended to ``index``) whose
  ``HashWriter`` writes a key and value after ``filetables._lengths``, keeps
  ``buckets`` (256 lists of (hash, place)), writes each bucket's table in
  ``_write_hashes`` and records it in ``directory``; its hash is ``hashfn``, its
  slots packed by ``filetables._pointer``.
- ``formats.Positions`` encodes a posting's positions as a 4-byte count and then
  their gaps, pickled (the pickle's last byte may be left off).
- ``CompoundStorage`` keeps its memory map in ``_source``; ``BufferFile`` reads
  ``get`` from ``_buf`` and sequentially from ``file``, named ``_name``.

``tests/test_codec.py``, ``test_writer.py`` and ``test_scoring.py`` compare what is
built on this contract with Whoosh's own codec, writer and matchers.
"""

from __future__ import annotations

import bisect
import pickle
import weakref
from array import array
from dataclasses import dataclass
from itertools import accumulate
from typing import Callable, Iterable

import whoosh
from whoosh import formats, matching
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3FieldWriter, W3LeafMatcher, W3PostingsWriter, _lenfield
from whoosh.filedb import filetables
from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.structfile import BufferFile
from whoosh.matching.wrappers import FilterMatcher
from whoosh.searching import Results
from whoosh.writing import SegmentWriter

from ..errors import DependencyError

#: The Whoosh release this contract was written for.
WHOOSH_VERSION = (2, 7, 4)

if tuple(whoosh.__version__) != WHOOSH_VERSION:
    raise DependencyError(
        f"news-search needs Whoosh {'.'.join(map(str, WHOOSH_VERSION))}, not {whoosh.versionstring()}: its codec and "
        f"segment writer rely on that release's internals; run `pip install whoosh=={'.'.join(map(str, WHOOSH_VERSION))}`"
    )


# -- writing posting blocks -----------------------------------------------------


def codec_settings(codec) -> tuple[int, int]:
    """A Whoosh 3 codec's postings per block and zlib level."""
    return codec._blocklimit, codec._compression


@dataclass(frozen=True, slots=True)
class PendingBlock:
    """A block of postings about to be written, with the statistics Whoosh keeps of it."""

    ids: array
    weights: array
    values: list[bytes]
    min_length: int | None
    max_length: int
    max_weight: float


class BlockPostingsWriter(W3PostingsWriter):
    """Whoosh 3's postings writer, each block's bytes made by :meth:`encode_block`."""

    @property
    def block_limit(self) -> int:
        return self._blocklimit

    @property
    def compression(self) -> int:
        return self._compression

    @property
    def value_format(self):
        """The field format of the term being written (its value encoding)."""
        return self._format

    def encode_block(self, block: PendingBlock, last: bool) -> bytes:
        raise NotImplementedError

    def add_term_postings(self, ids: list[int], weights: list[float], values: list[bytes], lengths: list) -> None:
        """All of a term's postings at once (between ``start_postings`` and
        ``finish_postings``), in blocks as ``add_posting`` would make them."""
        size = self._blocklimit
        for start in range(0, len(ids), size):
            end = start + size
            self._ids = array("I", ids[start:end])
            block_weights = weights[start:end]
            self._weights = array("f", block_weights)
            self._values = [value for value in values[start:end] if value]
            known = [length for length in lengths[start:end] if length]
            self._minlength = min(known) if known else None
            self._maxlength = max(known) if known else 0
            self._maxweight = max(0, max(block_weights))
            if end < len(ids):
                self._write_block()
        # The last block is left for finish_postings, which writes it marked as the last.

    def _write_block(self, last: bool = False) -> None:
        self._terminfo.add_block(self)
        block = PendingBlock(self._ids, self._weights, self._values, self._minlength, self._maxlength, self._maxweight)
        self._postfile.write(self.encode_block(block, last))
        self._blockcount += 1
        self._new_block()


class CompactTermsFieldWriter(W3FieldWriter):
    """Whoosh 3's field writer, its term table's keys held compactly until written."""

    def __init__(self, codec, storage, segment) -> None:
        super().__init__(codec, storage, segment)
        _CompactHashes.adopt(self._tindex)


class _CompactHashes(filetables.OrderedHashWriter):
    """Whoosh's ordered hash table of terms, writing the same bytes, with each term's
    hash and place kept in two arrays per bucket, not as a tuple in a list: 120 bytes
    a term, and a segment of 80,000 stories has 270,000 terms (its paths, dates and
    words), which made the segment's writing its build's peak of memory."""

    @classmethod
    def adopt(cls, writer: filetables.OrderedHashWriter) -> None:
        """Make a new Whoosh writer (nothing added yet) keep its keys this way."""
        writer.__class__ = cls
        writer.buckets = [(array("L"), array("q")) for _ in range(256)]

    def add(self, key: bytes, value: bytes) -> None:
        if key <= self.lastkey:
            raise ValueError(f"Keys must increase: {self.lastkey!r}..{key!r}")
        dbfile = self.dbfile
        position = dbfile.tell()
        self.index.append(position)
        dbfile.write(filetables._lengths.pack(len(key), len(value)))
        dbfile.write(key)
        dbfile.write(value)
        hashed = self.hashfn(key)
        hashes, positions = self.buckets[hashed & 255]
        hashes.append(hashed)
        positions.append(position)
        self.lastkey = key

    def _write_hashes(self) -> None:
        """Each bucket's open-addressing table, as :meth:`HashWriter._write_hashes` lays it out."""
        dbfile, pack = self.dbfile, filetables._pointer.pack
        for hashes, positions in self.buckets:
            self.directory.append((dbfile.tell(), 2 * len(hashes)))
            slots = 2 * len(hashes)
            table = [(0, 0)] * slots
            for hashed, position in zip(hashes, positions):
                slot = (hashed >> 8) % slots
                while table[slot] != (0, 0):
                    slot = (slot + 1) % slots
                table[slot] = (hashed, position)
            dbfile.write(b"".join(pack(hashed, position) for hashed, position in table))


def postings_writer_of(fieldwriter) -> BlockPostingsWriter:
    """The postings writer a Whoosh 3 field writer hands its blocks to."""
    return fieldwriter._postwriter


# -- reading posting blocks -----------------------------------------------------


class BlockMatcher(W3LeafMatcher):
    """Whoosh 3's leaf matcher (stepping, skipping, block quality) over blocks that
    :meth:`read_header`, :meth:`read_ids`, :meth:`read_weights` and :meth:`read_values`
    decode."""

    def __init__(self, postfile, startoffset: int, format_, term=None, scorer=None) -> None:
        self._postfile = postfile
        self._startoffset = self._baseoffset = startoffset
        self.format = format_
        self._term = term
        self._byteids = False
        self.scorer = scorer
        self._fixedsize = format_.fixed_value_size()
        self.reset()

    @property
    def postfile(self):
        return self._postfile

    def read_header(self, position: int) -> tuple[int, int, float, int, int, bool, int]:
        """Load the block at ``position``: its postings, last id, highest weight, shortest
        and longest field length, whether it is the last, and where the next one starts."""
        raise NotImplementedError

    def read_ids(self) -> tuple[int, ...]:
        raise NotImplementedError

    def read_weights(self):
        raise NotImplementedError

    def read_values(self) -> tuple:
        raise NotImplementedError

    def block_values(self):
        """The current block's values, by posting, still readable once the matcher moves on."""
        return self.read_values()

    def arrays(self, offsets: list[int] | None = None) -> tuple:
        """(ids, weights) as numpy arrays (int64, float64) of the blocks at ``offsets``
        (rising), or of every block; the matcher may be left anywhere."""
        import numpy

        ids, weights = [], []
        if offsets is None:
            self._goto(self._startoffset)
            self._atend = False
            while not self._atend:
                ids.append(self.ids_array())
                weights.append(self.weights_array())
                self._next_block()
        else:
            for offset in offsets:
                self._goto(offset)
                ids.append(self.ids_array())
                weights.append(self.weights_array())
        if not ids:
            return numpy.zeros(0, numpy.int64), numpy.zeros(0)
        return numpy.concatenate(ids), numpy.concatenate(weights)

    @property
    def start_offset(self) -> int:
        """Where the list's first block starts."""
        return self._startoffset

    def ids_array(self):
        """The current block's ids as a numpy array (int64)."""
        raise NotImplementedError

    def weights_array(self):
        """The current block's weights as a numpy array (float64)."""
        raise NotImplementedError

    def _goto(self, position: int) -> None:
        self._ids = self._weights = self._values = None
        self._i = 0
        (
            self._blocklength, self._maxid, self._maxweight, self._minlength, self._maxlength, self._lastblock, self._nextoffset,
        ) = self.read_header(position)  # fmt: skip

    def _read_ids(self) -> None:
        self._ids = self.read_ids()

    def _read_weights(self) -> None:
        self._weights = self.read_weights()

    def _read_values(self) -> None:
        self._values = self.read_values()


def unfiltered(matcher) -> tuple[matching.Matcher, frozenset[int]]:
    """A posting matcher without Whoosh's filter of deleted documents, and those
    documents (a caller drops them a block at a time, not one by one). The matcher is at
    its first document, deleted or not: the filter has stepped it past the deleted ones,
    and a list whose first block held only those was read from its second."""
    if isinstance(matcher, FilterMatcher):
        rewind(matcher.child)
        return matcher.child, matcher._ids
    return matcher, frozenset()


def iter_blocks(matcher) -> Iterable[tuple]:
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


def blocks_holding(matcher, docs: list[int]) -> Iterable[tuple]:
    """(ids, weights) of the blocks of a fresh posting matcher that may hold any of
    ``docs`` (rising); the other blocks are passed over by their headers."""
    if not isinstance(matcher, W3LeafMatcher):
        yield from iter_blocks(matcher)
        return
    at, count = 0, len(docs)
    while not matcher._atend and at < count:
        last = matcher._maxid
        if docs[at] <= last:
            matcher._read_ids()
            matcher._read_weights()
            yield matcher._ids, matcher._weights
            at = bisect.bisect_right(docs, last, at)
        matcher._next_block()


def posting_arrays(matcher, docs=None) -> tuple:
    """(ids, weights) of a fresh posting matcher as numpy arrays (int64, float64); with
    ``docs`` (a rising array), only the blocks that may hold any of them are read."""
    import numpy

    if isinstance(matcher, BlockMatcher):
        if docs is None:
            return matcher.arrays()
        lasts, offsets = _block_index(matcher)
        blocks = numpy.searchsorted(numpy.frombuffer(lasts, numpy.int64), docs)
        if len(blocks) > 1:  # rising, as the documents are: each block once
            blocks = blocks[numpy.concatenate(([True], blocks[1:] != blocks[:-1]))]
        if len(blocks) and blocks[-1] == len(offsets):  # past the last block
            blocks = blocks[:-1]
        return matcher.arrays([offsets[block] for block in blocks.tolist()])
    ids, weights = [], []
    for block_ids, block_weights in iter_blocks(matcher):
        ids.append(numpy.asarray(block_ids, numpy.int64))
        weights.append(numpy.asarray(block_weights, numpy.float64))
    if not ids:
        return numpy.zeros(0, numpy.int64), numpy.zeros(0)
    return numpy.concatenate(ids), numpy.concatenate(weights)


# Per posting file: a posting list's blocks (last ids, offsets) by the list's offset.
_BLOCK_INDEXES: "weakref.WeakKeyDictionary[object, dict[int, tuple]]" = weakref.WeakKeyDictionary()
_INDEXES_KEPT = 50_000  # lists per posting file, past which the kept indexes are dropped


def _block_index(matcher: "BlockMatcher") -> tuple:
    """The last id (an array of int64) and offset of each block of a matcher's list,
    read from the blocks' headers once and kept with the posting file: scoring a few
    documents of a long list then reads only their blocks. The matcher is left at its
    first block."""
    kept = _BLOCK_INDEXES.setdefault(matcher._postfile, {})
    found = kept.get(matcher._startoffset)
    if found is None:
        lasts, offsets = [], []
        position = matcher._startoffset
        rewind(matcher)  # wherever it was: the walk starts at the first block
        while True:
            lasts.append(matcher._maxid)
            offsets.append(position)
            if matcher._lastblock:
                break
            position = matcher._nextoffset
            matcher._goto(position)
        rewind(matcher)
        if len(kept) >= _INDEXES_KEPT:
            kept.clear()
        found = kept[matcher._startoffset] = (array("q", lasts), offsets)
    return found


def rewind(matcher) -> bool:
    """Put a matcher over our blocks back at its first block, as a new one would be
    (a term looked up again costs 60 µs, thousands of times a query); ``False`` for
    any other matcher, which cannot be: make a new one."""
    if not isinstance(matcher, BlockMatcher):
        return False
    matcher._goto(matcher._startoffset)
    matcher._atend = False
    return True


def file_buffer(file):
    """The bytes a Whoosh file reads from, if it holds them all in memory (a file in a
    memory-mapped segment), for numpy to read in place; else ``None``."""
    return file._buf if isinstance(file, BufferFile) else None


def positions_decoder(format_) -> Callable[[bytes], list[int]]:
    """What reads a posting's positions from its value in ``format_``: Whoosh's own
    method, but for its ``Positions`` format, whose gaps are added up here in C."""
    return _positions if type(format_) is formats.Positions else format_.decode_positions


def _positions(value: bytes) -> list[int]:
    """``formats.Positions.decode_positions``, the same list."""
    if not value.endswith(b"."):
        value += b"."
    return list(accumulate(pickle.loads(value[4:])))


def deleted_docs(reader) -> frozenset[int]:
    """A segment reader's deleted documents."""
    return frozenset(reader._perdoc.deleted_docs()) if reader.has_deletions() else frozenset()


class BlockCursor:
    """A posting matcher's blocks: the current block's ids and values, read only when
    asked (for positions of a few documents). Over our blocks it moves to any block
    (:attr:`seekable`); over Whoosh's own, only forward."""

    def __init__(self, matcher: W3LeafMatcher, keep: bool = False) -> None:
        self._matcher = matcher
        # Where each of our blocks starts, so a skip jumps there: a phrase checked for
        # documents out of order comes back to a list many times.
        self._lasts, self._offsets = _block_index(matcher) if isinstance(matcher, BlockMatcher) else (None, None)
        # Block number → its ids and values, read by values_of: every block read if ``keep``
        # (a phrase checked a few documents at a time, all over its lists), else the last.
        self._read: dict[int, tuple] = {}
        self._keep = keep

    @staticmethod
    def supports(matcher) -> bool:
        return isinstance(matcher, W3LeafMatcher)

    @property
    def seekable(self) -> bool:
        return self._offsets is not None

    def skip_to_block_of(self, docnum: int) -> bool:
        """Move forward to the block that would hold ``docnum``; whether it moved; at the
        end, :attr:`at_end` says so. (A :attr:`seekable` cursor reads by :meth:`values_of`.)"""
        matcher = self._matcher
        moved = False
        while not matcher._atend and matcher._maxid < docnum:
            matcher._next_block()
            moved = True
        return moved

    @property
    def at_end(self) -> bool:
        return self._matcher._atend

    def ids(self) -> tuple:
        self._matcher._read_ids()
        return self._matcher._ids

    def values_of(self, docs: list[int]) -> list:
        """The values of ``docs`` (rising) in the list, ``None`` for a document it lacks;
        for a :attr:`seekable` cursor. A block is read once while documents are asked in
        rising order, and once in all if the cursor keeps blocks (reading a block's ids and
        value offsets again at each call cost a phrase checked a few documents at a time a
        third more)."""
        matcher, lasts, offsets, read = self._matcher, self._lasts, self._offsets, self._read
        found: list = []
        at, count, blocks = 0, len(docs), len(offsets)
        while at < count:
            block = bisect.bisect_left(lasts, docs[at])
            if block == blocks:  # past the last block
                found.extend([None] * (count - at))
                break
            end = bisect.bisect_right(docs, lasts[block], at)
            if block not in read:
                if not self._keep:
                    read.clear()
                matcher._goto(offsets[block])
                matcher._atend = False
                read[block] = (matcher.read_ids(), matcher.block_values())
            ids, values = read[block]
            for docnum in docs[at:end]:
                place = bisect.bisect_left(ids, docnum)
                found.append(values[place] if place < len(ids) and ids[place] == docnum else None)
            at = end
        return found

    def value(self, at: int):
        """The value of the current block's posting ``at`` (the block's values read once)."""
        matcher = self._matcher
        if matcher._values is None:
            matcher._read_values()
        return matcher._values[at]


# -- lengths and columns --------------------------------------------------------


def per_document_reader(segment_reader):
    """A Whoosh 3 segment reader's per-document reader (stored fields, lengths, columns);
    :class:`AttributeError` for any other kind of reader."""
    return segment_reader._perdoc


def length_bytes(per_document, field: str, count: int) -> bytes:
    """A field's length bytes for ``count`` documents, read at once from a Whoosh 3
    per-document reader (0 where a document has none)."""
    column = per_document._cached_reader(_lenfield(field), LENGTHS_COLUMN)
    if column is None:
        return bytes(count)
    stored = column_bytes(column)
    return stored[:count] + bytes(max(0, count - len(stored)))


def column_bytes(column) -> bytes:
    """All the values a fixed-size Whoosh column holds, as stored (big-endian), read at
    once (documents after the last stored one have the column's default);
    :class:`AttributeError` for another kind of column."""
    return bytes(column._dbfile.get(column._basepos, column._count * column._fixedlen))


def variable_bytes(column) -> list[bytes]:
    """Every value of a Whoosh variable-length bytes column (a reader, or one that
    translates it), read at once; :class:`AttributeError` for another kind of column."""
    raw = column.raw_column() if hasattr(column, "raw_column") else column
    lengths, offsets = raw._lengths, raw._offsets
    if not lengths:
        return []
    data = bytes(raw._dbfile.get(raw._basepos, max(offsets[-1] + lengths[-1], 0)))
    return [data[offset : offset + length] for offset, length in zip(offsets, lengths)]


def column_typecode(column) -> str:
    """The array typecode of a fixed-size numeric column's values."""
    return column._typecode


# -- scoring and results --------------------------------------------------------


def field_b(weighting, field: str) -> float:
    """BM25F's length normalisation ``B`` for ``field``."""
    return weighting._field_B.get(field, weighting.B)


def results_of(searcher, query, top: list[tuple[float, int]], total: int, exact: bool = True) -> Results:
    """Whoosh results holding the page ``top`` ((score, document) pairs) of ``total``
    matches, or of at least ``total`` (``total_is_exact`` false)."""
    results = Results(searcher, query, top)
    results._total = total
    results.total_is_exact = exact
    return results


# -- writing segments -------------------------------------------------------------


class DocumentSegmentWriter(SegmentWriter):
    """Whoosh's segment writer, for a subclass that adds a document's fields its own
    way (between :meth:`start_document` and :meth:`finish_document`) and writes
    its postings itself (:meth:`write_postings`, at commit)."""

    @property
    def temp_storage(self):
        """Where the pool may spill postings to disk."""
        return self._tempstorage

    def start_document(self, fields: dict) -> tuple[float, list[str]]:
        """Begin a document: its boost, and its field names in Whoosh's order."""
        self._check_state()
        docboost = self._doc_boost(fields)
        fieldnames = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(self.schema, fieldnames)
        self.perdocwriter.start_doc(self.docnum)
        return docboost, fieldnames

    def field_boost(self, fields: dict, fieldname: str, docboost: float) -> float:
        return self._field_boost(fields, fieldname, docboost)

    def finish_document(self) -> None:
        self.perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1

    def write_postings(self) -> None:
        raise NotImplementedError

    def _flush_segment(self) -> None:
        self.write_postings()


def finish_uncommitted(writer: SegmentWriter):
    """Write out ``writer``'s segment without committing it (a worker of a parallel
    build); return the segment, for :func:`commit_segments` in another process."""
    return writer._finalize_segment()


def commit_segments(writer: SegmentWriter, segments: list) -> None:
    """Commit ``segments`` (written by other processes) as the whole index, in place of
    ``writer``'s own segment (which stays empty), and release the writer."""
    writer._close_segment()
    writer._commit_toc(segments)
    writer._finish()


def segment_document_count(ix) -> int:
    """Documents in an index, counted from its table of contents (no segment opened)."""
    return sum(segment.doc_count() for segment in ix._segments())


# -- segment files read in place --------------------------------------------------


def compound_map(compound: CompoundStorage):
    """The memory map a compound segment file reads from; ``None`` when it is closed
    or not memory-mapped."""
    return None if compound.is_closed else getattr(compound, "_source", None)


def file_in_place(source, offset: int, length: int, name: str, reader) -> BufferFile:
    """Whoosh's ``BufferFile`` over ``length`` bytes of ``source`` from ``offset``,
    without copying them: ``get`` slices the map, sequential reads go to ``reader``."""
    opened = BufferFile.__new__(BufferFile)
    opened._buf = memoryview(source)[offset : offset + length]
    opened._name = name
    opened.file = reader
    opened.onclose = None
    opened.is_real = False
    opened.is_closed = False
    return opened

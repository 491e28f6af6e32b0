"""How posting lists are laid out on disk: Whoosh 3's codec with compact blocks.

Whoosh 3 writes each block of postings as a pickled tuple of its ids, weights and
values, compressed as one, after a pickled tuple of block statistics; every
posting list starts with a 4-byte tag. Reading any of a block means unpickling
all of it, positions included, and a posting list of one document costs about 60
bytes. Here a block is a fixed header, then the id gaps and weights as the
smallest array type that holds them, then the values (positions) on their own.
Ranking reads ids and weights without touching positions, and small lists cost
a third of what they did. Everything else (term dictionary, columns, stored
fields, segment files) is Whoosh 3's. Segments record their codec, so indexes
written by Whoosh's own codec stay readable, and an update may mix both.

A segment's files are read in place from its memory-mapped compound file; Whoosh
copies each of them into memory when the segment is opened.
"""

from __future__ import annotations

import struct
import sys
import zlib
from array import array
from itertools import accumulate
from operator import sub

from whoosh.codec.whoosh3 import W3Codec, W3Segment
from whoosh.filedb.compound import CompoundStorage
from whoosh.util.numeric import byte_to_length, length_to_byte

from .whoosh_seam import (
    BlockMatcher,
    BlockPostingsWriter,
    CompactTermsFieldWriter,
    PendingBlock,
    codec_settings,
    compound_map,
    file_buffer,
    file_in_place,
)

# Block header: signed byte length of the rest of the block (negative for the
# last block of a list), postings, last id, highest weight, flags, shortest and
# longest field length (Whoosh's length bytes), bytes of the ids-and-weights part.
_HEADER = struct.Struct("<iHIfBBBH")

# Array type codes, by the number the flags keep for them.
_UNSIGNED = ("B", "H", "I")
_NUMPY_UNSIGNED = ("<u1", "<u2", "<u4")  # the same, little-endian as stored
_NUMPY_WEIGHTS = (None, "<u1", "<u2", "<f4")  # by weight code
_WEIGHTS_ONE, _WEIGHTS_FLOAT = 0, 3  # 1, 2: weights are whole numbers, as "B" or "H"
_HEAD_ZLIB, _VALUES_ZLIB = 0x10, 0x20
_NO_VALUES, _FIXED_VALUES, _SIZED_VALUES = 0, 1, 2  # in bits 6-7

#: Parts shorter than this are stored uncompressed: zlib would only add to them.
_COMPRESS_FROM = 48
_SWAP = sys.byteorder != "little"  # the arrays are stored little-endian


class CompactCodec(W3Codec):
    """Whoosh 3's codec, with the compact posting blocks of this module."""

    def __init__(self, blocklimit: int = 512, compression: int = 3) -> None:
        if not 0 < blocklimit < 1 << 12:  # so a block's ids and weights stay under 64 KiB
            raise ValueError(f"blocklimit must be between 1 and 4095, not {blocklimit}")
        super().__init__(blocklimit=blocklimit, compression=compression)

    def field_writer(self, storage, segment):
        return CompactTermsFieldWriter(self, storage, segment)

    def postings_writer(self, dbfile, byteids=False):
        if byteids:  # term vectors: not used by news-search, left to Whoosh
            return super().postings_writer(dbfile, byteids)
        blocklimit, compression = codec_settings(self)
        return CompactPostingsWriter(dbfile, blocklimit, compression=compression)

    def postings_reader(self, dbfile, terminfo, format_, term=None, scorer=None):
        if terminfo.is_inlined():
            return super().postings_reader(dbfile, terminfo, format_, term, scorer)
        offset, _ = terminfo.extent()
        return CompactMatcher(dbfile, offset, format_, term=term, scorer=scorer)

    def new_segment(self, storage, indexname):
        return MappedSegment(self, indexname)


class MappedSegment(W3Segment):
    """Whoosh 3's segment, its files read in place when it is opened.

    Whoosh memory-maps a compound segment file and then copies each file in it
    into a ``BytesIO``: opening an index of all 15,898 stories read 95 MB into
    memory, a fifth of a cold query's time.
    """

    def open_compound_file(self, storage):
        name = self.make_filename(self.COMPOUND_EXT)
        return _MappedCompound(storage.open_file(name), use_mmap=storage.supports_mmap)


class _MappedCompound(CompoundStorage):
    """A compound segment file whose files are read in place from its memory map."""

    def open_file(self, name, *args, **kwargs):
        source = compound_map(self)
        if source is None:  # closed, or not memory-mapped: Whoosh's way
            return super().open_file(name, *args, **kwargs)
        offset, length = self.range(name)
        return file_in_place(source, offset, length, name, _Window(source, offset, length))


class _Window:
    """The file-like reading (``read``, ``readline``, ``seek``, ``tell``) of
    ``length`` bytes of ``source`` from ``offset``, without copying them."""

    def __init__(self, source, offset: int, length: int) -> None:
        self._source, self._start, self._end = source, offset, offset + length
        self._at = offset

    def read(self, size: int | None = -1) -> bytes:
        start = self._at
        if start >= self._end:  # sought past the end, as a file may be
            return b""
        self._at = self._end if size is None or size < 0 else min(start + size, self._end)
        return self._source[start : self._at]

    def readline(self, size: int | None = -1) -> bytes:
        newline = self._source.find(b"\n", self._at, self._end)
        line_end = self._end if newline < 0 else newline + 1
        return self.read(line_end - self._at if size is None or size < 0 else min(size, line_end - self._at))

    def seek(self, position: int, whence: int = 0) -> int:
        base = (self._start, self._at, self._end)[whence]
        self._at = max(base + position, self._start)
        return self._at - self._start

    def tell(self) -> int:
        return self._at - self._start

    def close(self) -> None:
        pass


def _smallest(values) -> int:
    """The number of the smallest unsigned array type that holds ``values``."""
    top = max(values, default=0)
    return 0 if top < 1 << 8 else 1 if top < 1 << 16 else 2


def _pack(typecode: str, values) -> bytes:
    packed = array(typecode, values)
    if _SWAP:
        packed.byteswap()
    return packed.tobytes()


def _unpack(typecode: str, data) -> array:
    unpacked = array(typecode)
    unpacked.frombytes(data)
    if _SWAP:
        unpacked.byteswap()
    return unpacked


def _squeeze(data: bytes, level: int) -> tuple[bytes, bool]:
    """``data`` compressed if that makes it smaller, and whether it was."""
    if level and len(data) >= _COMPRESS_FROM:
        compressed = zlib.compress(data, level)
        if len(compressed) < len(data):
            return compressed, True
    return data, False


class CompactPostingsWriter(BlockPostingsWriter):
    """Writes a term's postings in compact blocks (see the module's docstring)."""

    def encode_block(self, block: PendingBlock, last: bool) -> bytes:
        ids, weights, values = block.ids, block.weights, block.values
        count = len(ids)
        gaps = [ids[0], *map(sub, ids[1:], ids[:-1])] if count > 1 else [ids[0]]
        id_code = _smallest(gaps)
        head = _pack(_UNSIGNED[id_code], gaps)
        if weights.count(1.0) == count:
            weight_code = _WEIGHTS_ONE
        else:
            if all(0 <= weight < 1 << 16 and weight.is_integer() for weight in weights.tolist()):  # counts: "B" or "H"
                whole = [int(weight) for weight in weights]
                weight_code = 1 + _smallest(whole)
                head += _pack(_UNSIGNED[weight_code - 1], whole)
            else:
                weight_code = _WEIGHTS_FLOAT
                head += _pack("f", weights)
        head, head_zipped = _squeeze(head, 0)
        flags = id_code | weight_code << 2 | (_HEAD_ZLIB if head_zipped else 0)
        if values:
            if len(values) != count:
                raise ValueError(f"{len(values)} values for {count} postings")
            fixed = self.value_format.fixed_value_size()
            joined = b"".join(values)
            if fixed and fixed > 0:
                tail = joined
                flags |= _FIXED_VALUES << 6
            else:
                sizes = [len(value) for value in values]
                size_code = _smallest(sizes)
                tail = bytes([size_code]) + _pack(_UNSIGNED[size_code], sizes) + joined
                flags |= _SIZED_VALUES << 6
            tail, tail_zipped = _squeeze(tail, self.compression)
            if tail_zipped:
                flags |= _VALUES_ZLIB
        else:
            tail = b""
        length = _HEADER.size - 4 + len(head) + len(tail)
        header = _HEADER.pack(
            -length if last else length,
            count,
            ids[-1],
            block.max_weight,
            flags,
            length_to_byte(block.min_length),
            length_to_byte(block.max_length),
            len(head),
        )
        return header + head + tail


def _every_block(buffer, offset: int):
    """Where each block of the list starting at ``offset`` starts."""
    while True:
        yield offset
        length = _HEADER.unpack_from(buffer, offset)[0]
        if length < 0:  # the last block
            return
        offset += 4 + length


class _SizedValues:
    """A block's values of varying sizes, by posting: sliced from its values part when asked."""

    __slots__ = ("_tail", "_ends")

    def __init__(self, tail: bytes, ends: list[int]) -> None:
        self._tail, self._ends = tail, ends

    def __getitem__(self, at: int) -> bytes:
        return self._tail[self._ends[at] : self._ends[at + 1]]


class CompactMatcher(BlockMatcher):
    """Reads compact blocks; ids and weights without decoding the values."""

    #: The current block: postings, flags, where its data starts, the size of its
    #: ids-and-weights part, where the next block starts.
    block: tuple[int, int, int, int, int]
    #: The current block's ids-and-weights part, values part and where its values start, once read.
    block_head: bytes | None
    block_tail: bytes | None
    block_ends: list[int] | None

    def read_header(self, position: int) -> tuple:
        (length, count, max_id, max_weight, flags, shortest, longest, head_size) = _HEADER.unpack(
            self.postfile.get(position, _HEADER.size)
        )
        next_offset = position + 4 + abs(length)
        self.block = (count, flags, position + _HEADER.size, head_size, next_offset)
        self.block_head = self.block_tail = self.block_ends = None
        return count, max_id, max_weight, byte_to_length(shortest), byte_to_length(longest), length < 0, next_offset

    def _head(self) -> bytes:
        if self.block_head is None:
            _, flags, data_offset, head_size, _ = self.block
            head = self.postfile.get(data_offset, head_size)
            self.block_head = zlib.decompress(head) if flags & _HEAD_ZLIB else head
        return self.block_head

    def read_ids(self) -> tuple[int, ...]:
        count, flags = self.block[:2]
        return tuple(accumulate(_unpack(_UNSIGNED[flags & 3], self._head()[: count << (flags & 3)])))

    def read_weights(self):
        count, flags = self.block[:2]
        code = flags >> 2 & 3
        if code == _WEIGHTS_ONE:
            return [1.0] * count
        typecode = "f" if code == _WEIGHTS_FLOAT else _UNSIGNED[code - 1]
        return _unpack(typecode, self._head()[count << (flags & 3) :])

    def ids_array(self):
        """The current block's ids, as a numpy array."""
        import numpy

        count, flags = self.block[:2]
        code = flags & 3
        gaps = numpy.frombuffer(self._head(), _NUMPY_UNSIGNED[code], count)
        return gaps.cumsum(dtype=numpy.int64)

    def weights_array(self):
        """The current block's weights, as a numpy array of floats."""
        import numpy

        count, flags = self.block[:2]
        code = flags >> 2 & 3
        if code == _WEIGHTS_ONE:
            return numpy.ones(count)
        dtype = "<f4" if code == _WEIGHTS_FLOAT else _NUMPY_UNSIGNED[code - 1]
        return numpy.frombuffer(self._head(), dtype, count, count << (flags & 3)).astype(numpy.float64)

    def arrays(self, offsets: list[int] | None = None) -> tuple:
        """(ids, weights) of the blocks at ``offsets``, or of all, read in place from the
        memory map: a few numpy calls a block, and one for all their ids (a block read
        through the matcher took twice as long)."""
        import numpy

        buffer = file_buffer(self.postfile)
        if buffer is None:
            return super().arrays(offsets)
        unpack, header_size, frombuffer = _HEADER.unpack_from, _HEADER.size, numpy.frombuffer
        gaps, weights, counts = [], [], []
        all_one = True
        for offset in _every_block(buffer, self.start_offset) if offsets is None else offsets:
            length, count, _, _, flags, _, _, _ = unpack(buffer, offset)
            if flags & _HEAD_ZLIB:  # not written since the first release: read as it was
                return super().arrays(offsets)
            data, id_code, weight_code = offset + header_size, flags & 3, flags >> 2 & 3
            gaps.append(frombuffer(buffer, _NUMPY_UNSIGNED[id_code], count, data))
            counts.append(count)
            if weight_code == _WEIGHTS_ONE:
                weights.append(count)
            else:
                all_one = False
                weights.append(frombuffer(buffer, _NUMPY_WEIGHTS[weight_code], count, data + (count << id_code)))
        if not counts:
            return numpy.zeros(0, numpy.int64), numpy.zeros(0)
        # A block's first gap is its first id: the running sum, less the blocks' before it.
        ids = numpy.concatenate(gaps).cumsum(dtype=numpy.int64)
        if len(counts) > 1:
            starts = numpy.cumsum(counts)[:-1]
            ids -= numpy.repeat(numpy.concatenate(([0], ids[starts - 1])), counts)
        if all_one:
            return ids, numpy.ones(len(ids))
        parts = [numpy.ones(part) if isinstance(part, int) else part for part in weights]
        return ids, numpy.concatenate(parts).astype(numpy.float64, copy=False)

    def read_values(self) -> tuple:
        count, flags = self.block[:2]
        kind = flags >> 6
        if kind == _NO_VALUES:
            return (None,) * count
        tail = self._tail()
        if kind == _FIXED_VALUES:
            size = self.format.fixed_value_size()
            return tuple(tail[at : at + size] for at in range(0, count * size, size))
        ends = self._ends()
        return tuple(tail[start:end] for start, end in zip(ends, ends[1:]))

    def block_values(self):
        """The current block's values, each sliced out only when asked: a phrase checks a
        few documents of a block of 512, and splitting every value cost it most of its time."""
        if self.block[1] >> 6 != _SIZED_VALUES:
            return self.read_values()
        return _SizedValues(self._tail(), self._ends())

    def _tail(self) -> bytes:
        """The current block's values part: a byte of the sizes' width, the sizes, the values."""
        if self.block_tail is None:
            _, flags, data_offset, head_size, next_offset = self.block
            start = data_offset + head_size
            tail = self.postfile.get(start, next_offset - start)
            self.block_tail = zlib.decompress(tail) if flags & _VALUES_ZLIB else tail
        return self.block_tail

    def _ends(self) -> list[int]:
        """Where each value of the current block starts in its values part, and the end."""
        if self.block_ends is None:
            count, tail = self.block[0], self._tail()
            sizes = _unpack(_UNSIGNED[tail[0]], tail[1 : 1 + (count << tail[0])])
            self.block_ends = list(accumulate(sizes, initial=1 + (count << tail[0])))
        return self.block_ends

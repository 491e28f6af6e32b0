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

from whoosh.codec.whoosh3 import W3Codec, W3LeafMatcher, W3PostingsWriter, W3Segment
from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.structfile import BufferFile
from whoosh.util.numeric import byte_to_length, length_to_byte

# Block header: signed byte length of the rest of the block (negative for the
# last block of a list), postings, last id, highest weight, flags, shortest and
# longest field length (Whoosh's length bytes), bytes of the ids-and-weights part.
_HEADER = struct.Struct("<iHIfBBBH")

# Array type codes, by the number the flags keep for them.
_UNSIGNED = ("B", "H", "I")
_WEIGHTS_ONE, _WEIGHTS_FLOAT = 0, 3  # 1, 2: weights are whole numbers, as "B" or "H"
_HEAD_ZLIB, _VALUES_ZLIB = 0x10, 0x20
_NO_VALUES, _FIXED_VALUES, _SIZED_VALUES = 0, 1, 2  # in bits 6-7

#: Parts shorter than this are stored uncompressed: zlib would only add to them.
_COMPRESS_FROM = 48
_SWAP = sys.byteorder != "little"  # the arrays are stored little-endian


class CompactCodec(W3Codec):
    """Whoosh 3's codec, with the compact posting blocks of this module."""

    def __init__(self, blocklimit: int = 128, compression: int = 3) -> None:
        if not 0 < blocklimit < 1 << 12:  # so a block's ids and weights stay under 64 KiB
            raise ValueError(f"blocklimit must be between 1 and 4095, not {blocklimit}")
        super().__init__(blocklimit=blocklimit, compression=compression)

    def postings_writer(self, dbfile, byteids=False):
        if byteids:  # term vectors: not used by news-search, left to Whoosh
            return super().postings_writer(dbfile, byteids)
        return CompactPostingsWriter(dbfile, self._blocklimit, compression=self._compression)

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
    def open_file(self, name, *args, **kwargs):
        if self.is_closed or not getattr(self, "_source", None):  # closed, or not memory-mapped: Whoosh's way
            return super().open_file(name, *args, **kwargs)
        offset, length = self.range(name)
        return _MappedFile(self._source, offset, length, name)


class _MappedFile(BufferFile):
    """One file of a memory-mapped compound file: ``get`` reads a slice of the map
    (as Whoosh's ``BufferFile`` does), reading in sequence goes through a window."""

    def __init__(self, source, offset: int, length: int, name: str) -> None:
        self._buf = memoryview(source)[offset : offset + length]
        self._name = name
        self.file = _Window(source, offset, length)
        self.onclose = None
        self.is_real = False
        self.is_closed = False


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


class CompactPostingsWriter(W3PostingsWriter):
    """Writes a term's postings in compact blocks (see the module's docstring)."""

    def add_term_postings(self, ids: list[int], weights: list[float], values: list[bytes], lengths: list) -> None:
        """All of a term's postings at once (between ``start_postings`` and
        ``finish_postings``), in blocks as :meth:`add_posting` would make them."""
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
        ids, weights, values = self._ids, self._weights, self._values
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
        head, head_zipped = _squeeze(head, self._compression)
        flags = id_code | weight_code << 2 | (_HEAD_ZLIB if head_zipped else 0)
        if values:
            if len(values) != count:
                raise ValueError(f"{len(values)} values for {count} postings")
            fixed = self._format.fixed_value_size()
            joined = b"".join(values)
            if fixed and fixed > 0:
                tail = joined
                flags |= _FIXED_VALUES << 6
            else:
                sizes = [len(value) for value in values]
                size_code = _smallest(sizes)
                tail = bytes([size_code]) + _pack(_UNSIGNED[size_code], sizes) + joined
                flags |= _SIZED_VALUES << 6
            tail, tail_zipped = _squeeze(tail, self._compression)
            if tail_zipped:
                flags |= _VALUES_ZLIB
        else:
            tail = b""
        length = _HEADER.size - 4 + len(head) + len(tail)
        self._postfile.write(
            _HEADER.pack(
                -length if last else length,
                count,
                ids[-1],
                self._maxweight,
                flags,
                length_to_byte(self._minlength),
                length_to_byte(self._maxlength),
                len(head),
            )
        )
        self._postfile.write(head)
        self._postfile.write(tail)
        self._blockcount += 1
        self._new_block()


class CompactMatcher(W3LeafMatcher):
    """Reads compact blocks; ids and weights without decoding the values."""

    def __init__(self, postfile, startoffset: int, format_, term=None, scorer=None) -> None:
        self._postfile = postfile
        self._startoffset = self._baseoffset = startoffset
        self.format = format_
        self._term = term
        self._byteids = False
        self.scorer = scorer
        self._fixedsize = format_.fixed_value_size()
        self.reset()

    def _goto(self, position: int) -> None:
        self._data = self._ids = self._weights = self._values = None
        self._i = 0
        (length, count, maxid, maxweight, flags, shortest, longest, head_size) = _HEADER.unpack(
            self._postfile.get(position, _HEADER.size)
        )
        self._lastblock = length < 0
        self._nextoffset = position + 4 + abs(length)
        self._dataoffset = position + _HEADER.size
        self._blocklength, self._maxid, self._maxweight, self._flags = count, maxid, maxweight, flags
        self._head_size = head_size
        self._minlength, self._maxlength = byte_to_length(shortest), byte_to_length(longest)

    def _read_data(self) -> None:
        head = self._postfile.get(self._dataoffset, self._head_size)
        if self._flags & _HEAD_ZLIB:
            head = zlib.decompress(head)
        self._data = head

    def _read_ids(self) -> None:
        if self._data is None:
            self._read_data()
        id_size = 1 << (self._flags & 3)
        self._ids = tuple(accumulate(_unpack(_UNSIGNED[self._flags & 3], self._data[: self._blocklength * id_size])))

    def _read_weights(self) -> None:
        if self._data is None:
            self._read_data()
        code = self._flags >> 2 & 3
        if code == _WEIGHTS_ONE:
            self._weights = [1.0] * self._blocklength
            return
        start = self._blocklength << (self._flags & 3)
        typecode = "f" if code == _WEIGHTS_FLOAT else _UNSIGNED[code - 1]
        self._weights = _unpack(typecode, self._data[start:])

    def _read_values(self) -> None:
        kind = self._flags >> 6
        count = self._blocklength
        if kind == _NO_VALUES:
            self._values = (None,) * count
            return
        start = self._dataoffset + self._head_size
        tail = self._postfile.get(start, self._nextoffset - start)
        if self._flags & _VALUES_ZLIB:
            tail = zlib.decompress(tail)
        if kind == _FIXED_VALUES:
            size = self._fixedsize
            self._values = tuple(tail[at : at + size] for at in range(0, count * size, size))
            return
        size_code = tail[0]
        sizes_end = 1 + (count << size_code)
        ends = list(accumulate(_unpack(_UNSIGNED[size_code], tail[1:sizes_end]), initial=sizes_end))
        self._values = tuple(tail[start:end] for start, end in zip(ends, ends[1:]))

"""How documents become a segment: Whoosh's segment writer, with a faster path
for our text fields.

Whoosh turns every word of a field into a token object, pools every posting as a
tuple, sorts them all, and writes them one call at a time. Here the Chinese text
fields (title, body, categories) are analysed straight into each term's
positions (:func:`search.text.tokens.index_positions`), postings are kept by term
in documents' order, so only terms are sorted, and each term's postings are
written as whole blocks. Other fields, and merges of older segments, take
Whoosh's own path into the same pool. A pool that outgrows its memory writes what
it holds to disk as a sorted run, in the same compact form, and the runs are
merged term by term when the segment is written: building 10 times the documents
takes 10 times the work, and the pool no more memory (the merge's own lists still
grow with the documents: issue 15). (Whoosh's pool spills a tuple per
posting and sorts them all: at 158,980 stories it wrote 2.7 GB of runs and
made a build's rate per document fall by 40%.) The index written is the one
Whoosh's writer would write (``tests/test_writer.py``).
"""

from __future__ import annotations

import heapq
import pickle
from array import array
from itertools import groupby
from operator import itemgetter
from typing import Iterator

from whoosh import formats
from whoosh.util.numeric import byte_to_length
from whoosh.writing import PostingPool

from ..text.tokenizers import ChineseTokenizer
from ..text.tokens import index_positions
from .codec import CompactCodec
from .whoosh_seam import DocumentSegmentWriter, length_bytes, postings_writer_of

# Memory the pool counts for a posting of a text field (beyond 4 bytes a position
# for a word found more than once), for a new term, and for a posting of another field.
_POSTING_BYTES = 8
_TERM_BYTES = 300
_OTHER_POSTING_BYTES = 96
# Marks a posting whose positions are kept apart (positions stay below it).
_SEVERAL = 1 << 31
# How Whoosh's positional formats encode a posting's positions (the format's settings do not change it).
_encode_positions = formats.Positions().encode


class NewsSegmentWriter(DocumentSegmentWriter):
    """Whoosh's segment writer with the fast path of this module; its segments use
    :class:`CompactCodec`."""

    def __init__(self, ix, limitmb: int = 128, **options: object) -> None:
        super().__init__(ix, codec=CompactCodec(), limitmb=limitmb, **options)
        unsupported = [name for name, field in self.schema.items() if field.vector or field.separate_spelling()]
        if unsupported:
            self.cancel()
            raise ValueError(f"fields with term vectors or spelling words are not written here: {', '.join(unsupported)}")
        self.pool = TermPool(self.temp_storage, self.newsegment, limitmb=limitmb)
        self._positional_fields = {name for name, field in self.schema.items() if _positional(field)}

    def add_document(self, **fields: object) -> None:
        docboost, fieldnames = self.start_document(fields)
        perdocwriter = self.perdocwriter
        docnum = self.docnum
        for fieldname in fieldnames:
            value = fields[fieldname]
            if value is None:
                continue
            field = self.schema[fieldname]
            fieldboost = self.field_boost(fields, fieldname, docboost)
            length = 0
            if fieldname in self._positional_fields and fieldboost == 1.0 and isinstance(value, str):
                found = index_positions(value, field.analyzer.user)
                self.pool.add_positions(fieldname, docnum, found, field.format.field_boost)
                length = sum(len(positions) for positions in found.values()) if field.scorable else 0
            elif field.indexed:  # any other field as Whoosh's own add_document does it
                for tbytes, freq, weight, vbytes in field.index(value):
                    if field.scorable:
                        length += freq
                    self.pool.add((fieldname, tbytes, docnum, weight * fieldboost, vbytes))
            stored = fields.get(f"_stored_{fieldname}", value)
            perdocwriter.add_field(fieldname, field, stored if field.stored else None, length)
            if field.column_type and stored is not None:
                perdocwriter.add_column_value(fieldname, field.column_type, field.to_column_value(stored))
        self.finish_document()

    def write_postings(self) -> None:
        self.perdocwriter.close()
        per_document = self.per_document_reader() if self.codec.length_stats else None
        lengths = _Lengths(per_document, self.docnum) if per_document is not None else None
        self.pool.write(self.fieldwriter, self.schema, lengths)
        self.fieldwriter.close()
        if per_document is not None:
            per_document.close()


def _positional(field) -> bool:
    """Whether a field is one of our Chinese text fields with positions."""
    return isinstance(field.analyzer, ChineseTokenizer) and type(field.format) is formats.Positions


class TermPool:
    """The postings of the segment being written, by field and term, in the order
    documents were added (so each term's list is already sorted).

    A posting of a text field takes 8 bytes: its document number and its one
    position, or where its positions are kept when the word is there more than once.
    Past ``limitmb`` the pool writes what it holds as a run (:meth:`_write_run`).
    """

    def __init__(self, tempstore, segment, limitmb: int) -> None:
        self._tempstore, self._segment, self._limitmb = tempstore, segment, limitmb
        self._limit = limitmb * 1024 * 1024
        self._size = 0
        # Text fields: term → (document numbers, positions): a position, or
        # _SEVERAL | where in _several a count and that many positions start.
        self._positional: dict[str, dict[bytes, tuple[array, array]]] = {}
        self._several = array("I")
        self._boosts: dict[str, float] = {}  # every text field the pool was given
        # Other fields: term → [docnum, weight, value bytes, ...], as Whoosh gives them.
        self._other: dict[str, dict[bytes, list]] = {}
        self._other_fields: set[str] = set()
        self._runs: list[str] = []  # file names in the temporary storage, oldest first
        self.spilled: PostingPool | None = None

    @property
    def fieldnames(self) -> set[str]:
        return set(self._boosts) | self._other_fields | (self.spilled.fieldnames if self.spilled else set())

    @property
    def runs(self) -> int:
        """How many runs the pool has written to disk."""
        return len(self._runs)

    def add_positions(self, fieldname: str, docnum: int, found: dict[str, list[int]], boost: float) -> None:
        """A document's terms in a positional field, with their positions; each
        occurrence weighs ``boost`` (the field's, as Whoosh's format weighs it)."""
        if not found:  # as Whoosh, a field with no terms in a segment is not written
            return
        self._boosts[fieldname] = boost
        if fieldname in self._other_fields and self.spilled is None:
            self._spill()
        if self.spilled is not None:
            for word, positions in found.items():
                self.spilled.add((fieldname, word.encode("utf-8"), docnum, float(len(positions)) * boost, _encode_positions(positions)))
            return
        terms = self._positional.setdefault(fieldname, {})
        several = self._several
        added = 0
        for word, positions in found.items():
            key = word.encode("utf-8")
            kept = terms.get(key)
            if kept is None:
                kept = terms[key] = (array("I"), array("I"))
                added += _TERM_BYTES
            kept[0].append(docnum)
            if len(positions) == 1:
                kept[1].append(positions[0])
            else:
                kept[1].append(_SEVERAL | len(several))
                several.append(len(positions))
                several.extend(positions)
                added += 4 * len(positions)
        self._grow(added + _POSTING_BYTES * len(found))

    def add(self, item: tuple) -> None:
        """One posting, as Whoosh's pool takes it: (field, term bytes, docnum, weight, value bytes)."""
        if self.spilled is not None:
            self.spilled.add(item)
            return
        fieldname, tbytes, docnum, weight, vbytes = item
        if fieldname in self._boosts:  # a text field given a boost: Whoosh's pool takes both ways
            self._spill()
            self.spilled.add(item)
            return
        self._other_fields.add(fieldname)
        terms = self._other.setdefault(fieldname, {})
        kept = terms.get(tbytes)
        if kept is None:
            kept = terms[tbytes] = []
            self._size += _TERM_BYTES
        kept += (docnum, weight, vbytes)
        self._grow(_OTHER_POSTING_BYTES + len(vbytes or b""))

    def _grow(self, added: int) -> None:
        self._size += added
        if self._size > self._limit:
            self._write_run()

    def _write_run(self) -> None:
        """Write what the pool holds to disk, in (field, term) order, and let it go."""
        name = f"{self._segment.segment_id()}_{len(self._runs)}.terms"
        with self._tempstore.create_file(name).raw_file() as run:
            for fieldname, tbytes, ids, spots, several in self._held():
                if spots is not None:
                    spots, several = _own_positions(spots, several)
                run.write(pickle.dumps((fieldname, tbytes, ids, spots, several), pickle.HIGHEST_PROTOCOL))
        self._runs.append(name)
        self._forget_held()

    def _forget_held(self) -> None:
        self._positional, self._other, self._several = {}, {}, array("I")
        self._size = 0

    def _held(self) -> Iterator[tuple]:
        """The postings in memory, a term at a time in (field, term) order: (field,
        term, ids and positions' spots and where their several positions are kept)
        for a text field, (field, term, [docnum, weight, value, ...], None, None) otherwise."""
        for fieldname in sorted(set(self._positional) | set(self._other)):
            if fieldname in self._positional:
                terms = self._positional[fieldname]
                for tbytes in sorted(terms):
                    yield (fieldname, tbytes, *terms[tbytes], self._several)
            else:
                terms = self._other[fieldname]
                for tbytes in sorted(terms):
                    yield fieldname, tbytes, terms[tbytes], None, None

    def _read_run(self, name: str) -> Iterator[tuple]:
        with self._tempstore.open_file(name).raw_file() as run:
            while True:
                try:
                    yield pickle.load(run)
                except EOFError:
                    return

    def _terms(self) -> Iterator[tuple[str, bytes, list[tuple]]]:
        """Every term's postings in (field, term) order: (field, term, parts), the
        parts of the runs and then of memory, so in documents' order."""
        streams = [self._read_run(name) for name in self._runs] + [self._held()]
        merged = heapq.merge(*streams, key=_FIELD_AND_TERM) if len(streams) > 1 else streams[0]
        for (fieldname, tbytes), parts in groupby(merged, key=_FIELD_AND_TERM):
            yield fieldname, tbytes, [part[2:] for part in parts]

    def _remove_runs(self) -> None:
        for name in self._runs:
            self._tempstore.delete_file(name)
        self._runs = []

    def _spill(self) -> None:
        """Hand everything to Whoosh's pool (a text field given a boost needs its
        path), which keeps memory bounded by writing sorted runs."""
        self.spilled = PostingPool(self._tempstore, self._segment, limitmb=self._limitmb)
        for fieldname, tbytes, parts in self._terms():
            for held, spots, several in parts:
                if spots is None:
                    for at in range(0, len(held), 3):
                        self.spilled.add((fieldname, tbytes, *held[at : at + 3]))
                    continue
                weights, values = _weights_and_values(spots, several, self._boosts[fieldname], _encode_positions)
                for docnum, weight, value in zip(held, weights, values):
                    self.spilled.add((fieldname, tbytes, docnum, weight, value))
        self._remove_runs()
        self._forget_held()

    def write(self, fieldwriter, schema, lengths: "_Lengths | None") -> None:
        """Write every posting through ``fieldwriter``, field by field and term by term."""
        if self.spilled is not None:
            fieldwriter.add_postings(schema, lengths, self.spilled.iter_postings())
            return
        for fieldname, terms in groupby(self._terms(), key=itemgetter(0)):
            field = schema[fieldname]
            length_of = lengths.of_field(fieldname) if lengths is not None else None
            encode, boost = getattr(field.format, "encode", None), field.format.field_boost
            single: dict[int, bytes] = {}
            fieldwriter.start_field(fieldname, field)
            for _, tbytes, parts in terms:
                ids, weights, values = _postings_of(parts, boost, encode, single)
                _write_term(fieldwriter, tbytes, ids, weights, values, length_of)
            fieldwriter.finish_field()
        self._remove_runs()

    def cleanup(self) -> None:
        if self.spilled is not None:
            self.spilled.cleanup()
        self._remove_runs()


_FIELD_AND_TERM = itemgetter(0, 1)


def _own_positions(spots: array, several: array) -> tuple[array, array]:
    """A term's spots, and the positions they point to in ``several`` copied apart."""
    if not spots or max(spots) < _SEVERAL:
        return spots, array("I")
    own, rebased = array("I"), array("I")
    for spot in spots:
        if spot < _SEVERAL:
            rebased.append(spot)
            continue
        at = spot & ~_SEVERAL
        rebased.append(_SEVERAL | len(own))
        own.extend(several[at : at + 1 + several[at]])
    return rebased, own


def _postings_of(parts: list[tuple], boost: float, encode, single: dict[int, bytes]) -> tuple:
    """One term's ids, weights and values from its parts (see :meth:`TermPool._terms`)."""
    if parts[0][1] is None:  # another field: [docnum, weight, value, ...]
        held = parts[0][0] if len(parts) == 1 else [item for part in parts for item in part[0]]
        return held[0::3], held[1::3], held[2::3]
    ids = parts[0][0] if len(parts) == 1 else array("I")
    weights: list[float] = []
    values: list[bytes] = []
    for held, spots, several in parts:
        if len(parts) > 1:
            ids.extend(held)
        more_weights, more_values = _weights_and_values(spots, several, boost, encode, single)
        weights += more_weights
        values += more_values
    return ids, weights, values


def _weights_and_values(spots: array, several: array, boost: float, encode, single: dict[int, bytes] | None = None) -> tuple[list, list]:
    """The weight and encoded positions of each of a term's postings."""
    single = {} if single is None else single  # a word found once: its value, by position
    weights: list[float] = []
    values: list[bytes] = []
    for spot in spots:
        if spot < _SEVERAL:
            weights.append(boost)
            value = single.get(spot)
            if value is None:
                value = single[spot] = encode([spot])
            values.append(value)
        else:
            at = spot & ~_SEVERAL
            count = several[at]
            weights.append(float(count) * boost)
            values.append(encode(several[at + 1 : at + 1 + count].tolist()))
    return weights, values


def _write_term(fieldwriter, tbytes: bytes, ids, weights: list, values: list, length_of: list | None) -> None:
    lengths = [length_of[docnum] for docnum in ids] if length_of is not None else [0] * len(ids)
    fieldwriter.start_term(tbytes)
    # Whoosh's field writer hands blocks to its postings writer, ours.
    postings_writer_of(fieldwriter).add_term_postings(ids, weights, values, lengths)
    fieldwriter.finish_term()


class _Lengths:
    """``doc_field_length`` of a new segment, each field's lengths read once:
    Whoosh reads them from the file one byte per posting."""

    def __init__(self, per_document, count: int) -> None:
        self._per_document, self._count = per_document, count
        self._fields: dict[str, list] = {}

    def of_field(self, fieldname: str) -> list:
        """Every document's length of ``fieldname`` (``None`` for none), as Whoosh 3 answers."""
        lengths = self._fields.get(fieldname)
        if lengths is None:
            try:
                stored = length_bytes(self._per_document, fieldname, self._count)
                lengths = [byte_to_length(value) if value else None for value in stored]
            except AttributeError:  # not a Whoosh 3 segment
                lengths = [self._per_document.doc_field_length(docnum, fieldname, None) for docnum in range(self._count)]
            self._fields[fieldname] = lengths
        return lengths

    def doc_field_length(self, docnum: int, fieldname: str, default: int | None = 0) -> int | None:
        lengths = self.of_field(fieldname)
        return lengths[docnum] if docnum < len(lengths) else None

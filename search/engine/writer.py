"""How documents become a segment: Whoosh's segment writer, with a faster path
for our text fields.

Whoosh turns every word of a field into a token object, pools every posting as a
tuple, sorts them all, and writes them one call at a time. Here the Chinese text
fields (title, body, categories) are analysed straight into each term's
positions (:func:`search.text.tokens.index_positions`), postings are kept by term
in documents' order, so only terms are sorted, and each term's postings are
written as whole blocks. Other fields, and merges of older segments, take
Whoosh's own path into the same pool. A pool that outgrows its memory hands its
postings to Whoosh's pool, which spills to disk. The index written is the one
Whoosh's writer would write (``tests/test_writer.py``).
"""

from __future__ import annotations

from array import array

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
    """

    def __init__(self, tempstore, segment, limitmb: int) -> None:
        self._tempstore, self._segment, self._limitmb = tempstore, segment, limitmb
        self._limit = limitmb * 1024 * 1024
        self._size = 0
        # Text fields: term → (document numbers, positions): a position, or
        # _SEVERAL | where in _several a count and that many positions start.
        self._positional: dict[str, dict[bytes, tuple[array, array]]] = {}
        self._several = array("I")
        self._boosts: dict[str, float] = {}
        # Other fields: term → [docnum, weight, value bytes, ...], as Whoosh gives them.
        self._other: dict[str, dict[bytes, list]] = {}
        self.spilled: PostingPool | None = None

    @property
    def fieldnames(self) -> set[str]:
        return set(self._positional) | set(self._other) | (self.spilled.fieldnames if self.spilled else set())

    def add_positions(self, fieldname: str, docnum: int, found: dict[str, list[int]], boost: float) -> None:
        """A document's terms in a positional field, with their positions; each
        occurrence weighs ``boost`` (the field's, as Whoosh's format weighs it)."""
        if not found:  # as Whoosh, a field with no terms in a segment is not written
            return
        self._boosts[fieldname] = boost
        if fieldname in self._other and self.spilled is None:
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
        if fieldname in self._positional:  # a text field given a boost: Whoosh's pool takes both ways
            self._spill()
            self.spilled.add(item)
            return
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
            self._spill()

    def _spill(self) -> None:
        """Hand everything to Whoosh's pool, which keeps memory bounded by writing sorted runs."""
        self.spilled = PostingPool(self._tempstore, self._segment, limitmb=self._limitmb)
        for fieldname, terms in self._positional.items():
            boost = self._boosts[fieldname]
            for tbytes, (ids, spots) in terms.items():
                for docnum, weight, value in zip(ids, *self._weights_and_values(spots, boost, _encode_positions)):
                    self.spilled.add((fieldname, tbytes, docnum, weight, value))
        for fieldname, terms in self._other.items():
            for tbytes, kept in terms.items():
                for at in range(0, len(kept), 3):
                    self.spilled.add((fieldname, tbytes, *kept[at : at + 3]))
        self._positional, self._other, self._several = {}, {}, array("I")

    def _weights_and_values(self, spots: array, boost: float, encode, single: dict[int, bytes] | None = None) -> tuple[list, list]:
        """The weight and encoded positions of each of a term's postings."""
        single = {} if single is None else single  # a word found once: its value, by position
        several = self._several
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

    def write(self, fieldwriter, schema, lengths: "_Lengths | None") -> None:
        """Write every posting through ``fieldwriter``, field by field and term by term."""
        if self.spilled is not None:
            fieldwriter.add_postings(schema, lengths, self.spilled.iter_postings())
            return
        for fieldname in sorted(set(self._positional) | set(self._other)):
            field = schema[fieldname]
            length_of = lengths.of_field(fieldname) if lengths is not None else None
            fieldwriter.start_field(fieldname, field)
            if fieldname in self._positional:
                terms = self._positional[fieldname]
                encode, boost = field.format.encode, field.format.field_boost
                single: dict[int, bytes] = {}
                for tbytes in sorted(terms):
                    ids, spots = terms[tbytes]
                    weights, values = self._weights_and_values(spots, boost, encode, single)
                    _write_term(fieldwriter, tbytes, ids, weights, values, length_of)
            else:
                terms = self._other[fieldname]
                for tbytes in sorted(terms):
                    kept = terms[tbytes]
                    _write_term(fieldwriter, tbytes, kept[0::3], kept[1::3], kept[2::3], length_of)
            fieldwriter.finish_field()

    def cleanup(self) -> None:
        if self.spilled is not None:
            self.spilled.cleanup()


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

"""Helpers for comparing what two Whoosh indexes hold, term by term and document by document."""

from __future__ import annotations

import whoosh.index
from whoosh.writing import SegmentWriter


def postings(ix: whoosh.index.Index) -> dict:
    """Every term's postings (id, weight, value) and the statistics kept for it."""
    found = {}
    with ix.reader() as reader:
        for field, text in reader.all_terms():
            matcher = reader.postings(field, text)
            items = []
            while matcher.is_active():
                items.append((matcher.id(), matcher.weight(), matcher.value()))
                matcher.next()
            info = reader.term_info(field, text)
            found[field, text] = (items, info.max_weight(), info.min_length(), info.max_length(), info.doc_frequency())
    return found


def documents(ix: whoosh.index.Index) -> list:
    """Every document's stored fields, field lengths and column values."""
    found = []
    with ix.reader() as reader:
        columns = {name: reader.column_reader(name) for name in ix.schema.names() if reader.has_column(name)}
        lengths = [name for name in ix.schema.names() if ix.schema[name].scorable]
        for docnum in reader.all_doc_ids():
            found.append(
                (
                    reader.stored_fields(docnum),
                    {name: reader.doc_field_length(docnum, name) for name in lengths},
                    {name: column[docnum] for name, column in columns.items()},
                )
            )
    return found


def build(folder, schema, docs: list[dict], *, codec=None, writer=SegmentWriter, segments: int = 1, **options) -> whoosh.index.Index:
    """A new index of ``docs`` in ``folder``, written by ``writer`` in ``segments`` commits."""
    folder.mkdir(parents=True, exist_ok=True)
    ix = whoosh.index.create_in(str(folder), schema)
    share = -(-len(docs) // segments)
    for start in range(0, len(docs), share):
        made = writer(ix, codec=codec, **options) if codec is not None else writer(ix, **options)
        for fields in docs[start : start + share]:
            made.add_document(**fields)
        made.commit()
    return ix

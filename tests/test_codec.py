"""The compact posting blocks read back exactly what Whoosh 3's own codec does."""

from __future__ import annotations

import io
import mmap
import random

import pytest
import whoosh.index
from segments import build, documents, postings
from whoosh import fields, formats
from whoosh.analysis import RegexTokenizer
from whoosh.codec.whoosh3 import W3Codec, W3TermInfo
from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.filestore import StorageError
from whoosh.filedb.structfile import StructFile
from whoosh.qparser import QueryParser
from whoosh.writing import SegmentWriter

from search import index_corpus
from search.build_apply import document_fields
from search.engine.codec import CompactCodec, CompactMatcher, CompactPostingsWriter, MappedSegment, _Window
from search.ingest.corpus import read_article, walk
from search.schema import build_schema


class HalfBoost(RegexTokenizer):
    """Tokens weighing 0.5 or 1.5 by position: weights that are not whole numbers."""

    def __call__(self, *args, **kwargs):
        for token in super().__call__(*args, **kwargs):
            token.boost = 0.5 if token.pos % 2 else 1.5
            yield token


@pytest.fixture(scope="module")
def story_documents(first_stories) -> list[dict]:
    folder = first_stories(300, "codec-stories")
    return [document_fields(read_article(source)) for source in walk(folder)]


@pytest.mark.parametrize("blocklimit", [128, 3])
def test_story_postings_equal_whoosh_codec(tmp_path, story_documents, blocklimit):
    # Every field of our schema: positions, frequencies, bare ids, dates, columns.
    schema = build_schema()
    theirs = build(tmp_path / "w3", schema, story_documents, codec=W3Codec(blocklimit=blocklimit))
    ours = build(tmp_path / "compact", schema, story_documents, codec=CompactCodec(blocklimit=blocklimit), segments=2)
    expected, found = postings(theirs), postings(ours)
    assert found == expected
    assert len(found) > 10_000
    # Long lists span many blocks, so block boundaries and the last-block mark are read.
    assert max(len(items) for items, *_ in found.values()) > 2 * blocklimit


def test_fractional_weights_long_values_and_big_gaps(tmp_path):
    schema = fields.Schema(
        id=fields.ID(stored=True),
        text=fields.TEXT(analyzer=HalfBoost(), phrase=True),
        counts=fields.TEXT(phrase=False),
    )
    documents = [
        # The same word 300 times: a posting whose positions take more than 255 bytes.
        {"id": "long", "text": " ".join(["echo"] * 300), "counts": " ".join(["many"] * 70_000)},
        *({"id": f"d{number}", "text": f"alpha beta w{number % 7}", "counts": "alpha"} for number in range(40)),
    ]
    theirs = build(tmp_path / "w3", schema, documents, codec=W3Codec(blocklimit=8))
    ours = build(tmp_path / "compact", schema, documents, codec=CompactCodec(blocklimit=8))
    found = postings(ours)
    assert found == postings(theirs)
    assert found["text", b"echo"][0][0][1] == 0.5 * 150 + 1.5 * 150
    assert found["counts", b"many"][0][0][1] == 70_000  # a weight beyond two bytes is kept exactly


@pytest.mark.parametrize("blocklimit", [128, 3])
def test_lists_read_as_arrays_at_once_are_their_postings(tmp_path, story_documents, blocklimit):
    """Blocks decoded together in place, whole lists or some of their blocks, give the
    ids and weights that stepping the matcher gives: widths of ids and weights that
    differ from block to block, fractional weights, the last block."""
    import numpy

    from search.engine import whoosh_seam

    schema = build_schema()
    # Words said up to 300 times (two-byte weights), a word in documents 400 apart (two-byte
    # gaps), halved boosts (fractional weights).
    extra = [{"path": f"x{number}", "body": " ".join(["回声"] * (number * 37 % 300 + 1))} for number in range(40)]
    extra += [{"path": f"y{number}", "body": "远方" if number % 400 == 0 else "近处", "_boost": 0.5 if number % 3 else 1.0} for number in range(801)]
    ours = build(tmp_path / "compact", schema, story_documents + extra, codec=CompactCodec(blocklimit=blocklimit), segments=2)
    expected = postings(ours)
    compared = in_place = 0
    kinds: set[tuple[int, int]] = set()
    with ours.reader() as reader:
        for segment, _ in reader.leaf_readers():
            for field, text in segment.all_terms():
                matcher = segment.postings(field, text)
                if not isinstance(matcher, CompactMatcher):
                    continue
                in_place += whoosh_seam.file_buffer(matcher.postfile) is not None
                ids, weights = matcher.arrays()
                stepped = [(docnum, weight) for docnum, weight, _ in _stepped(matcher)]
                assert (ids.tolist(), weights.tolist()) == ([d for d, _ in stepped], [w for _, w in stepped])
                assert ids.dtype == numpy.int64 and weights.dtype == numpy.float64
                _, offsets = whoosh_seam._block_index(matcher)
                some = offsets[1::2]
                assert [a.tolist() for a in matcher.arrays(some)] == [a.tolist() for a in whoosh_seam.BlockMatcher.arrays(matcher, some)]
                compared += 1
                kinds.update((flags & 3, flags >> 2 & 3) for flags in _block_flags(matcher, offsets))
    assert compared > 500 and in_place == compared
    assert {ids for ids, _ in kinds} >= {0, 1} and {weights for _, weights in kinds} == {0, 1, 2, 3}  # every width
    assert sum(len(items) for items, *_ in expected.values()) > 10_000


def _block_flags(matcher, offsets):
    for offset in offsets:
        matcher._goto(offset)
        yield matcher.block[1]


def _stepped(matcher):
    """A new matcher over the same list, stepped posting by posting."""
    fresh = CompactMatcher(matcher.postfile, matcher.start_offset, matcher.format)
    while fresh.is_active():
        yield fresh.id(), fresh.weight(), None
        fresh.next()


@pytest.mark.parametrize("deleted", [[0, 1], [0, 1, 2, 3], [1, 2]])
def test_a_list_whose_first_blocks_are_deleted_is_read_whole(tmp_path, deleted):
    """Whoosh's filter of deleted documents steps a matcher past its first block when that
    block holds only deleted ones: positions, phrases and arrays still find every live
    document (they were looked for a block too late, and not found)."""
    import numpy
    from whoosh import query as wq
    from whoosh.analysis import SpaceSeparatedTokenizer

    from search.engine import whoosh_seam
    from search.engine.bm25f import _phrase_scores
    from search.engine.postings import PositionCursor, live_postings, together

    schema = fields.Schema(id=fields.ID(stored=True, unique=True), text=fields.TEXT(analyzer=SpaceSeparatedTokenizer(), phrase=True))
    ix = build(tmp_path / "index", schema, [{"id": str(number), "text": "x y"} for number in range(8)], codec=CompactCodec(blocklimit=2))
    writer = ix.writer()
    for number in deleted:
        writer.delete_by_term("id", str(number))
    writer.commit(merge=False)
    live = [number for number in range(8) if number not in deleted]
    whoosh_seam._BLOCK_INDEXES.clear()
    with ix.searcher() as searcher:
        reader = searcher.reader()
        assert reader.has_deletions()
        matcher, _ = live_postings(reader, "text", b"x")
        ids, _ = whoosh_seam.posting_arrays(matcher, numpy.array(live))
        assert set(live) <= set(ids.tolist())
        assert PositionCursor(reader, "text", b"x").positions_of(live) == [[0]] * len(live)
        assert [PositionCursor(reader, "text", b"x").positions(number) for number in live] == [[0]] * len(live)
        assert together([PositionCursor(reader, "text", word) for word in (b"x", b"y")], live) == live
        phrase = wq.Phrase("text", ["x", "y"])
        assert sorted(_phrase_scores(searcher, phrase)) == sorted(hit.docnum for hit in searcher.search(phrase, limit=None)) == live


def test_negative_and_odd_weights_are_kept_as_whoosh_keeps_them(tmp_path):
    # Whoosh lets a document boost make any weight; none of them may stop a commit.
    schema = fields.Schema(id=fields.ID(stored=True), text=fields.TEXT(phrase=False))
    documents = [
        {"id": "a", "text": "alpha beta", "_boost": -1.0},
        {"id": "b", "text": "alpha", "_boost": float("inf")},
        {"id": "c", "text": "alpha gamma", "_boost": 70_000.0},
        {"id": "d", "text": "alpha", "_boost": 2.0},
    ]
    theirs = build(tmp_path / "w3", schema, documents, codec=W3Codec())
    ours = build(tmp_path / "compact", schema, documents, codec=CompactCodec())
    assert postings(ours) == postings(theirs)


def test_gaps_beyond_two_bytes_round_trip():
    # Document numbers far apart need four-byte gaps; the first id is stored whole.
    ids = [3, 70_000, 70_001, 5_000_000, 4_000_000_000]
    buffer = io.BytesIO()
    postfile = StructFile(buffer)
    writer = CompactPostingsWriter(postfile, blocklimit=2, compression=3)
    info = W3TermInfo()
    writer.start_postings(formats.Frequency(), info)
    for number, docnum in enumerate(ids):
        writer.add_posting(docnum, float(number + 1), b"")
    writer.finish_postings()
    matcher = CompactMatcher(StructFile(io.BytesIO(buffer.getvalue())), 0, formats.Frequency())
    read = []
    while matcher.is_active():
        read.append((matcher.id(), matcher.weight()))
        matcher.next()
    assert read == [(docnum, number + 1) for number, docnum in enumerate(ids)]
    assert info.max_id() == ids[-1] and info.doc_frequency() == len(ids)


def test_old_segments_and_compact_segments_mix_and_merge(tmp_path):
    # An index written by Whoosh's codec, updated with ours: both read, then merged into one.
    schema = fields.Schema(id=fields.ID(stored=True, unique=True), text=fields.TEXT(phrase=True))
    ix = build(tmp_path, schema, [{"id": f"a{n}", "text": f"shared words old{n}"} for n in range(20)], codec=W3Codec())
    writer = SegmentWriter(ix, codec=CompactCodec())
    for number in range(20):
        writer.add_document(id=f"b{number}", text=f"shared words new{number}")
    writer.delete_by_term("id", "a3")
    writer.commit()
    assert {type(segment.codec()) for segment in ix._segments()} == {W3Codec, CompactCodec}

    def found(text: str) -> list[str]:
        with ix.searcher() as searcher:
            query = QueryParser("text", ix.schema).parse(text)
            return sorted(hit["id"] for hit in searcher.search(query, limit=None))

    before = found('"shared words"')
    assert len(before) == 39 and "a3" not in before
    writer = SegmentWriter(ix, codec=CompactCodec())
    writer.commit(optimize=True)
    assert [type(segment.codec()) for segment in ix._segments()] == [CompactCodec]
    assert found('"shared words"') == before
    assert found("new7") == ["b7"]


def test_rebuilt_index_uses_compact_blocks(tmp_path, first_stories):
    report = index_corpus(first_stories(40, "codec-index"), tmp_path / "index", workers=1)
    generation = next(path for path in (tmp_path / "index").iterdir() if path.name.startswith("gen-"))
    ix = whoosh.index.open_dir(str(generation))
    assert report.documents == 40
    assert {type(segment.codec()) for segment in ix._segments()} == {CompactCodec}


def test_segment_files_are_read_in_place_and_read_the_same(tmp_path, story_documents):
    schema = build_schema()
    theirs = build(tmp_path / "w3", schema, story_documents, codec=W3Codec())
    ours = build(tmp_path / "compact", schema, story_documents, codec=CompactCodec(), segments=2)
    assert documents(ours) == documents(theirs)
    segments = ours._segments()
    assert len(segments) == 2 and all(isinstance(segment, MappedSegment) for segment in segments)
    for segment in segments:
        files = segment.open_compound_file(ours.storage)
        copied = CompoundStorage(ours.storage.open_file(segment.make_filename(segment.COMPOUND_EXT)))
        for name in files.list():
            mapped, whole = files.open_file(name), copied.open_file(name)
            assert isinstance(mapped.file, _Window)  # not a copy in a BytesIO, as Whoosh makes
            assert mapped.read() == whole.read() and mapped.get(3, 20) == whole.get(3, 20)
        files.close()
        copied.close()
        with pytest.raises(StorageError):  # as Whoosh's own, once closed
            files.open_file(name)


def test_a_window_reads_as_a_bytes_file(tmp_path):
    data = bytes(random.Random(5).choice(b"ab\n") for _ in range(3000))
    path = tmp_path / "data"
    path.write_bytes(b"x" * 100 + data + b"y" * 100)
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as source:
        window, expected = _Window(source, 100, len(data)), io.BytesIO(data)
        steps = random.Random(7)
        for _ in range(2000):
            action = steps.choice(["read", "readline", "seek", "seek_end", "seek_here"])
            size = steps.choice([-1, None, 0, 1, 7, 500])
            if action == "read":
                assert window.read(size) == expected.read(size)
            elif action == "readline":
                assert window.readline(size) == expected.readline(size)
            elif action == "seek":
                where = steps.randrange(len(data) + 100)
                assert window.seek(where) == expected.seek(where)
            elif action == "seek_end":
                back = -steps.randrange(len(data) + 1)
                assert window.seek(back, 2) == expected.seek(back, 2)
            else:
                ahead = steps.randrange(-window.tell(), 300)
                assert window.seek(ahead, 1) == expected.seek(ahead, 1)
            assert window.tell() == expected.tell()


def test_the_term_table_is_written_byte_for_byte_as_whooshs():
    """The compact term table writes the file Whoosh's ``OrderedHashWriter`` writes, and Whoosh reads it."""
    from whoosh.filedb import filetables
    from whoosh.filedb.filestore import RamStorage

    from search.engine.whoosh_seam import _CompactHashes

    keys = sorted({f"{field}\x00{word}".encode() for field in ("body", "path", "title") for word in map(str, range(3000))})
    storage = RamStorage()
    for name, compact in (("whoosh", False), ("ours", True)):
        writer = filetables.OrderedHashWriter(storage.create_file(name))
        if compact:
            _CompactHashes.adopt(writer)
        for number, key in enumerate(keys):
            writer.add(key, str(number).encode())
        writer.extras["fieldmap"] = {"body": 0}
        writer.close()
    assert storage.open_file("ours").read() == storage.open_file("whoosh").read()
    reader = filetables.OrderedHashReader.open(storage, "ours")
    assert reader[keys[1234]] == b"1234" and list(reader.keys())[:3] == keys[:3]


@pytest.mark.parametrize(("codec", "order"), [("compact", "rising"), ("compact", "any"), ("whoosh", "rising")])
def test_positions_of_a_long_list_are_read_from_the_right_block(tmp_path, codec, order):
    """A position cursor over many blocks (ours, the first time its list is met and its
    block index read then; or Whoosh's own) finds every document's positions, asked in
    rising order or, where it can seek, in any order; as Whoosh's own matcher stepped
    document by document."""
    from search.engine import whoosh_seam
    from search.engine.postings import PositionCursor

    schema = fields.Schema(text=fields.TEXT(phrase=True))
    docs = [{"text": " ".join(["other"] * (number % 5) + ["alpha", "beta"] + ["alpha"] * (number % 3))} for number in range(60)]
    ix = build(tmp_path / "index", schema, docs, codec=CompactCodec(blocklimit=4) if codec == "compact" else W3Codec(blocklimit=4))
    with ix.reader() as reader:
        asked = list(range(60)) + [10**6]
        if order == "any":
            random.Random(7).shuffle(asked)
        whoosh_seam._BLOCK_INDEXES.clear()
        cursor = PositionCursor(reader, "text", b"alpha")
        assert cursor._blocks is not None and (order == "rising" or cursor.seekable)
        stepped = {docnum: PositionCursor(reader, "text", b"alpha") for docnum in asked}
        for docnum, fresh in stepped.items():
            fresh._blocks = None  # Whoosh's matcher, stepped
        found = [(cursor.positions(docnum), stepped[docnum].positions(docnum)) for docnum in asked]
        # Many at once: a few rising documents at a time, from anywhere in the list.
        batched = PositionCursor(reader, "text", b"alpha")
        at, size, many = 0, 1, {}
        while at < len(asked):
            chunk = sorted(asked[at : at + size]) if order == "any" else asked[at : at + size]
            many.update(zip(chunk, batched.positions_of(chunk)))
            at, size = at + size, size * 2
    assert all(ours == whooshs for ours, whooshs in found)
    assert sum(1 for ours, _ in found if ours) == 60
    assert [many[docnum] for docnum in asked] == [ours for ours, _ in found]


def test_words_together_are_checked_a_bounded_number_of_documents_at_a_time(tmp_path, monkeypatch):
    """Where words stand side by side is checked a few thousand documents at a time (a
    phrase over a whole list held every document's positions at once), with the same
    answer; only a phrase checked for a few documents at a time keeps its blocks."""
    from search.engine import postings
    from search.engine.postings import PositionCursor, together

    schema = fields.Schema(text=fields.TEXT(phrase=True))
    docs = [{"text": " ".join(["alpha", "beta"] if number % 3 else ["beta", "alpha"])} for number in range(60)]
    ix = build(tmp_path / "index", schema, docs, codec=CompactCodec(blocklimit=4))
    with ix.reader() as reader:
        cursors = lambda: [PositionCursor(reader, "text", word) for word in (b"alpha", b"beta")]  # noqa: E731
        expected = together(cursors(), list(range(60)))
        asked: list[int] = []
        real = PositionCursor.positions_of
        monkeypatch.setattr(PositionCursor, "positions_of", lambda self, docs: asked.append(len(docs)) or real(self, docs))
        monkeypatch.setattr(postings, "_TOGETHER_AT_ONCE", 7)
        assert together(cursors(), list(range(60))) == expected == [number for number in range(60) if number % 3]
        assert max(asked) == 7 and len(asked) >= 2 * 60 // 7
        cursor, keeping = PositionCursor(reader, "text", b"alpha"), PositionCursor(reader, "text", b"alpha", keep=True)
        for docnum in range(60):
            assert cursor.positions_of([docnum]) == keeping.positions_of([docnum])
        assert len(cursor._blocks._read) == 1 and len(keeping._blocks._read) == 15  # the last block; all 15


def test_positions_decode_as_whooshs_format():
    from whoosh.formats import Positions

    from search.engine.whoosh_seam import positions_decoder

    positions = Positions()
    decode = positions_decoder(positions)
    rng = random.Random(11)
    for count in (1, 2, 5, 300):
        value = positions.encode(sorted(rng.sample(range(100_000), count)))
        assert decode(value) == positions.decode_positions(value)
        assert decode(value[:-1]) == positions.decode_positions(value[:-1])  # its last byte left off
    assert decode != positions.decode_positions  # ours, not Whoosh's loop

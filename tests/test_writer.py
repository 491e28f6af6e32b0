"""Our segment writer writes the index Whoosh's own writer would: the same
postings, stored fields, field lengths and columns, whichever path a posting takes."""

from __future__ import annotations

import pytest
from segments import build, documents, postings
from whoosh import fields
from whoosh.analysis import RegexTokenizer

from search.build_apply import document_fields
from search.engine.codec import CompactCodec
from search.engine.writer import NewsSegmentWriter
from search.ingest.corpus import read_article, walk
from search.schema import build_schema
from search.text.tokenizers import ChineseTokenizer
from search.text.tokens import index_positions


@pytest.fixture(scope="module")
def stories(first_stories) -> list[dict]:
    return [document_fields(read_article(source)) for source in walk(first_stories(250, "writer-stories"))]


def _same_index(tmp_path, schema, docs, **ours) -> None:
    theirs = build(tmp_path / "whoosh", schema, docs, codec=CompactCodec())
    mine = build(tmp_path / "ours", schema, docs, writer=NewsSegmentWriter, **ours)
    assert postings(mine) == postings(theirs)
    assert documents(mine) == documents(theirs)


def test_stories_are_written_as_whooshs_writer_writes_them(tmp_path, stories):
    _same_index(tmp_path, build_schema(), stories, segments=2)


def test_a_pool_past_its_memory_writes_runs_and_merges_them_into_the_same_index(tmp_path, stories, monkeypatch):
    from search.engine import writer

    runs = []
    real = writer.TermPool._write_run
    monkeypatch.setattr(writer.TermPool, "_write_run", lambda pool: runs.append(1) or real(pool))
    _same_index(tmp_path, build_schema(), stories, limitmb=1)
    assert len(runs) >= 3  # 250 stories need several MB
    assert not list((tmp_path / "ours").glob("*.tmp/*.terms"))  # the runs are removed


def test_a_boosted_text_field_after_runs_takes_whooshs_pool_with_them(tmp_path, stories, monkeypatch):
    from search.engine import writer

    spills = []
    real = writer.TermPool._spill
    monkeypatch.setattr(writer.TermPool, "_spill", lambda pool: spills.append(pool.runs) or real(pool))
    boosted = [dict(story, _title_boost=2.0) if number == 200 else story for number, story in enumerate(stories)]
    _same_index(tmp_path, build_schema(), boosted, limitmb=1)
    assert spills and spills[0] >= 2  # runs were written before the boost came


def test_a_boosted_text_field_and_merged_segments_are_written_as_whoosh_does(tmp_path, stories):
    # A field boost takes Whoosh's path for a field the fast path holds too.
    boosted = [dict(story, _title_boost=2.0) if number % 5 == 0 else story for number, story in enumerate(stories[:60])]
    _same_index(tmp_path / "boost", build_schema(), boosted)
    # Merged segments come into the pool through Whoosh's own path.
    schema = build_schema()
    theirs = build(tmp_path / "w", schema, stories[:90], codec=CompactCodec(), segments=3)
    mine = build(tmp_path / "o", schema, stories[:90], writer=NewsSegmentWriter, segments=3)
    for ix in (theirs, mine):
        writer = NewsSegmentWriter(ix)
        writer.commit(optimize=True)
        assert len(ix._segments()) == 1
    assert postings(mine) == postings(theirs)
    assert documents(mine) == documents(theirs)


def test_a_text_field_with_no_terms_in_a_segment_is_not_written(tmp_path, stories):
    # Only stopwords: Whoosh writes no field, so field numbers on disk stay the same.
    quiet = [dict(story, categories="的 了") for story in stories[:5]]
    _same_index(tmp_path, build_schema(), quiet)
    ours = build(tmp_path / "again", build_schema(), quiet, writer=NewsSegmentWriter)
    with ours.reader() as reader:
        assert "categories" not in reader.indexed_field_names()


def test_other_analysers_and_fields_go_whooshs_way(tmp_path):
    schema = fields.Schema(
        id=fields.ID(stored=True),
        plain=fields.TEXT(analyzer=RegexTokenizer(), stored=True),
        chinese=fields.TEXT(analyzer=ChineseTokenizer(), phrase=False),
        count=fields.NUMERIC(stored=True),
    )
    docs = [{"id": f"d{n}", "plain": f"alpha beta {n}", "chinese": "国内联播快讯", "count": n} for n in range(30)]
    _same_index(tmp_path, schema, docs)


@pytest.mark.parametrize("text", ["中华人民共和国成立", "ＧＤＰ２０２４年增长５.２％", "カ\u3099 中国式现代化 win11", "", "的 了 和"])
def test_index_positions_are_the_tokenizers(text):
    expected: dict[str, list[int]] = {}
    for token in ChineseTokenizer()(text, positions=True, mode="index"):
        expected.setdefault(token.text, []).append(token.pos)
    assert index_positions(text) == expected


def test_fields_this_writer_does_not_write_are_refused(tmp_path):
    import whoosh.index

    schema = fields.Schema(text=fields.TEXT(vector=True))
    tmp_path.mkdir(exist_ok=True)
    ix = whoosh.index.create_in(str(tmp_path), schema)
    with pytest.raises(ValueError, match="term vectors or spelling"):
        NewsSegmentWriter(ix)
    ix.writer().cancel()  # the lock was released

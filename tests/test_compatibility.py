"""Indexes written by earlier versions open, search and update with this one.

``tests/data/schema3`` holds an index written before the package was rearranged:
its table of contents pickles its tokenizers, user dictionary and codec by their
old module paths (``search.analysis``, ``search.codec``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import whoosh.index

from search import index_corpus, open_index
from search.storage import IndexDir

LEGACY = Path(__file__).parent / "data" / "schema3"
USER_WORD = "消费贡献率"  # one word only with the index's user dictionary
ARTICLE = "财经/江城一季度经济数据发布.md"


@pytest.fixture
def legacy(tmp_path: Path) -> tuple[Path, Path]:
    """A writable copy of the old index and of its corpus, which the copy records as its folder."""
    shutil.copytree(LEGACY / "index", tmp_path / "index")
    shutil.copytree(LEGACY / "corpus", tmp_path / "corpus")
    meta_file = IndexDir(tmp_path / "index").require_current() / "news-search.json"
    meta = json.loads(meta_file.read_text("utf-8"))
    meta_file.write_text(json.dumps(dict(meta, corpus=str(tmp_path / "corpus"))), "utf-8")
    return tmp_path / "index", tmp_path / "corpus"


def _frequency(index: Path, field: str, term: str) -> int:
    ix = whoosh.index.open_dir(str(IndexDir(index).require_current()))
    try:
        with ix.reader() as reader:
            return reader.doc_frequency(field, term)
    finally:
        ix.close()


def test_the_old_index_opens_and_searches(legacy: tuple[Path, Path]) -> None:
    index, _ = legacy
    with open_index(index) as opened:
        assert len(opened) == 5
        assert opened.stats().settings["user_dict"]["words"] == 1
        result = opened.search(USER_WORD)
        assert [hit.path for hit in result.hits] == [ARTICLE]
        assert f"<mark>{USER_WORD}</mark>" in result.hits[0].title_html
        assert opened.search("散热 技术").hits[0].path == "科技/液冷散熱新技術.md"
        facets = opened.search("", facets=True).facets  # no paths indexed: each level on its own
        assert [(node.category, node.documents) for node in facets.category_tree] == facets.categories
        assert all(not node.children for node in facets.category_tree)
    assert _frequency(index, "title", USER_WORD) == 1


def test_the_old_index_updates_with_its_user_dictionary(legacy: tuple[Path, Path]) -> None:
    index, corpus = legacy
    added = corpus / "财经" / "新文章.md"
    added.write_text("---\ntitle: 新文章\n---\n\n本季度消费贡献率继续回升。\n", "utf-8")
    report = index_corpus(corpus, index)
    assert not report.rebuilt and report.added == 1 and report.unchanged == 5
    # The new segment is cut with the user dictionary the old table of contents holds.
    assert _frequency(index, "body", USER_WORD) == 1
    with open_index(index) as opened:
        assert {hit.path for hit in opened.search(USER_WORD).hits} == {ARTICLE, "财经/新文章.md"}

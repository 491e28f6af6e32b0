"""The "naive setup" from jieba's README, kept as a reference point for evaluation.

jieba's README suggests indexing Chinese with Whoosh by plugging
``jieba.analyse.ChineseAnalyzer()`` into a plain schema. This module does just
that and nothing more, so that ``scripts/evaluate.py`` can measure our engine
against it on the same articles:

- schema: ``path`` (ID, stored, unique); ``title``, ``body`` and ``categories``
  as ``TEXT(analyzer=ChineseAnalyzer())``; ``title`` and ``body`` are stored
  (the body only for the optional highlighting). ``categories`` holds the
  article's categories and tags, one per line, as our index does;
- query: ``MultifieldParser(["title", "body", "categories"], schema, group=OrGroup)``
  with Whoosh's default scoring (BM25F, equal field weights);
- articles come from :mod:`search.ingest.corpus` (``walk`` + ``read_article``), so both
  systems see exactly the same titles and text.

Usage::

    sys.path.insert(0, "scripts")          # scripts/ is not a package
    from naive import NaiveIndex, read_corpus

    naive = NaiveIndex.build(read_corpus("articles/")[0], "/tmp/naive-index")
    print(naive.paths("新能源汽车 销量"))                  # ranked paths
    for hit in naive.search("新能源汽车", highlight=True):
        print(hit.path, hit.snippet)

Or from the command line: ``python scripts/naive.py CORPUS QUERY...``.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from dataclasses import dataclass
from typing import Iterable

import jieba
import whoosh.index
from jieba.analyse import ChineseAnalyzer
from whoosh import highlight as whoosh_highlight
from whoosh.fields import ID, TEXT, Schema
from whoosh.qparser import MultifieldParser, OrGroup

from search.ingest.corpus import Article, Skipped, read_article, walk
from search.errors import CorpusError

FIELDS = ["title", "body", "categories"]

jieba.setLogLevel(logging.WARNING)  # no "Building prefix dict" chatter; segmentation unchanged


def naive_schema() -> Schema:
    """A plain Whoosh schema with jieba's ChineseAnalyzer on every text field."""
    return Schema(
        path=ID(stored=True, unique=True),
        title=TEXT(stored=True, analyzer=ChineseAnalyzer()),
        body=TEXT(stored=True, analyzer=ChineseAnalyzer()),
        categories=TEXT(analyzer=ChineseAnalyzer()),
    )


def read_corpus(root: str | os.PathLike[str]) -> tuple[list[Article], list[Skipped]]:
    """Every article under ``root``, parsed by our reader; files it cannot read are returned as skipped."""
    articles: list[Article] = []
    skipped: list[Skipped] = []
    for found in walk(root):
        if isinstance(found, Skipped):
            skipped.append(found)
            continue
        try:
            articles.append(read_article(found))
        except CorpusError as error:
            skipped.append(Skipped(found.path, str(error)))
    return articles, skipped


@dataclass(frozen=True)
class NaiveHit:
    path: str
    title: str
    score: float
    snippet: str | None = None  #: Whoosh's highlighted fragments of the body (``highlight=True``)


class NaiveIndex:
    """A Whoosh index of articles with jieba's ChineseAnalyzer; open a searcher once, query many times."""

    def __init__(self, ix: whoosh.index.Index) -> None:
        self.ix = ix
        self.searcher = ix.searcher()  # default weighting: BM25F
        self.parser = MultifieldParser(FIELDS, ix.schema, group=OrGroup)

    @classmethod
    def build(cls, articles: Iterable[Article], directory: str | os.PathLike[str]) -> "NaiveIndex":
        """Index ``articles`` into a new Whoosh index in ``directory`` (created if needed)."""
        os.makedirs(directory, exist_ok=True)
        ix = whoosh.index.create_in(str(directory), naive_schema())
        writer = ix.writer(limitmb=256)
        for article in articles:
            writer.add_document(
                path=article.path,
                title=article.title,
                body=article.body,
                categories="\n".join(article.categories + article.tags),
            )
        writer.commit()
        return cls(ix)

    def search(self, query: str, limit: int = 10, *, highlight: bool = False) -> list[NaiveHit]:
        """The top ``limit`` hits for ``query``; with ``highlight``, each with a body snippet."""
        parsed = self.parser.parse(query)
        results = self.searcher.search(parsed, limit=limit)
        if highlight:
            results.fragmenter = whoosh_highlight.ContextFragmenter(maxchars=200, surround=40)
            results.formatter = whoosh_highlight.HtmlFormatter(tagname="mark")
        return [
            NaiveHit(
                path=hit["path"],
                title=hit.get("title", ""),
                score=float(hit.score or 0.0),
                snippet=hit.highlights("body") if highlight else None,
            )
            for hit in results
        ]

    def paths(self, query: str, limit: int = 10) -> list[str]:
        """The ranked paths of the top ``limit`` hits."""
        return [hit.path for hit in self.search(query, limit)]

    def close(self) -> None:
        self.searcher.close()
        self.ix.close()

    def __enter__(self) -> "NaiveIndex":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: python scripts/naive.py CORPUS QUERY...", file=sys.stderr)
        return 2
    articles, skipped = read_corpus(argv[0])
    for item in skipped:
        print(f"skipped {item.path}: {item.reason}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="naive-index-") as directory:
        with NaiveIndex.build(articles, directory) as naive:
            for query in argv[1:]:
                print(f"== {query}")
                for rank, hit in enumerate(naive.search(query, highlight=True), 1):
                    print(f"{rank:2}. {hit.score:7.3f}  {hit.path}  {hit.title}")
                    if hit.snippet:
                        print(f"      {hit.snippet}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

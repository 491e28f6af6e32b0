"""An open index: search it, read one article back, describe it."""

from __future__ import annotations

import functools
import math
import os
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from whoosh import scoring, sorting
from whoosh import query as wq

from .engine.docsets import DocSet
from .engine.precomputed import Precomputed, Restricted, top_results
from .errors import ArticleNotFoundError, IndexCorruptError, IndexNotFoundError, IndexVersionError, UsageError
from .limits import SortOrder, check_request
from .query import compile as query_compile
from .query import syntax as query_syntax
from .query.filters import LEVELS, DateBound, Filters, Values, category_tree, facets_of
from .query.similar import key_terms, similar_query
from .query.snippets import SNIPPET_CHARS, Highlighted, highlighted, marked_hit
from .query.suggest import Suggester, pinyin_cache_name
from .results import CategoryCount, Document, Facets, Hit, IndexStats, SearchResult
from .schema import TEXT_FIELDS, exact_value, user_dict_of
from .text.synonyms import Synonyms, regional
from .storage import IndexDir, corrupt, default_index_dir

_OPEN_ATTEMPTS = 4

#: BM25F parameters; field weights live in the schema.
WEIGHTING = scoring.BM25F(B=0.75, K1=1.2)
#: Filters whose documents an open index keeps for the next searches with them (the most
#: recently used): gathering a category most of 160,000 stories have took 12 ms a search.
FILTERS_KEPT = 8


class Index:
    """A read-only view of an index; open it with :meth:`open` or :func:`open_index`.

    Keep one open to run many searches: the index and jieba are loaded once.
    """

    def __init__(self, location: IndexDir) -> None:
        self.location = location
        self._category_names: dict[str, str] = {}
        self._closed = False
        for attempt in range(_OPEN_ATTEMPTS):
            try:
                live = location.open_live()
                self._generation, self._meta, self._whoosh = live.path, live.meta, live.ix
                self._user = user_dict_of(self._whoosh.schema)
                self._searcher = self._whoosh.searcher(weighting=WEIGHTING)
                self._commit = self._whoosh.latest_generation()
                self._suggester: Suggester | None = None  # made on first need
                self._filtered: OrderedDict[tuple, object] = OrderedDict()  # filters → their documents' array (or None)
                # Measured now: a rebuild may delete this generation while it stays open.
                self._size_bytes = sum(e.stat().st_size for e in os.scandir(self._generation) if e.is_file())
                break
            except (IndexNotFoundError, IndexVersionError, UsageError):
                raise
            except Exception as error:
                # A rebuild may have switched generations, or a commit replaced a
                # segment, between reading CURRENT and opening the files: look again.
                if attempt == _OPEN_ATTEMPTS - 1:
                    raise error if isinstance(error, IndexCorruptError) else corrupt(location.root, error) from None
                time.sleep(0.05 * (attempt + 1))

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None) -> "Index":
        """Open the index at ``path`` (default: ``$NEWS_SEARCH_INDEX`` or ``./index``)."""
        return cls(IndexDir(path if path is not None else default_index_dir()))

    def close(self) -> None:
        self._closed = True
        self._searcher.close()
        self._whoosh.close()

    @property
    def generation(self) -> str:
        """Which state of the index this is: its generation folder and commit (``gen-…/N``)."""
        return f"{self._generation.name}/{self._commit}"

    def is_current(self) -> bool:
        """Whether this is still the index on disk: no rebuild has switched to another
        generation, and no update has committed to it, since it was opened."""
        try:
            return self.location.current() == self._generation and self._whoosh.latest_generation() == self._commit
        except OSError:  # the generation was removed by a rebuild
            return False

    def highlights(self, text: str, query: str) -> Highlighted:
        """All of ``text``, with the words ``query`` looks for in it as spans."""
        terms = query_syntax.highlight_terms(query_syntax.parse(query), self._user, self.synonyms)
        return highlighted(text, terms, user=self._user)

    @functools.cached_property
    def synonyms(self) -> Synonyms:
        """What query words also find: regional vocabulary, and the index's own list (``index --synonyms``)."""
        own = Synonyms.from_json((self._meta.get("synonyms") or {}).get("rules") or [])
        return regional() + own

    def _check_open(self) -> None:
        if self._closed:
            raise UsageError(f"the index {self.location.root} is closed: open it again with open_index()")

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __len__(self) -> int:
        self._check_open()
        return self._searcher.doc_count()

    def search(
        self,
        query: str = "",
        *,
        limit: int = 10,
        page: int = 1,
        category: Values = None,
        author: Values = None,
        since: DateBound = None,
        until: DateBound = None,
        sort: SortOrder = "relevance",
        snippet_chars: int = SNIPPET_CHARS,
        facets: bool = False,
        suggest: bool = True,
        exact_total: bool = False,
    ) -> SearchResult:
        """Search with the query syntax of :mod:`search.query`; filters are exact values.

        ``category`` matches any level of an article's categories, or a path of
        levels in order (``新闻联播/国际``); ``category`` and ``author`` may be lists,
        of which any may match. ``since`` and ``until`` are inclusive (a date alone
        covers its whole day). An empty query lists every article that passes the
        filters. With ``facets``, the
        result also counts all matched documents by category and month
        (:class:`Facets`), in the same pass over the matches. With ``suggest``, a
        query that finds little gets a corrected query in ``suggestion``.
        A query of many matches skips those that cannot make the page, and ``total``
        is then a lower bound (``total_is_exact`` false); ``exact_total`` counts them all.
        """
        self._check_open()
        started = time.perf_counter()
        if not isinstance(query, str):
            raise UsageError(f"query must be a text, not {query!r}")
        check_request(limit, page, snippet_chars, sort)
        filters = Filters.of(category, author, since, until)
        tree = query_syntax.parse(query)
        compiled = query_compile.to_whoosh(tree, user=self._user, synonyms=self.synonyms) if query.strip() else wq.Every()
        allowed = self._allowed(filters)
        collect = _Collect(allowed, sort, facets, count=page * limit, exact_total=exact_total)
        results = self._collect(compiled, collect)
        # What the words find, or None when that is only a lower bound (a pruned count).
        found_by_words = len(results) if getattr(results, "total_is_exact", True) else None
        if sort == "relevance" and found_by_words is not None and found_by_words < query_compile.FEW_MATCHES and query_compile.has_loose_matches(tree):
            # Too few articles have the words: let title n-grams find near misses too
            # (a fixed threshold, so the total does not depend on the page size).
            results = self._collect(query_compile.to_whoosh(tree, loose=True, user=self._user, synonyms=self.synonyms), collect)
        terms = query_syntax.highlight_terms(tree, self._user, self.synonyms)
        phrases = query_syntax.highlight_phrases(tree, self._user)
        by_relevance = sort == "relevance"
        marks: dict = {}
        hits = [self._hit(result, terms, phrases, snippet_chars, by_relevance, marks) for result in results[(page - 1) * limit : page * limit]]
        suggestion = self._suggest(query, found_by_words, collect.allowed) if suggest and query.strip() else None
        return SearchResult(
            query=query,
            total=len(results),
            total_is_exact=getattr(results, "total_is_exact", True),
            page=page,
            limit=limit,
            hits=hits,
            facets=self._facets(results) if facets else None,
            suggestion=suggestion,
            filters=filters.to_json(),
            took_ms=(time.perf_counter() - started) * 1000,
        )

    def _allowed(self, filters: Filters) -> DocSet | None:
        """The documents ``filters`` let through (``None``: all), kept as an array for the
        next searches with the same filters (a set of them is made anew by each search)."""
        key = (filters.categories, filters.authors, filters.date_range())
        if key in self._filtered:
            self._filtered.move_to_end(key)
        else:
            found = filters.documents(self._searcher)
            if found is not None:
                found.array.setflags(write=False)  # shared by the searches to come
            self._filtered[key] = None if found is None else found.array
            if len(self._filtered) > FILTERS_KEPT:
                self._filtered.popitem(last=False)
        array = self._filtered[key]
        return None if array is None else DocSet(array)

    def _collect(self, compiled: wq.Query, collect: "_Collect"):
        """Whoosh's results of ``compiled`` as ``collect`` asks."""
        # Queries scored a segment at a time take the filter as they score.
        restricted = collect.allowed is not None and isinstance(compiled, Precomputed)
        if restricted:
            compiled = Restricted(compiled, collect.allowed)
        if isinstance(compiled, Precomputed) and collect.sort == "relevance" and not collect.facets:
            # A count under FEW_MATCHES stays exact: it decides on the n-gram fallback.
            exact_below = math.inf if collect.exact_total else query_compile.FEW_MATCHES
            return top_results(self._searcher, compiled, collect.count, exact_below=exact_below)
        return self._searcher.search(
            compiled,
            limit=collect.count,
            filter=None if restricted or collect.allowed is None else collect.allowed.as_filter(),
            sortedby="date" if collect.sort == "date" else None,
            reverse=collect.sort == "date",
            terms=False,
            # Grouping sees every match, so Whoosh collects them all instead of the top N.
            groupedby=facets_of(self._searcher.schema) if collect.facets else None,
            maptype=sorting.Count,
        )

    def _suggest(self, query: str, total: int | None, allowed: DocSet | None) -> str | None:
        if self._suggester is None:
            cache = self._generation / pinyin_cache_name(self._commit)
            self._suggester = Suggester(self._searcher, self._user, cache)
        return self._suggester.suggest(query, total, allowed)

    def _facets(self, results) -> Facets:
        """The groups Whoosh counted, categories named as written and sorted for display."""
        categories = sorted(
            ((self._category_name(key), count) for key, count in results.groups("category").items() if key),
            key=lambda pair: (-pair[1], pair[0]),
        )
        months = sorted(((key, count) for key, count in results.groups("month").items() if key), reverse=True)
        if "category_path" in self._searcher.schema:
            tree = category_tree(results.groups("category_path"), lambda key: self._category_name(key.rpartition(LEVELS)[2]))
        else:  # built before paths were indexed: one level each
            tree = [CategoryCount(name, name, count) for name, count in categories]
        return Facets(categories=categories, months=months, category_tree=tree)

    def _category_name(self, key: str) -> str:
        """A category as an article writes it, for its exact (case-folded) filter value."""
        if key not in self._category_names:
            stored = self._searcher.document(category=key) or {}
            written = (stored.get("meta") or {}).get("categories") or ()
            self._category_names[key] = next((name for name in written if exact_value(name) == key), key)
        return self._category_names[key]

    def similar(
        self, path: str, *, limit: int = 10, page: int = 1, snippet_chars: int = SNIPPET_CHARS
    ) -> SearchResult:
        """Articles most like the one at ``path``, best first, never itself.

        Looks for the article's most distinctive words (see :mod:`search.query.similar`)
        in titles and bodies. The result's ``query`` holds those words; hits have
        snippets as in :meth:`search`. ``path`` is as :meth:`document` takes it;
        :class:`ArticleNotFoundError` for a path that is not in the index.
        """
        self._check_open()
        started = time.perf_counter()
        check_request(limit, page, snippet_chars)
        docnum = self._docnum(path)
        terms = key_terms(self._searcher.stored_fields(docnum), self._searcher.reader(), self._user)
        if not terms:
            return SearchResult(query="", total=0, page=page, limit=limit, hits=[])
        results = self._searcher.search(similar_query(terms), limit=page * limit, mask={docnum}, terms=False)
        words = [word for word, _ in terms]
        hits = [self._hit(result, set(words), [], snippet_chars, True) for result in results[(page - 1) * limit : page * limit]]
        took_ms = (time.perf_counter() - started) * 1000
        return SearchResult(query=" ".join(words), total=len(results), page=page, limit=limit, hits=hits, took_ms=took_ms)

    def _hit(self, result, terms: set[str], phrases: list[list[str]], snippet_chars: int, scored: bool, marks: dict | None = None) -> Hit:
        stored = result.fields()
        score = float(result.score or 0.0) if scored else None
        return marked_hit(Hit.fields_from(stored), stored.get("body") or "", terms, phrases, snippet_chars, score, self._user, marks)

    def document(self, path: str) -> Document:
        """The stored article at ``path``: relative to the corpus folder, as hits show it,
        or the file's own path (absolute, or from here), which is read against the corpus
        folder the index records. :class:`ArticleNotFoundError` (a :class:`KeyError`) if absent."""
        self._check_open()
        stored = self._searcher.stored_fields(self._docnum(path))
        return Document(**Document.fields_from(stored), text=stored.get("body") or "")

    def _docnum(self, path: str) -> int:
        if not isinstance(path, str):
            raise UsageError(f"path must be a text, not {path!r}")
        for candidate in _corpus_paths(path, self.corpus):
            docnum = self._searcher.document_number(path=candidate)
            if docnum is not None:
                return docnum
        raise self._not_found(path)

    def _not_found(self, path: str) -> ArticleNotFoundError:
        example = next((stored["path"] for stored in self._searcher.all_stored_fields()), None)
        return ArticleNotFoundError(
            f"no article {path!r} in the index {self.location.root.resolve()}: give its path relative to the corpus "
            f"folder {self.corpus or '(not recorded)'}, as search results show it"
            + (f" (such as {example!r})" if example else "")
        )

    def stats(self) -> IndexStats:
        """Counts, size on disk, categories, date range and build settings."""
        self._check_open()
        reader = self._searcher.reader()
        # Counted over live documents' stored fields: the lexicon still holds
        # replaced and deleted documents until their segments merge.
        counts: Counter[str] = Counter()
        for _, stored in reader.iter_docs():
            counts.update(set((stored.get("meta") or {}).get("categories") or ()))
        categories = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
        dated = self._searcher.search(wq.Every("date"), sortedby="date", limit=None)
        first = last = None
        if len(dated):
            first = Hit.fields_from(dated[0].fields())["date"]
            last = Hit.fields_from(dated[len(dated) - 1].fields())["date"]
        settings = {key: value for key, value in self._meta.items() if key in ("schema_version", "analysis", "include", "exclude", "user_dict")}
        own = self._meta.get("synonyms")
        settings["synonyms"] = {key: value for key, value in own.items() if key != "rules"} if own else None
        return IndexStats(
            location=self.location.root,
            documents=reader.doc_count(),
            terms={name: sum(1 for _ in reader.lexicon(name)) for name in TEXT_FIELDS},
            size_bytes=self._size_bytes,
            categories=categories,
            first_date=first,
            last_date=last,
            corpus=self._meta.get("corpus"),
            updated=self._meta.get("updated"),
            settings=settings,
        )

    @property
    def corpus(self) -> str | None:
        """The corpus folder the index was last built or updated from."""
        return self._meta.get("corpus")


@dataclass(frozen=True)
class _Collect:
    """How a search collects its matches: the documents its filters allow (all if
    ``None``), their order, whether facets are counted, and how many hits to keep."""

    allowed: DocSet | None
    sort: str
    facets: bool
    count: int
    exact_total: bool = False


def open_index(path: str | os.PathLike[str] | None = None) -> Index:
    """Open the index at ``path`` (default: ``$NEWS_SEARCH_INDEX`` or ``./index``), a
    folder or a cluster's ``sphinx://HOST:PORT/INDEX`` (same methods, see :mod:`search.cluster`)."""
    from .cluster import is_cluster

    location = path if path is not None else os.environ.get("NEWS_SEARCH_INDEX")
    if is_cluster(location):
        from .cluster.searcher import ClusterIndex

        return ClusterIndex(location)  # type: ignore[return-value]
    return Index.open(path)


def _corpus_paths(path: str, corpus: str | None) -> Iterator[str]:
    """The corpus-relative paths a path given by a user may stand for, the most literal
    first: as given; without ``./``; the file it names (absolute, or from the working
    folder) inside the corpus folder; after the corpus folder's own name."""
    yield path
    posix = path.replace(os.sep, "/")
    while posix.startswith("./"):
        posix = posix[2:]
    yield posix
    if not corpus:
        return
    root, given = Path(corpus), Path(path).expanduser()
    try:
        yield (given if given.is_absolute() else Path.cwd() / given).resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):  # not inside the corpus folder
        pass
    if posix.startswith(f"{root.name}/"):
        yield posix[len(root.name) + 1 :]

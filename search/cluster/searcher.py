"""An index in a cluster, with the API of a folder's :class:`search.Index`: the
query syntax compiled to ``MATCH``, filters as attributes, our own snippets."""

from __future__ import annotations

import json
import math
import threading
import time
from collections import Counter
from datetime import datetime, timezone

from ..errors import ArticleNotFoundError, UsageError
from ..limits import SortOrder, check_request
from ..query import syntax as query_syntax
from ..query.filters import LEVELS, DateBound, Filters, Values, category_tree
from ..query.similar import SIMILAR_TERMS, is_telling
from ..query.snippets import SNIPPET_CHARS, marked_hit
from ..results import Document, Facets, Hit, IndexStats, SearchResult
from ..schema import exact_value
from ..text.synonyms import Synonyms, regional
from ..text.tokens import terms as analyze_terms
from ..text.user_dict import UserDict
from .build import value_id
from .match import phrase, to_match
from .sphinxql import Address, connect, quoted, read_settings, rows, shard_copies

#: How the cluster ranks: coverage of the query weighted by IDF, then BM25F with our
#: field weights (Sphinx 2.2's expression ranker; its factors are per field).
RANKER = "expr('sum(sum_idf*user_weight)*100+bm25f(1.2,0.75)*1000')"
FIELD_WEIGHTS = "field_weights=(title=4, categories=2, body=1)"
#: Agents asked again within one query (Sphinx 2.2 asks the same copy).
RETRIES = "retry_count=1, retry_delay=10"
#: Tries of a query that met a dead copy, and the pause between them: the head pings its
#: agents every 100 ms (``layout``), and leaves a dead copy out once it has noticed.
MIRROR_ATTEMPTS = 6
MIRROR_PAUSE = 0.1
_COLUMNS = "id, path, title_text, body_text, meta"


class ClusterIndex:
    """A read view of ``sphinx://HOST:PORT/INDEX``; open it with :func:`search.open_index`."""

    def __init__(self, url: str) -> None:
        self.address = Address.parse(url)
        self._connection = connect(self.address)
        self._lock = threading.RLock()  # one connection, shared by a service's threads
        # With mirrors, a query that met a dead copy is asked again once the head has noticed.
        self._attempts = MIRROR_ATTEMPTS if any(len(copies) > 1 for copies in shard_copies(self._connection, self.address.index)) else 1
        self._names: dict[int, tuple[str, ...]] = {}
        settings = read_settings(self._connection)
        self._recorded = settings.get("corpus") or {}
        self._user = UserDict(tuple((word, freq) for word, freq in settings.get("user_dict") or [])) or None
        own = Synonyms.from_json(settings.get("synonyms") or [])
        #: What query words also find: regional vocabulary, and the cluster's own list.
        self.synonyms = regional() + own

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def _rows(self, sql: str) -> list[tuple]:
        with self._lock:
            return rows(self._connection, sql)

    def __enter__(self) -> "ClusterIndex":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __len__(self) -> int:
        return self._total("")

    @property
    def generation(self) -> str:
        return str(self.address)

    def is_current(self) -> bool:
        return True  # a cluster is updated in place: every search sees its latest state

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
        """As :meth:`search.Index.search`; ``suggest`` is not offered by a cluster (ignored),
        and its ``total`` is always exact (Sphinx's ``total_found``)."""
        started = time.perf_counter()
        if not isinstance(query, str):
            raise UsageError(f"query must be a text, not {query!r}")
        check_request(limit, page, snippet_chars, sort)
        filters = Filters.of(category, author, since, until)
        tree = query_syntax.parse(query)
        match = to_match(tree, self.synonyms, self._user) if query.strip() else ""
        where = self._where(match, filters)
        order = "WEIGHT() DESC, id ASC" if sort == "relevance" and match else "date DESC, id ASC"
        count = page * limit
        found, total, warnings = self._select(
            f"SELECT {_COLUMNS}, WEIGHT() AS score FROM {self.address.index}{where} ORDER BY {order} "
            f"LIMIT {(page - 1) * limit}, {limit} OPTION max_matches={max(count, 1000)}, ranker={RANKER}, {FIELD_WEIGHTS}, {RETRIES}"
        )
        terms = query_syntax.highlight_terms(tree, self._user, self.synonyms)
        phrases = query_syntax.highlight_phrases(tree, self._user)
        by_relevance = sort == "relevance" and bool(match)
        marks: dict = {}
        hits = [self._hit(row, terms, phrases, snippet_chars, by_relevance, marks) for row in found]
        return SearchResult(
            query=query,
            total=total,
            page=page,
            limit=limit,
            hits=hits,
            facets=self._facets(where) if facets else None,
            filters=filters.to_json(),
            took_ms=(time.perf_counter() - started) * 1000,
            warnings=warnings,
        )

    def _where(self, match: str, filters: Filters) -> str:
        conditions = [f"MATCH({quoted(match)})"] if match else []
        if filters.categories:
            ids = [self._category_id(value) for value in filters.categories]
            conditions.append(f"category_ids IN ({', '.join(map(str, ids))})")
        if filters.authors:
            ids = [value_id("author", exact_value(value)) for value in filters.authors]
            conditions.append(f"author_ids IN ({', '.join(map(str, ids))})")
        low, high = filters.date_range() if (filters.since or filters.until) else (None, None)
        if low is not None or high is not None:
            conditions.append("has_date = 1")
        if low is not None:
            conditions.append(f"date >= {int(low.replace(tzinfo=timezone.utc).timestamp())}")
        if high is not None:
            conditions.append(f"date <= {int(high.replace(tzinfo=timezone.utc).timestamp())}")
        return " WHERE " + " AND ".join(conditions) if conditions else ""

    @staticmethod
    def _category_id(value: str) -> int:
        levels = [exact_value(level) for level in value.split(LEVELS) if level.strip()]
        return value_id("path", LEVELS.join(levels)) if len(levels) > 1 else value_id("category", exact_value(value))

    def _select(self, sql: str) -> tuple[list[tuple], int, list[str]]:
        """Rows of ``sql``, how many matched in all, and the warnings of agents that did not answer."""
        import pymysql

        for attempt in range(self._attempts):
            if attempt:
                time.sleep(MIRROR_PAUSE)
            try:
                with self._lock:  # the query, its warnings and its totals, on one connection
                    found = rows(self._connection, sql)
                    warnings = [message for _, _, message in rows(self._connection, "SHOW WARNINGS")]
                    total = int(dict(rows(self._connection, "SHOW META")).get("total_found", 0))
            except pymysql.MySQLError as error:
                problem = error.args[-1] if error.args else str(error)
                if attempt + 1 < self._attempts and "agent" in str(problem):
                    continue
                raise UsageError(f"the cluster at {self.address} refused the query: {problem}") from None
            if not warnings or attempt + 1 == self._attempts:
                return found, total, warnings
        raise AssertionError("unreachable")

    def _hit(self, row: tuple, terms: set[str], phrases: list[list[str]], snippet_chars: int, scored: bool, marks: dict | None = None) -> Hit:
        _, path, _, body, meta, score = row
        fields = Hit.fields_from({"path": path, "meta": _meta(meta)})
        return marked_hit(fields, body or "", terms, phrases, snippet_chars, float(score) if scored else None, self._user, marks)

    def _facets(self, where: str) -> Facets:
        """Counts by category, path of levels and month, from ``GROUP BY`` through the head."""
        counts = self._grouped("category_ids", where)
        names = self._value_names(counts)
        categories = [(names[key][1], count) for key, count in counts.items() if names.get(key, ("",))[0] == "category"]
        paths = {names[key][1]: count for key, count in counts.items() if names.get(key, ("",))[0] == "path"}
        written = {names[key][1]: names[key][2] for key in counts if names.get(key, ("",))[0] == "path"}
        months = self._rows(f"SELECT month, COUNT(*) FROM {self.address.index}{_and(where, 'has_date = 1')} GROUP BY month LIMIT 10000 OPTION max_matches=10000, {RETRIES}")
        return Facets(
            categories=sorted(categories, key=lambda pair: (-pair[1], pair[0])),
            months=sorted(((f"{int(month) // 100:04d}-{int(month) % 100:02d}", int(count)) for month, count in months), reverse=True),
            category_tree=category_tree(paths, lambda key: written[key].rpartition(LEVELS)[2]),
        )

    def _grouped(self, column: str, where: str) -> Counter:
        found = self._rows(f"SELECT GROUPBY(), COUNT(*) FROM {self.address.index}{where} GROUP BY {column} LIMIT 1000 OPTION max_matches=1000, {RETRIES}")
        return Counter({int(key): int(count) for key, count in found})

    def _value_names(self, counts: Counter) -> dict[int, tuple[str, ...]]:
        """Each category value's kind and name as written (a path: its exact key and written
        form), read from the front matter of one article that has it, kept for next time."""
        for key in counts:
            if key in self._names:
                continue
            found = self._rows(f"SELECT meta FROM {self.address.index} WHERE category_ids = {key} LIMIT 1 OPTION {RETRIES}")
            written = list(_meta(found[0][0] if found else None).get("categories") or ())
            exact = [exact_value(name) for name in written]
            for name, value in zip(written, exact):
                self._names.setdefault(value_id("category", value), ("category", name))
            for depth in range(len(written)):
                key_path = LEVELS.join(exact[: depth + 1])
                self._names.setdefault(value_id("path", key_path), ("path", key_path, LEVELS.join(written[: depth + 1])))
            self._names.setdefault(key, ("unknown",))
        return self._names

    def document(self, path: str) -> Document:
        found = self._rows(f"SELECT {_COLUMNS} FROM {self.address.index} WHERE id = {_id(path)} LIMIT 1 OPTION {RETRIES}")
        if not found:
            raise ArticleNotFoundError(f"no article {path!r} in {self.address}")
        _, stored_path, _, body, meta = found[0]
        return Document(**Document.fields_from({"path": stored_path, "meta": _meta(meta)}), text=body or "")

    def similar(self, path: str, *, limit: int = 10, page: int = 1, snippet_chars: int = SNIPPET_CHARS) -> SearchResult:
        """As :meth:`search.Index.similar`: the article's most distinctive words (TF-IDF,
        document frequencies from the shards), any of them, the article itself left out."""
        started = time.perf_counter()
        check_request(limit, page, snippet_chars)
        document = self.document(path)
        words = self._key_words(document)
        if not words:
            return SearchResult(query="", total=0, page=page, limit=limit, hits=[])
        match = " | ".join(phrase([word]) for word in words)
        found, total, warnings = self._select(
            f"SELECT {_COLUMNS}, WEIGHT() AS score FROM {self.address.index} WHERE MATCH({quoted(match)}) AND id != {_id(document.path)} "
            f"ORDER BY WEIGHT() DESC, id ASC LIMIT {(page - 1) * limit}, {limit} OPTION max_matches={max(page * limit, 1000)}, "
            f"ranker={RANKER}, {FIELD_WEIGHTS}, {RETRIES}"
        )
        hits = [self._hit(row, set(words), [], snippet_chars, True) for row in found]
        took_ms = (time.perf_counter() - started) * 1000
        return SearchResult(query=" ".join(words), total=total, page=page, limit=limit, hits=hits, took_ms=took_ms, warnings=warnings)

    def _key_words(self, document: Document) -> list[str]:
        words = analyze_terms(document.title, self._user) + analyze_terms(document.text, self._user)
        counts = Counter(word for word in words if is_telling(word))
        frequencies = self._document_frequencies(list(counts))
        documents = max(len(self), 1)
        # Words no other article holds cannot find one.
        weighed = [(count * math.log(documents / frequencies[word]), word) for word, count in counts.items() if frequencies.get(word, 0) > 1]
        return [word for _, word in sorted(weighed, key=lambda pair: (-pair[0], pair[1]))[:SIMILAR_TERMS]]

    def _document_frequencies(self, words: list[str]) -> Counter:
        """How many articles hold each word, summed over the shards (each holds its own articles)."""
        found: Counter = Counter()
        for copies in shard_copies(self._connection, self.address.index):
            connection = connect(copies[0])
            try:
                for at in range(0, len(words), 200):
                    for row in rows(connection, f"CALL KEYWORDS({quoted(' '.join(words[at : at + 200]))}, {quoted(copies[0].index)}, 1)"):
                        found[row[2]] += int(row[3])
            finally:
                connection.close()
        return found

    def stats(self) -> IndexStats:
        """As :meth:`search.Index.stats`; ``size_bytes`` sums the shards' first copies, and
        a cluster counts no terms per field (``terms`` is empty)."""
        dates = self._rows(f"SELECT MIN(date), MAX(date) FROM {self.address.index} WHERE has_date = 1 OPTION {RETRIES}")
        first, last = (dates[0][0], dates[0][1]) if dates and dates[0][0] else (None, None)
        return IndexStats(
            location=str(self.address),
            documents=self._total(""),
            terms={},
            size_bytes=self._size_bytes(),
            categories=self._facets("").categories,
            first_date=_moment(first),
            last_date=_moment(last),
            corpus=self._recorded.get("corpus"),
            updated=self._recorded.get("updated"),
            settings={
                "engine": "sphinx",
                "user_dict": {"words": len(self._user), "digest": self._user.digest} if self._user else None,
                "synonyms": {"words": len(self.synonyms)},
            },
        )

    @property
    def corpus(self) -> str | None:
        """The corpus folder the cluster was last indexed from."""
        return self._recorded.get("corpus")

    def _size_bytes(self) -> int:
        total = 0
        for copies in shard_copies(self._connection, self.address.index):
            connection = connect(copies[0])
            try:
                status = dict(rows(connection, f"SHOW INDEX {copies[0].index} STATUS"))
            finally:
                connection.close()
            total += int(status.get("disk_bytes", 0)) + int(status.get("ram_bytes", 0))
        return total

    def _total(self, where: str) -> int:
        return self._select(f"SELECT id FROM {self.address.index}{where} LIMIT 1 OPTION {RETRIES}")[1]


def _moment(stamp) -> "datetime | None":
    """A date column value (UTC seconds) as an aware datetime in UTC."""
    return datetime.fromtimestamp(int(stamp), timezone.utc) if stamp else None


def _and(where: str, condition: str) -> str:
    return f"{where} AND {condition}" if where else f" WHERE {condition}"


def _id(path: str) -> int:
    from .build import document_id

    return document_id(path)


def _meta(text: str | None) -> dict:
    try:
        found = json.loads(text or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}

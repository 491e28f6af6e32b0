"""Parsed queries to Whoosh queries, ranked by how much of the query a document covers.

Default semantics (no operator between words): every word is optional, and each
word a document has adds its BM25F score plus a coverage bonus of up to
:data:`COVERAGE_WEIGHT`, which saturates with that score. So a query keeps its
recall when one word is missing from the article, articles holding more of the
words come first, and a word that says little about the document (common, like
时候 or 开始, or lost in a whole day's transcript) adds little coverage. Words of
one unspaced Chinese chunk (``点滴守护为什么关停``) count as separate words.
(A bonus for words found close together was measured flat on the stories-only
sets, before coverage saturated: there is none.)
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from whoosh import query as wq

from ..engine.bm25f import accumulate, postings_of, query_scores, term_scores_of
from ..engine.postings import numpy_loaded, numpy_pays
from ..engine.precomputed import Precomputed
from ..schema import TEXT_FIELDS, exact_value
from ..text.tokenizers import grams
from ..text.synonyms import Synonyms, lookup
from ..text.tokens import phrase_terms
from ..text.tokens import terms as analyze_terms
from ..text.user_dict import UserDict
from .syntax import MAX_WORDS, Alternatives, Group, Phrase, Words, wanted

if TYPE_CHECKING:
    from ..engine import maxscore

#: Most a matched word adds for covering the query, on top of its BM25F score ``s``:
#: ``COVERAGE_WEIGHT * s / (s + k)``, where ``k`` is :data:`COVERAGE_SATURATION` times
#: the index's highest IDF, so that small and large indexes saturate alike. A flat
#: bonus per word (1,000) let whole-day transcripts, which hold every common word
#: somewhere, outrank the story; these values sit mid-plateau in ``scripts/evaluate.py``
#: (issue 14).
COVERAGE_WEIGHT = 150.0
COVERAGE_SATURATION = 0.5

#: Postings a segment's free-text query must read before MaxScore (numpy, bounds,
#: pruning) is quicker than scoring every match (measured over the bench queries).
PRUNE_FROM = 5_000
#: Postings from which every match is quicker scored as numpy arrays than in dicts,
#: in a process that has numpy loaded (measured over the bench queries).
ARRAYS_FROM = 1_000

#: Weight of the title's character n-grams shared with the query's words (see :func:`search.text.tokenizers.grams`).
GRAMS_BOOST = 1.0

#: Share of the query's n-grams a title needs to be found by n-grams alone,
#: which a search tries when its words find fewer than FEW_MATCHES articles.
LOOSE_SHARE = 0.5
FEW_MATCHES = 10


def to_whoosh(
    tree: Alternatives, *, loose: bool = False, user: UserDict | None = None, synonyms: Synonyms | None = None
) -> wq.Query:
    """The Whoosh query for a parsed query string (``NullQuery`` if it has no words).

    The title n-grams of the query's free words always add to the score; with
    ``loose`` they also find documents on their own (ranked below the documents
    that have the words), for queries whose words find too little.
    ``user`` is the index's user dictionary, so words are cut as its text was;
    a free word with ``synonyms`` finds them too, as one word (:class:`AnyOf`).
    """
    return _Compiler(loose, user, synonyms).alternatives(tree)


def has_loose_matches(tree: Alternatives) -> bool:
    """Whether :func:`to_whoosh` with ``loose`` can find more than without."""
    return any(isinstance(node, Words) and node.field is None and grams(node.text) for node in wanted(tree))


class _Compiler:
    def __init__(self, loose: bool = False, user: UserDict | None = None, synonyms: Synonyms | None = None) -> None:
        self.words = 0
        self.loose = loose
        self.user = user
        self.synonyms = lookup(synonyms, user) if synonyms else None

    def alternatives(self, node: Alternatives, top: bool = True) -> wq.Query:
        options = [self.group(option, top) for option in node.options]
        options = [option for option in options if option is not wq.NullQuery]
        if not options:
            return wq.NullQuery
        if len(options) == 1:
            return options[0]
        return Union(options) if top else wq.Or(options)

    def group(self, group: Group, top: bool = True) -> wq.Query:
        """One group; only the top level ranks by matched words (a nested group is one word)."""
        must: list[wq.Query] = []
        should: list[wq.Query] = []
        bonus: list[wq.Query] = []
        must_not: list[wq.Query] = []
        loose: list[str] = []  # text of the optional words, for the n-gram fallback
        for occur, node in group.clauses:
            if isinstance(node, (Group, Alternatives)):
                compiled = self.alternatives(node, False) if isinstance(node, Alternatives) else self.group(node, False)
                parts = [] if compiled is wq.NullQuery else [compiled]
            else:
                parts = self.leaf(node)
            if occur == "must_not":
                must_not.extend(parts)
            elif occur == "must":
                must.extend(parts)
            else:
                should.extend(parts)
                if isinstance(node, Words) and node.field is None and parts:
                    loose.append(node.text)
        if not must and not should:
            if not must_not:
                return wq.NullQuery
            positive: wq.Query = wq.Every()
        elif must and not should:
            positive = must[0] if len(must) == 1 else wq.And(must)
        else:
            fallback = None
            if top and loose:
                # Shared title n-grams always add to the score; in a loose search,
                # enough of them also find an article with none of the words.
                grams_query = _grams_query(" ".join(loose), LOOSE_SHARE if self.loose else 0.0)
                if self.loose:
                    fallback = grams_query
                elif grams_query is not None:
                    bonus.append(grams_query)
            ranked = Coordinated(should, bonus, fallback) if top else (should[0] if len(should) == 1 else wq.Or(should))
            positive = wq.AndMaybe(wq.And(must), ranked) if must else ranked
        if must_not:
            positive = wq.AndNot(positive, wq.Or(must_not))
        return positive

    def leaf(self, node: Words | Phrase) -> list[wq.Query]:
        """Queries for a word chunk or phrase: one per word (OR-ed over fields)."""
        if node.field in ("category", "tag", "author"):
            return [self.exact(node.field, node.text)]
        fields = (node.field,) if node.field else TEXT_FIELDS
        analyzed = analyze_terms(node.text, self.user)
        if isinstance(node, Phrase) and len(analyzed) > 1:
            analyzed = phrase_terms(node.text, self.user)  # one word needs no phrase: its term is indexed whole
        words = analyzed[: max(0, MAX_WORDS - self.words)]
        self.words += len(words)
        if not words:
            return []
        if isinstance(node, Phrase) and len(words) > 1:
            return [_words_query(fields, words)]
        if isinstance(node, Phrase) or self.synonyms is None:
            return [_words_query(fields, [word]) for word in words]
        return [_any_of([_words_query(fields, found) for found in alternatives]) for _, alternatives in self.synonyms.slots(words)]

    def exact(self, name: str, text: str) -> wq.Query:
        """``category:`` / ``tag:`` / ``author:``: the exact value, as the filters match it."""
        return wq.Term(name, exact_value(text))


def _grams_query(text: str, share: float) -> wq.Query | None:
    """Title n-grams of ``text``; a document needs ``share`` of them (at least one)."""
    found = list(dict.fromkeys(grams(text)))
    if not found:
        return None
    least = max(1, math.ceil(share * len(found)))
    return AtLeast([wq.Term("grams", gram, boost=GRAMS_BOOST) for gram in found], least)


def _words_query(fields: tuple[str, ...], words: list[str] | tuple[str, ...]) -> wq.Query:
    """One word, or words side by side, in any of ``fields``."""
    if len(words) == 1:
        return _over_fields(fields, lambda name: wq.Term(name, words[0]))
    return _over_fields(fields, lambda name: wq.Phrase(name, list(words)))


def _any_of(queries: list[wq.Query]) -> wq.Query:
    return queries[0] if len(queries) == 1 else AnyOf(queries)


def _over_fields(fields: tuple[str, ...], make) -> wq.Query:
    queries = [make(name) for name in fields]
    return queries[0] if len(queries) == 1 else FieldsOr(queries)


class FieldsOr(wq.Or):
    """One word or phrase in several fields, scores summed. Always a tree of union
    matchers: Whoosh's default for indexes under 5,000 documents preloads 2,048-document
    score arrays, which costs more than the whole search for a rare word."""

    matcher_type = wq.Or.DEFAULT_MATCHER


class Coordinated(Precomputed, wq.CompoundQuery):
    """OR of words, where each matched word adds its saturating coverage bonus (:func:`covered`).

    ``bonus`` queries add their score when they match but are not words: they
    neither count as a match nor make a document match on their own.
    """

    JOINT = " ~OR "

    def __init__(
        self,
        subqueries: list[wq.Query],
        bonus: list[wq.Query] | None = None,
        fallback: wq.Query | None = None,
        boost: float = 1.0,
    ):
        super().__init__(subqueries, boost=boost)
        self.bonus = list(bonus or [])
        self.fallback = fallback

    def __eq__(self, other: object) -> bool:
        return (
            super().__eq__(other)
            and self.bonus == getattr(other, "bonus", None)
            and self.fallback == getattr(other, "fallback", None)
        )

    __hash__ = wq.CompoundQuery.__hash__

    def normalize(self) -> wq.Query:
        fallback = None if self.fallback is None else self.fallback.normalize()
        return Coordinated([q.normalize() for q in self.subqueries], [q.normalize() for q in self.bonus], fallback, self.boost)

    def scores(self, searcher, context=None) -> dict[int, float]:
        """Document number → score, for every document of the segment that matches."""
        saturation = COVERAGE_SATURATION * highest_idf(searcher)
        total, _ = accumulate(covered(query_scores(searcher, word, context), saturation) for word in self.subqueries)
        if self.fallback is not None:
            for docnum, score in query_scores(searcher, self.fallback, context).items():
                total[docnum] = total.get(docnum, 0.0) + score  # found, but not a word
        found = sorted(total) if self.bonus else []
        for extra in self.bonus:
            for docnum, score in _bonus_scores(searcher, extra, found, context).items():
                if docnum in total:
                    total[docnum] += score
        return total

    def best(self, searcher, k: int, floor: float, keep=None, context=None) -> "maxscore.Best | None":
        """The segment's documents that may be among the ``k`` best, with the scores
        :meth:`scores` gives them (:mod:`search.engine.maxscore`: pruned from
        :data:`PRUNE_FROM` postings, all of them as arrays from :data:`ARRAYS_FROM`,
        where numpy pays); ``None`` when :meth:`scores` should score them all in dicts, as when the n-gram
        fallback finds documents too (a search for few matches: it needs all)."""
        if self.fallback is not None:
            return None  # all of them
        postings = postings_of(searcher, self)
        if postings < PRUNE_FROM and (postings < ARRAYS_FROM or not numpy_loaded()):
            return None  # few enough that scoring every match in dicts is quicker (or numpy is not loaded)
        if not self._numpy_pays(searcher):
            return None  # in dicts: quicker than loading numpy, for a search or two
        from ..engine import maxscore  # numpy: only a search of many matches needs it

        saturation = COVERAGE_SATURATION * highest_idf(searcher)
        weight = COVERAGE_WEIGHT
        words = [maxscore.Word.of(searcher, word, context) for word in self.subqueries]
        bonuses = [_bonus_of(searcher, extra, context) for extra in self.bonus]
        # The expression of covered(), so the same floats.
        transform = lambda score: score + weight * score / (score + saturation)  # noqa: E731
        if postings < PRUNE_FROM:
            return maxscore.every(searcher, words, transform, bonuses, keep)
        return maxscore.best(searcher, words, transform, bonuses, k, floor, keep)

    def _numpy_pays(self, searcher) -> bool:
        """:func:`numpy_pays` for the whole index's postings, asked once per search."""
        if "_numpy_decided" not in self.__dict__:
            self._numpy_decided = numpy_pays(postings_of(searcher.get_parent(), self))
        return self._numpy_decided


def _bonus_of(searcher, query: wq.Query, context) -> "maxscore.Bonus":
    """A bonus query (:class:`AtLeast` of title n-grams) as MaxScore adds it."""
    from ..engine import maxscore

    if isinstance(query, AtLeast):
        return maxscore.Bonus([maxscore.scored(searcher, sub, context) for sub in query.subqueries], query.least)
    return maxscore.Bonus([maxscore.scored(searcher, query, context)])


def _bonus_scores(searcher, query: wq.Query, docs: list[int], context) -> dict[int, float]:
    """A bonus query's scores, of ``docs`` (rising) at least: an :class:`AtLeast` of
    terms (title n-grams, whose lists are long) reads only the blocks holding them."""
    if isinstance(query, AtLeast) and all(type(sub) is wq.Term for sub in query.subqueries):
        found = [term_scores_of(searcher, sub, docs) for sub in query.subqueries]
        if all(scores is not None for scores in found):
            sums, counts = accumulate(found)
            return {docnum: score for docnum, score in sums.items() if counts[docnum] >= query.least}
    return query_scores(searcher, query, context)


def covered(scores: dict[int, float], saturation: float) -> dict[int, float]:
    """One word's BM25F scores with its coverage bonus added (see :data:`COVERAGE_WEIGHT`)."""
    weight = COVERAGE_WEIGHT
    return {docnum: score + weight * score / (score + saturation) for docnum, score in scores.items()}


def highest_idf(searcher) -> float:
    """Whoosh's IDF of a word found in one document of the whole index."""
    return math.log(max(searcher.get_parent().doc_count_all(), 1) / 2) + 1


class Union(Precomputed, wq.Or):
    """Alternatives (``a OR b``): the documents any of them finds, scored by the sum of
    those that find it, added in their order. Scored a segment at a time, so the page is
    taken without Whoosh's collector stepping through every match and then counting them
    all again (15,740 matches at 10x: 49 ms, two thirds counting).

    Two alternatives score as Whoosh's union matcher scores them. For more, Whoosh adds
    them in an order of its estimates of their sizes. Its collector's block skipping over
    alternatives also lost better documents and miscounted, which this does not
    (``中国 OR 世界 OR 经济`` at 10x; ``-经济 OR 马拉松`` counted 44 where 75 match)."""

    def normalize(self) -> wq.Query:
        return Union([q.normalize() for q in self.subqueries], self.boost)

    def scores(self, searcher, context=None) -> dict[int, float]:
        found, _ = accumulate(query_scores(searcher, query, context) for query in self.subqueries)
        if self.boost != 1.0:
            return {docnum: score * self.boost for docnum, score in found.items()}
        return found


class AnyOf(Precomputed, wq.CompoundQuery):
    """A word and its synonyms, matched as one word: a document scores its best of them.

    Each is scored as if it were as common as the most common of them, so a rare
    synonym (社群 for 社区) never outscores the word itself for being rare.
    """

    JOINT = " ~ANY "

    def normalize(self) -> wq.Query:
        return AnyOf([q.normalize() for q in self.subqueries], self.boost)

    def scores(self, searcher, context=None) -> dict[int, float]:
        found = [query_scores(searcher, query, context) for query in self.subqueries]
        documents = max(searcher.doc_count_all(), 1)
        idfs = [math.log(documents / (len(scores) + 1)) + 1 for scores in found]
        common = min(idfs)
        best: dict[int, float] = {}
        for scores, idf in zip(found, idfs):
            scale = common / idf
            for docnum, score in scores.items():
                if score * scale > best.get(docnum, 0.0):
                    best[docnum] = score * scale
        return best


class AtLeast(Precomputed, wq.CompoundQuery):
    """Documents matching at least ``least`` of the subqueries, scored by their sum
    (Whoosh's ``Or(minmatch=…)`` is not implemented)."""

    JOINT = " ~ATLEAST "

    def __init__(self, subqueries: list[wq.Query], least: int, boost: float = 1.0):
        super().__init__(subqueries, boost=boost)
        self.least = least

    def __eq__(self, other: object) -> bool:
        return super().__eq__(other) and self.least == getattr(other, "least", None)

    __hash__ = wq.CompoundQuery.__hash__

    def normalize(self) -> wq.Query:
        return AtLeast([q.normalize() for q in self.subqueries], self.least, self.boost)

    def scores(self, searcher, context=None) -> dict[int, float]:
        sums, counts = accumulate(query_scores(searcher, sub, context) for sub in self.subqueries)
        return {docnum: score for docnum, score in sums.items() if counts[docnum] >= self.least}

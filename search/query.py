"""Query strings to Whoosh queries: a small, lenient syntax that never raises.

Syntax: words (``滴滴 关停``), phrases (``"人工智能"`` or ``“人工智能”``), fields
(``title:`` ``body:`` ``category:`` ``tag:`` ``author:``), ``AND`` / ``OR`` /
``NOT``, ``+word`` (required), ``-word`` (excluded) and parentheses.

Default semantics (no operator between words): every word is optional but
documents are ranked first by how many of the words they contain, then by BM25F.
So a query keeps its recall when one word is missing from the article, yet the
articles that contain all words come first. Words of one unspaced Chinese chunk
(``点滴守护为什么关停``) count as separate words. (A bonus for words found close
together was measured flat on both evaluation sets, and cost a phrase search per
query: there is none.)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Iterator, Literal

from whoosh import query as wq

from .analysis import UserDict, grams, phrase_terms
from .analysis import terms as analyze_terms
from .schema import TEXT_FIELDS, exact_value
from .scoring import Precomputed, accumulate, query_scores

Occur = Literal["should", "must", "must_not"]

#: Longest query text considered, and most words in one query.
MAX_QUERY_CHARS = 1000
MAX_WORDS = 64
MAX_DEPTH = 16

#: Score added per matched word, so that more matched words always rank higher.
COORDINATION_WEIGHT = 1000.0
#: Weight of the title's character n-grams shared with the query's words (see ``analysis.grams``).
GRAMS_BOOST = 1.0
#: Share of the query's n-grams a title needs to be found by n-grams alone,
#: which a search tries when its words find fewer than FEW_MATCHES articles.
LOOSE_SHARE = 0.5
FEW_MATCHES = 10

_FIELDS = {
    "title": "title", "标题": "title",
    "body": "body", "正文": "body", "content": "body",
    "category": "category", "categories": "category", "分类": "category",
    "tag": "tag", "tags": "tag", "标签": "tag",
    "author": "author", "作者": "author", "source": "author",
}  # fmt: skip
_QUOTES = {'"': '"', "“": "”", "”": "”", "「": "」", "『": "』", "＂": "＂"}
_LEXEME = re.compile(
    r"""(?P<space>\s+)
      | (?P<sign>[-+＋－])(?=["“”「『＂(（]|[^\W\d_]+\s*[:：]\S)
      | (?P<open>[(（])
      | (?P<close>[)）])
      | (?P<quote>["“”「『＂])
      | (?P<field>[^\W\d_]+)\s*[:：](?=\S)
      | (?P<word>[^\s()（）"“”「」『』＂]+)
    """,
    re.X,
)


@dataclass(frozen=True)
class Words:
    """Free text (one whitespace-separated chunk), optionally limited to one field."""

    text: str
    field: str | None = None


@dataclass(frozen=True)
class Phrase:
    """Quoted text: its words must appear in order, next to each other."""

    text: str
    field: str | None = None


@dataclass
class Group:
    """Clauses with how each must occur; ``alternatives`` holds ``OR``-ed groups."""

    clauses: list[tuple[Occur, "Node"]] = field(default_factory=list)


@dataclass
class Alternatives:
    """Groups joined by ``OR``: a document matches if any group does."""

    options: list[Group]


Node = Words | Phrase | Group | Alternatives


def parse(text: str) -> Alternatives:
    """Parse a query string; any input gives a query (bad syntax becomes plain words)."""
    text = text.replace("\x00", " ")[:MAX_QUERY_CHARS]
    try:
        return _Parser(list(_lex(text))).parse()
    except Exception:  # the parser is total by design; this is the last resort
        return Alternatives([Group([("should", Words(chunk)) for chunk in text.split()])])


def _lex(text: str) -> Iterator[tuple[str, str]]:
    position = 0
    while position < len(text):
        match = _LEXEME.match(text, position)
        if match is None:  # a lone closing quote such as 」: treat as a separator
            position += 1
            continue
        kind = match.lastgroup or "space"
        position = match.end()
        if kind == "quote":
            closing = _QUOTES.get(match.group(), '"')
            end = text.find(closing, position)
            end = len(text) if end < 0 else end
            yield "phrase", text[position:end]
            position = end + 1
        elif kind == "field":
            yield "field", match.group("field")
        elif kind != "space":
            yield kind, match.group()


class _Parser:
    def __init__(self, lexemes: list[tuple[str, str]]) -> None:
        self.lexemes = lexemes
        self.index = 0

    def peek(self) -> tuple[str, str] | None:
        return self.lexemes[self.index] if self.index < len(self.lexemes) else None

    def take(self) -> tuple[str, str]:
        lexeme = self.lexemes[self.index]
        self.index += 1
        return lexeme

    def parse(self) -> Alternatives:
        result = self.alternatives(depth=0)
        while self.peek() is not None:  # a stray ")" ends a group early: keep going
            self.take()
            result.options.extend(self.alternatives(depth=0).options)
        return result

    def alternatives(self, depth: int) -> Alternatives:
        options = [self.group(depth)]
        while self.peek() == ("word", "OR") or self.peek() == ("word", "||"):
            self.take()
            options.append(self.group(depth))
        return Alternatives([option for option in options if option.clauses] or [Group()])

    def group(self, depth: int) -> Group:
        group = Group()
        pending: Occur | None = None  # set by AND, NOT, + and - for the next clause
        while (lexeme := self.peek()) is not None:
            kind, value = lexeme
            if (kind == "close" and depth > 0) or (kind == "word" and value in ("OR", "||")):
                break
            self.take()
            if kind == "word" and value in ("AND", "&&"):
                if group.clauses and group.clauses[-1][0] == "should":
                    group.clauses[-1] = ("must", group.clauses[-1][1])
                pending = pending or "must"
                continue
            if kind == "sign" or (kind == "word" and value == "NOT"):
                pending = "must" if value in "+＋" else "must_not"
                continue
            clause = self.unary(kind, value, depth)
            if clause is not None:
                occur, node = clause
                group.clauses.append((pending if pending and occur == "should" else occur, node))
            pending = None
        return group

    def unary(self, kind: str, value: str, depth: int) -> tuple[Occur, Node] | None:
        occur: Occur = "should"
        if kind == "word" and len(value) > 1 and value[0] in "+-＋－":
            occur = "must" if value[0] in "+＋" else "must_not"
            value = value[1:]
        elif kind == "word" and value in ("+", "-", "＋", "－"):
            return None  # a lone operator means nothing
        if kind == "open":
            if depth >= MAX_DEPTH:
                return None  # absurdly deep nesting: the bracket is just a separator
            inner = self.alternatives(depth + 1)
            if self.peek() is not None and self.peek()[0] == "close":
                self.take()
            return occur, inner
        if kind == "close":
            return None
        if kind == "phrase":
            return occur, Phrase(value)
        if kind == "field":
            name = _FIELDS.get(value.lower())
            following = self.peek()
            if name is None:
                return occur, Words(value)  # not a field we know: plain text
            if following is None or following[0] not in ("word", "phrase"):
                return None  # `title:` with nothing after it
            follow_kind, follow_value = self.take()
            return occur, (Phrase if follow_kind == "phrase" else Words)(follow_value, name)
        return occur, Words(value)


def _wanted(tree: Node) -> Iterator[Words | Phrase]:
    """The words and phrases a query looks for in text (not excluded, not exact fields)."""

    def visit(node: Node, negated: bool) -> Iterator[Words | Phrase]:
        if isinstance(node, Alternatives):
            for option in node.options:
                yield from visit(option, negated)
        elif isinstance(node, Group):
            for occur, child in node.clauses:
                yield from visit(child, negated or occur == "must_not")
        elif not negated and node.field in (None, "title", "body"):
            yield node

    return visit(tree, False)


def highlight_phrases(tree: Node, user: UserDict | None = None) -> list[list[str]]:
    """The quoted phrases a query looks for, as lists of terms, for snippets."""
    phrases = (phrase_terms(node.text, user) for node in _wanted(tree) if isinstance(node, Phrase))
    return [terms for terms in phrases if len(terms) > 1]


def highlight_terms(tree: Node, user: UserDict | None = None) -> set[str]:
    """Analysed terms a query looks for (excluded ones left out), for highlighting."""
    found: set[str] = set()
    for node in _wanted(tree):
        found.update(phrase_terms(node.text, user) if isinstance(node, Phrase) else analyze_terms(node.text, user))
    return found


def to_whoosh(tree: Alternatives, *, loose: bool = False, user: UserDict | None = None) -> wq.Query:
    """The Whoosh query for a parsed query string (``NullQuery`` if it has no words).

    The title n-grams of the query's free words always add to the score; with
    ``loose`` they also find documents on their own (ranked below every document
    that has one of the words), for queries whose words find too little.
    ``user`` is the index's user dictionary, so words are cut as its text was.
    """
    return _Compiler(loose, user).alternatives(tree)


def has_loose_matches(tree: Alternatives) -> bool:
    """Whether :func:`to_whoosh` with ``loose`` can find more than without."""
    return any(isinstance(node, Words) and node.field is None and grams(node.text) for node in _wanted(tree))


class _Compiler:
    def __init__(self, loose: bool = False, user: UserDict | None = None) -> None:
        self.words = 0
        self.loose = loose
        self.user = user

    def alternatives(self, node: Alternatives, top: bool = True) -> wq.Query:
        options = [self.group(option, top) for option in node.options]
        options = [option for option in options if option is not wq.NullQuery]
        if not options:
            return wq.NullQuery
        return options[0] if len(options) == 1 else wq.Or(options)

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
            return [_over_fields(fields, lambda name: wq.Phrase(name, words))]
        return [_over_fields(fields, lambda name, word=word: wq.Term(name, word)) for word in words]

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


def _over_fields(fields: tuple[str, ...], make) -> wq.Query:
    queries = [make(name) for name in fields]
    return queries[0] if len(queries) == 1 else FieldsOr(queries)


class FieldsOr(wq.Or):
    """One word or phrase in several fields, scores summed. Always a tree of union
    matchers: Whoosh's default for indexes under 5,000 documents preloads 2,048-document
    score arrays, which costs more than the whole search for a rare word."""

    matcher_type = wq.Or.DEFAULT_MATCHER


class Coordinated(Precomputed, wq.CompoundQuery):
    """OR of words, where each matched word adds :data:`COORDINATION_WEIGHT` to the score.

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
        sums, counts = accumulate(query_scores(searcher, word, context) for word in self.subqueries)
        if self.fallback is not None:
            for docnum, score in query_scores(searcher, self.fallback, context).items():
                sums[docnum] = sums.get(docnum, 0.0) + score  # found, but not a word
        total = {docnum: score + counts.get(docnum, 0) * COORDINATION_WEIGHT for docnum, score in sums.items()}
        for extra in self.bonus:
            for docnum, score in query_scores(searcher, extra, context).items():
                if docnum in total:
                    total[docnum] += score
        return total


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

"""The query syntax: a small, lenient language that never raises.

Syntax: words (``滴滴 关停``), phrases (``"人工智能"`` or ``“人工智能”``), fields
(``title:`` ``body:`` ``category:`` ``tag:`` ``author:``), ``AND`` / ``OR`` /
``NOT``, ``+word`` (required), ``-word`` (excluded) and parentheses. Any input
parses: bad syntax becomes plain words. :mod:`.compile` turns the tree into a
Whoosh query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator, Literal

from ..text.synonyms import Synonyms, lookup
from ..text.tokens import phrase_terms
from ..text.tokens import terms as analyze_terms
from ..text.user_dict import UserDict

Occur = Literal["should", "must", "must_not"]

#: Longest query text considered, and most words in one query.
MAX_QUERY_CHARS = 1000
MAX_WORDS = 64
MAX_DEPTH = 16
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


def wanted(tree: Node) -> Iterator[Words | Phrase]:
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
    phrases = (phrase_terms(node.text, user) for node in wanted(tree) if isinstance(node, Phrase))
    return [terms for terms in phrases if len(terms) > 1]


def highlight_terms(tree: Node, user: UserDict | None = None, synonyms: Synonyms | None = None) -> set[str]:
    """Analysed terms a query looks for (excluded ones left out), with the synonyms
    of its free words, for highlighting."""
    found: set[str] = set()
    table = lookup(synonyms, user) if synonyms else None
    for node in wanted(tree):
        if isinstance(node, Phrase):
            found.update(phrase_terms(node.text, user))
            continue
        words = analyze_terms(node.text, user)
        found.update(words)
        if table is not None:
            found.update(term for _, alternatives in table.slots(words) for terms in alternatives for term in terms)
    return found

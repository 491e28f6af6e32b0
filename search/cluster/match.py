"""Parsed queries (:mod:`search.query.syntax`) as SphinxQL ``MATCH`` expressions over
our own tokens: the same words, phrases, fields, operators and synonyms."""

from __future__ import annotations

from ..query.syntax import MAX_WORDS, Alternatives, Group, Phrase, Words
from ..text.synonyms import Synonyms, lookup
from ..text.tokens import phrase_terms
from ..text.tokens import terms as analyze_terms
from ..text.user_dict import UserDict

_FIELDS = {"title": "title", "body": "body", "category": "categories", "tag": "categories", "author": None}


def to_match(tree: Alternatives, synonyms: Synonyms | None = None, user: UserDict | None = None) -> str:
    """The ``MATCH`` text of ``tree`` ('' when it has no words: list everything), its
    words cut with the user dictionary the articles were cut with."""
    return _Compiler(synonyms, user).alternatives(tree)


class _Compiler:
    def __init__(self, synonyms: Synonyms | None, user: UserDict | None) -> None:
        self.words = 0
        self.user = user
        self.synonyms = lookup(synonyms, user) if synonyms else None

    def alternatives(self, node: Alternatives) -> str:
        options = [text for text in (self.group(option) for option in node.options) if text]
        if len(options) > 1:
            return " | ".join(f"({text})" for text in options)
        return options[0] if options else ""

    def group(self, group: Group) -> str:
        must, should, must_not = [], [], []
        for occur, node in group.clauses:
            if isinstance(node, Alternatives):
                text = self.alternatives(node)
                text = f"({text})" if text else ""
            elif isinstance(node, Group):
                text = self.group(node)
                text = f"({text})" if text else ""
            else:
                text = self.leaf(node)
            if text:
                {"must": must, "should": should, "must_not": must_not}[occur].append(text)
        either = " | ".join(should)
        if must:  # the optional words rank, but need not match
            text = " ".join(must) + (f" MAYBE ({either})" if should else "")
        elif should:
            text = either
        else:
            return ""  # only exclusions: Sphinx cannot search for nothing but them
        return " ".join([text] + [f"-{part}" for part in must_not])

    def leaf(self, node: Words | Phrase) -> str:
        if node.field == "author":
            return ""  # authors are filters in a cluster, not text
        field = _FIELDS.get(node.field) if node.field else None
        prefix = f"@{field} " if field else ""
        if isinstance(node, Phrase):
            words = phrase_terms(node.text, self.user)[: max(0, MAX_WORDS - self.words)]
            self.words += len(words)
            return f"{prefix}{phrase(words)}" if words else ""
        words = analyze_terms(node.text, self.user)[: max(0, MAX_WORDS - self.words)]
        self.words += len(words)
        if not words:
            return ""
        slots = self.synonyms.slots(words) if self.synonyms else [((word,), ((word,),)) for word in words]
        texts = [" | ".join(phrase(found) for found in alternatives) for _, alternatives in slots]
        texts = [f"({text})" if " | " in text else text for text in texts]
        joined = " | ".join(texts)
        return f"{prefix}({joined})" if prefix and len(texts) > 1 else f"{prefix}{joined}"


def phrase(words: list[str] | tuple[str, ...]) -> str:
    """Words side by side, quoted so Sphinx reads each of our tokens as written."""
    return '"' + " ".join(word.replace("\\", "\\\\").replace('"', '\\"') for word in words) + '"'

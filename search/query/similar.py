"""More like this: an article's most distinctive words, as a query for others like it.

The words come from the query-time analysis of the article's title and stored text,
so a compound is one word, not also its dictionary parts (which Whoosh's
``more_like`` would count too). They are weighed with Whoosh's Bo1 key-term model
against the body field. Words that cannot say what an article is about are left
out: words no other article holds (a video id, a name), bare numbers (``140``,
``2024``) and Latin function words (``the``, ``of``); Chinese stopwords never
become terms at all.
"""

from __future__ import annotations

import re
from collections import Counter

from whoosh import classify
from whoosh import query as wq

from ..text.tokens import terms as analyze_terms
from ..text.user_dict import UserDict

#: How many of an article's most distinctive words a similar search looks for.
SIMILAR_TERMS = 12
#: Where the words are looked for.
SIMILAR_FIELDS = ("title", "body")

_NUMBER = re.compile(r"\d+(?:\.\d+)*")
_LATIN_FUNCTION_WORDS = frozenset(
    "a an and are as at be but by can do for from had has have he her his i if in into is it its may not of on or "
    "our she so than that the their them then there these they this those to was we were what when which who will "
    "with would you your".split()
)


def key_terms(stored: dict, reader, user: UserDict | None = None) -> list[tuple[str, float]]:
    """The most distinctive words of an article's stored fields, with their weights, best first."""
    body_terms = analyze_terms(stored.get("body") or "", user)
    own = set(body_terms)
    title_terms = analyze_terms((stored.get("meta") or {}).get("title") or "", user)
    counts = {
        word: count
        for word, count in Counter(title_terms + body_terms).items()
        if is_telling(word) and reader.doc_frequency("body", word) - (word in own) > 0
    }
    if not counts:  # only stopwords, numbers, punctuation, or words of its own
        return []
    expander = classify.Expander(reader, "body")
    expander.add(counts.items())
    return expander.expanded_terms(SIMILAR_TERMS)


def is_telling(word: str) -> bool:
    """Whether a word can say what an article is about."""
    return not (_NUMBER.fullmatch(word) or word in _LATIN_FUNCTION_WORDS or (len(word) == 1 and word.isascii()))


def similar_query(terms: list[tuple[str, float]]) -> wq.Query:
    """Any of the words in titles or bodies, each weighted by how distinctive it is."""
    return wq.Or([wq.Term(field, word, boost=weight) for word, weight in terms for field in SIMILAR_FIELDS])

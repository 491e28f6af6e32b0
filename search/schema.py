"""The index schema: which fields exist, how each is analysed, stored and weighted."""

from __future__ import annotations

from whoosh import columns, fields

from .errors import REBUILD_HINT, IndexCorruptError, IndexVersionError
from .text import ANALYSIS_VERSION
from .text import settings as analysis_settings
from .text.normalize import normalize
from .text.tokenizers import ChineseTokenizer, GramTokenizer
from .text.user_dict import UserDict

#: Bumped whenever fields change in a way old indexes cannot serve.
SCHEMA_VERSION = 3

#: Field weights in free-text search: title above categories above body.
FIELD_BOOSTS = {"title": 4.0, "categories": 2.0, "body": 1.0}

#: The fields a free-text query searches.
TEXT_FIELDS = tuple(FIELD_BOOSTS)


def build_schema(user: UserDict | None = None) -> fields.Schema:
    """A fresh schema; ``path`` is the unique id of a document; ``user`` words
    are added to jieba's dictionary for this index's text."""
    chinese = ChineseTokenizer(user)

    def text(name: str, *, stored: bool) -> fields.TEXT:
        return fields.TEXT(analyzer=chinese, phrase=True, stored=stored, field_boost=FIELD_BOOSTS[name])

    def exact() -> fields.KEYWORD:
        # Exact values for filters, normalised the way filter arguments are.
        return fields.KEYWORD(lowercase=False, commas=True, scorable=False)

    return fields.Schema(
        path=fields.ID(stored=True, unique=True, sortable=True),
        title=text("title", stored=False),
        body=text("body", stored=True),
        categories=text("categories", stored=False),
        # Character n-grams of the title: evidence when words are cut differently.
        grams=fields.TEXT(analyzer=GramTokenizer(), phrase=False, stored=False),
        category=exact(),
        # Every path from the top level down (新媒体, 新媒体/cnbeta, …): the facets' tree.
        category_path=exact(),
        tag=exact(),
        author=exact(),
        # Missing dates sort as the oldest, so undated articles come last newest-first.
        date=fields.DATETIME(sortable=columns.NumericColumn("Q", default=0)),
        meta=fields.STORED(),
        # What an update compares with the files: values per document, never searched.
        content_hash=fields.COLUMN(columns.VarBytesColumn()),
        size=fields.COLUMN(columns.NumericColumn("q")),
        mtime_ns=fields.COLUMN(columns.NumericColumn("q")),
    )


def exact_value(value: str) -> str:
    """How a category, tag or author is stored for exact filtering (and looked up)."""
    normalized, _ = normalize(value)
    return " ".join(normalized.lower().split()).replace(",", " ")


def category_paths(categories: list[str] | tuple[str, ...]) -> list[str]:
    """The exact values of every path of ``categories`` from the top (``a``, ``a/b``, ``a/b/c``)."""
    levels = [exact_value(name) for name in categories]
    return ["/".join(levels[: depth + 1]) for depth in range(len(levels))]


def index_settings() -> dict[str, object]:
    """What a generation records about how it was built, checked when it is opened."""
    return {"schema_version": SCHEMA_VERSION, "analysis": analysis_settings()}


def check_compatible(meta: dict, location: object) -> None:
    """Raise :class:`IndexVersionError` unless ``meta`` describes an index we can read."""
    if not meta:
        raise IndexCorruptError(
            f"index {location} has no readable news-search.json: {REBUILD_HINT}"
        )
    built = meta.get("schema_version"), (meta.get("analysis") or {}).get("analysis_version")
    wanted = SCHEMA_VERSION, ANALYSIS_VERSION
    if built != wanted:
        raise IndexVersionError(
            f"index {location} was built by an incompatible version of news-search "
            f"(schema {built[0]}, analysis {built[1]}; this version needs schema {wanted[0]}, "
            f"analysis {wanted[1]}): {REBUILD_HINT}"
        )


def user_dict_of(schema: fields.Schema) -> UserDict | None:
    """The user dictionary an index's text was segmented with, if any."""
    return getattr(schema["body"].analyzer, "user", None)

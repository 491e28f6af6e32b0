"""Meilisearch-compatible search: ``POST /indexes/{uid}/search`` and ``POST /multi-search``,
so Meilisearch's clients and InstantSearch widgets (through instant-meilisearch) work.

Documents have ``id`` (the path), ``path``, ``title``, ``date`` (ISO 8601 with its
offset), ``timestamp`` (Unix seconds), ``categories``, ``tags``, ``author`` and, when
asked for in ``attributesToRetrieve``, ``text``. Filters cover ``category``,
``author`` and ``date`` (``=``, ``IN``, ``OR`` within one attribute, ``AND``, ranges,
``TO``); facets are ``category`` and ``month``; the one sort is ``date:desc``.
What news-search does not do is refused with Meilisearch's error shape.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..limits import MAX_LIMIT
from ..query.snippets import Highlighted
from ..query.syntax import MAX_QUERY_CHARS
from .api import ApiError

#: The uid of the one index, as Meilisearch clients name it.
INDEX_UID = "news"

_PARAMETERS = {
    "q", "offset", "limit", "page", "hitsPerPage", "filter", "facets", "attributesToRetrieve",
    "attributesToHighlight", "highlightPreTag", "highlightPostTag", "attributesToCrop", "cropLength",
    "cropMarker", "sort", "showRankingScore",
}  # fmt: skip
_ATTRIBUTES = ("id", "path", "title", "date", "timestamp", "categories", "tags", "author")
_FACETS = {"category": "categories", "categories": "categories", "month": "months"}
_LINK = "https://www.meilisearch.com/docs/reference/errors/error_codes#"


class MeiliError(Exception):
    """An error in Meilisearch's shape: ``{message, code, type, link}``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(request: Request, error: MeiliError) -> JSONResponse:
    body = {"message": error.message, "code": error.code, "type": "invalid_request", "link": _LINK + error.code}
    return JSONResponse(body, status_code=error.status)


def routes(service) -> list[Route]:
    async def search(request: Request) -> JSONResponse:
        if request.path_params["uid"] != service.name:
            raise MeiliError(404, "index_not_found", f"Index `{request.path_params['uid']}` not found.")
        body = await _body(request)
        return JSONResponse(await _run_in_thread(service, body))

    async def multi_search(request: Request) -> JSONResponse:
        body = await _body(request)
        if body.get("federation") is not None:
            raise MeiliError(400, "bad_request", "federated search is not supported by news-search")
        queries = body.get("queries")
        if not isinstance(queries, list):
            raise MeiliError(400, "bad_request", "`queries` must be a list of searches")
        results = []
        for number, query in enumerate(queries):
            if not isinstance(query, dict) or query.get("indexUid") != service.name:
                uid = query.get("indexUid") if isinstance(query, dict) else None
                raise MeiliError(404, "index_not_found", f"Inside `.queries[{number}]`: Index `{uid}` not found.")
            parameters = {key: value for key, value in query.items() if key != "indexUid"}
            results.append({"indexUid": service.name, **await _run_in_thread(service, parameters)})
        return JSONResponse({"results": results})

    return [
        Route("/indexes/{uid}/search", search, methods=["POST"]),
        Route("/multi-search", multi_search, methods=["POST"]),
    ]


async def _body(request: Request) -> dict:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise MeiliError(400, "malformed_payload", "the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise MeiliError(400, "bad_request", "the request body must be a JSON object")
    return body


async def _run_in_thread(service, parameters: dict) -> dict:
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(search_response, service, parameters)


def search_response(service, parameters: dict) -> dict:
    """A Meilisearch search response for a Meilisearch search request."""
    started = time.perf_counter()
    unknown = sorted(set(parameters) - _PARAMETERS)
    if unknown:
        raise MeiliError(400, "bad_request", f"Unknown field `{unknown[0]}`: news-search supports {', '.join(sorted(_PARAMETERS))}")
    q = _text(parameters, "q", "")
    if len(q) > MAX_QUERY_CHARS:
        raise MeiliError(400, "invalid_search_q", f"`q` is longer than {MAX_QUERY_CHARS} characters")
    paged = "page" in parameters or "hitsPerPage" in parameters
    if paged:
        page, size = _count(parameters, "page", 1, least=1), _count(parameters, "hitsPerPage", 20)
        first, fetch = (page - 1) * size, max(size, 1)
        options = {"page": page, "limit": fetch}
    else:
        first, size = _count(parameters, "offset", 0), _count(parameters, "limit", 20)
        fetch = min(first + max(size, 1), MAX_LIMIT)
        options = {"page": 1, "limit": fetch}
    filters = parse_filter(parameters.get("filter"))
    facets = _facets(parameters.get("facets"))
    shape = _Shape.of(parameters)
    crop_length = _count(parameters, "cropLength", 10)
    try:
        with service.index() as index:
            result = index.search(
                q, **options, **filters, sort=_sort(parameters.get("sort")), facets=bool(facets),
                snippet_chars=max(2 * crop_length, 1), exact_total=paged,  # Meilisearch's totalHits is exhaustive
            )  # fmt: skip
            shown = result.hits if paged else result.hits[first:]
            hits = [_hit(index, hit, q, shape) for hit in shown[: size]]
    except ApiError as error:  # a filter value the library refuses, or no usable index
        code = ("invalid_search_filter" if filters else "bad_request") if error.status < 500 else "index_not_accessible"
        raise MeiliError(error.status, code, error.message) from None
    response: dict[str, object] = {"hits": hits, "query": q, "processingTimeMs": round((time.perf_counter() - started) * 1000)}
    if paged:
        response.update(hitsPerPage=size, page=page, totalPages=-(-result.total // size) if size else 0, totalHits=result.total)
    else:
        response.update(limit=size, offset=first, estimatedTotalHits=result.total)
    if facets:
        counts = {"categories": result.facets.categories, "months": result.facets.months}
        response["facetDistribution"] = {name: dict(counts[_FACETS[name]]) for name in facets}
        response["facetStats"] = {}
    return response


@dataclass(frozen=True)
class _Shape:
    """How hits are given back, read from the request once for all its hits."""

    retrieve: list[str]
    highlight: list[str]
    crop: list[str]
    marks: tuple[str, str]
    crop_marker: str
    ranking_score: bool

    @classmethod
    def of(cls, parameters: dict) -> "_Shape":
        return cls(
            retrieve=_attributes(parameters, "attributesToRetrieve") or ["*"],
            highlight=_attributes(parameters, "attributesToHighlight"),
            crop=_attributes(parameters, "attributesToCrop"),
            marks=(_text(parameters, "highlightPreTag", "<em>"), _text(parameters, "highlightPostTag", "</em>")),
            crop_marker=_text(parameters, "cropMarker", "…"),
            ranking_score=parameters.get("showRankingScore") is True,
        )


def _hit(index, hit, q: str, shape: _Shape) -> dict:
    document = {
        "id": hit.path,
        "path": hit.path,
        "title": hit.title,
        "date": hit.date.isoformat() if hit.date else None,
        "timestamp": int(hit.date.timestamp()) if hit.date else None,
        "categories": list(hit.categories),
        "tags": list(hit.tags),
        "author": hit.author,
    }
    text = None
    if "text" in shape.retrieve:
        text = index.document(hit.path).text
        document["text"] = text
    elif "*" not in shape.retrieve:
        document = {name: value for name, value in document.items() if name in shape.retrieve}
    if shape.highlight or shape.crop:
        formatted = dict(document)
        if "title" in shape.highlight or "*" in shape.highlight:
            formatted["title"] = _tagged(Highlighted(hit.title, hit.title_spans), *shape.marks)
        if "text" in shape.crop or "*" in shape.crop:
            formatted["text"] = _cropped(_tagged(Highlighted(hit.snippet_text, hit.snippet_spans), *shape.marks), shape.crop_marker)
        elif "text" in shape.highlight:
            formatted["text"] = _tagged(index.highlights(text or index.document(hit.path).text, q), *shape.marks)
        document["_formatted"] = formatted
    if shape.ranking_score and hit.score is not None:
        document["_rankingScore"] = round(hit.score / (hit.score + 1000.0), 4)
    return document


def _cropped(passage: str, marker: str) -> str:
    """A snippet with the ``…`` that mark text left out at its ends given as ``marker``
    (an ellipsis inside the text stays)."""
    if passage.startswith("…"):
        passage = marker + passage[1:]
    if passage.endswith("…"):
        passage = passage[:-1] + marker
    return passage


def _tagged(found: Highlighted, pre: str, post: str) -> str:
    """Text with each span between ``pre`` and ``post``, unescaped, as Meilisearch gives it."""
    pieces, at = [], 0
    for start, end in found.spans:
        pieces += [found.text[at:start], pre, found.text[start:end], post]
        at = end
    return "".join(pieces) + found.text[at:]


def _text(parameters: dict, name: str, default: str) -> str:
    value = parameters.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise MeiliError(400, f"invalid_search_{_snake(name)}", f"`{name}` must be a string")
    return value


def _count(parameters: dict, name: str, default: int, *, least: int = 0) -> int:
    value = parameters.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < least:
        raise MeiliError(400, f"invalid_search_{_snake(name)}", f"`{name}` must be a whole number, {least} or more")
    return value


def _attributes(parameters: dict, name: str) -> list[str]:
    value = parameters.get(name) or []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise MeiliError(400, f"invalid_search_{_snake(name)}", f"`{name}` must be a list of attribute names")
    return value


def _facets(value) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(name in _FACETS for name in value):
        raise MeiliError(400, "invalid_search_facets", f"news-search counts facets {', '.join(sorted(_FACETS))}, not {value!r}")
    return value


def _sort(value) -> str:
    if value in (None, []):
        return "relevance"
    if value == ["date:desc"]:
        return "date"
    raise MeiliError(400, "invalid_search_sort", f"news-search sorts by relevance or by [\"date:desc\"], not {value!r}")


def _snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda match: "_" + match.group(1).lower(), name)


# -- filters --------------------------------------------------------------------

_TOKEN = re.compile(r"""\s*(?:(?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<op>!=|>=|<=|=|>|<)|(?P<punct>[()\[\],])|(?P<word>[^\s()\[\],=<>!"']+))""")
_FILTER_ATTRIBUTES = {"category": "category", "categories": "category", "author": "author", "date": "date", "timestamp": "date"}


def parse_filter(value) -> dict[str, object]:
    """``Index.search`` filter arguments from a Meilisearch filter: a string, or a list
    whose items must all hold (an inner list: any of its items)."""
    if value in (None, "", []):
        return {}
    conditions: list[list[tuple[str, str, object]]] = []
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, list) and all(isinstance(part, str) for part in item):
            conditions.append([condition for part in item for group in _either(_words(part)) for condition in group])
        elif isinstance(item, str):
            conditions.extend(_parse(item))
        else:
            raise MeiliError(400, "invalid_search_filter", "`filter` must be a string, or a list of strings and lists of strings")
    return _as_filters(conditions)


def _words(text: str) -> list[tuple[str, str]]:
    tokens = [match for match in _TOKEN.finditer(text) if match.group().strip()]
    if "".join(match.group() for match in tokens).strip() != text.strip():
        raise MeiliError(400, "invalid_search_filter", f"cannot read the filter {text!r}")
    return [(match.lastgroup, _unquote(match.group().strip())) for match in tokens]


def _parse(text: str) -> list[list[tuple[str, str, object]]]:
    """A filter string as conditions that must all hold, each a list of alternatives."""
    words = _words(text)
    groups: list[list[tuple[str, str, object]]] = []
    position = 0
    while position < len(words):
        if words[position] == ("word", "AND"):
            position += 1
            continue
        if words[position] == ("punct", "("):
            end = _closing(words, position)
            groups.extend(_either(words[position + 1 : end]))
            position = end + 1
            continue
        end = position
        while end < len(words) and words[end] != ("word", "AND"):
            end += 1
        groups.extend(_either(words[position:end]))
        position = end
    return groups


def _either(words) -> list[list[tuple[str, str, object]]]:
    """Conditions joined by OR, as groups that must all hold (one, for an OR)."""
    parts = _split_or(words)
    if len(parts) == 1:
        return _condition(parts[0])
    alternatives = []
    for part in parts:
        groups = _condition(part)
        if len(groups) != 1:
            raise MeiliError(400, "invalid_search_filter", "news-search takes no range inside an OR")
        alternatives += groups[0]
    return [alternatives]


def _closing(words, start: int) -> int:
    depth = 0
    for at in range(start, len(words)):
        depth += words[at] == ("punct", "(")
        depth -= words[at] == ("punct", ")")
        if depth == 0:
            return at
    raise MeiliError(400, "invalid_search_filter", "a `(` in the filter is never closed")


def _split_or(words) -> list[list]:
    parts, current = [], []
    for word in words:
        if word == ("word", "OR"):
            parts.append(current)
            current = []
        elif word == ("word", "AND"):
            raise MeiliError(400, "invalid_search_filter", "news-search takes AND between groups, not inside an OR")
        else:
            current.append(word)
    return parts + [current]


def _condition(words) -> list[list[tuple[str, str, object]]]:
    """One condition, as groups that must all hold: a range is two, ``IN`` one of alternatives."""
    if len(words) < 3 or words[0][0] not in ("word", "string") or words[0][1] not in _FILTER_ATTRIBUTES:
        raise MeiliError(
            400, "invalid_search_filter",
            f"news-search filters on {', '.join(sorted(_FILTER_ATTRIBUTES))}: cannot read {' '.join(w for _, w in words)!r}",
        )  # fmt: skip
    attribute, operator = _FILTER_ATTRIBUTES[words[0][1]], words[1][1]
    values = [word for kind, word in words[2:] if kind != "punct"]
    if operator == "IN" and words[2] == ("punct", "[") and words[-1] == ("punct", "]"):
        return [[(attribute, "=", value) for value in values]]
    if len(words) == 4 and words[2] == ("word", "TO"):
        return [[(attribute, ">=", words[1][1])], [(attribute, "<=", words[3][1])]]
    if len(words) == 3 and operator in ("=", ">=", "<=", ">", "<"):
        return [[(attribute, operator, words[2][1])]]
    raise MeiliError(400, "invalid_search_filter", f"news-search cannot filter by {' '.join(w for _, w in words)!r}")


def _unquote(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'" else text


def _as_filters(groups: list[list[tuple[str, str, object]]]) -> dict[str, object]:
    """Groups of alternatives as category and author lists (any of) and a date range."""
    found: dict[str, object] = {}
    for group in groups:
        kinds = {(attribute, operator) for attribute, operator, _ in group}
        if len(group) > 1 and (len(kinds) > 1 or next(iter(kinds))[1] != "="):
            raise MeiliError(400, "invalid_search_filter", "news-search takes OR between values of one attribute only")
        for attribute, operator, value in group:
            if attribute == "date":
                found["since" if operator in (">=", ">") else "until"] = _moment(value, operator)
                if operator == "=":
                    found["since"] = found["until"] = value
            elif operator != "=":
                raise MeiliError(400, "invalid_search_filter", f"{attribute} is compared with = or IN only")
            else:
                key = "category" if attribute == "category" else "author"
                if key in found and len(group) == 1:
                    raise MeiliError(400, "invalid_search_filter", f"no article has two {attribute}s that must both match")
                found.setdefault(key, []).append(value)
    return found


def _moment(value: str, operator: str):
    """A date bound: a Unix timestamp in seconds, or a date as the CLI takes it."""
    if re.fullmatch(r"-?\d+(\.\d+)?", value) and len(value.split(".")[0].lstrip("-")) > 4:  # a timestamp, not a year
        moment = datetime.fromtimestamp(float(value), timezone.utc)
        step = timedelta(seconds=1)
        return moment + step if operator == ">" else moment - step if operator == "<" else moment
    return value

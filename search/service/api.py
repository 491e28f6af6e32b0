"""The JSON API, versioned under ``/api/v1/``: the library's search, article, similar
and stats, as ``search --json`` and the other commands print them.

Errors are ``{"error": {"code", "message"}}``: 400 for a bad parameter, 404 for an
unknown article, 503 when there is no usable index.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..errors import ArticleNotFoundError, NewsSearchError, UsageError
from ..limits import MAX_LIMIT
from ..query.syntax import MAX_QUERY_CHARS

_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


class ApiError(Exception):
    """An error answered as ``{"error": {"code", "message"}}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def as_api_error(error: NewsSearchError) -> ApiError:
    """The HTTP form of a library error."""
    if isinstance(error, ArticleNotFoundError):
        return ApiError(404, "article_not_found", str(error))
    if isinstance(error, UsageError):
        return ApiError(400, "bad_parameter", str(error))
    return ApiError(503, "index_unavailable", str(error))


def search_options(params) -> dict[str, object]:
    """``Index.search`` arguments from query parameters; :class:`ApiError` for a bad one."""
    query = params.get("q", "")
    if len(query) > MAX_QUERY_CHARS:
        raise ApiError(400, "query_too_long", f"q has {len(query):,} characters; at most {MAX_QUERY_CHARS:,} are allowed")
    return {
        "query": query,
        "page": whole(params, "page", 1, 1, None),
        "limit": whole(params, "limit", 10, 1, MAX_LIMIT),
        "category": params.getlist("category") or None,
        "author": params.getlist("author") or None,
        "since": params.get("since") or None,
        "until": params.get("until") or None,
        "sort": params.get("sort") or "relevance",
        "facets": flag(params, "facets"),
    }


def whole(params, name: str, default: int, least: int, most: int | None) -> int:
    text = params.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise ApiError(400, "bad_parameter", f"{name} must be a whole number, not {text!r}") from None
    if value < least or (most is not None and value > most):
        bounds = f"between {least} and {most}" if most is not None else f"{least} or more"
        raise ApiError(400, "bad_parameter", f"{name} must be {bounds}, not {value}")
    return value


def flag(params, name: str) -> bool:
    text = (params.get(name) or "").lower()
    if text not in _TRUE + _FALSE:
        raise ApiError(400, "bad_parameter", f"{name} must be true or false, not {params.get(name)!r}")
    return text in _TRUE


def routes(service) -> list[Route]:
    """The API's routes over ``service`` (its live index, and a reindex when enabled)."""

    def search(request: Request) -> JSONResponse:
        options = search_options(request.query_params)
        with service.index() as index:
            return JSONResponse(index.search(**options).to_json())

    def article(request: Request) -> JSONResponse:
        with service.index() as index:
            return JSONResponse(index.document(request.path_params["path"]).to_json())

    def similar(request: Request) -> JSONResponse:
        params = request.query_params
        if not params.get("path"):
            raise ApiError(400, "bad_parameter", "give the article's path: /api/v1/similar?path=…")
        page, limit = whole(params, "page", 1, 1, None), whole(params, "limit", 10, 1, MAX_LIMIT)
        with service.index() as index:
            return JSONResponse(index.similar(params["path"], page=page, limit=limit).to_json())

    def stats(request: Request) -> JSONResponse:
        with service.index() as index:
            return JSONResponse(index.stats().to_json())

    def health(request: Request) -> JSONResponse:
        with service.index() as index:
            return JSONResponse({"status": "ok", "documents": len(index), "generation": index.generation})

    found = [
        Route("/api/v1/search", search),
        Route("/api/v1/articles/{path:path}", article),
        Route("/api/v1/similar", similar),
        Route("/api/v1/stats", stats),
        Route("/health", health),
    ]
    if service.admin_token:
        found.append(Route("/api/v1/reindex", service.reindex, methods=["POST"]))
    return found

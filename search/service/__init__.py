"""The search service: a Starlette app over one live index.

- :mod:`.api`: the JSON API under ``/api/v1/`` and ``/health``;
- :mod:`.meili`: Meilisearch-compatible search, for its clients and UI widgets;
- :mod:`.pages`: the search page, rendered on the server (it works without JavaScript).

Every request takes the index as it is on disk then (:class:`search.live.LiveIndex`):
a commit by ``news-search index`` or by ``serve --watch`` (:mod:`.server`) is seen by
the next request.
"""

from __future__ import annotations

import contextlib
import hmac
import os
from typing import Iterator, Sequence

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse

from ..errors import NewsSearchError
from ..live import LiveIndex
from . import api, meili, pages
from .guards import BodyLimit, SecurityHeaders

#: The environment variable holding the token that ``POST /api/v1/reindex`` needs.
ADMIN_TOKEN_ENV = "NEWS_SEARCH_ADMIN_TOKEN"

class Service:
    """What the routes share: the live index (kept up to date by ``news-search index``,
    ``serve --watch`` or the reindex endpoint)."""

    def __init__(self, index_dir, *, admin_token: str | None, name: str) -> None:
        self.index_dir, self.admin_token, self.name = index_dir, admin_token, name
        self.live = LiveIndex(index_dir)

    @contextlib.contextmanager
    def index(self) -> Iterator:
        """The index as it is now; a library error becomes an API error."""
        try:
            with self.live.use() as index:
                yield index
        except NewsSearchError as error:
            raise api.as_api_error(error) from None

    def reindex(self, request: Request) -> JSONResponse:
        """``POST /api/v1/reindex``: an incremental update from the recorded corpus (admin only)."""
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {self.admin_token}".encode()):
            raise api.ApiError(401, "unauthorized", "POST /api/v1/reindex needs the admin token as a Bearer token")
        from .. import index_corpus

        try:
            report = index_corpus(None, self.index_dir)  # the folder the index records
        except NewsSearchError as error:
            raise api.as_api_error(error) from None
        return JSONResponse(report.to_json())

    def stop(self) -> None:
        self.live.close()


def create_app(
    index_dir: str | os.PathLike[str] | None = None,
    *,
    cors_origins: Sequence[str] = (),
    admin_token: str | None = None,
    name: str = meili.INDEX_UID,
) -> Starlette:
    """The service over the index at ``index_dir``; ``cors_origins``, sites allowed to
    call it from a browser; ``admin_token`` (default ``$NEWS_SEARCH_ADMIN_TOKEN``) enables
    ``POST /api/v1/reindex``; ``name``, the index's uid in the Meilisearch API."""
    token = admin_token if admin_token is not None else os.environ.get(ADMIN_TOKEN_ENV) or None
    service = Service(index_dir, admin_token=token, name=name)
    middleware = [Middleware(SecurityHeaders), Middleware(BodyLimit)]
    if cors_origins:
        middleware.append(Middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["GET", "POST"], allow_headers=["*"]))

    @contextlib.asynccontextmanager
    async def lifespan(app):
        try:
            yield
        finally:
            service.stop()

    app = Starlette(
        routes=[*api.routes(service), *meili.routes(service), *pages.routes(service)],
        middleware=middleware,
        exception_handlers={api.ApiError: _api_error, meili.MeiliError: meili.error_response, 404: _not_found, 405: _not_allowed},
        lifespan=lifespan,
    )
    app.state.service = service
    return app


def _api_error(request: Request, error: api.ApiError):
    if pages.wants_page(request):
        return pages.error_page(request, error.status, error.message)
    return api.error_response(error.status, error.code, error.message)


def _not_found(request: Request, error) -> JSONResponse:
    if pages.wants_page(request):
        return pages.error_page(request, 404, "nothing here")
    return api.error_response(404, "not_found", f"no such endpoint: {request.url.path}")


def _not_allowed(request: Request, error) -> JSONResponse:
    return api.error_response(405, "method_not_allowed", f"{request.method} is not allowed on {request.url.path}")

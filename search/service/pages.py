"""The search page and the article page, rendered on the server from GET parameters.

Every search has a URL to share and works without JavaScript; ``static/search.js``
only adds search-as-you-type. Article text reaches the page escaped (Jinja2's
autoescape, and the library's highlighted HTML, which escapes all text), and the
Content-Security-Policy of :mod:`.guards` lets no inline script run.
"""

from __future__ import annotations

import functools
from datetime import timedelta, timezone
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .api import search_options, whole

CHINA = timezone(timedelta(hours=8))
#: Months shown in the chart of matches over time (the most recent with matches).
CHART_MONTHS = 24
_API_PREFIXES = ("/api/", "/indexes/", "/multi-search", "/health")


@functools.cache
def _templates():
    import jinja2

    environment = jinja2.Environment(loader=jinja2.PackageLoader("search.service", "templates"), autoescape=True)
    environment.filters["china_time"] = lambda moment: moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if moment else ""
    return environment


def render(name: str, status: int = 200, **values: object) -> HTMLResponse:
    return HTMLResponse(_templates().get_template(name).render(**values), status_code=status)


def wants_page(request: Request) -> bool:
    return not request.url.path.startswith(_API_PREFIXES)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return render("error.html", status, code=status, message=message, query="")


def routes(service) -> list:
    def search_page(request: Request) -> HTMLResponse:
        params = request.query_params
        options = search_options(params)
        options["facets"] = True
        asked = options["query"] or options["category"] or options["author"] or options["since"] or options["until"]
        if not asked and options["sort"] == "relevance":
            options["sort"] = "date"  # nothing asked yet: the newest articles (another sort is the library's to check)
        with service.index() as index:
            result = index.search(**options)
        return render("search.html", result=result, params=params, links=_Links(params), chart=month_chart(result.facets.months), query=options["query"])

    def article_page(request: Request) -> HTMLResponse:
        query = request.query_params.get("q", "")
        with service.index() as index:
            document = index.document(request.path_params["path"])
            text = index.highlights(document.text, query).html() if query else None
        return render("article.html", document=document, text_html=text, query=query, links=_Links(request.query_params))

    def similar_page(request: Request) -> HTMLResponse:
        params = request.query_params
        path = params.get("path", "")
        page = whole(params, "page", 1, 1, None)
        with service.index() as index:
            source = index.document(path)
            result = index.similar(path, page=page)
        return render("similar.html", source=source, result=result, params=params, links=_Links(params), query="")

    return [
        Route("/", search_page),
        Route("/articles/{path:path}", article_page),
        Route("/similar", similar_page),
        Mount("/static", StaticFiles(packages=[("search.service", "static")]), name="static"),
    ]


class _Links:
    """URLs of the page with one thing changed: a filter added, another page, a query."""

    def __init__(self, params) -> None:
        self._items = [(key, value) for key, value in params.multi_items() if value != ""]

    def to(self, **changes: object) -> str:
        items = [(key, value) for key, value in self._items if key not in changes and key != "page"]
        for key, value in changes.items():
            if value is not None:
                items += [(key, item) for item in value] if isinstance(value, list) else [(key, value)]
        return "/?" + urlencode(items)

    def adding(self, key: str, value: str) -> str:
        kept = [item for key_, item in self._items if key_ == key and item != value]
        return self.to(**{key: kept + [value]})

    def without(self, key: str, value: str) -> str:
        return self.to(**{key: [item for key_, item in self._items if key_ == key and item != value]})

    def values(self, key: str) -> list[str]:
        return [value for key_, value in self._items if key_ == key]

    def page(self, number: int) -> str:
        return "/?" + urlencode([item for item in self._items if item[0] != "page"] + [("page", number)])

    def article(self, path: str) -> str:
        query = dict(self._items).get("q")
        return "/articles/" + _quote_path(path) + ("?" + urlencode({"q": query}) if query else "")

    @staticmethod
    def similar(path: str) -> str:
        return "/similar?" + urlencode({"path": path})


def _quote_path(path: str) -> str:
    return quote(path, safe="/")


def month_chart(months: list[tuple[str, int]]) -> dict[str, object] | None:
    """Bars of matches per month (oldest left) for an inline SVG, or ``None`` for no dates."""
    shown = sorted(months)[-CHART_MONTHS:]
    if not shown:
        return None
    most = max(count for _, count in shown)
    width = 12
    bars = [
        {"month": month, "count": count, "x": number * (width + 2), "height": max(2, round(60 * count / most)), "width": width}
        for number, (month, count) in enumerate(shown)
    ]
    return {"bars": bars, "width": len(bars) * (width + 2), "height": 60, "first": shown[0][0], "last": shown[-1][0]}

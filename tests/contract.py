"""The JSON contract shared by the CLI, the library and the HTTP API (README: "The JSON contract")."""

HIT_KEYS = {
    "path", "title", "title_html", "title_spans", "date", "categories", "tags", "author", "score", "snippet",
    "snippet_text", "snippet_spans",
}  # fmt: skip
RESULT_KEYS = {"query", "total", "total_is_exact", "page", "limit", "pages", "took_ms", "filters", "hits", "suggestion"}


def timeless(data):
    """JSON output without its timing (``took_ms``), which no two runs share: for
    comparing one search's output through two interfaces."""
    if isinstance(data, list):
        return [timeless(item) for item in data]
    return {key: value for key, value in data.items() if key != "took_ms"}

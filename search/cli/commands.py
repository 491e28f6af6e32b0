"""The commands: each parses its options, calls the library, and prints what it returns."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Iterable, Optional

import typer

from ..limits import MAX_LIMIT, SORT_ORDERS
from . import render
from .runner import Color, ColorOption, IndexOption, JsonOption, app

#: The sort orders the library knows, as a choice of ``--sort``.
Sort = Enum("Sort", {name: name for name in SORT_ORDERS}, type=str)  # type: ignore[misc]

LimitOption = Annotated[int, typer.Option("--limit", "-n", help="Hits per page.", min=1, max=MAX_LIMIT)]
PageOption = Annotated[int, typer.Option("--page", "-p", help="Page of hits to show.", min=1)]
PathArgument = Annotated[
    str,
    typer.Argument(help="The article: its path relative to the corpus folder, as hits show it, or the file's own path."),
]
_DATES = "YYYY, YYYY-MM, YYYY-MM-DD or YYYY年M月D日, optionally with HH:MM[:SS], in China Standard Time; or ISO 8601 with a zone"


@app.command("index", short_help="Build or update an index from a folder of articles.")
def index_command(
    corpus: Annotated[
        Optional[Path],
        typer.Argument(
            help="Corpus folder [default: the one this index was built from, else the bundled sample].",
            show_default=False,
        ),
    ] = None,
    index: IndexOption = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Build from scratch instead of updating.")] = False,
    include: Annotated[
        Optional[list[str]], typer.Option("--include", help="Glob of files to index (repeatable).", show_default=False)
    ] = None,
    exclude: Annotated[Optional[list[str]], typer.Option("--exclude", help="Glob of files to leave out (repeatable).")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Exit with status 1 if any file was skipped.")] = False,
    lock_timeout: Annotated[float, typer.Option("--wait", help="Seconds to wait for another writer.", min=0)] = 10.0,
    user_dict: Annotated[
        Optional[Path],
        typer.Option(
            "--user-dict",
            help="jieba user dictionary (word [frequency] [tag] per line), stored with the index and used by its "
            "searches; kept by later runs, changed only with --rebuild, dropped by an empty file.",
            show_default=False,
        ),
    ] = None,
    synonyms: Annotated[
        Optional[Path],
        typer.Option(
            "--synonyms",
            help="Synonyms file in Solr's format ('a, b, c' find each other; 'a => b' searches a as b; a line "
            "'@news' adds our news abbreviations), stored with the index and used by its searches at once; "
            "kept by later runs, dropped by an empty file.",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        Optional[int],
        typer.Option(
            "--workers",
            help="Processes that share a rebuild [default: one per CPU, at most 4, for 1,000 files or more; else 1].",
            min=1,
            show_default=False,
        ),
    ] = None,
    allow_removals: Annotated[
        bool,
        typer.Option(
            "--allow-removals",
            help="Let an update remove every document, or more than half of them, and a rebuild empty the index "
            "(refused otherwise: an unmounted disk or a mistyped folder would wipe the index).",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Build or update an index from a folder of articles."""
    from .. import index_corpus
    from ..cluster import is_cluster
    from ..ingest.corpus import sample_corpus
    from ..storage import IndexDir, default_index_dir

    location = index if index is not None else default_index_dir()
    if corpus is None and not is_cluster(str(location)) and IndexDir(location).current() is None:
        corpus = sample_corpus()  # a first run without a folder: the bundled sample
    with render.progress_bar(as_json) as bar:
        task = bar.add_task("indexing", total=None) if bar else None
        report = index_corpus(
            corpus,
            location,
            rebuild=rebuild,
            include=include or None,
            exclude=exclude or None,
            lock_timeout=lock_timeout,
            user_dict=user_dict,
            synonyms=synonyms,
            workers=workers,
            allow_removals=allow_removals,
            progress=(lambda done, total: bar.update(task, completed=done, total=total)) if bar else None,
        )
    render.print_problems(report)
    if as_json:
        render.print_json(report.to_json())
    else:
        render.print_summary(report)
    if strict and report.skipped:
        raise typer.Exit(1)


@app.command("search", short_help="Search the index; hits show a highlighted snippet.")
def search_command(
    words: Annotated[
        Optional[list[str]],
        typer.Argument(
            metavar="QUERY",
            help="What to look for: words, \"phrases\", field:value … (see README: query syntax).",
            show_default=False,
        ),
    ] = None,
    index: IndexOption = None,
    limit: LimitOption = 10,
    page: PageOption = 1,
    category: Annotated[
        Optional[list[str]],
        typer.Option(
            "--category",
            "-c",
            help="Only this category: any level, or a path of levels as hits show it (新闻联播/国际). "
            "Repeat for any of several.",
            show_default=False,
        ),
    ] = None,
    author: Annotated[
        Optional[list[str]], typer.Option("--author", "-a", help="Only this author. Repeat for any of several.", show_default=False)
    ] = None,
    since: Annotated[Optional[str], typer.Option("--since", help=f"Only from this date: {_DATES}.")] = None,
    until: Annotated[Optional[str], typer.Option("--until", help="Only up to this date, inclusive (a day, month or year whole).")] = None,
    sort: Annotated[Sort, typer.Option("--sort", help="Order of hits.")] = Sort.relevance,
    facets: Annotated[
        bool, typer.Option("--facets", help="Also count all matches by category and by month.")
    ] = False,
    as_json: JsonOption = False,
    batch: Annotated[
        Optional[Path],
        typer.Option(
            "--batch",
            help="File of queries, one per line ('-' for stdin; UTF-8, else GB18030); prints one JSON line per "
            "line, an error object for a blank one.",
        ),
    ] = None,
    color: ColorOption = Color.auto,
) -> None:
    """Search the index; hits show a highlighted snippet. With filters and no QUERY,
    list what passes them."""
    from .. import open_index

    query = " ".join(words) if words else None
    if query is not None and batch is not None:
        raise typer.BadParameter("give either a QUERY or --batch FILE, not both", param_hint="QUERY")
    if query is None and batch is None:
        if not (category or author or since or until):
            raise typer.BadParameter("give a QUERY, a filter (--category, --author, --since, --until) or --batch FILE", param_hint="QUERY")
        query = ""  # filters alone: list what passes them
    options = dict(
        limit=limit, page=page, category=category, author=author, since=since, until=until, sort=sort.value, facets=facets
    )
    with open_index(index) as opened:
        if batch is not None:
            _search_batch(opened, batch, options)
            return
        result = opened.search(query, **options)
    for warning in result.warnings:  # a cluster with servers down: the hits are partial
        typer.echo(f"news-search: warning: partial results: {warning}", err=True)
    render.print_result(result, as_json, color.value)


def _search_batch(opened, batch: Path, options: dict) -> None:
    """One JSON line per line of ``batch``: its result, or an error object for a line
    that is blank or not text, so output line N always answers input line N."""
    from ..errors import CorpusError
    from ..ingest.encoding import decode_line

    for number, raw in enumerate(_batch_lines(batch), 1):
        try:
            line = decode_line(raw, first=number == 1).rstrip("\r\n")
        except CorpusError as error:
            render.print_json(_batch_error("not_text", f"line {number} is not text: {error}"))
            continue
        if not line.strip():
            render.print_json(_batch_error("empty_query", f"line {number} is blank: nothing to search"))
            continue
        render.print_json(opened.search(line, **options).to_json())


def _batch_error(code: str, message: str) -> dict[str, object]:
    return {"error": {"code": code, "message": message}}


def _batch_lines(batch: Path) -> Iterable[bytes]:
    try:
        handle = sys.stdin.buffer if str(batch) == "-" else open(batch, "rb")
    except OSError as error:
        raise typer.BadParameter(f"cannot read {batch}: {error.strerror}", param_hint="--batch") from None
    with handle:
        yield from handle


@app.command("show", short_help="Print one indexed article: its fields and text.")
def show_command(
    path: PathArgument,
    index: IndexOption = None,
    as_json: JsonOption = False,
    color: ColorOption = Color.auto,
) -> None:
    """Print one indexed article: its fields and text."""
    from .. import open_index

    with open_index(index) as opened:
        document = opened.document(path)
    if as_json:
        render.print_json(document.to_json())
    else:
        render.print_document(document, color.value)


@app.command("similar", short_help="Articles most like an indexed one.")
def similar_command(
    path: PathArgument,
    index: IndexOption = None,
    limit: LimitOption = 10,
    page: PageOption = 1,
    as_json: JsonOption = False,
    color: ColorOption = Color.auto,
) -> None:
    """Articles most like an indexed one, found by its most distinctive words (shown
    above the hits; in JSON, the result's query)."""
    from .. import open_index

    with open_index(index) as opened:
        result = opened.similar(path, limit=limit, page=page)
    if not as_json:
        render.print_looked_for(path, result.query, color.value)
    render.print_result(result, as_json, color.value)


@app.command("stats", short_help="Describe the index: documents, terms, size, categories.")
def stats_command(index: IndexOption = None, as_json: JsonOption = False) -> None:
    """Describe the index: documents, terms, size, categories, dates, settings."""
    from .. import open_index

    with open_index(index) as opened:
        stats = opened.stats()
    if as_json:
        render.print_json(stats.to_json())
    else:
        render.print_stats(stats)


@app.command("check", short_help="Verify the index reads back whole and matches its corpus.")
def check_command(
    corpus: Annotated[
        Optional[Path],
        typer.Argument(help="Corpus folder to compare with [default: the one the index was built from].", show_default=False),
    ] = None,
    index: IndexOption = None,
    as_json: JsonOption = False,
) -> None:
    """Verify the index reads back whole and matches its corpus (exit 1 if it does not)."""
    from .. import check_index

    report = check_index(index, corpus)
    if as_json:
        render.print_json(report.to_json())
    else:
        render.print_check(report)
    if not report.ok:
        raise typer.Exit(1)


#: What ``--watch`` without a folder stands for: the corpus the index records.
RECORDED = "(recorded)"


@app.command("serve", short_help="Serve a search page and an HTTP API over the index.")
def serve_command(
    index: IndexOption = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on; 0.0.0.0 opens the index to anyone who can reach the port.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option("--workers", help="Server processes (one per core uses every core).", min=1)] = 1,
    watch: Annotated[
        Optional[str],
        typer.Option(
            "--watch",
            help="Apply changes of this corpus folder as they happen [without a folder: the one the index records].",
            show_default=False,
        ),
    ] = None,
    cors_origin: Annotated[
        Optional[list[str]],
        typer.Option("--cors-origin", help="A site whose pages may call the API (repeatable; none by default).", show_default=False),
    ] = None,
) -> None:
    """Serve the search page (/), the JSON API (/api/v1/) and Meilisearch-compatible search
    (/indexes/news/search, /multi-search). Ctrl-C stops it."""
    from ..service.server import serve

    corpus = None if watch is None else _recorded_corpus(index) if watch == RECORDED else watch
    serve(index, host=host, port=port, workers=workers, watch=corpus, cors_origins=tuple(cors_origin or ()))


def _recorded_corpus(index: Optional[Path]) -> str:
    from .. import open_index

    with open_index(index) as opened:
        if not opened.corpus:
            raise typer.BadParameter("the index records no corpus folder: give one to --watch", param_hint="--watch")
        return opened.corpus

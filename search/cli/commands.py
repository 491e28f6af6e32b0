"""The commands: each parses its options, calls the library, and prints what it returns."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Iterable, Optional

import typer

from ..limits import MAX_LIMIT, SORT_ORDERS
from . import render
from .app import IndexOption, JsonOption, app

#: The sort orders the library knows, as a choice of ``--sort``.
Sort = Enum("Sort", {name: name for name in SORT_ORDERS}, type=str)  # type: ignore[misc]

LimitOption = Annotated[int, typer.Option("--limit", "-n", help="Hits per page.", min=1, max=MAX_LIMIT)]
PageOption = Annotated[int, typer.Option("--page", "-p", help="Page of hits to show.", min=1)]


@app.command("index")
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
    workers: Annotated[
        Optional[int],
        typer.Option(
            "--workers",
            help="Processes that share a rebuild [default: one per CPU, at most 4, for 1,000 files or more; else 1].",
            min=1,
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Build or update an index from a folder of articles."""
    from .. import index_corpus
    from ..ingest.corpus import sample_corpus
    from ..storage import IndexDir, default_index_dir

    location = index if index is not None else default_index_dir()
    if corpus is None and IndexDir(location).current() is None:
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
            workers=workers,
            progress=(lambda done, total: bar.update(task, completed=done, total=total)) if bar else None,
        )
    render.print_problems(report)
    if as_json:
        render.print_json(report.to_json())
    else:
        render.print_summary(report)
    if strict and report.skipped:
        raise typer.Exit(1)


@app.command("search")
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
    category: Annotated[Optional[str], typer.Option("--category", "-c", help="Only this category (any level).")] = None,
    author: Annotated[Optional[str], typer.Option("--author", "-a", help="Only this author.")] = None,
    since: Annotated[Optional[str], typer.Option("--since", help="Only from this date (YYYY-MM-DD[ HH:MM]).")] = None,
    until: Annotated[Optional[str], typer.Option("--until", help="Only up to this date, inclusive.")] = None,
    sort: Annotated[Sort, typer.Option("--sort", help="Order of hits.")] = Sort.relevance,
    facets: Annotated[
        bool, typer.Option("--facets", help="Also count all matches by category and by month.")
    ] = False,
    as_json: JsonOption = False,
    batch: Annotated[
        Optional[Path],
        typer.Option("--batch", help="File with one query per line ('-' for stdin); prints JSON Lines."),
    ] = None,
) -> None:
    """Search the index; hits show a highlighted snippet."""
    from .. import open_index

    query = " ".join(words) if words else None
    if (query is None) == (batch is None):
        raise typer.BadParameter("give either a QUERY or --batch FILE", param_hint="QUERY")
    options = dict(
        limit=limit, page=page, category=category, author=author, since=since, until=until, sort=sort.value, facets=facets
    )
    with open_index(index) as opened:
        if batch is not None:
            for line in _batch_lines(batch):
                render.print_json(opened.search(line, **options).to_json())
            return
        assert query is not None
        result = opened.search(query, **options)
    render.print_result(result, as_json)


def _batch_lines(batch: Path) -> Iterable[str]:
    try:
        handle = sys.stdin if str(batch) == "-" else open(batch, encoding="utf-8", errors="replace")
    except OSError as error:
        raise typer.BadParameter(f"cannot read {batch}: {error.strerror}", param_hint="--batch") from None
    with handle:
        for line in handle:
            if line.strip():
                yield line.rstrip("\n")


@app.command("show")
def show_command(
    path: Annotated[str, typer.Argument(help="The article's path, relative to the corpus folder.")],
    index: IndexOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print one indexed article: its fields and text."""
    from .. import open_index

    with open_index(index) as opened:
        try:
            document = opened.document(path)
        except KeyError:
            raise typer.BadParameter(f"no article {path!r} in the index", param_hint="PATH") from None
    if as_json:
        render.print_json(document.to_json())
    else:
        render.print_document(document)


@app.command("similar")
def similar_command(
    path: Annotated[str, typer.Argument(help="The article's path, relative to the corpus folder.")],
    index: IndexOption = None,
    limit: LimitOption = 10,
    page: PageOption = 1,
    as_json: JsonOption = False,
) -> None:
    """Articles most like an indexed one, found by its most distinctive words."""
    from .. import open_index

    with open_index(index) as opened:
        result = opened.similar(path, limit=limit, page=page)
    render.print_result(result, as_json)


@app.command("stats")
def stats_command(index: IndexOption = None, as_json: JsonOption = False) -> None:
    """Describe the index: documents, terms, size, categories, dates, settings."""
    from .. import open_index

    with open_index(index) as opened:
        stats = opened.stats()
    if as_json:
        render.print_json(stats.to_json())
    else:
        render.print_stats(stats)


@app.command("check")
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

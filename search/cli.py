"""The ``news-search`` command: a thin layer over the library.

Exit codes: 0 success; 1 ``--strict`` and files were skipped, ``check`` found the
index out of step with its corpus, or another failure; 2 bad usage (unknown
option, bad option value, bad date, an article not in the index); 3 no usable
index (missing, incompatible or damaged); 4 the index is locked by another
writer; 130 interrupted.
"""

from __future__ import annotations

import html
import json
import os
import re
import sys
from collections import Counter
from enum import Enum
from pathlib import Path
from typing import Annotated, Iterable, Optional

import typer

app = typer.Typer(
    name="news-search",
    help="Full-text search for Chinese news articles.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

IndexOption = Annotated[
    Optional[Path],
    typer.Option("--index", "-i", help="Index folder [default: $NEWS_SEARCH_INDEX or ./index].", show_default=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a listing.")]


class Sort(str, Enum):
    relevance = "relevance"
    date = "date"


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _shown(text: str) -> str:
    """Text safe for a terminal: control characters (from file names) made visible."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def _print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")


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
    from . import index_corpus
    from .ingest.corpus import DEFAULT_INCLUDE, sample_corpus
    from .storage import IndexDir, default_index_dir, read_meta

    location = index if index is not None else default_index_dir()
    if corpus is None:  # the folder (and globs) the index was built from, else the sample
        live = IndexDir(location).current()
        recorded = read_meta(live) if live else {}
        corpus = Path(recorded["corpus"]) if recorded.get("corpus") else sample_corpus()
        include = include or recorded.get("include")
        exclude = exclude or recorded.get("exclude")
    progress_bar = _progress_bar(as_json)
    with progress_bar as bar:
        task = bar.add_task("indexing", total=None) if bar else None
        report = index_corpus(
            corpus,
            location,
            rebuild=rebuild,
            include=tuple(include) if include else DEFAULT_INCLUDE,
            exclude=tuple(exclude or ()),
            lock_timeout=lock_timeout,
            user_dict=user_dict,
            workers=workers,
            progress=(lambda done, total: bar.update(task, completed=done, total=total)) if bar else None,
        )
    errors = _console(stderr=True)
    for skipped in report.skipped:
        errors.print(f"skipped {_shown(skipped.path)}: {_shown(skipped.reason)}", markup=False)
    for warning in report.warnings:
        errors.print(f"warning {_shown(warning.path)}: {_shown(warning.reason)}", markup=False)
    for note in report.notes:
        errors.print(f"note: {note}", markup=False)
    if as_json:
        _print_json(
            {
                "index": str(report.index),
                "corpus": str(report.corpus),
                "rebuilt": report.rebuilt,
                "added": report.added,
                "updated": report.updated,
                "removed": report.removed,
                "unchanged": report.unchanged,
                "skipped": [{"path": s.path, "reason": s.reason} for s in report.skipped],
                "warnings": [{"path": w.path, "reason": w.reason} for w in report.warnings],
                "notes": report.notes,
                "documents": report.documents,
                "seconds": round(report.seconds, 3),
                "workers": report.workers,
            }
        )
    else:
        _print_summary(report)
    if strict and report.skipped:
        raise typer.Exit(1)


class _NoProgress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        return None


def _progress_bar(quiet: bool):
    """A rich progress bar on an interactive terminal; nothing otherwise."""
    if quiet or not sys.stderr.isatty():
        return _NoProgress()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=_console(stderr=True),
        transient=True,
    )


def _print_summary(report) -> None:
    console = _console()
    verb = "built" if report.rebuilt else "updated"
    shared = f" by {report.workers} workers" if report.workers > 1 else ""
    console.print(
        f"{verb} {report.index} from {report.corpus} in {report.seconds:.1f}s{shared}: "
        f"{report.added} added, {report.updated} updated, {report.removed} removed, "
        f"{report.unchanged} unchanged, {len(report.skipped)} skipped; {report.documents} documents",
        markup=False,
    )
    for reason, count in Counter(s.reason for s in report.skipped).most_common():
        console.print(f"  skipped {count}: {reason}", markup=False)
    if report.warnings:
        console.print(f"  {len(report.warnings)} warnings (see above)", markup=False)


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
    limit: Annotated[int, typer.Option("--limit", "-n", help="Hits per page.", min=1, max=1000)] = 10,
    page: Annotated[int, typer.Option("--page", "-p", help="Page of hits to show.", min=1)] = 1,
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
    from . import open_index

    query = " ".join(words) if words else None
    if (query is None) == (batch is None):
        raise typer.BadParameter("give either a QUERY or --batch FILE", param_hint="QUERY")
    options = dict(
        limit=limit, page=page, category=category, author=author, since=since, until=until, sort=sort.value, facets=facets
    )
    with open_index(index) as opened:
        if batch is not None:
            for line in _batch_lines(batch):
                _print_json(opened.search(line, **options).to_json())
            return
        assert query is not None
        result = opened.search(query, **options)
    _print_result(result, as_json)


def _print_result(result, as_json: bool) -> None:
    """A page of hits, as JSON or as the terminal listing."""
    if as_json:
        _print_json(result.to_json())
    else:
        _print_listing(result)


def _batch_lines(batch: Path) -> Iterable[str]:
    try:
        handle = sys.stdin if str(batch) == "-" else open(batch, encoding="utf-8", errors="replace")
    except OSError as error:
        raise typer.BadParameter(f"cannot read {batch}: {error.strerror}", param_hint="--batch") from None
    with handle:
        for line in handle:
            if line.strip():
                yield line.rstrip("\n")


_MARK = re.compile(r"<mark>(.*?)</mark>", re.S)


def _marked_text(fragment: str):
    """Rich text for an HTML fragment with ``<mark>``: marks styled, nothing else interpreted."""
    from rich.text import Text

    text = Text()
    cursor = 0
    for match in _MARK.finditer(fragment):
        text.append(html.unescape(fragment[cursor : match.start()]))
        text.append(html.unescape(match.group(1)), style="bold red")
        cursor = match.end()
    text.append(html.unescape(fragment[cursor:]))
    return text


def _local_time(iso: str | None) -> str | None:
    """An article's UTC timestamp in local time (UTC+8), as the date filters read dates."""
    from datetime import datetime

    from .ingest.dates import LOCAL_TIMEZONE

    return datetime.fromisoformat(iso).astimezone(LOCAL_TIMEZONE).isoformat() if iso else None


def _local_day(iso: str | None) -> str | None:
    """The article's day where it was published (UTC+8)."""
    local = _local_time(iso)
    return local[:10] if local else None


def _print_listing(result) -> None:
    from rich.text import Text

    console = _console()
    suggestion = None
    if result.suggestion:  # a corrected query: before the hits, or after "no results"
        suggestion = Text("Did you mean: ")
        suggestion.append(_shown(result.suggestion), style="bold")
        suggestion.append("?")
    if not result.hits:
        console.print(f"no results for {result.query!r}" + (f" on page {result.page}" if result.total else ""), markup=False)
        if suggestion:
            console.print(suggestion)
        _print_facets(result.facets)
        return
    if suggestion:
        console.print(suggestion)
        console.print()
    first = (result.page - 1) * result.limit + 1
    for number, hit in enumerate(result.hits, first):
        heading = Text(f"{number:>3}. ", style="bold")
        heading.append_text(_marked_text(hit.title_html or html.escape(_shown(hit.path))))
        console.print(heading)
        details = [part for part in (_local_day(hit.date), "/".join(hit.categories), hit.author) if part]
        console.print(Text("     " + "  ·  ".join(details + [_shown(hit.path)]), style="dim"))
        if hit.snippet:
            line = Text("     ")
            line.append_text(_marked_text(hit.snippet))
            console.print(line)
        console.print()
    shown_to = first + len(result.hits) - 1
    console.print(f"{first}–{shown_to} of {result.total} (page {result.page} of {result.pages})", style="dim", markup=False)
    _print_facets(result.facets)


_FACETS_SHOWN = 30


def _print_facets(facets) -> None:
    """Counts by category and month under the hits, as ``stats`` lists categories."""
    if facets is None or not (facets.categories or facets.months):
        return
    console = _console()
    for label, counts in (("categories", facets.categories), ("months", facets.months)):
        console.print()
        console.print(f"{label}:", style="bold", markup=False)
        for name, count in counts[:_FACETS_SHOWN]:
            console.print(f"  {count:>7}  {_shown(name)}", markup=False)
        if len(counts) > _FACETS_SHOWN:
            console.print(f"  … and {len(counts) - _FACETS_SHOWN} more (--json lists all)", markup=False)


@app.command("show")
def show_command(
    path: Annotated[str, typer.Argument(help="The article's path, relative to the corpus folder.")],
    index: IndexOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print one indexed article: its fields and text."""
    from dataclasses import asdict

    from . import open_index

    with open_index(index) as opened:
        try:
            document = opened.document(path)
        except KeyError:
            raise typer.BadParameter(f"no article {path!r} in the index", param_hint="PATH") from None
    if as_json:
        _print_json(asdict(document))
        return
    console = _console()
    console.print(document.title or "(untitled)", style="bold", markup=False)
    for label, value in (
        ("path", _shown(document.path)),
        ("date", _local_time(document.date)),
        ("categories", " / ".join(document.categories)),
        ("tags", ", ".join(document.tags)),
        ("author", document.author),
    ):
        if value:
            console.print(f"{label + ':':<12}{value}", markup=False)
    console.print()
    console.print(document.text, markup=False)


@app.command("similar")
def similar_command(
    path: Annotated[str, typer.Argument(help="The article's path, relative to the corpus folder.")],
    index: IndexOption = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="Hits per page.", min=1, max=1000)] = 10,
    page: Annotated[int, typer.Option("--page", "-p", help="Page of hits to show.", min=1)] = 1,
    as_json: JsonOption = False,
) -> None:
    """Articles most like an indexed one, found by its most distinctive words."""
    from . import open_index

    with open_index(index) as opened:
        result = opened.similar(path, limit=limit, page=page)
    _print_result(result, as_json)


@app.command("stats")
def stats_command(index: IndexOption = None, as_json: JsonOption = False) -> None:
    """Describe the index: documents, terms, size, categories, dates, settings."""
    from dataclasses import asdict

    from . import open_index

    with open_index(index) as opened:
        stats = opened.stats()
    if as_json:
        data = asdict(stats)
        data["location"] = str(stats.location)
        data["categories"] = [{"category": name, "documents": count} for name, count in stats.categories]
        _print_json(data)
        return
    console = _console()
    lines = [
        f"index:       {stats.location}",
        f"corpus:      {stats.corpus or '?'}",
        f"updated:     {stats.updated or '?'}",
        f"documents:   {stats.documents}",
        "terms:       " + ", ".join(f"{name} {count:,}" for name, count in stats.terms.items()),
        f"size:        {stats.size_bytes / 1e6:.1f} MB",
        f"dates:       {stats.first_date or '?'} … {stats.last_date or '?'}",
        "analysis:    " + ", ".join(f"{k}={v}" for k, v in (stats.settings.get("analysis") or {}).items()),
        f"categories:  {len(stats.categories)}",
    ]
    for line in lines:
        console.print(line, markup=False)
    for name, count in stats.categories[:30]:
        console.print(f"  {count:>7}  {name}", markup=False)
    if len(stats.categories) > 30:
        console.print(f"  … and {len(stats.categories) - 30} more (--json lists all)", markup=False)


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
    from . import check_index

    report = check_index(index, corpus)
    if as_json:
        _print_json(
            {
                "index": str(report.index),
                "corpus": str(report.corpus) if report.corpus else None,
                "ok": report.ok,
                "documents": report.documents,
                "terms": report.terms,
                "postings": report.postings,
                "missing": report.missing,
                "stale": report.stale,
                "extra": report.extra,
                "unindexable": [{"path": s.path, "reason": s.reason} for s in report.unindexable],
            }
        )
    else:
        console = _console()
        console.print(
            f"index {report.index} reads back: {report.documents} documents, {report.terms:,} terms, "
            f"{report.postings:,} postings",
            markup=False,
        )
        if report.corpus is None:
            console.print("no corpus recorded or given: files not compared", markup=False)
        for label, paths in (("missing", report.missing), ("stale", report.stale), ("extra", report.extra)):
            for path in paths:
                console.print(f"{label} {_shown(path)}", markup=False)
        for skipped in report.unindexable:
            console.print(f"unindexable {_shown(skipped.path)}: {_shown(skipped.reason)}", markup=False)
        if report.corpus is not None:
            verdict = "matches" if report.ok else "does not match"
            console.print(
                f"{verdict} {report.corpus}: {len(report.missing)} missing, {len(report.stale)} stale, "
                f"{len(report.extra)} extra, {len(report.unindexable)} unindexable",
                markup=False,
            )
    if not report.ok:
        raise typer.Exit(1)


def run(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status. Errors become one line on stderr."""
    from .errors import NewsSearchError

    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="news-search", standalone_mode=False)
    except typer.Exit as stop:
        return stop.exit_code
    except typer.TyperException as error:  # usage errors: unknown option, bad value
        if type(error).__name__ == "NoArgsIsHelpError":  # bare `news-search`: show the help
            sys.stdout.write(error.format_message() + "\n")
            return 0
        _error(error.format_message())
        return error.exit_code
    except typer.Abort:
        _error("interrupted")
        return 130
    except NewsSearchError as error:
        _error(str(error))
        return error.exit_code
    except Exception as error:  # an unexpected failure: say what, hide the traceback unless asked
        if os.environ.get("NEWS_SEARCH_DEBUG"):
            raise
        _error(f"unexpected {type(error).__name__}: {error} (set NEWS_SEARCH_DEBUG=1 for a traceback)")
        return 1
    return result if isinstance(result, int) else 0


def _error(message: str) -> None:
    sys.stderr.write(f"news-search: error: {' '.join(message.split())}\n")


def main() -> None:
    import signal

    # `news-search search … | head`: end quietly when the reader goes away.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(run())

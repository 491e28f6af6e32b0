"""What the commands print on a terminal: listings, summaries, reports, and JSON.

Rich is imported only when something is printed with it, so a command that
prints JSON never loads it.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections import Counter

from ..errors import plural

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: Facet and category lines shown before "… and N more".
_SHOWN = 30


def console(stderr: bool = False, color: str = "auto"):
    """Where a command prints: rich on a terminal (``color`` ``always`` styles through a
    pipe too, ``never`` never colours); elsewhere the text alone, without importing rich
    (45 ms, a seventh of a cold search), as rich would print it there but for its emoji
    codes and tab stops."""
    stream = sys.stderr if stderr else sys.stdout
    if color != "always" and not _is_terminal(stream):
        return _Plain(stderr)
    return _Rich(_rich_console(stderr, color))


def _rich_console(stderr: bool = False, color: str = "auto"):
    from rich.console import Console

    if color == "always":
        return Console(stderr=stderr, highlight=False, soft_wrap=True, force_terminal=True, no_color=False)
    return Console(stderr=stderr, highlight=False, soft_wrap=True, no_color=True if color == "never" else None)


def _is_terminal(stream) -> bool:
    """Whether rich would style what it prints to ``stream`` (its own test, which these
    variables override)."""
    if "FORCE_COLOR" in os.environ or "TTY_COMPATIBLE" in os.environ:
        return True  # let rich decide
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Line:
    """A line of text in styled runs, the whole line in ``style``: rich's ``Text`` on a
    terminal, its text alone elsewhere."""

    def __init__(self, text: str = "", style: str | None = None) -> None:
        self.style = style
        self.runs: list[tuple[str, str | None]] = [(text, None)] if text else []

    def append(self, text: str, style: str | None = None) -> Line:
        self.runs.append((text, style))
        return self

    def append_line(self, other: Line) -> Line:
        self.runs.extend((text, " ".join(part for part in (other.style, style) if part) or None) for text, style in other.runs)
        return self

    def __str__(self) -> str:
        return "".join(text for text, _ in self.runs)

    def to_rich(self):
        from rich.text import Text

        text = Text(style=self.style or "")
        for run, style in self.runs:
            text.append(run, style=style)
        return text


class _Plain:
    """Prints as rich prints where it styles nothing: each line's text."""

    def __init__(self, stderr: bool) -> None:
        self._stderr = stderr

    def print(self, *objects: object, style: str | None = None, markup: bool | None = None) -> None:
        stream = sys.stderr if self._stderr else sys.stdout
        if stream is not None:  # None: started with it closed, where rich prints nothing either
            stream.write(" ".join(map(str, objects)) + "\n")


class _Rich:
    """A rich console that prints :class:`Line` as rich text."""

    def __init__(self, console) -> None:
        self._console = console

    def print(self, *objects: object, style: str | None = None, markup: bool | None = None) -> None:
        self._console.print(*(item.to_rich() if isinstance(item, Line) else item for item in objects), style=style, markup=markup)


def shown(text: str) -> str:
    """Text safe for a terminal: control characters (from file names) made visible."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")


class _NoProgress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        return None


def progress_bar(quiet: bool):
    """A rich progress bar on an interactive terminal; nothing otherwise."""
    if quiet or not sys.stderr.isatty():
        return _NoProgress()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=_rich_console(stderr=True),
        transient=True,
    )


def print_problems(report) -> None:
    """Skipped files, warnings and notes of an index run, on stderr."""
    errors = console(stderr=True)
    for skipped in report.skipped:
        errors.print(f"skipped {shown(skipped.path)}: {shown(skipped.reason)}", markup=False)
    for warning in report.warnings:
        errors.print(f"warning {shown(warning.path)}: {shown(warning.reason)}", markup=False)
    for note in report.notes:
        errors.print(f"note: {note}", markup=False)


def print_summary(report) -> None:
    out = console()
    verb = "built" if report.rebuilt else "updated"
    shared = f" by {report.workers} workers" if report.workers > 1 else ""
    out.print(
        f"{verb} {report.index} from {report.corpus} in {report.seconds:.1f}s{shared}: "
        f"{report.added} added, {report.updated} updated, {report.removed} removed, "
        f"{report.unchanged} unchanged, {len(report.skipped)} skipped; {plural(report.documents, 'document')}",
        markup=False,
    )
    for reason, count in Counter(s.reason for s in report.skipped).most_common():
        out.print(f"  skipped {count}: {reason}", markup=False)
    if report.warnings:
        out.print(f"  {len(report.warnings)} warnings (see above)", markup=False)


def print_result(result, as_json: bool, color: str = "auto") -> None:
    """A page of hits, as JSON or as the terminal listing."""
    if as_json:
        print_json(result.to_json())
    else:
        _print_listing(result, color)


def print_looked_for(path: str, words: str, color: str = "auto") -> None:
    """What a similar search looked for, above its hits."""
    line = Line(f"like {shown(path)}, looked for: ", style="dim")
    line.append(shown(words) if words else "(nothing: the article has no distinctive words)", style="bold")
    out = console(color=color)
    out.print(line)
    out.print()


def _marked(text: str, spans) -> Line:
    """``text`` with the highlighted spans (rising, apart) in bold red."""
    line, at = Line(), 0
    for start, end in spans:
        start, end = max(start, at), min(end, len(text))
        if start >= end:
            continue
        if start > at:
            line.append(text[at:start])
        line.append(text[start:end], style="bold red")
        at = end
    if at < len(text):
        line.append(text[at:])
    return line


def local_time(moment) -> str | None:
    """An article's date in China Standard Time (UTC+8), as the date filters read dates."""
    from ..ingest.dates import LOCAL_TIMEZONE

    return moment.astimezone(LOCAL_TIMEZONE).isoformat() if moment else None


def _local_day(moment) -> str | None:
    """The article's day where it was published (UTC+8)."""
    local = local_time(moment)
    return local[:10] if local else None


def _print_listing(result, color: str) -> None:
    out = console(color=color)
    suggestion = None
    if result.suggestion:  # a corrected query: before the hits, or after "no results"
        suggestion = Line("Did you mean: ")
        suggestion.append(shown(result.suggestion), style="bold")
        suggestion.append("?")
    if not result.hits:
        out.print(
            f"no results for {result.query!r}" + _with_filters(result.filters) + (f" on page {result.page}" if result.total else ""),
            markup=False,
        )
        if suggestion:
            out.print(suggestion)
        _print_facets(result.facets, out)
        return
    if suggestion:
        out.print(suggestion)
        out.print()
    first = (result.page - 1) * result.limit + 1
    for number, hit in enumerate(result.hits, first):
        heading = Line(f"{number:>3}. ", style="bold")
        heading.append_line(_marked(hit.title, hit.title_spans) if hit.title else Line(shown(hit.path)))
        out.print(heading)
        details = [part for part in (_local_day(hit.date), "/".join(hit.categories), hit.author) if part]
        out.print(Line("     " + "  ·  ".join(details + [shown(hit.path)]), style="dim"))
        if hit.snippet_text:
            line = Line("     ")
            line.append_line(_marked(hit.snippet_text, hit.snippet_spans))
            out.print(line)
        out.print()
    shown_to = first + len(result.hits) - 1
    total = result.total if result.total_is_exact else f"at least {result.total}"
    out.print(f"{first}–{shown_to} of {total} (page {result.page} of {result.pages})", style="dim", markup=False)
    _print_facets(result.facets, out)


def _with_filters(filters: dict) -> str:
    """`` with category 国际 or 国内, since 2024-01-01``: the filters a search had."""
    parts = [f"{name} {' or '.join(map(str, value)) if isinstance(value, list) else value}" for name, value in filters.items()]
    return f" with {', '.join(shown(part) for part in parts)}" if parts else ""


def _print_facets(facets, out) -> None:
    """Counts by category path (each level under its parent) and by month, under the hits."""
    if facets is None or not (facets.category_tree or facets.months):
        return
    tree = [(f"{'  ' * depth}{node.category}", node.documents) for node, depth in category_lines(facets.category_tree)]
    for label, counts in (("categories", tree), ("months", facets.months)):
        out.print()
        out.print(f"{label}:", style="bold", markup=False)
        _print_counts(out, counts)


def category_lines(nodes, depth: int = 0):
    """The category tree depth first: (node, depth) for each level."""
    for node in nodes:
        yield node, depth
        yield from category_lines(node.children, depth + 1)


def _print_counts(out, counts: list[tuple[str, int]]) -> None:
    for name, count in counts[:_SHOWN]:
        out.print(f"  {count:>7}  {shown(name)}", markup=False)
    if len(counts) > _SHOWN:
        out.print(f"  … and {len(counts) - _SHOWN} more (--json lists all)", markup=False)


def print_document(document, color: str = "auto") -> None:
    out = console(color=color)
    out.print(document.title or "(untitled)", style="bold", markup=False)
    for label, value in (
        ("path", shown(document.path)),
        ("date", local_time(document.date)),
        ("categories", " / ".join(document.categories)),
        ("tags", ", ".join(document.tags)),
        ("author", document.author),
    ):
        if value:
            out.print(f"{label + ':':<12}{value}", markup=False)
    out.print()
    out.print(document.text, markup=False)


def print_stats(stats) -> None:
    out = console()
    lines = [
        f"index:       {stats.location}",
        f"corpus:      {stats.corpus or '?'}",
        f"updated:     {stats.updated or '?'}",
        f"documents:   {stats.documents}",
        "terms:       " + ", ".join(f"{name} {count:,}" for name, count in stats.terms.items()),
        f"size:        {stats.size_bytes / 1e6:.1f} MB",
        "dates:       " + " … ".join(moment.isoformat() if moment else "?" for moment in (stats.first_date, stats.last_date)),
        "analysis:    " + ", ".join(f"{k}={v}" for k, v in (stats.settings.get("analysis") or {}).items()),
        f"categories:  {len(stats.categories)}",
    ]
    for line in lines:
        out.print(line, markup=False)
    _print_counts(out, stats.categories)


def print_check(report) -> None:
    out = console()
    out.print(
        f"index {report.index} reads back: {report.documents} documents, {report.terms:,} terms, "
        f"{report.postings:,} postings",
        markup=False,
    )
    if report.corpus is None:
        out.print("no corpus recorded or given: files not compared", markup=False)
    for label, paths in (("missing", report.missing), ("stale", report.stale), ("extra", report.extra)):
        for path in paths:
            out.print(f"{label} {shown(path)}", markup=False)
    for skipped in report.unindexable:
        out.print(f"unindexable {shown(skipped.path)}: {shown(skipped.reason)}", markup=False)
    if report.corpus is not None:
        verdict = "matches" if report.ok else "does not match"
        out.print(
            f"{verdict} {report.corpus}: {len(report.missing)} missing, {len(report.stale)} stale, "
            f"{len(report.extra)} extra, {len(report.unindexable)} unindexable",
            markup=False,
        )

#!/usr/bin/env python3
"""Relevance evaluation: our engine against the naive jieba + Whoosh setup, in one run.

Usage::

    python scripts/evaluate.py [--shared DIR] [--out FILE.json] [--limit N]
                               [--sets 1,2] [--queries FILE.jsonl] [--details FILE.jsonl]
                               [--naive-highlight]

Set 1 ("qbqtc"): real QQ-browser queries paired with web page titles
(``SHARED/eval/qbqtc-dev.jsonl``, labels 0/1/2). The corpus is one article per
distinct title (the title is both its title and its body text). For every
(query, title) pair labelled 2, the query must find that title's article.

Set 2 ("news"): known-item queries from ``scripts/eval/news-queries.jsonl``
(``query``, ``target`` path, ``style``) over the CCTV 《新闻联播》 stories made by
``SHARED/scripts/make-story-corpus`` (under ``stories/``) plus the Hexo
articles of ``SHARED/corpora/rsshub-page-hexo-html`` (under ``rsshub/``).

Set 3 ("mixed", issue 14): the same news queries over a mixed archive: the stories, the
same days' whole transcripts (``SHARED/corpora/xinwenlianbo-cctv-news-markdown/news``,
under ``transcripts/``: long documents holding every story's text), the Hexo posts and
the traditional-Chinese blog (under ``huli/``). Besides the metrics it reports how often
a transcript ranks above the target story (or stands in the top 10 without it).

Metrics over the top 10 results: MRR@10 (mean of 1/rank of the first correct
result, 0 when it is not in the top 10), hits@1 and hits@10 (share of queries
whose correct result is first / in the top 10). Prints one table, the time each
build and evaluation took, and writes everything as JSON (default
``scripts/eval/results.json``). See ``scripts/eval/README.md``.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

SCRIPTS = Path(__file__).resolve().parent
REPO = SCRIPTS.parent
sys.path.insert(0, str(SCRIPTS))

from naive import NaiveIndex, read_corpus  # noqa: E402

import search  # noqa: E402
from search import index_corpus, open_index  # noqa: E402

CUTOFF = 10
SYSTEMS = ("ours", "naive")
DEFAULT_QUERIES = SCRIPTS / "eval" / "news-queries.jsonl"
DEFAULT_OUT = SCRIPTS / "eval" / "results.json"
STYLES = ("keywords", "question", "paraphrase", "traditional")


@dataclass
class Query:
    text: str
    target: str  # set 1: the target's title (as parsed); set 2: the target's corpus path
    style: str = "all"
    ranks: dict[str, int | None] = field(default_factory=dict)  # system -> rank of first correct hit
    returned: dict[str, list[str]] = field(default_factory=dict)  # system -> top paths


@dataclass
class Run:
    """What one evaluation run collects: metric rows, timings, notes per set."""

    rows: list[dict] = field(default_factory=list)
    timings: list[dict] = field(default_factory=list)
    sets: dict[str, dict] = field(default_factory=dict)
    details: list[dict] = field(default_factory=list)

    def time(self, set_name: str, system: str, step: str, seconds: float, **extra: object) -> None:
        self.timings.append({"set": set_name, "system": system, "step": step, "seconds": round(seconds, 2), **extra})
        more = "".join(f", {key} {value}" for key, value in extra.items())
        say(f"  {set_name} · {system} · {step}: {seconds:.1f} s{more}")


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------- systems


@dataclass
class Systems:
    """Both systems built over one corpus: a ranker each, and the articles as our reader parsed them."""

    rankers: dict[str, Callable[[str], list[str]]]
    articles: list
    close: Callable[[], None]


def build_both(run: Run, set_name: str, corpus: Path, work: Path, highlight: bool) -> Systems:
    """Index ``corpus`` with our engine and with the naive setup."""
    started = time.perf_counter()
    report = index_corpus(corpus, work / "index-ours", rebuild=True)
    run.time(set_name, "ours", "build", time.perf_counter() - started, documents=report.documents, skipped=len(report.skipped))
    for item in report.skipped[:5]:
        say(f"    ours skipped {item.path}: {item.reason}")
    ours = open_index(work / "index-ours")

    started = time.perf_counter()
    articles, skipped = read_corpus(corpus)  # the same reader, so the same text
    naive = NaiveIndex.build(articles, work / "index-naive")
    run.time(set_name, "naive", "build", time.perf_counter() - started, documents=len(articles), skipped=len(skipped))

    def ours_paths(query: str) -> list[str]:
        return [hit.path for hit in ours.search(query, limit=CUTOFF, suggest=False).hits]

    def naive_paths(query: str) -> list[str]:
        return [hit.path for hit in naive.search(query, CUTOFF, highlight=highlight)]

    def close() -> None:
        ours.close()
        naive.close()

    return Systems({"ours": ours_paths, "naive": naive_paths}, articles, close)


def evaluate(run: Run, set_name: str, queries: list[Query], rankers: dict[str, Callable[[str], list[str]]], correct: Callable[[Query, str], bool]) -> None:
    """Run every query on every system, record the rank of the first correct hit."""
    for system, ranker in rankers.items():
        errors = 0
        started = time.perf_counter()
        for query in queries:
            try:
                paths = ranker(query.text)
            except Exception as error:  # a query that crashes a system counts as a miss
                errors += 1
                if errors <= 3:
                    say(f"    {system} failed on {query.text!r}: {type(error).__name__}: {error}")
                paths = []
            query.returned[system] = paths
            query.ranks[system] = next((rank for rank, path in enumerate(paths, 1) if correct(query, path)), None)
        seconds = time.perf_counter() - started
        run.time(set_name, system, "eval", seconds, queries=len(queries), per_query_ms=round(1000 * seconds / max(len(queries), 1), 2), errors=errors)


def metric_rows(set_name: str, queries: list[Query], by_style: bool) -> list[dict]:
    groups: dict[str, list[Query]] = {"all": queries}
    if by_style:
        styles = defaultdict(list)
        for query in queries:
            styles[query.style].append(query)
        ordered = [s for s in STYLES if s in styles] + sorted(s for s in styles if s not in STYLES)
        groups.update((style, styles[style]) for style in ordered)
    rows = []
    for subset, members in groups.items():
        for system in [name for name in (*SYSTEMS, "cluster") if any(name in query.ranks for query in members)]:
            ranks = [query.ranks.get(system) for query in members]
            n = len(ranks)
            rows.append(
                {
                    "set": set_name,
                    "subset": subset,
                    "system": system,
                    "queries": n,
                    "mrr@10": round(sum(1 / r for r in ranks if r) / n, 4) if n else None,
                    "hits@1": round(sum(1 for r in ranks if r == 1) / n, 4) if n else None,
                    "hits@10": round(sum(1 for r in ranks if r) / n, 4) if n else None,
                }
            )
    return rows


# ----------------------------------------------------------------------- set 1


def set1(run: Run, shared: Path, work: Path, highlight: bool) -> list[Query]:
    source = shared / "eval" / "qbqtc-dev.jsonl"
    say(f"set 1 (qbqtc): {source}")
    if not source.is_file():
        say(f"  skipped: {source} not found")
        run.sets["qbqtc"] = {"skipped": f"{source} not found"}
        return []
    pairs = [json.loads(line) for line in source.read_text("utf-8").splitlines() if line.strip()]
    titles = sorted({pair["title"] for pair in pairs})

    # One seed-format article per distinct title: the title is also the body text.
    started = time.perf_counter()
    corpus = work / "corpus"
    path_of: dict[str, str] = {}
    for number, title in enumerate(titles):
        relative = f"qbqtc/{number // 1000:02d}/{number:05d}.md"
        path_of[title] = relative
        file = corpus / relative
        file.parent.mkdir(parents=True, exist_ok=True)
        # A JSON string is a valid YAML double-quoted scalar.
        file.write_text(f"---\ntitle: {json.dumps(title, ensure_ascii=False)}\n---\n\n<p>{html.escape(title, quote=False)}</p>\n", "utf-8")
    run.time("qbqtc", "-", "write corpus", time.perf_counter() - started, files=len(titles))

    systems = build_both(run, "qbqtc", corpus, work, highlight)
    # Titles as our reader parsed them: the same for both systems.
    articles = systems.articles
    parsed_title = {article.path: article.title for article in articles}
    changed = sum(1 for title in titles if parsed_title.get(path_of[title]) not in (title, title.strip()))
    duplicates = len(titles) - len(set(parsed_title.values()))

    wanted = {(pair["query"], pair["title"]) for pair in pairs if str(pair["label"]) == "2"}
    queries, unindexed = [], 0
    for text, title in sorted(wanted):
        target = parsed_title.get(path_of[title])
        if target is None:
            unindexed += 1
            continue
        queries.append(Query(text=text, target=target))
    labelled = sum(1 for pair in pairs if str(pair["label"]) == "2")
    run.sets["qbqtc"] = {
        "source": str(source),
        "pairs": len(pairs),
        "pairs_labelled_2": labelled,
        "queries": len(queries),
        "documents": len(articles),
        "distinct_titles": len(titles),
        "titles_equal_after_parsing": duplicates,
        "titles_changed_by_parsing": changed,
        "targets_not_indexed": unindexed,
        "notes": "one query per distinct (query, title) pair labelled 2; a hit is any article with the target's title",
    }
    say(f"  {labelled} pairs labelled 2 -> {len(queries)} distinct (query, title) queries; {len(articles)} articles, {duplicates} duplicate titles after parsing")
    evaluate(run, "qbqtc", queries, systems.rankers, lambda query, path: parsed_title.get(path) == query.target)
    systems.close()
    return queries


# ----------------------------------------------------------------------- set 2


def set2(run: Run, shared: Path, work: Path, query_file: Path, limit: int | None, highlight: bool, cluster: int = 0) -> list[Query]:
    say(f"set 2 (news): {query_file}")
    if not query_file.is_file():
        message = f"{query_file} does not exist yet: set 2 skipped"
        say(f"  {message}")
        run.sets["news"] = {"skipped": message}
        return []
    raw = _read_queries(query_file)
    corpus = work / "corpus"
    started = time.perf_counter()
    _story_corpus(shared, corpus, limit)
    stories = sum(1 for _ in (corpus / "stories").rglob("*.md"))
    run.time("news", "-", "make corpus", time.perf_counter() - started, stories=stories)

    systems = build_both(run, "news", corpus, work, highlight)
    articles = systems.articles
    paths = {article.path for article in articles}
    queries = [query for query in raw if query.target in paths]
    missing = [query.target for query in raw if query.target not in paths]
    if missing:
        why = " (--limit leaves them out)" if limit is not None else ""
        say(f"  {len(missing)} of {len(raw)} queries skipped: target not in the corpus{why}, e.g. {missing[0]}")
    run.sets["news"] = {
        "queries_file": str(query_file),
        "queries_in_file": len(raw),
        "queries": len(queries),
        "targets_not_in_corpus": len(missing),
        "documents": len(articles),
        "stories": stories,
        "story_limit": limit,
    }
    rankers = dict(systems.rankers)
    stop = None
    if cluster:
        rankers["cluster"], stop = _cluster_ranker(run, corpus, work, cluster)
    evaluate(run, "news", queries, rankers, lambda query, path: path == query.target)
    systems.close()
    if stop:
        stop()
        overlaps = [len(set(query.returned["ours"]) & set(query.returned["cluster"])) / max(1, min(CUTOFF, len(query.returned["ours"]))) for query in queries]
        run.sets["news"]["cluster_top10_overlap_with_ours"] = round(sum(overlaps) / max(1, len(overlaps)), 4)
    return queries


def _cluster_ranker(run: Run, corpus: Path, work: Path, shards: int):
    """The same corpus in a Sphinx cluster of ``shards`` shards on this machine (issue 16)."""
    from search.cluster.layout import init_cluster
    from search.cluster.servers import free_ports, start_cluster, stop_cluster

    layout = init_cluster(work / "cluster", shards, port=free_ports(2 * (shards + 1)))
    start_cluster(work / "cluster")
    started = time.perf_counter()
    report = index_corpus(corpus, layout.url)
    run.time("news", "cluster", "build", time.perf_counter() - started, documents=report.documents, skipped=len(report.skipped))
    remote = open_index(layout.url)

    def cluster_paths(query: str) -> list[str]:
        return [hit.path for hit in remote.search(query, limit=CUTOFF).hits]

    def stop() -> None:
        remote.close()
        stop_cluster(work / "cluster")

    return cluster_paths, stop


def set3(run: Run, shared: Path, work: Path, query_file: Path, limit: int | None, highlight: bool) -> list[Query]:
    say("set 3 (mixed): the news queries over stories, whole-day transcripts, Hexo posts and a blog")
    raw = _read_queries(query_file)
    corpus = work / "corpus"
    started = time.perf_counter()
    _story_corpus(shared, corpus, limit)
    cctv = shared / "corpora" / "xinwenlianbo-cctv-news-markdown" / "news"
    (corpus / "transcripts").symlink_to(cctv.resolve(), target_is_directory=True)
    (corpus / "huli").symlink_to((shared / "corpora" / "huli-blog-zhtw-hexo-markdown" / "source").resolve(), target_is_directory=True)
    run.time("mixed", "-", "make corpus", time.perf_counter() - started, transcripts=sum(1 for _ in cctv.glob("*.md")))
    systems = build_both(run, "mixed", corpus, work, highlight)
    paths = {article.path for article in systems.articles}
    queries = [query for query in raw if query.target in paths]
    evaluate(run, "mixed", queries, systems.rankers, lambda query, path: path == query.target)
    systems.close()
    above = {system: sum(1 for query in queries if _transcript_above(query, system)) for system in SYSTEMS}
    run.sets["mixed"] = {
        "queries": len(queries),
        "documents": len(systems.articles),
        "transcript_above_target": {system: round(count / max(len(queries), 1), 4) for system, count in above.items()},
    }
    return queries


def _transcript_above(query: Query, system: str) -> bool:
    """Whether a whole-day transcript ranks above the target story in the top 10 (or is there without it)."""
    returned = query.returned.get(system, [])
    rank = query.ranks.get(system) or len(returned) + 1
    return any(path.startswith("transcripts/") for path in returned[: rank - 1])


def _read_queries(query_file: Path) -> list[Query]:
    raw = []
    for number, line in enumerate(query_file.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            raw.append(Query(text=item["query"], target=item["target"], style=item.get("style") or "unknown"))
        except (ValueError, KeyError, TypeError) as error:
            say(f"  {query_file.name}:{number}: unreadable line skipped ({type(error).__name__}: {error})")
    return raw


def _story_corpus(shared: Path, corpus: Path, limit: int | None) -> None:
    """The stories under ``corpus/stories`` and the Hexo posts under ``corpus/rsshub``, as set 2 has them."""
    command = [sys.executable, str(shared / "scripts" / "make-story-corpus"), str(shared / "corpora" / "xinwenlianbo-cctv-news-markdown" / "news"), str(corpus / "stories")]
    if limit is not None:
        command += ["--limit", str(limit)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    rsshub = shared / "corpora" / "rsshub-page-hexo-html"
    (corpus / "rsshub").mkdir(parents=True)
    for part in sorted(rsshub.iterdir()):  # the article folders (post/, source/), not SOURCE.md
        if part.is_dir() and not part.name.startswith("."):
            (corpus / "rsshub" / part.name).symlink_to(part.resolve(), target_is_directory=True)


# ---------------------------------------------------------------------- output


def print_table(run: Run) -> None:
    print()
    print(f"{'set':<7} {'subset':<12} {'system':<7} {'queries':>7} {'MRR@10':>7} {'hits@1':>7} {'hits@10':>7}")
    for row in run.rows:
        cells = [f"{row[key]:>7.3f}" if row[key] is not None else f"{'-':>7}" for key in ("mrr@10", "hits@1", "hits@10")]
        print(f"{row['set']:<7} {row['subset']:<12} {row['system']:<7} {row['queries']:>7} {' '.join(cells)}")
    for name, info in run.sets.items():
        if "skipped" in info:
            print(f"{name:<7} skipped: {info['skipped']}")
        if "transcript_above_target" in info:
            shares = ", ".join(f"{system} {share:.1%}" for system, share in info["transcript_above_target"].items())
            print(f"{name:<7} a whole-day transcript above the target story: {shares}")
        if "cluster_top10_overlap_with_ours" in info:
            print(f"{name:<7} the cluster's top 10 share {info['cluster_top10_overlap_with_ours']:.1%} of ours")
    print()
    print(f"{'set':<7} {'system':<6} {'step':<13} {'seconds':>8}  details")
    for timing in run.timings:
        extra = ", ".join(f"{key} {value}" for key, value in timing.items() if key not in ("set", "system", "step", "seconds"))
        print(f"{timing['set']:<7} {timing['system']:<6} {timing['step']:<13} {timing['seconds']:>8.1f}  {extra}")


def engine_state() -> dict[str, object]:
    """Which ``search`` package was measured: its folder, and the commit when it is this clone's."""
    engine = Path(search.__file__).resolve().parent

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    if engine != REPO / "search":  # e.g. PYTHONPATH pointing at another checkout
        return {"engine": str(engine), "commit": None, "dirty": None}
    return {"engine": str(engine), "commit": git("rev-parse", "HEAD") or None, "dirty": bool(git("status", "--porcelain", "--", "search"))}


def default_shared() -> Path:
    return Path(os.environ.get("NEWS_SEARCH_SHARED") or REPO.parent / "shared")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=None, help="the shared data folder (default: $NEWS_SEARCH_SHARED or ../shared)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON results (default: {DEFAULT_OUT.relative_to(REPO)})")
    parser.add_argument("--limit", type=int, default=None, help="set 2: only the first N stories, in date order (quick runs)")
    parser.add_argument("--sets", default="1,2,3", help="which sets to run: any of 1, 2, 3 (default: all)")
    parser.add_argument("--queries", type=Path, default=DEFAULT_QUERIES, help=f"set 2 queries (default: {DEFAULT_QUERIES.relative_to(REPO)})")
    parser.add_argument("--details", type=Path, default=None, help="also write each query's ranks and top paths as JSON Lines")
    parser.add_argument("--cluster", type=int, nargs="?", const=2, default=0, metavar="SHARDS", help="set 2 also on a Sphinx cluster of SHARDS shards (default 2) on this machine (needs searchd)")
    parser.add_argument("--naive-highlight", action="store_true", help="let the naive setup highlight body snippets, as our engine always does")
    args = parser.parse_args(argv)
    shared = args.shared or default_shared()
    wanted = {part.strip() for part in args.sets.split(",") if part.strip()}
    if not wanted <= {"1", "2", "3"} or not wanted:
        parser.error("--sets takes any of 1, 2, 3, comma-separated")
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be 1 or more")
    if not shared.is_dir():
        parser.error(f"shared data folder not found: {shared} (give --shared DIR or set NEWS_SEARCH_SHARED)")

    run = Run()
    started = time.perf_counter()
    results: dict[str, list[Query]] = {}
    if "1" in wanted:
        with tempfile.TemporaryDirectory(prefix="eval-qbqtc-") as work:
            results["qbqtc"] = set1(run, shared, Path(work), args.naive_highlight)
        run.rows += metric_rows("qbqtc", results["qbqtc"], by_style=False) if results["qbqtc"] else []
    if "2" in wanted:
        with tempfile.TemporaryDirectory(prefix="eval-news-") as work:
            results["news"] = set2(run, shared, Path(work), args.queries, args.limit, args.naive_highlight, args.cluster)
        run.rows += metric_rows("news", results["news"], by_style=True) if results["news"] else []
    if "3" in wanted:
        with tempfile.TemporaryDirectory(prefix="eval-mixed-") as work:
            results["mixed"] = set3(run, shared, Path(work), args.queries, args.limit, args.naive_highlight)
        run.rows += metric_rows("mixed", results["mixed"], by_style=True) if results["mixed"] else []
    total = time.perf_counter() - started

    print_table(run)
    print(f"\ntotal {total:.0f} s")
    output = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **engine_state(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "arguments": {"shared": str(shared), "limit": args.limit, "sets": sorted(wanted), "naive_highlight": args.naive_highlight, "cluster": args.cluster},
        "cutoff": CUTOFF,
        "sets": run.sets,
        "results": run.rows,
        "timings": run.timings,
        "total_seconds": round(total, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(output, ensure_ascii=False, indent=1) + "\n", "utf-8")
    print(f"results written to {args.out}")
    if args.details:
        with args.details.open("w", encoding="utf-8") as out:
            for set_name, queries in results.items():
                for query in queries:
                    out.write(json.dumps({"set": set_name, "query": query.text, "target": query.target, "style": query.style, "ranks": query.ranks, "top": query.returned}, ensure_ascii=False) + "\n")
        print(f"per-query ranks written to {args.details}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

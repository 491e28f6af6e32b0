#!/usr/bin/env python3
"""Performance benchmark: our engine against the naive jieba + Whoosh setup, in one run (issue #4).

Usage::

    python scripts/bench.py [--size 1k|4k|all] [--runs N] [--out FILE.json] [--keep DIR]
                            [--queries FILE] [--cli-runs N] [--passes N] [--naive-procs2]
                            [--shared DIR]
    python scripts/bench.py --make-queries      # regenerate scripts/bench-queries.txt

Both systems index the same CCTV 《新闻联播》 story corpus (made by
``SHARED/scripts/make-story-corpus``; ``--size`` picks the first 1,000 or 4,000
stories, or all of them). The naive setup is ``scripts/naive.py``, built with a
single Whoosh writer process, as jieba's README suggests. Each round (``--runs``,
default 3) measures, naive and ours alternating (the order flips every round):

- full build, each in a fresh subprocess: build time, docs/s, peak RSS
  (``getrusage`` of that process, plus its largest worker once per worker process:
  an upper bound of the memory in use at once), index size on disk;
- query latency in-process (library calls, after a warm-up pass) over the fixed
  query set ``scripts/bench-queries.txt``, with and without snippets:
  p50/p95/p99 of ``--passes`` passes pooled;
- ``--batch``: ``news-search search --batch FILE`` (whole process) against a
  process running the naive search + highlight over the same queries;
- cold CLI query: ``news-search search QUERY --index DIR`` as a new process
  (open the index, one search with snippets, print), ``--cli-runs`` times, after
  one untimed run of each system that leaves the index in the page cache and
  Python's bytecode cache written (even under ``PYTHONDONTWRITEBYTECODE``, which
  would make every process compile the sources again: 45 ms of ours);
- incremental update (ours only): ``news-search index CORPUS --index DIR`` as a
  whole process after one story file changed, and with nothing changed.

Prints one table (metric | naive | ours | ratio | target | pass) with medians
over rounds and min–max, and writes everything as JSON (default
``scripts/bench-results.json``). See the README section "Benchmarks".
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

SCRIPTS = Path(__file__).resolve().parent
REPO = SCRIPTS.parent
DEFAULT_QUERIES = SCRIPTS / "bench-queries.txt"
DEFAULT_OUT = SCRIPTS / "bench-results.json"
SIZES = {"1k": 1000, "4k": 4000, "all": None, "10x": None, "100x": None}
GROWTH_SIZES = ("10x", "100x")  # growth runs (scripts/growth.py): all stories, and them ×10 or ×100
SYSTEMS = ("naive", "ours")
LIMIT = 10  # hits per query, for both systems
BATCH_QUERIES = 200
QUERY_SEED = 4  # issue #4


def say(message: str) -> None:
    """Progress goes to stderr; the table and the results path to stdout."""
    print(message, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ query set


@dataclass(frozen=True)
class BenchQuery:
    """One line of the query file: its kind, the query text, and CLI-style filter options."""

    kind: str
    text: str
    options: dict[str, str] = field(default_factory=dict)  # category, author, since, until, sort

    def line(self) -> str:
        quoted = {key: value if re.fullmatch(r"[^\s'\"\\]+", value) else shlex.quote(value) for key, value in self.options.items()}
        opts = " ".join(f"--{key} {value}" for key, value in quoted.items())
        return f"{self.kind}\t{self.text}" + (f"\t{opts}" if opts else "")


def load_queries(path: Path) -> list[BenchQuery]:
    """Read ``KIND<TAB>QUERY[<TAB>--option VALUE ...]`` lines; ``#`` lines are comments."""
    queries = []
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        kind, text, *rest = line.split("\t")
        options: dict[str, str] = {}
        words = shlex.split(rest[0]) if rest else []
        if len(words) % 2:
            raise SystemExit(f"{path}:{number}: options come in pairs (--name value)")
        for name, value in zip(words[::2], words[1::2]):
            if name not in ("--category", "--author", "--since", "--until", "--sort"):
                raise SystemExit(f"{path}:{number}: unknown option {name}")
            options[name[2:]] = value
        queries.append(BenchQuery(kind, text, options))
    return queries


def make_queries(shared: Path, out: Path) -> None:
    """Write a fixed, mixed set of 200 queries drawn (seeded) from the titles of the first 1,000 stories.

    Drawing from the first 1,000 stories keeps every query meaningful at every
    ``--size`` (corpora of 4k and all stories begin with the same 1,000).
    """
    import jieba

    sys.path.insert(0, str(SCRIPTS))
    from naive import read_corpus

    with tempfile.TemporaryDirectory(prefix="bench-queries-") as work:
        corpus = make_corpus(shared, Path(work) / "corpus", 1000)
        articles, _ = read_corpus(corpus)
    articles.sort(key=lambda article: article.path)
    rng = random.Random(QUERY_SEED)
    han = re.compile(r"^[\u4e00-\u9fff]{2,}$")
    titled = []  # (title, its Chinese words of 2+ characters, in order)
    for article in articles:
        words = [word for word in jieba.lcut(article.title) if han.match(word)]
        titled.append((article.title, words))
    vocabulary = sorted({word for _, words in titled for word in words})
    days = sorted(article.date.date().isoformat() for article in articles if article.date)

    def word() -> str:
        return rng.choice(vocabulary)

    def title_words(least: int) -> list[str]:
        while True:
            title, words = rng.choice(titled)
            if len(words) >= least:
                return words

    queries: list[BenchQuery] = []
    seen: set[tuple[str, str]] = set()

    def add(kind: str, text: str, options: dict[str, str] | None = None) -> bool:
        key = (text, json.dumps(options or {}, sort_keys=True))
        if key in seen or not text.strip():
            return False
        seen.add(key)
        queries.append(BenchQuery(kind, text, options or {}))
        return True

    def fill(count: int, kind: str, make: Callable[[], tuple[str, dict[str, str] | None]]) -> None:
        added = 0
        while added < count:
            added += add(kind, *make())

    def keywords() -> tuple[str, None]:
        words = title_words(2)
        picked = sorted(rng.sample(range(len(words)), rng.randint(2, min(3, len(words)))))
        return " ".join(words[i] for i in picked), None

    def phrase() -> tuple[str, None]:
        words = title_words(2)
        start = rng.randrange(len(words) - 1)
        open_, close = rng.choice([('"', '"'), ('"', '"'), ("“", "”")])
        return f"{open_}{words[start]}{words[start + 1]}{close}", None

    def unspaced() -> tuple[str, None]:
        while True:
            title, _ = rng.choice(titled)
            runs = [run for run in re.findall(r"[\u4e00-\u9fff]+", title) if len(run) >= 6]
            if runs:
                run = rng.choice(runs)
                size = rng.randint(6, min(10, len(run)))
                start = rng.randrange(len(run) - size + 1)
                return run[start : start + size], None

    quarter, middle, three_quarters = (days[len(days) * k // 4] for k in (1, 2, 3))
    filter_sets = [
        {"category": "国际"},
        {"category": "国内"},
        {"since": middle},
        {"until": quarter},
        {"since": quarter, "until": three_quarters},
        {"category": "国内", "since": middle},
        {"author": "央视网"},
        {"category": "新闻联播", "until": three_quarters},
    ]

    def filtered() -> tuple[str, dict[str, str]]:
        text = word() if rng.random() < 0.5 else keywords()[0]
        return text, dict(rng.choice(filter_sets))

    operator_forms = [
        lambda: f"title:{word()}",
        lambda: f"{word()} -{word()}",
        lambda: f"{word()} OR {word()}",
        lambda: f"+{word()} {word()}",
        lambda: f"({word()} OR {word()}) {word()}",
        lambda: f"category:国际 {word()}",
    ]

    fill(50, "word", lambda: (word(), None))
    fill(50, "keywords", keywords)
    fill(30, "phrase", phrase)
    fill(20, "unspaced", unspaced)
    fill(35, "filter", filtered)
    fill(15, "operator", lambda: (rng.choice(operator_forms)(), None))
    rng.shuffle(queries)
    header = [
        "# Fixed query set for scripts/bench.py (issue #4): 200 mixed queries.",
        "# Generated by `python scripts/bench.py --make-queries` (seed 4) from the titles of the",
        "# first 1,000 CCTV stories; committed so that every run measures the same queries.",
        "# Format: KIND<TAB>QUERY[<TAB>--category C --author A --since D --until D --sort S]",
        "# Kinds: word, keywords, phrase (quoted), unspaced (a piece of a title), filter, operator.",
    ]
    out.write_text("\n".join(header + [query.line() for query in queries]) + "\n", "utf-8")
    say(f"{len(queries)} queries written to {out}")


# -------------------------------------------------------------------- corpus


def make_corpus(shared: Path, out: Path, limit: int | None, times: int = 1) -> Path:
    """The story corpus, written by the shared script (deterministic; stories in date order);
    with ``times`` above 1, those stories ×``times`` by ``make-scaled-corpus`` (dates moved,
    paragraphs shuffled)."""
    stories = out if times == 1 else out.with_name(out.name + "-stories")
    command = [sys.executable, str(shared / "scripts" / "make-story-corpus"), str(shared / "corpora" / "xinwenlianbo-cctv-news-markdown" / "news"), str(stories)]
    if limit is not None:
        command += ["--limit", str(limit)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    if times > 1:
        subprocess.run([sys.executable, str(shared / "scripts" / "make-scaled-corpus"), str(stories), str(out), str(times)], check=True, stdout=subprocess.DEVNULL)
        shutil.rmtree(stories)
    return out


def folder_bytes(path: Path) -> int:
    """Total size of the files under ``path``."""
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())


# ------------------------------------------------------------------- workers
# Each worker runs in a fresh process (``bench.py _worker KIND ...``) and prints
# one JSON object as its last line of stdout.


def peak_rss_mb(children_at_once: int = 1) -> dict[str, float]:
    """Peak resident set size of this process and of its largest finished child (MB).

    ``rss_mb`` counts the largest child ``children_at_once`` times (workers that ran
    side by side): an upper bound of the memory in use at any one time.
    """
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    total = own + children * max(1, children_at_once)
    return {"rss_self_mb": round(own, 1), "rss_children_mb": round(children, 1), "rss_mb": round(total, 1)}


def worker_build(system: str, corpus: str, directory: str, procs: str = "1") -> dict:
    """Build one index from scratch; time the build itself (imports excluded, jieba's dictionary load included)."""
    if system in ("ours", "cluster"):  # a cluster: ``directory`` is its sphinx:// address
        from search import index_corpus

        started = time.perf_counter()
        report = index_corpus(corpus, directory, rebuild=True)
        seconds = time.perf_counter() - started
        documents, skipped, workers = report.documents, len(report.skipped), report.workers
    else:
        sys.path.insert(0, str(SCRIPTS))
        import whoosh.index
        from naive import NaiveIndex, naive_schema, read_corpus

        started = time.perf_counter()
        articles, skipped_files = read_corpus(corpus)
        if procs == "1":
            NaiveIndex.build(articles, directory).close()  # exactly scripts/naive.py
        else:  # the same documents through Whoosh's multi-process writer, for context
            os.makedirs(directory, exist_ok=True)
            ix = whoosh.index.create_in(directory, naive_schema())
            writer = ix.writer(procs=int(procs), limitmb=256)
            for article in articles:
                writer.add_document(path=article.path, title=article.title, body=article.body, categories="\n".join(article.categories + article.tags))
            writer.commit()
            ix.close()
        seconds = time.perf_counter() - started
        documents, skipped = len(articles), len(skipped_files)
        workers = 1  # Whoosh's procs=2 writer: its largest child is counted once
    return {"seconds": seconds, "documents": documents, "skipped": skipped, **peak_rss_mb(workers), "workers": workers}


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    """p50/p95/p99 (inclusive quantiles) and the mean of latency samples in ms."""
    cuts = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98], "mean": statistics.fmean(samples_ms), "samples": len(samples_ms)}


def worker_queries(system: str, directory: str, query_file: str, passes: str) -> dict:
    """In-process latency of every query, with and without snippets, after one warm-up pass.

    Ours always makes snippets in ``Index.search``; "without" replaces the
    snippet and title highlighter by a stub returning "" (stored fields are
    still read). The naive setup has no filters: filter options are dropped for it.
    Passes alternate with/without, so drift hits both alike.
    """
    queries = load_queries(Path(query_file))
    if system in ("ours", "cluster"):  # a cluster: through its head, ``directory`` its address
        import search.query.snippets as engine  # where both engines mark hits (marked_hit)
        from search import open_index
        from search.query.snippets import Highlighted

        index = open_index(directory)
        real = (engine.best_passage, engine.highlighted)
        stubs = (lambda *a, **k: Highlighted(""), lambda *a, **k: Highlighted(""))

        def run(query: BenchQuery, snippets: bool) -> int:
            engine.best_passage, engine.highlighted = real if snippets else stubs
            return len(index.search(query.text, limit=LIMIT, **query.options).hits)
    else:
        sys.path.insert(0, str(SCRIPTS))
        from naive import NaiveIndex
        import whoosh.index

        index = NaiveIndex(whoosh.index.open_dir(directory))

        def run(query: BenchQuery, snippets: bool) -> int:
            return len(index.search(query.text, LIMIT, highlight=snippets))

    for query in queries:  # warm-up: jieba's dictionary, caches, page cache
        run(query, True)
        run(query, False)
    timings: dict[bool, list[list[float]]] = {True: [[] for _ in queries], False: [[] for _ in queries]}
    hits = []
    for _ in range(int(passes)):
        for snippets in (True, False):
            for number, query in enumerate(queries):
                started = time.perf_counter_ns()
                found = run(query, snippets)
                timings[snippets][number].append((time.perf_counter_ns() - started) / 1e6)
                if snippets and len(hits) < len(queries):
                    hits.append(found)
    index.close()
    per_kind: dict[str, list[float]] = {}
    for query, samples in zip(queries, timings[True]):
        per_kind.setdefault(query.kind, []).extend(samples)
    slowest = sorted(((statistics.median(samples), query) for query, samples in zip(queries, timings[True])), key=lambda pair: -pair[0])[:5]
    return {
        "with_snippets": percentiles([ms for samples in timings[True] for ms in samples]),
        "without_snippets": percentiles([ms for samples in timings[False] for ms in samples]),
        "p50_by_kind_with_snippets": {kind: round(statistics.median(samples), 3) for kind, samples in sorted(per_kind.items())},
        "slowest_with_snippets": [{"ms": round(ms, 2), "kind": query.kind, "query": query.text, "options": query.options} for ms, query in slowest],
        "queries_with_no_hit": sum(1 for count in hits if count == 0),
        **peak_rss_mb(),
    }


def worker_paired_queries(small: str, large: str, query_file: str, passes: str) -> dict:
    """In-process latency with snippets of every query on two indexes of ours, each query
    run on both in turn (which first alternates), after a warm-up pass: both sizes see
    the same moments of a machine whose speed drifts, so their ratio holds still."""
    from search import open_index

    queries = load_queries(Path(query_file))
    indexes = [open_index(small), open_index(large)]
    for query in queries:
        for index in indexes:
            index.search(query.text, limit=LIMIT, **query.options)
    samples: list[list[float]] = [[], []]
    for number in range(int(passes)):
        for position, query in enumerate(queries):
            for which in (0, 1) if (number + position) % 2 == 0 else (1, 0):
                started = time.perf_counter_ns()
                indexes[which].search(query.text, limit=LIMIT, **query.options)
                samples[which].append((time.perf_counter_ns() - started) / 1e6)
    for index in indexes:
        index.close()
    return {"small": percentiles(samples[0]), "large": percentiles(samples[1])}


def worker_naive_search(directory: str, batch_file: str | None = None, query: str | None = None) -> None:
    """The naive counterpart of ``news-search search``: open the index, search + highlight, print JSON lines."""
    sys.path.insert(0, str(SCRIPTS))
    from naive import NaiveIndex
    import whoosh.index

    with NaiveIndex(whoosh.index.open_dir(directory)) as naive:
        texts = [query] if query is not None else [line.rstrip("\n") for line in open(batch_file, encoding="utf-8") if line.strip()]
        for text in texts:
            hits = naive.search(text, LIMIT, highlight=True)
            print(json.dumps({"query": text, "hits": [hit.__dict__ for hit in hits]}, ensure_ascii=False))


def worker(argv: list[str]) -> int:
    """Entry point of ``bench.py _worker KIND ARGS...``."""
    kind, *args = argv
    if kind == "build":
        print(json.dumps(worker_build(*args)))
    elif kind == "queries":
        print(json.dumps(worker_queries(*args), ensure_ascii=False))
    elif kind == "queries-paired":
        print(json.dumps(worker_paired_queries(*args)))
    elif kind == "overlap":
        print(json.dumps(worker_overlap(*args)))
    elif kind == "naive-batch":
        worker_naive_search(args[0], batch_file=args[1])
    elif kind == "naive-query":
        worker_naive_search(args[0], query=args[1])
    else:
        raise SystemExit(f"unknown worker {kind}")
    return 0


def run_worker(*args: str) -> dict:
    """Run a worker in a new process; its JSON result, with the whole process's wall time."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "_worker", *args], capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"worker {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "wall": wall}


def with_bytecode() -> dict[str, str]:
    """This environment without PYTHONDONTWRITEBYTECODE, for a run that writes Python's bytecode cache."""
    return {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def timed(command: list[str], expect: str | None = None, environment: dict[str, str] | None = None) -> float:
    """Wall time of a whole process; its output is read and dropped (checked for ``expect``)."""
    started = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{shlex.join(command)} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    if expect is not None and expect not in done.stdout:
        raise RuntimeError(f"{shlex.join(command)}: expected {expect!r} in its output, got {done.stdout.strip()[:500]!r}")
    return wall


# ---------------------------------------------------------------- one round


@dataclass
class Bench:
    """Settings of a run, and every measurement it collects (lists hold one value per round)."""

    corpus: Path
    work: Path
    queries: Path
    batch_file: Path
    cold_queries: list[str]
    passes: int
    cli_runs: int
    naive_procs2: bool
    cli: str
    data: dict[str, list] = field(default_factory=dict)

    def add(self, key: str, value: object) -> None:
        self.data.setdefault(key, []).append(value)


def order(round_number: int) -> tuple[str, str]:
    """naive first in even rounds, ours first in odd ones (ABBA), so neither always runs second."""
    return SYSTEMS if round_number % 2 == 0 else SYSTEMS[::-1]


def bench_round(bench: Bench, number: int) -> dict[str, Path]:
    """Build both indexes and measure everything once; returns the index folders."""
    folders = {system: bench.work / f"round{number}-{system}" for system in SYSTEMS}
    for system in order(number):
        say(f"round {number + 1}: build {system}")
        result = run_worker("build", system, str(bench.corpus), str(folders[system]))
        result["index_bytes"] = folder_bytes(folders[system])
        bench.add(f"build_{system}", result)
    if bench.naive_procs2:
        say(f"round {number + 1}: build naive procs=2")
        extra = bench.work / f"round{number}-naive-procs2"
        result = run_worker("build", "naive", str(bench.corpus), str(extra), "2")
        result["index_bytes"] = folder_bytes(extra)
        bench.add("build_naive_procs2", result)
        shutil.rmtree(extra)

    for system in order(number):
        say(f"round {number + 1}: {bench.passes} query passes, {system}")
        bench.add(f"queries_{system}", run_worker("queries", system, str(folders[system]), str(bench.queries), str(bench.passes)))

    commands = {
        "ours": lambda text: [bench.cli, "search", text, "--index", str(folders["ours"])],
        "naive": lambda text: [sys.executable, str(Path(__file__).resolve()), "_worker", "naive-query", str(folders["naive"]), text],
    }
    batches = {
        "ours": [bench.cli, "search", "--batch", str(bench.batch_file), "--index", str(folders["ours"])],
        "naive": [sys.executable, str(Path(__file__).resolve()), "_worker", "naive-batch", str(folders["naive"]), str(bench.batch_file)],
    }
    # Untimed: the page cache, and Python's bytecode cache, written even where
    # PYTHONDONTWRITEBYTECODE is set (as here), as an install without it writes it
    # on first use; otherwise every process compiles the packages' sources again.
    for system in SYSTEMS:
        timed(commands[system](bench.cold_queries[0]), environment=with_bytecode())

    say(f"round {number + 1}: --batch of {BATCH_QUERIES} queries")
    for system in order(number):
        bench.add(f"batch_{system}", timed(batches[system]))

    say(f"round {number + 1}: cold CLI query x{bench.cli_runs}")
    cold: dict[str, list[float]] = {system: [] for system in SYSTEMS}
    for run in range(bench.cli_runs):
        text = bench.cold_queries[run % len(bench.cold_queries)]
        for system in order(number + run):
            cold[system].append(timed(commands[system](text)))
    for system in SYSTEMS:
        bench.add(f"cold_{system}", statistics.median(cold[system]))
        bench.add(f"cold_{system}_all", cold[system])

    say(f"round {number + 1}: incremental updates (ours)")
    changed, unchanged = incremental(bench, folders["ours"], number)
    bench.add("update_changed", statistics.median(changed))
    bench.add("update_changed_all", changed)
    bench.add("update_noop", statistics.median(unchanged))
    bench.add("update_noop_all", unchanged)
    return folders


def worker_overlap(ours: str, url: str, query_file: str) -> dict:
    """How much of our top 10 the cluster's top 10 shares, query by query (mean)."""
    from search import open_index

    shares = []
    with open_index(ours) as local, open_index(url) as remote:
        for query in load_queries(Path(query_file)):
            mine = {hit.path for hit in local.search(query.text, limit=LIMIT, **query.options).hits}
            theirs = {hit.path for hit in remote.search(query.text, limit=LIMIT, **query.options).hits}
            if mine:
                shares.append(len(mine & theirs) / len(mine))
    return {"top10_overlap": statistics.fmean(shares) if shares else None, "queries": len(shares)}


def bench_cluster(bench: Bench, number: int, ours: Path) -> None:
    """A Sphinx cluster of two shards on this machine (issue 16): its build through
    ``index_corpus`` and its query latency through the head, beside ours of the round."""
    from search.cluster.layout import init_cluster
    from search.cluster.servers import free_ports, start_cluster, stop_cluster

    folder = bench.work / f"round{number}-cluster"
    layout = init_cluster(folder, 2, port=free_ports(6))
    start_cluster(folder)
    try:
        say(f"round {number + 1}: build cluster (2 shards)")
        bench.add("build_cluster", run_worker("build", "cluster", str(bench.corpus), layout.url))
        say(f"round {number + 1}: {bench.passes} query passes, cluster")
        bench.add("queries_cluster", run_worker("queries", "cluster", layout.url, str(bench.queries), str(bench.passes)))
        bench.add("overlap_cluster", run_worker("overlap", str(ours), layout.url, str(bench.queries)))
    finally:
        stop_cluster(folder)
        shutil.rmtree(folder, ignore_errors=True)


def cluster_rows(bench: Bench) -> list[tuple[str, dict | None, dict | None, float | None]]:
    """(metric, ours, cluster, cluster ÷ ours) for the cluster's table."""
    data = bench.data

    def values(key: str, pick: Callable[[dict], float]) -> list[float]:
        return [pick(item) for item in data.get(key, [])]

    rows = []
    for label, key, pick in (
        ("full build [s]", "build", lambda r: r["seconds"]),
        ("build rate [docs/s]", "build", lambda r: r["documents"] / r["seconds"]),
        *(
            (f"query {cut} with snippets [ms]", "queries", (lambda cut: lambda r: r["with_snippets"][cut])(cut))
            for cut in ("p50", "p95", "p99")
        ),
        ("query p50 no snippets [ms]", "queries", lambda r: r["without_snippets"]["p50"]),
    ):
        ours, cluster = values(f"{key}_ours", pick), values(f"{key}_cluster", pick)
        ratios = [c / o for o, c in zip(ours, cluster) if o]
        rows.append((label, spread(ours), spread(cluster), statistics.median(ratios) if ratios else None))
    return rows


def incremental(bench: Bench, index: Path, number: int, times: int = 3, first: int = 0) -> tuple[list[float], list[float]]:
    """``news-search index`` wall times: after one story gained a sentence, then with nothing changed
    (``times`` times; ``first``: how many such updates this round made before).

    The story is restored afterwards, so later rounds build the same corpus.
    """
    stories = sorted(bench.corpus.rglob("*.md"))
    story = stories[len(stories) // 2]
    original = story.read_bytes()
    command = [bench.cli, "index", str(bench.corpus), "--index", str(index)]
    changed, unchanged = [], []
    try:
        if first == 0:  # untimed, as for cold queries: the bytecode of what an update imports is written
            _add_sentence(story, f"第{number + 1}轮预热")
            timed(command, expect=" 1 updated", environment=with_bytecode())
        for attempt in range(first, first + times):
            _add_sentence(story, f"第{number + 1}轮第{attempt + 1}次")
            changed.append(timed(command, expect=" 1 updated"))
            unchanged.append(timed(command, expect=" 0 updated"))
    finally:
        story.write_bytes(original)
    return changed, unchanged


def _add_sentence(story: Path, which: str) -> None:
    text = story.read_text("utf-8")
    sentence = f"<p>基准测试{which}修改：本台记者补充报道。</p>\n</div>"
    story.write_text(text[: text.rindex("</div>")] + sentence + text[text.rindex("</div>") + 6 :], "utf-8")


# ------------------------------------------------------------------- summary


def spread(values: list[float]) -> dict[str, float] | None:
    """Median, min and max of one value per round."""
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": values}


@dataclass
class Row:
    """One line of the table: a metric for both systems, the ratio, its target and verdict."""

    metric: str
    unit: str
    naive: dict | None
    ours: dict | None
    ratio: float | None = None  # how many times better ours is, from paired rounds
    target: str = ""
    passed: bool | None = None
    digits: int = 2


def paired_ratio(naive: list[float], ours: list[float], higher_is_better: bool = False) -> float | None:
    """Median over rounds of naive/ours (ours/naive when higher is better): above 1, ours is better."""
    if not naive or not ours:
        return None
    pairs = [(o / n if higher_is_better else n / o) for n, o in zip(naive, ours) if n and o]
    return statistics.median(pairs) if pairs else None


def summarize(bench: Bench) -> list[Row]:
    """The table's rows, with each target checked against the medians."""
    data = bench.data
    rows: list[Row] = []

    def values(key: str, pick: Callable[[dict], float]) -> list[float]:
        return [pick(item) for item in data.get(key, [])]

    build = {s: values(f"build_{s}", lambda r: r["seconds"]) for s in SYSTEMS}
    speedup = paired_ratio(build["naive"], build["ours"])
    rows.append(Row("full build", "s", spread(build["naive"]), spread(build["ours"]), speedup, "≥3× naive", speedup is not None and speedup >= 3, 1))
    rate = {s: values(f"build_{s}", lambda r: r["documents"] / r["seconds"]) for s in SYSTEMS}
    rows.append(Row("build rate", "docs/s", spread(rate["naive"]), spread(rate["ours"]), paired_ratio(rate["naive"], rate["ours"], True), digits=0))
    if data.get("build_naive_procs2"):
        procs2 = values("build_naive_procs2", lambda r: r["seconds"])
        rows.append(Row("full build, naive procs=2 (context)", "s", spread(procs2), spread(build["ours"]), paired_ratio(procs2, build["ours"]), digits=1))
    rss = {s: values(f"build_{s}", lambda r: r["rss_mb"]) for s in SYSTEMS}
    rows.append(Row("build peak RSS", "MB", spread(rss["naive"]), spread(rss["ours"]), paired_ratio(rss["naive"], rss["ours"]), "ours ≤500 MB", statistics.median(rss["ours"]) <= 500, 0))
    size = {s: values(f"build_{s}", lambda r: r["index_bytes"] / 1e6) for s in SYSTEMS}
    ratio = paired_ratio(size["naive"], size["ours"])
    rows.append(Row("index size", "MB", spread(size["naive"]), spread(size["ours"]), ratio, "≤ naive", ratio is not None and ratio >= 1, 1))

    changed = data["update_changed"]
    rows.append(Row("update, 1 changed file (process)", "s", None, spread(changed), None, "≤1.5 s", statistics.median(changed) <= 1.5))
    rows.append(Row("update, nothing changed (process)", "s", None, spread(data["update_noop"])))

    for label, part in (("with snippets", "with_snippets"), ("no snippets", "without_snippets")):
        for cut, limit in (("p50", 5.0), ("p95", None), ("p99", 30.0)):
            latency = {s: values(f"queries_{s}", lambda r: r[part][cut]) for s in SYSTEMS}
            target = f"≤{limit:g} ms" if limit is not None and part == "with_snippets" else ""
            verdict = statistics.median(latency["ours"]) <= limit if target else None
            rows.append(Row(f"query {cut} {label}", "ms", spread(latency["naive"]), spread(latency["ours"]), paired_ratio(latency["naive"], latency["ours"]), target, verdict))

    cold = {s: data[f"cold_{s}"] for s in SYSTEMS}
    rows.append(Row("cold CLI query (process)", "s", spread(cold["naive"]), spread(cold["ours"]), paired_ratio(cold["naive"], cold["ours"]), "≤0.35 s", statistics.median(cold["ours"]) <= 0.35))
    batch = {s: data[f"batch_{s}"] for s in SYSTEMS}
    speedup = paired_ratio(batch["naive"], batch["ours"])
    rows.append(Row(f"--batch {BATCH_QUERIES} queries (process)", "s", spread(batch["naive"]), spread(batch["ours"]), speedup, "≥3× naive", speedup is not None and speedup >= 3))
    return rows


def cell(value: dict | None, digits: int) -> str:
    """``median (min–max)``, or the median alone when there was one round."""
    if value is None:
        return "—"
    median = f"{value['median']:,.{digits}f}"
    if len(value["runs"]) == 1:
        return median
    return f"{median} ({value['min']:,.{digits}f}–{value['max']:,.{digits}f})"


def print_table(rows: list[Row]) -> None:
    """One readable table: metric | naive | ours | ratio | target | pass."""
    table = [("metric", "naive", "ours", "ratio", "target", "pass")]
    for row in rows:
        verdict = "" if row.passed is None else ("PASS" if row.passed else "FAIL")
        ratio = "—" if row.ratio is None else f"{row.ratio:.2f}×"
        table.append((f"{row.metric} [{row.unit}]", cell(row.naive, row.digits), cell(row.ours, row.digits), ratio, row.target, verdict))
    widths = [max(len(line[column]) for line in table) for column in range(len(table[0]))]
    for number, line in enumerate(table):
        print(" | ".join(text.ljust(width) if column in (0, 4, 5) else text.rjust(width) for column, (text, width) in enumerate(zip(line, widths))).rstrip())
        if number == 0:
            print("-+-".join("-" * width for width in widths))
    print("values: median over rounds (min–max); ratio: naive ÷ ours per round, median (docs/s: ours ÷ naive) — above 1× ours is better")


# ---------------------------------------------------------------------- main


def engine_state() -> dict[str, object]:
    """Which commit was measured, and whether ``search/`` had uncommitted changes."""

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    return {"commit": git("rev-parse", "HEAD") or None, "dirty": bool(git("status", "--porcelain", "--", "search"))}


def run_header(load_before: tuple) -> dict[str, object]:
    """What every results file starts with: when, which commit, this machine and its load."""
    return {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **engine_state(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average": {"start": load_before, "end": os.getloadavg()},
    }


def find_cli() -> str:
    """The ``news-search`` command installed beside this Python (the project's venv)."""
    found = shutil.which("news-search", path=str(Path(sys.executable).parent)) or shutil.which("news-search")
    if not found:
        raise SystemExit("news-search is not installed: run `pip install -e .` in this Python's environment")
    return found


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_worker"]:
        return worker(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=SIZES, default="4k", help="stories in the corpus: first 1,000, first 4,000 or all (default 4k); 10x, 100x: how ours grows from all stories to them ×10 or ×100 (scripts/growth.py)")
    parser.add_argument("--scale", type=int, default=1, help="naive against ours on the stories ×N (make-scaled-corpus), e.g. --size all --scale 10")
    parser.add_argument("--naive-size", action="store_true", help="with --size 10x|100x: also build naive at that size once, for its index size")
    parser.add_argument("--runs", type=int, default=3, help="rounds, naive and ours alternating (default 3)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON results (default {DEFAULT_OUT.relative_to(REPO)})")
    parser.add_argument("--keep", type=Path, default=None, help="work in DIR and keep the corpus and last round's indexes there")
    parser.add_argument("--queries", type=Path, default=DEFAULT_QUERIES, help=f"query set (default {DEFAULT_QUERIES.relative_to(REPO)})")
    parser.add_argument("--passes", type=int, default=3, help="timed passes over the query set per round (default 3)")
    parser.add_argument("--cli-runs", type=int, default=10, help="cold CLI queries per system per round (default 10)")
    parser.add_argument("--cluster", action="store_true", help="also a Sphinx cluster of two shards on this machine: build and queries through the head (needs searchd)")
    parser.add_argument("--naive-procs2", action="store_true", help="also build naive with Whoosh's procs=2 writer, for context")
    parser.add_argument("--shared", type=Path, default=None, help="shared data folder (default $NEWS_SEARCH_SHARED or ../shared)")
    parser.add_argument("--make-queries", action="store_true", help=f"regenerate {DEFAULT_QUERIES.relative_to(REPO)} and exit")
    args = parser.parse_args(argv)
    shared = args.shared or Path(os.environ.get("NEWS_SEARCH_SHARED") or REPO.parent / "shared")
    if not shared.is_dir():
        parser.error(f"shared data folder not found: {shared} (give --shared DIR or set NEWS_SEARCH_SHARED)")
    if args.make_queries:
        make_queries(shared, args.queries)
        return 0
    if args.runs < 1 or args.passes < 1 or args.cli_runs < 1:
        parser.error("--runs, --passes and --cli-runs must be 1 or more")
    if args.keep and args.keep.exists() and any(args.keep.iterdir()):
        parser.error(f"--keep {args.keep}: the folder must be new or empty")
    queries = load_queries(args.queries)
    if len(queries) < BATCH_QUERIES:
        parser.error(f"{args.queries} holds {len(queries)} queries; {BATCH_QUERIES} are needed")

    started = time.perf_counter()
    load_before = os.getloadavg()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-"))
    work.mkdir(parents=True, exist_ok=True)
    if args.size in GROWTH_SIZES:
        return growth_main(args, shared, work, queries, started, load_before)
    try:
        say(f"corpus: {args.size} stories into {work / 'corpus'}")
        corpus = make_corpus(shared, work / "corpus", SIZES[args.size], times=args.scale)
        batch_file = work / "batch-queries.txt"
        # --batch applies one set of filters to every line: the batch holds the query texts only.
        batch_file.write_text("".join(query.text + "\n" for query in queries[:BATCH_QUERIES]), "utf-8")
        cold_queries = [query.text for query in queries if query.kind in ("word", "keywords")][:10]
        bench = Bench(corpus, work, args.queries, batch_file, cold_queries, args.passes, args.cli_runs, args.naive_procs2, find_cli())
        previous: dict[str, Path] = {}
        for number in range(args.runs):
            folders = bench_round(bench, number)
            if args.cluster:
                bench_cluster(bench, number, folders["ours"])
            for folder in previous.values():
                shutil.rmtree(folder, ignore_errors=True)
            previous = folders
        rows = summarize(bench)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    total = time.perf_counter() - started

    documents = bench.data["build_ours"][0]["documents"]
    print(f"\n{args.size} corpus: {documents} stories · {args.runs} round(s) · {len(queries)} queries × {args.passes} passes · {os.cpu_count()} CPUs · load {load_before[0]:.1f} → {os.getloadavg()[0]:.1f}\n")
    print_table(rows)
    ours = bench.data["queries_ours"][-1]
    if args.cluster:
        print("\ncluster of 2 shards on this machine, through its head, against ours:")
        for label, ours_value, cluster_value, ratio in cluster_rows(bench):
            print(f"  {label:<32} ours {cell(ours_value, 1):>22}   cluster {cell(cluster_value, 1):>22}   cluster ÷ ours {'—' if ratio is None else f'{ratio:.2f}×'}")
        overlaps = [item["top10_overlap"] for item in bench.data.get("overlap_cluster", []) if item["top10_overlap"] is not None]
        if overlaps:
            print(f"  the cluster's top 10 shares {statistics.median(overlaps):.1%} of ours over the bench queries")
    print("\nours, p50 by query kind (ms, with snippets, last round): " + ", ".join(f"{kind} {ms:.1f}" for kind, ms in ours["p50_by_kind_with_snippets"].items()))
    print("ours, slowest queries (median ms, last round): " + "; ".join(f"{item['ms']:.1f} {item['query']}" + (f" {item['options']}" if item["options"] else "") for item in ours["slowest_with_snippets"][:3]))
    print(f"total {total:.0f} s")
    output = {
        **run_header(load_before),
        "arguments": {"size": args.size, "runs": args.runs, "passes": args.passes, "cli_runs": args.cli_runs, "naive_procs2": args.naive_procs2, "cluster": args.cluster, "queries": str(args.queries)},
        "documents": documents,
        "notes": [
            "build: time of the build call in a fresh process (imports excluded, reading files and jieba's dictionary load included); naive uses one writer process",
            "peak RSS: getrusage(RUSAGE_SELF) of the build process plus its largest child times the number of worker processes (ours, large rebuilds) or once (naive procs=2): an upper bound",
            "query latency: in-process library calls, warm; 'no snippets' for ours stubs out best_passage() and highlighted(); naive ignores filter options (it has no filter fields)",
            "--batch: whole-process wall of `news-search search --batch FILE` vs a process running naive search + highlight over the same query texts (filters dropped for both)",
            "cold CLI: whole-process wall of `news-search search QUERY --index DIR` (after one untimed run that writes Python's bytecode cache), median of --cli-runs per round",
            "ratio: naive / ours per round (docs/s: ours / naive), median over rounds",
        ],
        "table": [
            {"metric": row.metric, "unit": row.unit, "naive": row.naive, "ours": row.ours, "ratio": row.ratio, "target": row.target or None, "pass": row.passed}
            for row in rows
        ],
        "cluster_table": [
            {"metric": label, "ours": ours_value, "cluster": cluster_value, "cluster_over_ours": ratio} for label, ours_value, cluster_value, ratio in cluster_rows(bench)
        ] if args.cluster else None,
        "raw": bench.data,
        "total_seconds": round(total, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(output, ensure_ascii=False, indent=1) + "\n", "utf-8")
    print(f"results written to {args.out}")
    return 0


def growth_main(args, shared: Path, work: Path, queries: list[BenchQuery], started: float, load_before: tuple) -> int:
    """``--size 10x|100x``: the growth table of scripts/growth.py, written as JSON too."""
    import growth

    try:
        found = growth.run(args, shared, work, queries)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    times = found["times"]
    print(f"\nall stories and them ×{times} · {args.runs} round(s) · {len(queries)} queries × {args.passes} passes · {os.cpu_count()} CPUs · load {load_before[0]:.1f} → {os.getloadavg()[0]:.1f}\n")
    growth.print_table(found["rows"], times)
    total = time.perf_counter() - started
    print(f"total {total:.0f} s")
    output = {
        **run_header(load_before),
        "arguments": {"size": args.size, "runs": args.runs, "passes": args.passes, "cli_runs": args.cli_runs, "naive_size": args.naive_size, "queries": str(args.queries)},
        "notes": ["growth: the figure at N× divided by the figure at 1×, median over rounds; targets are issue #15's, set for 10×"],
        "table": found["rows"],
        "naive_index_bytes": found["naive_index_bytes"],
        "raw": found["raw"],
        "total_seconds": round(total, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(output, ensure_ascii=False, indent=1) + "\n", "utf-8")
    print(f"results written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

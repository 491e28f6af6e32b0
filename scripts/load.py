#!/usr/bin/env python3
"""Load on ``news-search serve`` over 127.0.0.1, against the library alone, in one run.

    python scripts/load.py [--size all|4k|1k] [--requests N] [--keep DIR]

Builds (or reuses, with ``--keep``) an index of the CCTV stories, then:

1. the library alone: one process runs the bench's 200 mixed queries (snippets
   included) for as many requests as the HTTP runs, and gives its requests/s;
2. ``news-search serve`` with 1 and with 2 worker processes, and a load client in
   another process sending the same queries as ``GET /api/v1/search`` with 4 and
   with 16 requests in flight (bounded: ``--requests`` per run);
3. the same at 4 in flight while ``--watch`` applies a change to the corpus every
   second.

Each HTTP run reports requests/s, p50/p99 latency and failed requests (any status
but 200, or a connection error). Targets (issue 11): no failed request, updates
included; throughput at least 0.8x the library's alone (1 worker, like the library's
one process); p99 at most 100 ms at 4 in flight. At 16 in flight latency is mostly
queueing on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

SCRIPTS = Path(__file__).resolve().parent
REPO = SCRIPTS.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(SCRIPTS))
sys.path.insert(0, str(REPO / "tests"))

from bench import SIZES, load_queries, make_corpus  # noqa: E402


def urls(queries) -> list[str]:
    found = []
    for query in queries:
        params = [("q", query.text), ("limit", "10")] + [(name, value) for name, value in query.options.items()]
        found.append("/api/v1/search?" + urlencode(params))
    return found


def library_rate(index: Path, queries, requests: int) -> float:
    """Requests/s of the library alone, in a fresh process (as a server worker is)."""
    code = (
        "import sys, time, json; sys.path.insert(0, sys.argv[3]); from bench import load_queries; "
        "from pathlib import Path; from search import open_index\n"
        "queries = load_queries(Path(sys.argv[2])); n = int(sys.argv[4])\n"
        "with open_index(sys.argv[1]) as index:\n"
        "    for q in queries: index.search(q.text, limit=10, **q.options)\n"
        "    started = time.perf_counter()\n"
        "    for i in range(n): q = queries[i % len(queries)]; index.search(q.text, limit=10, **q.options)\n"
        "    print(n / (time.perf_counter() - started))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(index), str(SCRIPTS / "bench-queries.txt"), str(SCRIPTS), str(requests)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(done.stdout.strip())


_CLIENT = r"""
import http.client, json, sys, threading, time
port, concurrency, total = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
paths = json.loads(sys.stdin.read())
latencies, failures, lock, next_one = [], [], threading.Lock(), [0]
for path in paths[:20]:  # warm the workers
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60); c.request("GET", path); c.getresponse().read(); c.close()
def run():
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while True:
        with lock:
            number = next_one[0]; next_one[0] += 1
        if number >= total:
            return
        path = paths[number % len(paths)]
        started = time.perf_counter()
        try:
            connection.request("GET", path)
            response = connection.getresponse(); response.read()
            if response.status != 200:
                failures.append(response.status)
        except Exception as error:
            failures.append(repr(error)); connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        latencies.append(time.perf_counter() - started)
threads = [threading.Thread(target=run) for _ in range(concurrency)]
started = time.perf_counter()
for t in threads: t.start()
for t in threads: t.join()
wall = time.perf_counter() - started
latencies.sort()
print(json.dumps({"requests": total, "rate": total / wall, "p50_ms": 1000 * latencies[len(latencies) // 2],
                  "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], "failed": len(failures),
                  "failures": failures[:5]}))
"""


def http_run(port: int, paths: list[str], concurrency: int, requests: int) -> dict:
    """The load client in its own process (so it does not share the server's interpreter)."""
    done = subprocess.run(
        [sys.executable, "-c", _CLIENT, str(port), str(concurrency), str(requests)],
        input=json.dumps(paths), capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(done.stdout)


def serving(index: Path, workers: int, watch: Path | None = None):
    from servers import Server

    args = ["--workers", str(workers)] + (["--watch", str(watch)] if watch else [])
    return Server(index, *args)


def changing(corpus: Path, stop: threading.Event) -> threading.Thread:
    """A thread that changes one story a second (the next ``--watch`` update applies it)."""
    stories = sorted(corpus.rglob("*.md"))[:50]

    def run() -> None:
        number = 0
        while not stop.wait(1.0):
            story = stories[number % len(stories)]
            story.write_text(story.read_text("utf-8") + f"\n<p>更新 {number}</p>\n", "utf-8")
            number += 1

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="all")
    parser.add_argument("--requests", type=int, default=2000, help="requests per HTTP run (default 2000)")
    parser.add_argument("--keep", type=Path, help="work in DIR and keep the corpus and index")
    parser.add_argument("--shared", type=Path, default=Path(os.environ.get("NEWS_SEARCH_SHARED") or REPO.parent / "shared"))
    parser.add_argument("--out", type=Path, default=SCRIPTS / "load-results.json")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="news-search-load-"))
    work.mkdir(parents=True, exist_ok=True)
    corpus, index = work / "corpus", work / "index"
    try:
        if not index.exists():
            from search import index_corpus

            make_corpus(args.shared, corpus, SIZES[args.size])
            index_corpus(corpus, index)
        queries = load_queries(SCRIPTS / "bench-queries.txt")
        paths = urls(queries)
        random.Random(11).shuffle(paths)
        rows: list[dict] = []
        library = library_rate(index, queries, args.requests)
        print(f"library alone, one process: {library:.0f} requests/s", flush=True)
        for workers in (1, 2):
            with serving(index, workers) as server:
                for concurrency in (4, 16):
                    result = http_run(server.port, paths, concurrency, args.requests)
                    rows.append({"workers": workers, "in_flight": concurrency, "updates": False, **result})
                    print(_line(rows[-1], library), flush=True)
        stop = threading.Event()
        with serving(index, 1, watch=corpus) as server:
            changer = changing(corpus, stop)
            result = http_run(server.port, paths, 4, args.requests)
            stop.set()
            changer.join()
            with urllib.request.urlopen(server.url + "/health", timeout=30) as health:
                generation = json.loads(health.read())["generation"]
        rows.append({"workers": 1, "in_flight": 4, "updates": True, "generation_after": generation, **result})
        print(_line(rows[-1], library), flush=True)
        summary = {"size": args.size, "requests_per_run": args.requests, "library_rate": library, "runs": rows}
        args.out.write_text(json.dumps(summary, indent=2), "utf-8")
        print(f"results written to {args.out}")
        return 0
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


def _line(row: dict, library: float) -> str:
    watched = ", --watch applying a change a second" if row["updates"] else ""
    return (
        f"serve --workers {row['workers']}, {row['in_flight']} in flight{watched}: {row['rate']:.0f} requests/s "
        f"({row['rate'] / library:.2f}x the library), p50 {row['p50_ms']:.1f} ms, p99 {row['p99_ms']:.1f} ms, "
        f"{row['failed']} failed"
    )


if __name__ == "__main__":
    sys.exit(main())

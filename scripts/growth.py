"""How our engine's costs grow with the archive (issue #15): ``bench.py --size 10x`` (or ``100x``).

The same measurements at two sizes, in one run: all 15,898 stories, and those stories
×N by ``make-scaled-corpus`` (dates moved back, paragraphs shuffled). Each round builds
ours at both sizes in fresh processes and measures the build (docs/s, peak RSS, index
size), the 200 bench queries in-process (p50/p95/p99 with snippets), a cold CLI query,
and an update after one story changed. ``--naive-size`` also builds the naive setup
at N× once, for its index size. The table gives each figure at 1× beside N× and
the growth ratio, against the issue's targets (set for 10×).

The machine's speed drifts by a third from minute to minute here, so after both builds
the sizes take turns, and a growth ratio compares like moments: one process runs each
query on both indexes in turn for the latencies (a process per size gives each size's
memory), and cold queries and updates alternate between the sizes. A fixed piece of
pure-Python work (:func:`probe`) is timed before each measurement, and the table shows
it: an absolute target missed while the probe ran slow was missed by the machine too.
"""

from __future__ import annotations

import dataclasses
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import bench as base

#: Targets on the growth N×/1× (op, limit), and absolute limits at N× (seconds).
GROWTH_TARGETS = {
    "build docs/s": (">=", 0.9),
    "build peak RSS": ("<=", 1.2),
    "query p50 with snippets": ("<=", 2.0),
    "query p99 with snippets": ("<=", 3.0),
}
ABSOLUTE_TARGETS = {"update after one change": 1.5, "cold CLI search": 0.35}


def make_corpora(shared: Path, work: Path, times: int) -> dict[int, Path]:
    """All stories, and them ×``times``."""
    single = base.make_corpus(shared, work / "corpus-1x", None)
    scaled = work / f"corpus-{times}x"
    script = shared / "scripts" / "make-scaled-corpus"
    subprocess.run([sys.executable, str(script), str(single), str(scaled), str(times)], check=True, stdout=subprocess.DEVNULL)
    return {1: single, times: scaled}


#: Updates per size and round (a changed file, then nothing changed), in turns.
UPDATE_TURNS = 3


def probe() -> float:
    """Milliseconds of a fixed piece of pure-Python work: how fast the machine runs now."""
    started = time.perf_counter()
    total = 0
    for number in range(2_000_000):
        total += number
    return (time.perf_counter() - started) * 1e3


def build(corpus: Path, folder: Path, number: int, label: str) -> dict:
    base.say(f"round {number + 1}, {label}: build")
    found = base.run_worker("build", "ours", str(corpus), str(folder))
    found["index_bytes"] = base.folder_bytes(folder)
    return found


def measure_in_turns(bench: base.Bench, corpora: dict[int, Path], folders: dict[int, Path], number: int) -> dict[int, dict]:
    """Queries, cold CLI queries and updates of every size, the sizes taking turns."""
    found: dict[int, dict] = {size: {"cold": [], "update_changed": [], "update_noop": [], "probe": []} for size in corpora}

    def turn(size: int, measurement):
        found[size]["probe"].append(probe())
        return measurement()

    for size, folder in folders.items():  # each size alone in a process: its memory
        base.say(f"round {number + 1}, {size}x: one query pass alone")
        found[size]["queries"] = turn(size, lambda: base.run_worker("queries", "ours", str(folder), str(bench.queries), "1"))
    base.say(f"round {number + 1}: {bench.passes} query passes, each query on both sizes in turn")
    small, large = folders
    speed = probe()
    for size in folders:
        found[size]["probe"].append(speed)
    paired = base.run_worker("queries-paired", str(folders[small]), str(folders[large]), str(bench.queries), str(bench.passes))
    for size, key in ((small, "small"), (large, "large")):
        found[size]["queries"] = {**found[size]["queries"], "alone_with_snippets": found[size]["queries"]["with_snippets"], "with_snippets": paired[key]}
    for size, folder in folders.items():  # an untimed run: the index in the page cache, bytecode written
        base.timed(_search(bench, folder, bench.cold_queries[0]), environment=base.with_bytecode())
    base.say(f"round {number + 1}: cold CLI x{bench.cli_runs} per size")
    for run in range(bench.cli_runs):
        text = bench.cold_queries[run % len(bench.cold_queries)]
        for size, folder in folders.items():
            found[size]["cold"].append(turn(size, lambda: base.timed(_search(bench, folder, text))))
    base.say(f"round {number + 1}: updates")
    for attempt in range(UPDATE_TURNS):
        for size, corpus in corpora.items():
            measured = dataclasses.replace(bench, corpus=corpus)
            changed, unchanged = turn(size, lambda: base.incremental(measured, folders[size], number, times=1, first=attempt))
            found[size]["update_changed"] += changed
            found[size]["update_noop"] += unchanged
    return found


def _search(bench: base.Bench, folder: Path, text: str) -> list[str]:
    return [bench.cli, "search", text, "--index", str(folder)]


def run(args, shared: Path, work: Path, queries: list) -> dict:
    """Every round at both sizes; the rows of the growth table and the raw figures."""
    times = int(args.size.rstrip("x"))
    corpora = make_corpora(shared, work, times)
    batch_file = work / "batch-queries.txt"
    batch_file.write_text("".join(query.text + "\n" for query in queries[: base.BATCH_QUERIES]), "utf-8")
    cold_queries = [query.text for query in queries if query.kind in ("word", "keywords")][:10]
    bench = base.Bench(corpora[1], work, args.queries, batch_file, cold_queries, args.passes, args.cli_runs, False, base.find_cli())
    raw: dict[int, list[dict]] = {size: [] for size in corpora}
    for number in range(args.runs):
        folders = {size: work / f"index-{size}x" for size in corpora}
        builds = {size: build(corpus, folders[size], number, f"{size}x") for size, corpus in corpora.items()}
        measured = measure_in_turns(bench, corpora, folders, number)
        for size in corpora:
            raw[size].append({"build": builds[size], **measured[size]})
            if number < args.runs - 1 or not args.keep:
                shutil.rmtree(folders[size], ignore_errors=True)
    naive_bytes = None
    if args.naive_size:
        base.say(f"naive build at {times}x, for its index size")
        folder = work / f"naive-{times}x"
        base.run_worker("build", "naive", str(corpora[times]), str(folder))
        naive_bytes = base.folder_bytes(folder)
        shutil.rmtree(folder, ignore_errors=True)
    return {"times": times, "rows": rows(raw[1], raw[times], times, naive_bytes), "raw": {f"{size}x": values for size, values in raw.items()}, "naive_index_bytes": naive_bytes}


def rows(small: list[dict], large: list[dict], times: int, naive_bytes: int | None) -> list[dict]:
    """metric, unit, 1× and N× medians (min–max), growth N×/1×, target, pass."""
    pick = {
        "documents": ("", lambda m: m["build"]["documents"]),
        "build time": ("s", lambda m: m["build"]["seconds"]),
        "build docs/s": ("docs/s", lambda m: m["build"]["documents"] / m["build"]["seconds"]),
        "build peak RSS": ("MB", lambda m: m["build"]["rss_mb"]),
        "index size": ("MB", lambda m: m["build"]["index_bytes"] / 1e6),
        "query p50 with snippets": ("ms", lambda m: m["queries"]["with_snippets"]["p50"]),
        "query p95 with snippets": ("ms", lambda m: m["queries"]["with_snippets"]["p95"]),
        "query p99 with snippets": ("ms", lambda m: m["queries"]["with_snippets"]["p99"]),
        "query process RSS": ("MB", lambda m: m["queries"]["rss_mb"]),
        "update after one change": ("s", lambda m: statistics.median(m["update_changed"])),
        "update with nothing changed": ("s", lambda m: statistics.median(m["update_noop"])),
        "cold CLI search": ("s", lambda m: statistics.median(m["cold"])),
        "machine probe (lower: faster)": ("ms", lambda m: statistics.median(m["probe"])),
    }
    table = []
    for metric, (unit, value) in pick.items():
        one, many = [value(m) for m in small], [value(m) for m in large]
        growth = statistics.median(b / a for a, b in zip(one, many) if a)
        target, passed = "", None
        if metric in GROWTH_TARGETS and times == 10:
            op, limit = GROWTH_TARGETS[metric]
            target = f"growth {op} {limit:g}×"
            passed = growth >= limit if op == ">=" else growth <= limit
        elif metric in ABSOLUTE_TARGETS and times == 10:
            target = f"≤ {ABSOLUTE_TARGETS[metric]:g} s at {times}×"
            passed = statistics.median(many) <= ABSOLUTE_TARGETS[metric]
        elif metric == "index size" and naive_bytes:
            target = f"≤ naive at {times}× ({naive_bytes / 1e6:.0f} MB)"
            passed = statistics.median(many) <= naive_bytes / 1e6
        table.append({"metric": metric, "unit": unit, "1x": base.spread(one), f"{times}x": base.spread(many), "growth": growth, "target": target, "pass": passed})
    return table


def print_table(table: list[dict], times: int) -> None:
    lines = [("metric", "1×", f"{times}×", "growth", "target", "pass")]
    for row in table:
        verdict = "" if row["pass"] is None else "PASS" if row["pass"] else "FAIL"
        digits = 0 if row["unit"] in ("", "docs/s", "MB") else 2
        lines.append((f"{row['metric']} [{row['unit']}]" if row["unit"] else row["metric"], base.cell(row["1x"], digits), base.cell(row[f"{times}x"], digits), f"{row['growth']:.2f}×", row["target"], verdict))
    widths = [max(len(line[column]) for line in lines) for column in range(len(lines[0]))]
    for line in lines:
        print("  ".join(part.ljust(width) for part, width in zip(line, widths)).rstrip())

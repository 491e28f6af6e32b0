"""A rebuild shared between worker processes, each writing one segment.

Workers are new Python processes (``python -c``), not forks and not
multiprocessing's ``spawn``, which would run the caller's main script again in
each of them. They inherit no open files (not the index lock), open the new
generation themselves and segment with the user dictionary its schema holds.
The parent only gathers their segments and commits them together: if any worker
fails, nothing is committed.
"""

from __future__ import annotations

import os
import pickle
import selectors
import subprocess
import sys
from pathlib import Path
from typing import Iterable, Iterator

import whoosh.index
from whoosh.writing import IndexWriter

from .build import LIMIT_MB, IndexReport
from .build_apply import ProgressCallback, apply_files
from .engine.whoosh_seam import commit_segments, finish_uncommitted
from .engine.writer import NewsSegmentWriter
from .errors import IndexBuildError
from .ingest.corpus import SourceFile, SourceFiles, Sources
from .schema import user_dict_of
from .text.user_dict import UserDict
from .text.words import is_warm


def build_in_parallel(
    writer: IndexWriter,
    generation: Path,
    sources: Sources,
    report: IndexReport,
    progress: ProgressCallback | None,
    *,
    articles_only: bool = True,
) -> None:
    """Index ``sources`` into a new generation in ``report.workers`` processes, one
    segment each, and commit them as the whole index (nothing if any worker fails)."""
    _compile_dictionary(user_dict_of(writer.schema))
    workers: list[_Worker] = []
    try:
        for number, part in enumerate(split_by_size(sources, report.workers)):
            # The memory one writer would have is shared between them.
            workers.append(_Worker(generation, number, part, LIMIT_MB // report.workers, articles_only))
        done = 0
        for ticks in _Worker.progress(workers):
            done += ticks
            if progress:
                progress(done, len(sources))
        results = [worker.result() for worker in workers]
    finally:
        for worker in workers:
            worker.stop()
    for _, part_report in results:
        report.added += part_report.added
        report.skipped.extend(part_report.skipped)
        report.warnings.extend(part_report.warnings)
    commit_segments(writer, [segment for segment, _ in results])  # this process's own segment stays empty


def _compile_dictionary(user: UserDict | None) -> None:
    """Compile the segmenter's dictionary cache once for every worker, if it is not yet
    (a new install), in a short-lived process: compiling reads jieba's whole dictionary,
    100 MB that would stay this process's peak for the whole build. If that fails, each
    worker compiles it for itself, as this process would have."""
    if is_warm(user):
        return
    subprocess.run(
        [sys.executable, "-c", "import pickle, sys; from search.text.words import warm_up; warm_up(pickle.load(sys.stdin.buffer))"],
        input=pickle.dumps(user),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=child_environment(),
        check=False,
    )


def child_environment() -> dict[str, str]:
    """The environment of a Python process that imports this package from where this
    process did, installed or not."""
    package_home = str(Path(__file__).resolve().parent.parent)
    return dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [package_home, os.environ.get("PYTHONPATH")])))


class _Worker:
    """One worker process of a parallel rebuild, and the files it is given and gives back."""

    def __init__(
        self, generation: Path, number: int, sources: Sources, limit_mb: int, articles_only: bool
    ) -> None:
        self.job = generation / f"build-part-{number}.pickle"
        self.result_path = _result_of(self.job)
        self.errors = self.job.with_suffix(".stderr")
        with open(self.job, "wb") as job:  # written as it is pickled: no copy of it all in memory
            pickle.dump((str(generation), sources, limit_mb, articles_only), job, protocol=5)
        with open(self.errors, "wb") as errors:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from search.build_workers import worker_main; worker_main()", str(self.job)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=errors,
                env=child_environment(),
                # Out of the terminal's process group: Ctrl-C interrupts this process, which stops them.
                start_new_session=True,
            )

    @staticmethod
    def progress(workers: list["_Worker"]) -> Iterator[int]:
        """Files done, as the workers report them (one line per batch), until all have stopped."""
        selector = selectors.DefaultSelector()
        for worker in workers:
            selector.register(worker.process.stdout.fileno(), selectors.EVENT_READ, data=bytearray())
        while selector.get_map():
            for key, _ in selector.select():
                chunk = os.read(key.fd, 4096)
                if not chunk:
                    selector.unregister(key.fd)
                    continue
                key.data.extend(chunk)
                *lines, rest = key.data.split(b"\n")
                key.data[:] = rest
                yield sum(int(line) for line in lines if line.strip().isdigit())
        selector.close()

    def result(self) -> tuple[object, IndexReport]:
        """The worker's segment and report; :class:`IndexBuildError` if it failed."""
        code = self.process.wait()
        if code != 0 or not self.result_path.exists():
            lines = self.errors.read_text("utf-8", errors="replace").strip().splitlines()
            reason = lines[-1] if lines else f"killed by signal {-code}" if code < 0 else f"exit status {code}"
            raise IndexBuildError(
                f"the rebuild stopped: a worker process failed ({reason}); "
                "the index that was live is unchanged: run it again, or with --workers 1"
            )
        return pickle.loads(self.result_path.read_bytes())

    def stop(self) -> None:
        """Kill the process if it still runs (the rebuild failed or was interrupted); remove its files."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()
        for path in (self.job, self.result_path, self.errors):
            path.unlink(missing_ok=True)


def split_by_size(sources: Iterable[SourceFile], parts: int) -> Iterator[SourceFiles]:
    """``sources`` in runs of about equal bytes, in order (so documents keep the walk's
    order), each made when the one before is done with (a rebuild's parent holds one)."""
    total = sum(source.size for source in sources) or 1
    part, number, seen = SourceFiles(), 0, 0
    for source in sources:
        belongs = min(parts - 1, seen * parts // total)
        if belongs != number and len(part):
            yield part
            part = SourceFiles()
        number = belongs
        part.append(source)
        seen += source.size
    if len(part):
        yield part


def worker_main() -> None:
    """A worker process: index the files of the job named on the command line into a
    segment of the generation, uncommitted; report progress on stdout, write the
    segment and the report beside the job."""
    job = Path(sys.argv[1])
    generation, sources, limit_mb, articles_only = pickle.loads(job.read_bytes())
    ix = whoosh.index.open_dir(generation)
    writer = NewsSegmentWriter(ix, _lk=False, limitmb=limit_mb)  # the parent holds the locks
    report = IndexReport(index=Path(generation), corpus=Path())
    pending = 0

    def tick(done: int, total: int) -> None:
        nonlocal pending
        pending += 1
        if pending == 20 or done == total:
            sys.stdout.write(f"{pending}\n")
            sys.stdout.flush()
            pending = 0

    try:
        apply_files(writer, sources, {}, report, tick, articles_only=articles_only)
        segment = finish_uncommitted(writer)
    except BaseException:
        writer.cancel()
        raise
    staging = job.with_suffix(".partial")
    staging.write_bytes(pickle.dumps((segment, report)))
    os.replace(staging, _result_of(job))


def _result_of(job: Path) -> Path:
    """Where a worker leaves its segment and report: beside its job, when complete."""
    return job.with_suffix(".result")

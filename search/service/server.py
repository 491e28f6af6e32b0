"""Running the service: uvicorn on one or more processes, the URL printed, Ctrl-C to stop."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Sequence

#: Where worker processes find the service's settings (uvicorn starts them from an import string).
_SETTINGS_ENV = "NEWS_SEARCH_SERVE"


def serve(
    index_dir: str | os.PathLike[str] | None,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    watch: str | os.PathLike[str] | None = None,
    cors_origins: Sequence[str] = (),
) -> None:
    """Serve until interrupted. With ``watch``, a process of its own applies the folder's
    changes (once, whatever the number of server processes, and not competing with a
    server for its interpreter); every server process sees them."""
    import json

    import uvicorn

    from ..cluster import is_cluster
    from ..storage import default_index_dir

    given = index_dir if index_dir is not None else default_index_dir()
    location = str(given) if is_cluster(str(given)) else str(Path(given).resolve())
    settings = {"index_dir": location, "cors_origins": list(cors_origins)}
    os.environ[_SETTINGS_ENV] = json.dumps(settings)
    logging.basicConfig(format="news-search: %(message)s", level=logging.INFO, stream=sys.stderr)
    logging.getLogger("watchfiles").setLevel(logging.WARNING)
    if host in ("0.0.0.0", "::"):
        sys.stderr.write(
            f"warning: listening on {host}: anyone who can reach port {port} can read the index "
            "(bind 127.0.0.1, the default, to keep it to this machine)\n"
        )
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    sys.stderr.write(f"news-search: serving {location} at http://{shown}:{port}/ (Ctrl-C to stop)\n")
    sys.stderr.flush()
    watcher = _start_watcher(watch, location) if watch is not None else None
    try:
        uvicorn.run(
            "search.service.server:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            access_log=False,
        )
    finally:
        if watcher is not None:
            watcher.terminate()
            watcher.wait(timeout=30)


def _start_watcher(corpus, location: str):
    """The watcher process, once the index is up to date with the folder (it says ``ready``)."""
    import subprocess

    from ..build_workers import child_environment

    process = subprocess.Popen(
        [sys.executable, "-c", "from search.service.server import watch_main; watch_main()", str(corpus), location],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
        env=child_environment(),
        start_new_session=True,  # Ctrl-C reaches the server, which stops it
    )
    process.stdout.readline()  # "ready", or nothing if it failed (its errors are on stderr)
    return process


def watch_main() -> None:
    """The watcher process: apply CORPUS's changes to the index at LOCATION until terminated."""
    import signal
    import threading

    from ..watch import watch_corpus

    corpus, location = sys.argv[1:3]
    logging.basicConfig(format="news-search: %(message)s", level=logging.INFO, stream=sys.stderr)
    logging.getLogger("watchfiles").setLevel(logging.WARNING)
    stop, ready = threading.Event(), threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(target=lambda: (ready.wait(), print("ready", flush=True)), daemon=True).start()
    watch_corpus(corpus, location, stop, on_update=_log_update, on_error=_log_failure, ready=ready)


def app_from_environment():
    """The app as :func:`serve` set it up (in each worker process)."""
    import json

    from . import create_app

    settings = json.loads(os.environ[_SETTINGS_ENV])
    return create_app(settings["index_dir"], cors_origins=settings["cors_origins"])


log = logging.getLogger("news_search.service")


def _log_update(report) -> None:
    if report.added or report.updated or report.removed:
        log.info("index updated: %d added, %d updated, %d removed", report.added, report.updated, report.removed)


def _log_failure(error: Exception) -> None:
    log.warning("index update failed, still serving the last good index: %s", error)

"""Starting and stopping a cluster's ``searchd`` servers on this machine (for trying
it, and for tests); on real hosts each server runs its config under a service manager."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from ..errors import DependencyError, UsageError
from .layout import Layout, Server

#: Seconds a server gets to answer on its port after it was started.
START_TIMEOUT = 15.0


def searchd() -> str:
    found = shutil.which("searchd")
    if not found:
        raise DependencyError("searchd is not installed: install Sphinx (Debian: apt-get install sphinxsearch) or Manticore Search")
    return found


def start_cluster(folder: str | Path, names: list[str] | None = None) -> Layout:
    """Start the cluster's servers (or those ``names``) that are not running yet."""
    folder = Path(folder)
    layout = Layout.read(folder)
    program = searchd()
    for server in _chosen(layout, names):
        if _answers(server.port):
            continue
        done = subprocess.run([program, "--config", str(folder / server.name / "sphinx.conf")], capture_output=True, text=True)
        if done.returncode != 0 or not _wait_until(lambda: _answers(server.port)):
            said = [line for line in (done.stdout + done.stderr).splitlines() if "ERROR" in line or "FATAL" in line]
            raise UsageError(f"searchd {server.name} did not start on port {server.port}: {(said or ['see ' + str(folder / server.name / 'searchd.log')])[-1]}")
    return layout


def stop_cluster(folder: str | Path, names: list[str] | None = None) -> Layout:
    """Stop the cluster's servers (or those ``names``), waiting until each has written its data."""
    folder = Path(folder)
    layout = Layout.read(folder)
    program = searchd()
    for server in _chosen(layout, names):
        if (folder / server.name / "searchd.pid").exists():
            subprocess.run([program, "--config", str(folder / server.name / "sphinx.conf"), "--stopwait"], capture_output=True)
    return layout


def free_ports(count: int) -> int:
    """A first port with ``count`` free loopback ports from it (for a cluster on this machine)."""
    import random

    for _ in range(100):
        base = random.randrange(20000, 60000, 2)
        sockets: list[socket.socket] = []
        try:
            for port in range(base, base + count):
                sockets.append(socket.socket())
                sockets[-1].bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise UsageError(f"no {count} free ports in a row on 127.0.0.1")


def _chosen(layout: Layout, names: list[str] | None) -> list[Server]:
    if not names:
        return layout.servers
    known = {server.name: server for server in layout.servers}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise UsageError(f"no server {', '.join(unknown)} in this cluster (it has {', '.join(known)})")
    return [known[name] for name in names]


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _wait_until(ready, timeout: float = START_TIMEOUT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return True
        time.sleep(0.05)
    return False

"""The ``news-search`` command: a thin layer over the library.

:mod:`.runner` holds the application and how a run ends, :mod:`.commands` the
commands, :mod:`.render` what they print on a terminal.
"""

from . import cluster as _cluster  # noqa: F401  (registers `cluster` on the app)
from . import commands as _commands  # noqa: F401  (registers the commands on the app)
from .runner import app, main, run

__all__ = ["app", "main", "run"]

"""Running the command line in-process, and reading its one-line errors."""

from __future__ import annotations

import pytest

from search.cli import run


def cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    """``news-search ARGS`` in this process: the exit status, stdout and stderr."""
    code = run([str(arg) for arg in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(err: str) -> str:
    """The one line of an error on stderr: no traceback, ``news-search: error: `` first."""
    assert "Traceback" not in err
    lines = err.strip("\n").splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("news-search: error: "), err
    return lines[0]

"""The README documents every command and option, and its commands are the ones CI runs."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from search.cli import app

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text("utf-8")


def test_every_command_and_option_is_in_the_readme() -> None:
    command = typer.main.get_command(app)
    names = sorted(command.commands)
    assert names == ["check", "cluster", "index", "search", "serve", "show", "similar", "stats"]
    for name, sub in command.commands.items():
        assert f"news-search {name}" in README, f"command {name} is not documented"
        for inner, leaf in getattr(sub, "commands", {name: sub}).items():
            assert leaf is sub or f"news-search {name} {inner}" in README, f"command {name} {inner} is not documented"
            for param in leaf.params:
                for option in getattr(param, "opts", []):
                    if option.startswith("--") and option != "--help":
                        assert option in README, f"{name} {option} is not documented"


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text("utf-8")
    blocks = re.findall(r"```sh\n(.*?)\n```", README, re.S)
    test_command = next(block for block in blocks if "pytest" in block)
    assert test_command.strip() in ci

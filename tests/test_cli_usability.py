"""The command line as a new user meets it: batches that keep their lines, filters
without a query, paths in any form, colour through pipes, help that reads whole."""

from __future__ import annotations

import json
import re
from importlib.metadata import version
from pathlib import Path

import pytest
import typer
from clirun import cli
from sample_oracle import categories_index

from search.cli import app

ANSI = re.compile(r"\x1b\[[0-9;]*m")
ARTICLE = "体育/城市马拉松三万跑者参赛.md"


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NEWS_SEARCH_INDEX", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)


# --------------------------------------------------------------------------- --batch


def test_batch_answers_every_line_blank_ones_with_an_error_object(sample_index: Path, tmp_path: Path, capsys) -> None:
    queries = tmp_path / "queries.txt"
    queries.write_text("马拉松\n\n   \n新能源汽车\n", "utf-8")
    code, out, _ = cli(capsys, "search", "--batch", queries, "--index", sample_index)
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(lines) == 4
    assert lines[0]["query"] == "马拉松" and lines[0]["total"] > 0
    assert lines[1] == {"error": {"code": "empty_query", "message": "line 2 is blank: nothing to search"}}
    assert lines[2]["error"]["code"] == "empty_query" and "line 3" in lines[2]["error"]["message"]
    assert lines[3]["query"] == "新能源汽车" and lines[3]["total"] > 0


def test_batch_of_a_gbk_file_is_read_as_the_corpus_reader_reads_files(sample_index: Path, tmp_path: Path, capsys) -> None:
    queries = tmp_path / "gbk.txt"
    queries.write_bytes("马拉松\r\n新能源汽车\r\n".encode("gbk"))
    code, out, _ = cli(capsys, "search", "--batch", queries, "--index", sample_index)
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [line["query"] for line in lines] == ["马拉松", "新能源汽车"]
    assert all(line["total"] > 0 for line in lines)
    garbage = tmp_path / "binary.txt"
    garbage.write_bytes(b"\xff\xfe\xfa\n\xff\n" + "马拉松\n".encode())
    code, out, _ = cli(capsys, "search", "--batch", garbage, "--index", sample_index)
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line.get("error", {}).get("code") for line in lines] == ["not_text", "not_text", None]


# --------------------------------------------------------------------------- filters


def test_filters_alone_list_what_passes_them(sample_index: Path, capsys) -> None:
    code, out, _ = cli(capsys, "search", "--category", "体育", "--sort", "date", "--json", "--index", sample_index)
    data = json.loads(out)
    assert code == 0 and {hit["path"] for hit in data["hits"]} == categories_index()["体育"]
    dates = [hit["date"] for hit in data["hits"]]
    assert dates == sorted(dates, reverse=True)
    code, _, err = cli(capsys, "search", "--index", sample_index)
    assert code == 2 and "give a QUERY, a filter" in err


def test_repeated_filters_mean_any_of_them(sample_index: Path, capsys) -> None:
    code, out, _ = cli(capsys, "search", "-c", "体育", "-c", "健康", "--json", "-n", "100", "--index", sample_index)
    categories = categories_index()
    assert code == 0 and {hit["path"] for hit in json.loads(out)["hits"]} == categories["体育"] | categories["健康"]


def test_no_hits_name_the_filters_that_were_active(sample_index: Path, capsys) -> None:
    code, out, _ = cli(
        capsys, "search", "马拉松", "-c", "健康", "-c", "国际", "--since", "2024-01", "--index", sample_index, "--color", "never"
    )
    assert code == 0
    assert out.strip() == "no results for '马拉松' with category 健康 or 国际, since 2024-01"


# --------------------------------------------------------------------------- paths


def test_show_and_similar_take_the_paths_users_write(sample_index: Path, capsys, monkeypatch) -> None:
    sample = Path(json.loads(_stats(sample_index, capsys))["corpus"])
    monkeypatch.chdir(sample.parent)
    for form in (ARTICLE, f"./{ARTICLE}", str(sample / ARTICLE), f"{sample.name}/{ARTICLE}"):
        code, out, _ = cli(capsys, "show", form, "--json", "--index", sample_index)
        assert code == 0 and json.loads(out)["path"] == ARTICLE, form
        code, out, _ = cli(capsys, "similar", form, "--json", "--index", sample_index)
        assert code == 0 and ARTICLE not in [hit["path"] for hit in json.loads(out)["hits"]]
    code, _, err = cli(capsys, "show", "马拉松.md", "--index", sample_index)
    assert code == 2 and f"relative to the corpus folder {sample}" in err and "such as" in err


def _stats(location: Path, capsys) -> str:
    code, out, _ = cli(capsys, "stats", "--json", "--index", location)
    assert code == 0
    return out


def test_similar_shows_the_words_it_looked_for_without_stopwords_or_numbers(sample_copy: Path, tmp_path: Path, capsys) -> None:
    text = "the 140 520 of the 2024 马拉松 跑者 补给站 the 140 520 赛道 马拉松 跑者。" * 3
    (sample_copy / "数字.md").write_text(f"---\ntitle: 马拉松 the 140\n---\n\n{text}\n", "utf-8")
    (sample_copy / "又一篇.md").write_text(f"---\ntitle: 又一篇 the 520\n---\n\n{text}\n", "utf-8")
    cli(capsys, "index", sample_copy, "--index", tmp_path / "index")
    code, out, _ = cli(capsys, "similar", "数字.md", "--json", "--index", tmp_path / "index")
    words = json.loads(out)["query"].split()
    assert code == 0 and "马拉松" in words
    assert not {"the", "of", "140", "520", "2024"} & set(words)
    code, out, _ = cli(capsys, "similar", "数字.md", "--index", tmp_path / "index", "--color", "never")
    first = out.splitlines()[0]
    assert first == f"like 数字.md, looked for: {' '.join(words)}"


# --------------------------------------------------------------------------- colour, version, help


def test_color_always_survives_a_pipe_and_never_means_never(sample_index: Path, capsys, monkeypatch) -> None:
    code, out, _ = cli(capsys, "search", "马拉松", "--index", sample_index, "--color", "always")
    assert code == 0 and ANSI.search(out), "marks are styled though stdout is not a terminal"
    monkeypatch.setenv("NO_COLOR", "1")
    code, out, _ = cli(capsys, "search", "马拉松", "--index", sample_index, "--color", "always")
    assert ANSI.search(out), "--color always overrides NO_COLOR"
    monkeypatch.delenv("NO_COLOR")
    for command in (["search", "马拉松"], ["similar", ARTICLE], ["show", ARTICLE]):
        code, out, _ = cli(capsys, *command, "--index", sample_index, "--color", "never")
        assert code == 0 and not ANSI.search(out)
    code, _, err = cli(capsys, "search", "马拉松", "--index", sample_index, "--color", "sometimes")
    assert code == 2 and "--color" in err


def test_version(capsys) -> None:
    code, out, _ = cli(capsys, "--version")
    assert code == 0 and out == f"news-search {version('news-search')}\n"


def test_the_command_list_shows_whole_descriptions(capsys) -> None:
    code, out, _ = cli(capsys, "--help")
    assert code == 0
    command = typer.main.get_command(app)
    for name, sub in command.commands.items():
        line = next(line for line in out.splitlines() if line.strip().startswith(name + " "))
        assert "..." not in line and line.rstrip().endswith("."), line
        assert sub.short_help and sub.short_help in " ".join(out.split())


def test_date_options_list_every_format_they_accept(capsys) -> None:
    code, out, _ = cli(capsys, "search", "--help")
    flat = " ".join(out.split())
    for form in ("YYYY,", "YYYY-MM,", "YYYY-MM-DD", "YYYY年M月D日", "HH:MM[:SS]", "ISO 8601 with a zone"):
        assert form in flat, form


"""User dictionaries: given once to `index`, kept with the index, used by every search."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from search import UsageError, index_corpus, open_index
from search.text.user_dict import UserDict
from search.text.tokens import terms
from search.cli import run

# jieba cuts the made-up name 澜舟星图 into 澜舟 / 星图 without help.
NAME = "澜舟星图"


def _corpus(root: Path) -> Path:
    corpus = root / "corpus"
    corpus.mkdir()
    articles = {
        "name.md": ("企业发布新产品", f"<p>{NAME}公司今天发布了新的地图产品。</p>"),
        "apart.md": ("港口新闻", "<p>澜舟号货轮靠港，船员展示了手绘的星图。</p>"),
    }
    for name, (title, body) in articles.items():
        (corpus / name).write_text(f"---\ntitle: {title}\n---\n\n{body}\n", "utf-8")
    return corpus


@pytest.fixture
def user_dict(tmp_path: Path) -> Path:
    path = tmp_path / "words.txt"
    path.write_text(f"# our names\n{NAME} 20000 nz\n", "utf-8")
    return path


def _paths(location: Path, query: str) -> list[str]:
    with open_index(location) as index:
        return [hit.path for hit in index.search(query, suggest=False).hits]


def test_without_a_user_dictionary_the_name_is_cut_and_both_articles_match(tmp_path: Path) -> None:
    assert terms(NAME) == ["澜舟", "星图"]
    index_corpus(_corpus(tmp_path), tmp_path / "index")
    assert set(_paths(tmp_path / "index", NAME)) == {"name.md", "apart.md"}


def test_user_words_are_one_term_at_index_and_query_time(tmp_path: Path, user_dict: Path) -> None:
    index_corpus(_corpus(tmp_path), tmp_path / "index", user_dict=user_dict)
    assert _paths(tmp_path / "index", NAME) == ["name.md"]
    assert _paths(tmp_path / "index", f'"{NAME}公司"') == ["name.md"]
    with open_index(tmp_path / "index") as index:
        assert f"<mark>{NAME}</mark>" in index.search(NAME).hits[0].snippet
        recorded = index.stats().settings
    assert terms(NAME) == ["澜舟", "星图"], "the process-wide analysis is left as it was"
    assert UserDict.read(user_dict).entries == ((NAME, 20000),)
    assert recorded  # the generation's settings are still readable


@pytest.mark.slow
def test_a_new_process_searches_with_the_stored_words(tmp_path: Path, user_dict: Path) -> None:
    index_corpus(_corpus(tmp_path), tmp_path / "index", user_dict=user_dict)
    user_dict.unlink()  # the index must not need the file any more
    found = subprocess.run(
        [sys.executable, "-c", "import sys; from search.cli import main; sys.argv[0] = 'news-search'; main()", "search", NAME, "--index", str(tmp_path / "index"), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert [hit["path"] for hit in json.loads(found.stdout)["hits"]] == ["name.md"]


def test_updates_keep_the_words_and_refuse_a_different_dictionary(tmp_path: Path, user_dict: Path, capsys) -> None:
    corpus = _corpus(tmp_path)
    location = tmp_path / "index"
    index_corpus(corpus, location, user_dict=user_dict)
    (corpus / "more.md").write_text(f"---\ntitle: 更多\n---\n\n<p>{NAME}再次发布产品。</p>\n", "utf-8")
    index_corpus(corpus, location)  # an update without the option keeps the words
    assert set(_paths(location, NAME)) == {"name.md", "more.md"}
    index_corpus(corpus, location, user_dict=user_dict)  # the same words: a plain update
    other = tmp_path / "other.txt"
    other.write_text("别的词\n", "utf-8")
    with pytest.raises(UsageError, match="--rebuild"):
        index_corpus(corpus, location, user_dict=other)
    code = run(["index", str(corpus), "--index", str(location), "--user-dict", str(other)])
    assert code == 2 and "--rebuild" in capsys.readouterr().err
    index_corpus(corpus, location, rebuild=True)  # a rebuild without the option keeps them too
    assert set(_paths(location, NAME)) == {"name.md", "more.md"}
    with open_index(location) as index:
        assert index.stats().settings["user_dict"]["source"] == str(user_dict.resolve())
    empty = tmp_path / "empty.txt"
    empty.write_text("", "utf-8")
    index_corpus(corpus, location, rebuild=True, user_dict=empty)  # an empty file drops them
    assert set(_paths(location, NAME)) == {"name.md", "more.md", "apart.md"}


def test_user_words_are_normalised_like_the_text(tmp_path: Path) -> None:
    path = tmp_path / "words.txt"
    path.write_text("瀾舟星圖\nＡＩ助手 5\n鸣枪开跑 n\n开跑仪式 12 n\n", "utf-8")
    assert UserDict.read(path).entries == ((NAME, None), ("ai助手", 5), ("鸣枪开跑", None), ("开跑仪式", 12))
    index_corpus(_corpus(tmp_path), tmp_path / "index", user_dict=path)
    assert _paths(tmp_path / "index", "瀾舟星圖") == ["name.md"]


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "cannot read user dictionary"), ("好词 很多 n\n", "line 1: the frequency '很多' is not a number")],
)
def test_a_bad_user_dictionary_is_a_usage_error_naming_the_file(tmp_path: Path, content, message, capsys) -> None:
    path = tmp_path / "words.txt"
    if content is not None:
        path.write_text(content, "utf-8")
    with pytest.raises(UsageError, match=message):
        index_corpus(_corpus(tmp_path), tmp_path / "index", user_dict=path)
    assert not (tmp_path / "index").exists() or not list((tmp_path / "index").glob("gen-*"))
    code = run(["index", str(tmp_path / "corpus"), "--index", str(tmp_path / "index"), "--user-dict", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and str(path) in err and len(err.strip().splitlines()) == 1

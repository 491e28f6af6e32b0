"""search.segmenter cuts Chinese exactly as jieba does, and starts without loading jieba."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from search.text.words import _TOKEN_RE
from search.text.user_dict import UserDict
from search.text.normalize import normalize
from search.text.segmenter import Segmenter

REPO = Path(__file__).resolve().parent.parent

USER_WORDS = (
    ("北京会见", 5),  # a frequency that loses to the dictionary's cut
    ("习近平在", None),  # jieba derives the frequency
    ("新闻联播", 0),  # 0: never kept together
    ("国务院总理李强", 100000),
    ("苏超联赛", None),
)


@pytest.fixture(scope="module")
def jieba_tokenizer():
    import jieba

    jieba.setLogLevel(60)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


@pytest.fixture(scope="module")
def jieba_with_user_words():
    import jieba

    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for word, frequency in USER_WORDS:
        tokenizer.add_word(word, frequency)
    return tokenizer


@pytest.fixture(scope="module")
def han_runs(rsshub_corpus, huli_corpus, cctv_corpus) -> list[str]:
    """Runs of Chinese characters of a quarter of the shared corpora's files, as analysis
    gives them to the segmenter (normalised: traditional folded to simplified)."""
    files = sorted(path for folder in (rsshub_corpus, huli_corpus, cctv_corpus) for path in folder.rglob("*.md"))
    runs: list[str] = []
    for path in files[::4]:
        text = normalize(path.read_text("utf-8", errors="replace"))[0]
        runs.extend(match.group() for match in _TOKEN_RE.finditer(text) if match.lastgroup == "han")
    assert len(runs) > 100_000
    return runs


def _differences(runs, expected_cut, ours: Segmenter) -> list[tuple[str, list[str], list[str]]]:
    found = []
    for run in runs:
        expected, got = list(expected_cut(run, HMM=True)), list(ours.cut(run))
        if expected != got:
            found.append((run, expected, got))
    return found


def test_words_are_jiebas_on_the_shared_corpora(han_runs, jieba_tokenizer):
    assert _differences(han_runs, jieba_tokenizer.cut, Segmenter()) == []


def test_words_are_jiebas_with_user_words(han_runs, jieba_with_user_words):
    ours = Segmenter(USER_WORDS)
    assert _differences(han_runs[::5], jieba_with_user_words.cut, ours) == []
    extra = "习近平在北京会见国务院总理李强，新闻联播报道苏超联赛"
    assert list(ours.cut(extra)) == list(jieba_with_user_words.cut(extra, HMM=True))
    assert "国务院总理李强" in list(ours.cut(extra))
    assert "新闻联播" not in list(ours.cut(extra))


def test_frequencies_are_jiebas(jieba_tokenizer, jieba_with_user_words):
    plain, ours = Segmenter(), Segmenter(USER_WORDS)
    for word in ("中国", "人民", "中华人民共和国", "的", "新闻联播", "不是一个词"):
        assert plain.frequency(word) == (jieba_tokenizer.FREQ.get(word) or 0)
    for word, _ in USER_WORDS:
        assert ours.frequency(word) == jieba_with_user_words.FREQ[word]
    assert (plain.total, ours.total) == (jieba_tokenizer.total, jieba_with_user_words.total)


def test_characters_jieba_does_not_segment_stand_alone(jieba_tokenizer):
    # Extension A and B characters and 〇 are Chinese to us but not to jieba's graph.
    text = "我们\u3400\u3401中国〇〇七\U00020000人民"
    assert list(Segmenter().cut(text)) == list(jieba_tokenizer.cut(text, HMM=True))


def _run(code: str, cache: Path) -> str:
    env = dict(os.environ, NEWS_SEARCH_CACHE=str(cache))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout.strip()


_CUT_WITHOUT_JIEBA = (
    "import sys; from search.text.segmenter import Segmenter; "
    "words = list(Segmenter().cut('李小龙和王大锤在莫斯科见面')); "
    "print(words, 'jieba' in sys.modules)"
)


@pytest.mark.slow
def test_the_dictionary_is_compiled_once_then_loaded_without_jieba(tmp_path):
    first = _run(_CUT_WITHOUT_JIEBA, tmp_path)
    assert first.endswith("True")  # compiled from jieba
    assert any(tmp_path.glob("jieba-*/words.marisa"))
    second = _run(_CUT_WITHOUT_JIEBA, tmp_path)
    assert second.endswith("False")  # memory-mapped: jieba is never imported
    assert first.removesuffix("True") == second.removesuffix("False")


@pytest.mark.slow
def test_is_compiled_tells_whether_a_new_segmenter_would_compile(tmp_path):
    code = (
        "from search.text.segmenter import Segmenter, is_compiled; words = [('苏超联赛', None)]\n"
        "before = is_compiled(), is_compiled(words)\n"
        "Segmenter()\n"
        "base = is_compiled(), is_compiled(words)\n"
        "Segmenter(words)\n"
        "print(before, base, is_compiled(), is_compiled(words), is_compiled([('苏超', 5)]))"
    )
    assert _run(code, tmp_path) == "(False, False) (True, False) True True False"
    # A damaged cache would be compiled again, so it does not count.
    (frequencies,) = tmp_path.glob("jieba-*/frequencies.bin")
    frequencies.write_bytes(frequencies.read_bytes()[:1000])
    assert _run("from search.text.segmenter import is_compiled; print(is_compiled())", tmp_path) == "False"


@pytest.mark.slow
def test_a_damaged_cache_is_compiled_again(tmp_path):
    _run(_CUT_WITHOUT_JIEBA, tmp_path)
    (frequencies,) = tmp_path.glob("jieba-*/frequencies.bin")
    frequencies.write_bytes(frequencies.read_bytes()[:1000])
    assert _run(_CUT_WITHOUT_JIEBA, tmp_path).endswith("True")
    assert frequencies.stat().st_size > 1000


@pytest.mark.slow
def test_an_unwritable_cache_still_segments(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    words = _run("from search.text.segmenter import Segmenter; print(list(Segmenter().cut('中华人民共和国成立')))", blocked / "cache")
    assert words == "['中华人民共和国', '成立']"


def test_user_words_read_from_a_file_match_the_tuples(tmp_path):
    listing = tmp_path / "words.txt"
    listing.write_text("北京会见 5\n习近平在\n新闻联播 0\n国务院总理李强 100000 nt\n苏超联赛\n", "utf-8")
    assert UserDict.read(listing).entries == USER_WORDS

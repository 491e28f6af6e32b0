"""Did you mean: suggestions built from the index's own vocabulary (search/suggest.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from clirun import cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search import index_corpus, open_index
from search.query.pinyin import edit_distance, fuzzy, pinyin_readings
from search.query.suggest import _plain_words
from search.query.syntax import parse


@pytest.fixture(scope="module")
def story_index(first_stories, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the first 400 CCTV stories (autumn 2022): real news vocabulary, built in seconds."""
    corpus = first_stories(400, "stories-400")
    location = tmp_path_factory.mktemp("story-index-400")
    assert index_corpus(corpus, location).added == 400
    return location


def suggestion(index_dir: Path, query: str, **options: object) -> str | None:
    with open_index(index_dir) as index:
        return index.search(query, **options).suggestion


# --------------------------------------------------------------------------- the sample corpus


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("古藉", "古籍"),  # same pinyin (gu ji), no hits at all
        ("疫描", "疫苗"),
        ("咖非", "咖啡"),
        ("留感", "流感"),
        ("牛感", "流感"),  # niu ~ liu: n/l are confused by many speakers
        ("北级海冰", "北极海冰"),  # 北级 is in no article; 海冰 is
        ("县城咖非", "县城咖啡"),
    ],
)
def test_chinese_typos_get_the_word_that_sounds_the_same(sample_index: Path, query: str, expected: str) -> None:
    assert suggestion(sample_index, query) == expected


def test_a_typo_hidden_by_the_hits_of_the_other_words_is_corrected(sample_index: Path) -> None:
    """新能源 alone finds articles, so the query finds something; but no article has 气车."""
    with open_index(sample_index) as index:
        result = index.search("新能源气车")
        assert result.total > 0
        assert result.suggestion == "新能源汽车"
        assert index.search(result.suggestion).hits[0].title.startswith(("新能源汽车", "动力电池"))


@pytest.mark.parametrize(
    ("query", "expected"),
    [("iphome", "iphone"), ("ipohne", "iphone"), ("ihpone", "iphone"), ("iphonee", "iphone")],
)
def test_latin_typos_get_the_word_one_edit_away(sample_index: Path, query: str, expected: str) -> None:
    assert suggestion(sample_index, query) == expected


@pytest.mark.parametrize(("query", "expected"), [("kafei", "咖啡"), ("malasong", "马拉松"), ("yimiao", "疫苗")])
def test_pinyin_typed_in_latin_letters_gets_the_chinese_word(sample_index: Path, query: str, expected: str) -> None:
    assert suggestion(sample_index, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("title:马拉送", "title:马拉松"),
        ('"新能源气车"', '"新能源汽车"'),
        ("马拉送 -咖啡", "马拉松 -咖啡"),
        ("古藉  AND 数字化", "古籍  AND 数字化"),
        ("（古藉 OR 青铜器）", "（古籍 OR 青铜器）"),
    ],
)
def test_only_the_doubtful_words_are_replaced(sample_index: Path, query: str, expected: str) -> None:
    assert suggestion(sample_index, query) == expected


@pytest.mark.parametrize("query", ["新能源汽车", "马拉松", "人工智能 大模型", "咖啡 县城", '"城市马拉松"', "Win11", "gdp"])
def test_queries_that_find_what_they_ask_for_get_no_suggestion(sample_index: Path, query: str) -> None:
    assert suggestion(sample_index, query) is None


@pytest.mark.parametrize("query", ["asdfgh", "qwertyuiop", "鬼鬼祟祟", "鸭嘴兽", "zzzz", "123456", "🦆", "-古藉", "category:古藉"])
def test_nonsense_and_excluded_words_get_no_suggestion(sample_index: Path, query: str) -> None:
    assert suggestion(sample_index, query) is None


def test_no_suggestion_when_asked_for_none(sample_index: Path) -> None:
    assert suggestion(sample_index, "古藉", suggest=False) is None


def test_a_suggestion_must_find_more_within_the_filters(sample_index: Path) -> None:
    """古籍 is only in a 文化 article: within 体育, the corrected query finds nothing either."""
    assert suggestion(sample_index, "古藉", category="文化") == "古籍"
    assert suggestion(sample_index, "古藉", category="体育") is None


def test_a_replacement_that_finds_no_more_is_not_suggested(sample_index: Path, monkeypatch) -> None:
    from search.query.suggest import Suggester

    monkeypatch.setattr(Suggester, "_best", lambda self, span, *_: ((1.0, 1.0, 1.0), "鸭嘴兽"))
    assert suggestion(sample_index, "古藉") is None  # 鸭嘴兽 is in no article either
    assert suggestion(sample_index, "新能源气车") is None  # nor does it add to what 新能源 finds


def test_a_word_the_query_already_has_is_no_replacement(sample_index: Path) -> None:
    assert suggestion(sample_index, "咖啡 咖非") is None
    assert suggestion(sample_index, "古藉 OR 古籍") is None


@pytest.mark.parametrize("query", ["古藉", "新能源气车", "iphome", "kafei", "北级海冰"])
def test_a_suggestion_finds_more_and_needs_no_suggestion_itself(sample_index: Path, query: str) -> None:
    with open_index(sample_index) as index:
        original = index.search(query)
        corrected = index.search(original.suggestion)
    assert corrected.total >= original.total and corrected.hits
    assert corrected.suggestion is None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.text(
        alphabet=st.sampled_from(list("古藉籍马拉送松咖啡非新能源气汽车 \"“”()（）-+:ANDOR titlecategory:iphonekafei1的")),
        max_size=30,
    )
)
def test_any_query_gets_none_or_a_different_query_that_finds_more(sample_index: Path, query: str) -> None:
    with open_index(sample_index) as index:
        result = index.search(query)
        if result.suggestion is not None:
            assert result.suggestion != query
            assert index.search(result.suggestion).total >= result.total


@pytest.mark.slow
def test_pypinyin_is_loaded_only_when_a_suggestion_is_looked_for(sample_index: Path) -> None:
    """Cold start matters: a query that finds enough must not import pypinyin nor build the pinyin map."""
    script = (
        "import sys\n"
        "from search import open_index\n"
        f"index = open_index({str(sample_index)!r})\n"
        "for query in ('新能源汽车', '新能源 汽车', '\"新能源汽车\"', '居民', '新闻 -居民'):  # each in 3 or more articles\n"
        "    assert index.search(query).suggestion is None, query\n"
        "print('pypinyin' in sys.modules, index._suggester is None or index._suggester.pinyin_map_built)\n"
        "assert index.search('古藉').suggestion == '古籍'\n"
        "print('pypinyin' in sys.modules, index._suggester.pinyin_map_built)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["False False", "True True"]


def test_the_words_typed_against_a_typo_choose_between_homophones(tmp_path: Path) -> None:
    """共营 sounds like 共赢 and 供应; 供应 goes with 合作 in more articles, but only 共赢 right after it."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    bodies = ["两国合作共赢，前景广阔。"] * 3 + ["企业开展合作，保障市场供应稳定。"] * 5
    for number, body in enumerate(bodies):
        title = "合作共赢" if number < 3 else "供应稳定"
        (corpus / f"{number}.md").write_text(f"---\ntitle: {title}\n---\n{body}\n", "utf-8")
    index_corpus(corpus, tmp_path / "index")
    assert suggestion(tmp_path / "index", "合作共营") == "合作共赢"
    assert suggestion(tmp_path / "index", "合作 共营") == "合作 供应"  # typed apart: nothing to go by but the words


# --------------------------------------------------------------------------- real news vocabulary


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("习进平", "习近平"),
        ("李强总里", "李强总理"),
        ("疫情方控", "疫情防控"),
        ("乡村振新", "乡村振兴"),
        ("高质量发张", "高质量发展"),  # zhang ~ zhan: -ng is blurred
        ("二十大报高", "二十大报告"),
        ("中国式现代话", "中国式现代化"),  # jieba cuts 现代 + 话, both common: the typo hides
        ("新冠疫请", "新冠疫情"),  # two words of the index, 新冠 + 疫情, sound like the typed text
        ("recp", "rcep"),
        ("zhongguo", "中国"),
        ("习进平 -会见", "习近平 -会见"),
        ("title:习进平", "title:习近平"),
    ],
)
def test_news_typos(story_index: Path, query: str, expected: str) -> None:
    assert suggestion(story_index, query) == expected


@pytest.mark.parametrize("query", ["习近平", "疫情防控", "高质量发展", "二十大报告", "李强 总理", "rcep", "中国式现代化"])
def test_news_queries_spelt_right_get_no_suggestion(story_index: Path, query: str) -> None:
    assert suggestion(story_index, query) is None


# --------------------------------------------------------------------------- JSON and the command line


def test_json_carries_the_suggestion(sample_index: Path, capsys) -> None:
    with open_index(sample_index) as index:
        assert index.search("古藉").to_json()["suggestion"] == "古籍"
        assert index.search("古籍").to_json()["suggestion"] is None
    code, out, err = cli(capsys, "search", "新能源气车", "--index", sample_index, "--json")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert data["suggestion"] == "新能源汽车" and data["total"] > 0


def test_batch_lines_carry_suggestions(sample_index: Path, tmp_path: Path, capsys) -> None:
    batch = tmp_path / "queries.txt"
    batch.write_text("古藉\n古籍\nkafei\n", "utf-8")
    code, out, _ = cli(capsys, "search", "--batch", batch, "--index", sample_index)
    assert code == 0
    assert [json.loads(line)["suggestion"] for line in out.splitlines()] == ["古籍", None, "咖啡"]


def test_listing_says_did_you_mean_after_no_results(sample_index: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    code, out, _ = cli(capsys, "search", "古藉", "--index", sample_index)
    assert code == 0
    assert out.splitlines() == ["no results for '古藉'", "Did you mean: 古籍?"]


def test_listing_says_did_you_mean_above_the_hits(sample_index: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    code, out, _ = cli(capsys, "search", "新能源气车", "--index", sample_index)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Did you mean: 新能源汽车?" and lines[1] == ""
    assert lines[2].lstrip().startswith("1. ")
    code, out, _ = cli(capsys, "search", "新能源汽车", "--index", sample_index)
    assert "Did you mean" not in out


# --------------------------------------------------------------------------- pieces


def test_fuzzy_syllables_blur_what_speakers_confuse() -> None:
    assert fuzzy("zhang") == fuzzy("zan") == "zan"
    assert fuzzy("niu") == fuzzy("liu")
    assert fuzzy("shi") == fuzzy("si") and fuzzy("chen") == fuzzy("ceng")
    assert fuzzy("xing") == fuzzy("xin")
    assert fuzzy("bao") != fuzzy("pao") and fuzzy("zhong") != fuzzy("zhon" + "e")


def test_latin_letters_read_as_pinyin_every_way() -> None:
    assert set(pinyin_readings("xian")) == {("xian",), ("xi", "an")}
    assert ("wang", "yi") in pinyin_readings("wangyi")
    assert pinyin_readings("iphone") == [] and pinyin_readings("qwerty") == []


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("iphone", "iphone", 0), ("iphome", "iphone", 1), ("ipohne", "iphone", 1), ("iphon", "iphone", 1), ("abc", "cba", 2), ("", "ab", 2)],
)
def test_edit_distance_counts_swaps_as_one(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b) == distance == edit_distance(b, a)


def test_what_a_plain_query_must_hold() -> None:
    """Unspaced text cut into a single character counts as a phrase: 现代 and 话 are common apart."""
    assert _plain_words(parse("中国式现代话")) == [("现代", "话"), "中国式"]
    assert _plain_words(parse("冬奥汇举行")) == [("冬奥", "汇", "举行")]
    assert _plain_words(parse("新能源 汽车 -电池")) == ["新能源", "汽车"]
    assert _plain_words(parse('"城市马拉松" title:咖啡 tag:x')) == [("城市", "马拉松"), "咖啡"]
    assert _plain_words(parse("高铁 OR 航班")) is None and _plain_words(parse("(高铁 航班)")) is None


def test_letters_that_read_as_no_pinyin_are_given_up_on_quickly(monkeypatch: pytest.MonkeyPatch) -> None:
    import search.query.pinyin as pinyin_module

    calls = 0
    real = pinyin_module._is_syllable

    def counting(letters: str) -> bool:
        nonlocal calls
        calls += 1
        return real(letters)

    monkeypatch.setattr(pinyin_module, "_is_syllable", counting)
    assert pinyin_readings("uai" * 9 + "q") == []
    assert calls < 1000, "every split was tried: exponential in the length"
    assert ("zhong", "guo") in pinyin_readings("zhongguo")

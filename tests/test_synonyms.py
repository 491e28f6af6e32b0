"""Synonyms: Solr's file format, regional vocabulary, and what a query finds and marks with them."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from clirun import assert_one_line_error, cli
from marks import MARK

from search import UsageError, index_corpus, open_index
from search.text.synonyms import Synonyms, lookup, news_abbreviations, regional
from search.text.tokens import terms


def rules(text: str) -> dict[str, tuple[str, ...]]:
    return dict(Synonyms.parse(text).rules)


# --- the file format --------------------------------------------------------------------------


def test_equivalent_words_find_each_other_and_one_way_rules_replace():
    found = rules("# news\n全国人大, 全国人民代表大会\n\n俄 => 俄罗斯  # one way\nWiFi => wi-fi, 无线网\n")
    assert found["全国人大"] == ("全国人大", "全国人民代表大会")
    assert found["全国人民代表大会"] == ("全国人大", "全国人民代表大会")
    assert found["俄"] == ("俄罗斯",)  # replaced, as in Solr
    assert "俄罗斯" not in found
    assert found["wifi"] == ("wi-fi", "无线网")  # normalised like the text: lower case


def test_rules_for_one_word_are_joined_and_traditional_forms_are_folded():
    found = rules("北大, 北京大學\n北大, 北大医院\n")
    assert found["北大"] == ("北大", "北京大学", "北大医院")


def test_the_news_line_adds_our_abbreviations():
    assert rules("@news\n")["发改委"] == dict(news_abbreviations().rules)["发改委"]
    assert len(news_abbreviations()) > 20


@pytest.mark.parametrize("line", ["=> 俄罗斯", "俄 =>", "a => b => c", " , , "])
def test_a_line_that_cannot_be_read_is_named(line: str):
    with pytest.raises(ValueError, match=r"line 2: .*"):
        Synonyms.parse("北大, 北京大学\n" + line + "\n")


def test_rules_survive_json():
    synonyms = Synonyms.parse("北大, 北京大学\n俄 => 俄罗斯\n")
    assert Synonyms.from_json(synonyms.to_json()) == synonyms


# --- words of a query -------------------------------------------------------------------------


def test_a_rule_matches_whole_words_only():
    table = lookup(regional(), None)
    assert table.slots(terms("软体动物")) == [(("软体动物",), (("软体动物",),))]  # a mollusc, not software
    (run, found), = table.slots(terms("軟體"))
    assert run == ("软体",) and ("软件",) in found


def test_a_rule_of_several_query_words_is_one_slot():
    table = lookup(Synonyms.parse("部落格, 博客"), None)
    slots = table.slots(terms("部落格 文章"))
    assert slots[0] == (("部落", "格"), (("部落", "格"), ("博客",)))
    assert slots[1] == (("文章",), (("文章",),))


def test_regional_vocabulary_pairs_taiwan_forms_rare_in_mainland_text():
    pairs = dict(regional().rules)
    for mainland, taiwan in [("软件", "软体"), ("人工智能", "人工智慧"), ("网络", "网路"), ("数据库", "资料库"), ("博客", "部落格")]:
        assert taiwan in pairs[mainland] and mainland in pairs[taiwan]
    for mainland, taiwan in [("数据", "资料"), ("文件", "档案"), ("对象", "物件")]:  # mainland words of their own
        assert taiwan not in pairs.get(mainland, ())


def test_regional_vocabulary_read_back_from_its_cache_is_the_one_worked_out(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWS_SEARCH_CACHE", str(tmp_path))
    worked_out = regional.__wrapped__()
    assert list(tmp_path.glob("regional-*.marshal"))
    read_back = regional.__wrapped__()
    assert read_back.rules == worked_out.rules and read_back.digest == worked_out.digest
    assert read_back == Synonyms(worked_out.rules) and hash(read_back) == hash(Synonyms(worked_out.rules))


# --- searching with them ----------------------------------------------------------------------


def write(folder: Path, name: str, title: str, body: str) -> None:
    (folder / name).write_text(f"---\ntitle: '{title}'\n---\n\n{body}\n", "utf-8")


@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write(corpus, "ndrc.md", "国家发展和改革委员会召开发布会", "国家发展和改革委员会介绍经济运行情况。")
    write(corpus, "tw.md", "軟體開發者大會", "這次大會討論人工智慧與網路安全。")
    write(corpus, "cn.md", "软件产业报告", "报告显示软件业务收入增长，人工智能企业增多。")
    for number in range(20):  # 社区 is common here, 社群 is rare
        write(corpus, f"community-{number}.md", f"社区服务{number}", "社区志愿者为居民提供服务。")
    write(corpus, "group.md", "社群服务x", "社群志愿者为居民提供服务。")
    return corpus


def hits(index, query: str) -> list[str]:
    return [hit.path for hit in index.search(query, limit=50).hits]


def marked(index, query: str) -> set[str]:
    return {html.unescape(text) for hit in index.search(query, limit=50).hits for text in MARK.findall(hit.snippet + hit.title_html)}


def test_regional_words_find_each_other_both_ways_and_mark_what_they_found(small_corpus: Path, tmp_path: Path):
    index_corpus(small_corpus, tmp_path / "index")
    with open_index(tmp_path / "index") as index:
        assert {"tw.md", "cn.md"} <= set(hits(index, "软件"))
        assert {"tw.md", "cn.md"} <= set(hits(index, "軟體"))
        assert {"軟體", "软件"} <= marked(index, "软件")
        assert {"人工智慧", "人工智能"} <= marked(index, "人工智能")


def test_a_rare_synonym_does_not_outrank_the_word_itself(small_corpus: Path, tmp_path: Path):
    (tmp_path / "synonyms.txt").write_text("社区, 社群\n", "utf-8")
    index_corpus(small_corpus, tmp_path / "index", synonyms=tmp_path / "synonyms.txt")
    with open_index(tmp_path / "index") as index:
        found = index.search("社区", limit=50)
        assert "group.md" in [hit.path for hit in found.hits]
        scores = {hit.path: hit.score for hit in found.hits}
        # The same title and body lengths: 社群 scores as common as 社区, never above it.
        assert scores["group.md"] <= 1e-9 + min(score for path, score in scores.items() if path.startswith("community-"))


def test_index_synonyms_are_stored_kept_replaced_and_dropped(small_corpus: Path, tmp_path: Path):
    location = tmp_path / "index"
    (tmp_path / "news.txt").write_text("@news\n", "utf-8")
    index_corpus(small_corpus, location)
    with open_index(location) as index:
        assert "ndrc.md" not in hits(index, "发改委")
    index_corpus(small_corpus, location, synonyms=tmp_path / "news.txt")  # an update: no rebuild
    with open_index(location) as index:
        assert hits(index, "发改委")[0] == "ndrc.md"
        assert {"发展", "改革委员会"} <= marked(index, "发改委")  # the synonym's words, where found
        assert index.stats().settings["synonyms"]["words"] == len(news_abbreviations())
    write(small_corpus, "later.md", "后来的文章", "内容。")
    index_corpus(small_corpus, location, rebuild=True)  # kept by a rebuild that names none
    with open_index(location) as index:
        assert hits(index, "发改委")[0] == "ndrc.md"
    (tmp_path / "empty.txt").write_text("", "utf-8")
    index_corpus(small_corpus, location, synonyms=tmp_path / "empty.txt")
    with open_index(location) as index:
        assert "ndrc.md" not in hits(index, "发改委")
        assert index.stats().settings["synonyms"] is None


def test_a_bad_synonyms_file_is_refused_before_anything_changes(small_corpus: Path, tmp_path: Path, capsys):
    (tmp_path / "bad.txt").write_text("北大, 北京大学\n=> 俄罗斯\n", "utf-8")
    with pytest.raises(UsageError, match="bad.txt, line 2"):
        index_corpus(small_corpus, tmp_path / "index", synonyms=tmp_path / "bad.txt")
    assert not (tmp_path / "index").exists() or not any((tmp_path / "index").iterdir())
    code, _, err = cli(capsys, "index", small_corpus, "--index", tmp_path / "index", "--synonyms", tmp_path / "bad.txt")
    assert code == 2
    assert "line 2" in assert_one_line_error(err)


# --- real text --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def huli_index(huli_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    location = tmp_path_factory.mktemp("huli-index")
    index_corpus(huli_corpus, location)
    return location


def test_mainland_words_find_the_taiwan_blog(huli_index: Path, huli_corpus: Path):
    posts = {path.relative_to(huli_corpus).as_posix(): path.read_text("utf-8") for path in huli_corpus.rglob("*.md")}
    with open_index(huli_index) as index:
        for mainland, taiwan in [("软件", "軟體"), ("数据库", "資料庫"), ("服务器", "伺服器"), ("网络", "網路")]:
            holders = {path for path, text in posts.items() if taiwan in text and mainland not in text}
            assert holders
            found = set(hits(index, mainland))
            assert len(found & holders) >= min(10, len(holders)), mainland
            assert taiwan in marked(index, mainland)


def test_taiwan_words_find_mainland_stories(first_stories):
    corpus = first_stories(1500, "stories-regional")
    location = corpus.parent / f"{corpus.name}-index"
    index_corpus(corpus, location)
    texts = {path.relative_to(corpus).as_posix(): path.read_text("utf-8") for path in corpus.rglob("*.md")}
    with open_index(location) as index:
        for taiwan, mainland in [("人工智慧", "人工智能"), ("網路", "网络")]:
            holders = {path for path, text in texts.items() if mainland in text}
            assert holders and not any(re.search(taiwan, text) for text in texts.values())
            assert set(hits(index, taiwan)) & holders, taiwan
            assert mainland in marked(index, taiwan)

"""Front matter: lenient YAML reading of real and made-up posts."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search.ingest.encoding import decode
from search.errors import CorpusError
from search.ingest.front_matter import FrontMatter, clean_text, read_front_matter

UTC = timezone.utc


def real(path: Path) -> FrontMatter:
    """Front matter of a real corpus file, read the way the corpus reader does."""
    return read_front_matter(clean_text(decode(path.read_bytes())))


def only(folder: Path, pattern: str) -> Path:
    matches = sorted(folder.glob(pattern))
    assert len(matches) == 1, f"expected one file for {pattern!r} in {folder}, got {matches}"
    return matches[0]


# --- clean_text ------------------------------------------------------------------


def test_clean_text_drops_bom_and_normalises_line_endings():
    assert clean_text("\ufeff---\r\ntitle: x\r\n---\rbody\n") == "---\ntitle: x\n---\nbody\n"


def test_clean_text_keeps_a_bom_that_is_not_at_the_start():
    assert clean_text("a\ufeffb") == "a\ufeffb"


# --- basic reading ----------------------------------------------------------------


def test_no_front_matter_gives_the_whole_text_as_body():
    text = "# 标题\n\n正文第一段。\n"
    meta = read_front_matter(text)
    assert meta.present is False
    assert meta.body == text
    assert meta.title is None and meta.date is None
    assert meta.categories == () and meta.tags == ()


def test_seed_format_front_matter():
    text = (
        "\n---\ntitle: '城市马拉松鸣枪开跑'\ncategories: \n - 新闻\n - 体育\n - 马拉松\n"
        "headimg: https://example.org/a.jpg\nauthor: 山海体育\ncomments: false\n"
        "date: Sun, 19 Nov 2023 07:30:00 GMT\nthumbnail: \n---\n\n<div>   <p>正文</p>  </div>\n            "
    )
    meta = read_front_matter(text)
    assert meta.present is True
    assert meta.title == "城市马拉松鸣枪开跑"
    assert meta.categories == ("新闻", "体育", "马拉松")
    assert meta.tags == ()
    assert meta.author == "山海体育"
    assert meta.date == datetime(2023, 11, 19, 7, 30, tzinfo=UTC)
    assert "<p>正文</p>" in meta.body
    assert "title:" not in meta.body
    assert meta.warnings == ()


def test_unknown_keys_are_ignored():
    text = (
        "---\ntitle: 标题\ncatalog: true\nphotos:\n  - a.png\nheader-img: /img/x.png\n"
        "subtitle: 副标题\nlayout: post\ncanonical: https://x.y/z\nweird_key: {a: [1, 2]}\n---\n正文\n"
    )
    meta = read_front_matter(text)
    assert meta.title == "标题"
    assert meta.categories == () and meta.tags == () and meta.author is None and meta.date is None
    assert meta.warnings == ()
    assert meta.body.strip() == "正文"
    for key in ("photos", "subtitle", "layout", "canonical", "weird_key"):
        assert not hasattr(meta, key)


def test_leading_blank_lines_before_the_front_matter():
    meta = read_front_matter("\n\n  \n---\ntitle: 标题\n---\n正文")
    assert meta.present and meta.title == "标题"
    assert meta.body.strip() == "正文"


def test_front_matter_without_a_body():
    meta = read_front_matter("---\ntitle: 只有标题\n---")
    assert meta.title == "只有标题"
    assert meta.body.strip() == ""


def test_empty_front_matter_block():
    meta = read_front_matter("---\n---\n正文")
    assert meta.present is True
    assert meta.title is None
    assert meta.body.strip() == "正文"


def test_unterminated_front_matter_is_a_corpus_error():
    with pytest.raises(CorpusError, match="no closing '---'"):
        read_front_matter("---\ntitle: 标题\ndate: 2021-03-16\n\n正文没有结束线\n")


def test_body_keeps_later_horizontal_rules_and_title_lines():
    text = "---\ntitle: 真标题\n---\n\n第一部分\n\n---\n\ntitle: 假标题\n\n---\n第二部分\n"
    meta = read_front_matter(text)
    assert meta.title == "真标题"
    assert "第一部分" in meta.body and "第二部分" in meta.body
    assert "title: 假标题" in meta.body
    assert meta.body.count("---") == 2


# --- lists -----------------------------------------------------------------------------


def test_categories_as_a_single_string():
    meta = read_front_matter("---\ntitle: t\ncategories: 科技\ntags: Security\n---\n")
    assert meta.categories == ("科技",)
    assert meta.tags == ("Security",)


def test_tags_as_a_flow_list_and_categories_as_a_block_list():
    meta = read_front_matter("---\ntitle: t\ntags: [JavaScript, Front-end]\ncategories:\n  - Web\n  - 前端\n---\n")
    assert meta.tags == ("JavaScript", "Front-end")
    assert meta.categories == ("Web", "前端")


def test_tags_as_a_block_list_with_zero_indent():
    meta = read_front_matter("---\ntitle: t\ntags:\n- Cookie\n- Web\n---\n")
    assert meta.tags == ("Cookie", "Web")


def test_singular_category_and_tag_keys():
    meta = read_front_matter("---\ntitle: t\ncategory: 财经\ntag: [股市]\n---\n")
    assert meta.categories == ("财经",)
    assert meta.tags == ("股市",)


def test_list_values_are_flattened_deduplicated_and_stringified():
    meta = read_front_matter("---\ntitle: t\ncategories: [[新闻, 体育], 体育, ~, 2021]\ntags: [' a  b ', '']\n---\n")
    assert meta.categories == ("新闻", "体育", "2021")
    assert meta.tags == ("a b",)


def test_tab_indented_block_lists_are_read():
    text = "---\ntitle: '我遇過的最難的 Cookie 問題'\ndate: 2017-08-27 22:07\ncatalog: true\ntags:\n\t- Cookie\ncategories:\n\t- Web\n---\n## 前言\n"
    meta = read_front_matter(text)
    assert meta.title == "我遇過的最難的 Cookie 問題"
    assert meta.tags == ("Cookie",)
    assert meta.categories == ("Web",)
    assert meta.date == datetime(2017, 8, 27, 14, 7, tzinfo=UTC)


# --- titles that YAML would not read as text ----------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("title: 00_00", "00_00"),  # YAML 1.1 reads it as the int 0
        ("title: 123", "123"),
        ("title: '123'", "123"),
        ("title: '2021'", "2021"),
        ("title: 2021", "2021"),
        ("title: 1936", "1936"),
        ("title: 1.50", "1.50"),
        ("title: true", "true"),
        ("title: 2021-03-16", "2021-03-16"),
        ("title: 0x1F", "0x1F"),
        ("title: ' 两端 空格 '", "两端 空格"),
    ],
)
def test_title_keeps_the_characters_as_written(line, expected):
    meta = read_front_matter(f"---\n{line}\n---\n正文")
    assert meta.title == expected
    assert isinstance(meta.title, str)


@pytest.mark.parametrize("line", ["title:", "title:  ", "title: ' '", "title: ''", "title: ~", "title: null"])
def test_blank_titles_are_none(line):
    assert read_front_matter(f"---\n{line}\nauthor: 某人\n---\n正文").title is None


def test_author_number_is_kept_as_written():
    assert read_front_matter("---\nauthor: 007\n---\n").author == "007"


def test_multi_line_quoted_title_is_folded_to_one_line():
    text = "---\ntitle: '@001_RSC_ \"\n  摸点德鲁西拉\n  ⚠️私设⚠️\n  \"'\n---\n正文"
    meta = read_front_matter(text)
    assert meta.title == '@001_RSC_ " 摸点德鲁西拉 ⚠️私设⚠️ "'
    assert "\n" not in meta.title


def test_broken_yaml_is_read_line_by_line():
    title = '"""""""""\'今日数据行业日报（2021.03.16）『比特币是过去10年中表现最好的资产』\'"""""""""'
    text = (
        f"\n---\ntitle: {title}\ncategories: \n    - 新媒体\n    - 199IT - 标签\nauthor: 199IT - 标签\n"
        "comments: false\ndate: Mon, 15 Mar 2021 23:44:38 GMT\nthumbnail: \n---\n\n<div><p>正文</p></div>"
    )
    meta = read_front_matter(text)
    assert meta.title == "今日数据行业日报（2021.03.16）『比特币是过去10年中表现最好的资产』"
    assert meta.categories == ("新媒体", "199IT - 标签")
    assert meta.author == "199IT - 标签"
    assert meta.date == datetime(2021, 3, 15, 23, 44, 38, tzinfo=UTC)
    assert any("not valid YAML" in warning for warning in meta.warnings)
    assert "<p>正文</p>" in meta.body


# --- dates in front matter --------------------------------------------------------------------


def test_invalid_date_is_a_warning_not_an_error():
    meta = read_front_matter("---\ntitle: t\ndate: Invalid Date\n---\n正文")
    assert meta.date is None
    assert meta.title == "t"
    assert any("Invalid Date" in warning for warning in meta.warnings)


def test_naive_yaml_datetime_is_read_as_utc_plus_8():
    meta = read_front_matter("---\ndate: 2021-03-21 16:41:54\n---\n")
    assert meta.date == datetime(2021, 3, 21, 8, 41, 54, tzinfo=UTC)


def test_yaml_date_with_zone_keeps_its_instant():
    meta = read_front_matter("---\ndate: 2021-03-21 16:41:54 +00:00\n---\n")
    assert meta.date == datetime(2021, 3, 21, 16, 41, 54, tzinfo=UTC)


def test_yaml_date_only_is_local_midnight():
    meta = read_front_matter("---\ndate: 2021-03-16\n---\n")
    assert meta.date == datetime(2021, 3, 15, 16, 0, tzinfo=UTC)


def test_rfc2822_date_is_stored_in_utc():
    meta = read_front_matter("---\ndate: Thu, 31 Dec 1936 00:00:00 GMT\n---\n")
    assert meta.date == datetime(1936, 12, 31, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("value", ["2021-13-45", "2021-02-30", "2021-02-30 10:00:00"])
def test_impossible_calendar_date_is_a_warning_not_a_crash(value):
    # BUG: PyYAML's timestamp constructor raises a plain ValueError ("month must be in
    # 1..12", "day is out of range for month") that _load_yaml does not catch, so one post
    # with a typo in its date aborts the whole index run (the indexer only catches CorpusError).
    meta = read_front_matter(f"---\ntitle: 标题\ndate: {value}\n---\n正文")
    assert meta.title == "标题"
    assert meta.date is None
    assert meta.warnings


@pytest.mark.parametrize("value", ["0001-01-01", "0001-01-01 03:00:00", "9999-12-31 23:00:00 -10:00"])
def test_out_of_range_date_is_a_warning_not_a_crash(value):
    # BUG: YAML reads these as date/datetime objects; to_utc() then raises OverflowError.
    meta = read_front_matter(f"---\ntitle: 标题\ndate: {value}\n---\n正文")
    assert meta.title == "标题"
    assert meta.date is None


# --- the real files --------------------------------------------------------------------------


def test_real_broken_yaml_with_nine_double_quotes(rsshub_corpus):
    path = only(rsshub_corpus / "post" / "新媒体" / "199IT - 标签", "*.md")
    assert path.name.startswith('"""""""""')
    meta = real(path)
    assert meta.title == "今日数据行业日报（2021.03.16）『比特币是过去10年中表现最好的资产』"
    assert meta.categories == ("新媒体", "199IT - 标签")
    assert meta.date == datetime(2021, 3, 15, 23, 44, 38, tzinfo=UTC)
    assert any("not valid YAML" in warning for warning in meta.warnings)


def test_real_invalid_date(rsshub_corpus):
    meta = real(rsshub_corpus / "post" / "新媒体" / "1999元，Moto Edge S带着旗舰骁龙870来搅局了.md")
    assert meta.date is None
    assert meta.title == "1999元，Moto Edge S带着旗舰骁龙870来搅局了"
    assert any("Invalid Date" in warning for warning in meta.warnings)


def test_real_00_00_title_stays_text(rsshub_corpus):
    meta = real(only(rsshub_corpus / "post" / "新媒体", "00_00 *.md"))
    assert isinstance(meta.title, str)
    assert meta.title.startswith("00_00")
    assert "币世界晚行情：BTC回升至57000 USDT上方" in meta.title
    assert meta.date == datetime(2021, 3, 21, 8, 41, 54, tzinfo=UTC)  # 16:41:54 in UTC+8


@pytest.mark.parametrize("name", ["123", "2021"])
def test_real_numeric_titles_stay_strings(rsshub_corpus, name):
    meta = real(rsshub_corpus / "source" / "_posts" / "新媒体" / "人人都是产品经理" / "天天问" / f"{name}.md")
    assert meta.title == name
    assert isinstance(meta.title, str)


def test_real_1936_title_and_date(rsshub_corpus):
    meta = real(rsshub_corpus / "post" / "新媒体" / "1936.md")
    assert meta.title == "1936"
    assert meta.date == datetime(1936, 12, 31, 0, 0, tzinfo=UTC)
    assert meta.categories == ("新媒体", "国际数学联合会 - 菲尔兹奖")


@pytest.mark.parametrize(
    "parts",
    [("source", "_posts", "编程", "开源中国", "资讯", " .md"), ("post", "新媒体", " .md")],
)
def test_real_blank_titles_are_none(rsshub_corpus, parts):
    meta = real(rsshub_corpus.joinpath(*parts))
    assert meta.present
    assert meta.title is None
    assert meta.author  # the rest of the block is still read
    assert meta.date is not None


def test_real_multi_line_mastodon_title(rsshub_corpus):
    folder = rsshub_corpus / "source" / "_posts" / "社交媒体" / "Mastodon" / "实例公共时间线（本站）"
    meta = real(only(folder, "@001_RSC_*.md"))
    assert meta.title.startswith('@001_RSC_ "')
    assert "摸点德鲁西拉投喂自己，我喝两瓶.jpg" in meta.title
    assert "⚠️私设光出没注意⚠️" in meta.title
    assert "\n" not in meta.title
    assert meta.categories == ("社交媒体", "Mastodon", "实例公共时间线（本站）")


def test_real_empty_mastodon_post_title(rsshub_corpus):
    folder = rsshub_corpus / "source" / "_posts" / "社交媒体" / "Mastodon" / "实例公共时间线（本站）"
    meta = real(only(folder, "@003_miss_*.md"))
    assert meta.title == '@003_miss_ ""'


def test_real_double_quoted_punctuation_title(rsshub_corpus):
    meta = real(rsshub_corpus / "source" / "_posts" / "新媒体" / "ZAKER" / "channel" / "+_&~_%！'^…….md")
    assert meta.title == "+_&~_%！'^……"


TAB_FILES = {
    "a-cookie-problem.md": ("我遇過的最難的 Cookie 問題", ("Cookie",), ("Web",)),
    "introduction-to-rxjs-observable.md": ("希望是最淺顯易懂的 RxJS 教學", ("Front-end",), ("Front-end",)),
    "payment-request-api.md": ("統一網頁支付介面：Payment Request API", ("Front-end",), ("Front-end",)),
    "spa-single-page-application.md": ("前後端分離與 SPA", ("Front-end",), ("Front-end",)),
    "why-move-from-github-issue.md": ("從 GitHub Issues 搬回 Hexo", ("Others",), ("Others",)),
}


@pytest.mark.parametrize("name", sorted(TAB_FILES))
def test_real_crlf_files_with_tab_indented_lists(huli_corpus, name):
    path = huli_corpus / "source" / "_posts" / name
    data = path.read_bytes()
    assert b"\r\n" in data and b"\n\t- " in data.replace(b"\r\n", b"\n")  # the odd case is really there
    meta = real(path)
    title, tags, categories = TAB_FILES[name]
    assert meta.title == title
    assert meta.tags == tags
    assert meta.categories == categories
    assert meta.date is not None
    assert "\r" not in meta.body


def test_real_title_line_inside_a_code_sample(huli_corpus):
    meta = real(huli_corpus / "source" / "_posts" / "linectf-2022-writeup.md")
    assert meta.title == "LINE CTF 2022 筆記"
    assert meta.date == datetime(2022, 3, 27, 7, 15, 47, tzinfo=UTC)
    assert meta.tags == ("Security",) and meta.categories == ("Security",)
    assert "title: --> /*" in meta.body


def test_real_bare_horizontal_rule_in_body(huli_corpus):
    meta = real(huli_corpus / "source" / "_posts" / "javascript-async-sync-and-callback.md")
    assert meta.title == "JavaScript 中的同步與非同步（上）：先成為 callback 大師吧！"
    assert meta.tags == ("JavaScript", "Front-end")
    assert meta.categories == ("JavaScript",)
    assert "\n---\n" in meta.body
    assert "底下會針對每一題來做解答" in meta.body


# --- properties -------------------------------------------------------------------------------


def _read_or_corpus_error(text: str) -> None:
    try:
        meta = read_front_matter(text)
    except CorpusError as error:
        assert str(error)
        return
    assert isinstance(meta, FrontMatter)
    assert meta.title is None or (isinstance(meta.title, str) and meta.title == meta.title.strip() and meta.title)
    assert all(isinstance(item, str) and item for item in meta.categories + meta.tags)
    assert meta.date is None or meta.date.utcoffset() is not None


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_read_front_matter_on_arbitrary_text_raises_only_corpus_error(text):
    _read_or_corpus_error(text)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_read_front_matter_on_arbitrary_text_after_a_fence(text):
    _read_or_corpus_error("---\n" + text)


_KEYS = st.sampled_from(["title", "date", "tags", "categories", "category", "author", "x", "date ", " - "])
_VALUES = st.one_of(
    st.text(max_size=20),
    st.from_regex(r"\A[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}( [0-9]{1,2}:[0-9]{2}(:[0-9]{2})?)?\Z"),
    st.sampled_from(["[a, b]", "[", "{", "'", '"', "''", "|", ">", "- a", "\t- a", "!!binary x", "&a", "*a", "~", "Invalid Date"]),
)
_LINES = st.one_of(st.tuples(_KEYS, _VALUES).map(lambda kv: f"{kv[0]}: {kv[1]}"), st.sampled_from(["\t- x", "  - y", "-", ""]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_LINES, max_size=8), st.text(max_size=30), st.booleans())
def test_read_front_matter_on_yaml_like_blocks_raises_only_corpus_error(lines, body, closed):
    text = "---\n" + "\n".join(lines) + ("\n---\n" if closed else "\n") + body
    _read_or_corpus_error(text)

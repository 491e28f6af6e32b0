"""search.engine (bm25f, precomputed, docsets) gives Whoosh's own scores and matches, only faster; checked on an
index of real stories with two segments and deleted documents."""

from __future__ import annotations

import json
import math
import subprocess
import sys

from datetime import datetime
from pathlib import Path

import pytest
from whoosh import query as wq

from search import index_corpus, open_index
from search.query.syntax import parse
from search.query.compile import to_whoosh
from search.engine.precomputed import Precomputed, Restricted, top_results
from search.engine.docsets import matching_array
from search.engine.bm25f import query_scores

WORDS = ["中国", "发展", "习近平", "经济", "联播", "快讯", "国务院", "会议", "北京", "合作", "人民", "不存在的词"]


@pytest.fixture(scope="module")
def updated_index(first_stories, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """400 stories indexed, then 20 changed and 10 deleted by an update: two segments, deletions."""
    corpus = first_stories(400, "scoring-corpus")
    location = tmp_path_factory.mktemp("scoring-index")
    index_corpus(corpus, location)
    stories = sorted(corpus.rglob("*.md"))
    for path in stories[:20]:
        path.write_text(path.read_text("utf-8") + "\n<p>中国发展经济合作的补充报道。</p>\n", "utf-8")
    for path in stories[-10:]:
        path.unlink()
    report = index_corpus(corpus, location)
    assert (report.updated, report.removed) == (20, 10)
    return location


@pytest.fixture
def searcher(updated_index: Path):
    with open_index(updated_index) as index:
        searcher = index._searcher
        assert len(searcher.subsearchers) == 2 and searcher.reader().has_deletions()
        yield searcher


def _whoosh_scores(segment, query: wq.Query) -> dict[int, float]:
    found = {}
    matcher = query.matcher(segment, segment.context())
    while matcher.is_active():
        found[matcher.id()] = matcher.score()
        matcher.next()
    return found


@pytest.mark.parametrize("tabled_from", [1, 10**9])  # equal weights from a table, or not
@pytest.mark.parametrize("field", ["title", "body", "categories", "grams"])
def test_term_scores_are_whooshs(searcher, field, tabled_from, monkeypatch):
    monkeypatch.setattr("search.engine.bm25f._TABLED_FROM", tabled_from)
    compared = 0
    for segment, _ in searcher.subsearchers:
        for word in WORDS + ["中国", "发展"] if field != "grams" else ["中国", "发展", "联播", "快讯"]:
            for boost in (1.0, 0.5):
                term = wq.Term(field, word, boost=boost)
                expected = _whoosh_scores(segment, term)
                assert query_scores(segment, term) == pytest.approx(expected, rel=1e-12)
                compared += len(expected)
    assert compared > 100


def test_scores_of_a_word_over_fields_are_whooshs(searcher):
    for segment, _ in searcher.subsearchers:
        for word in WORDS:
            either = wq.Or([wq.Term(name, word) for name in ("title", "body", "categories")])
            assert query_scores(segment, either) == pytest.approx(_whoosh_scores(segment, either), rel=1e-12)


@pytest.mark.parametrize(
    "text",
    ["中国 发展", "习近平 会见", "联播快讯", '"国务院 常务会议"', "经济 -发展", "+北京 合作", "中国 OR 经济", "title:会议 人民"],
)
def test_the_top_page_is_the_best_of_all_scored_matches(searcher, text):
    """Skipping blocks that cannot make the page loses nothing, and the count stays exact."""
    compiled = to_whoosh(parse(text))
    everything = searcher.search(compiled, limit=None)
    ranked = sorted(((hit.score, -hit.docnum) for hit in everything), reverse=True)[:10]
    top = searcher.search(compiled, limit=10)
    assert [(hit.score, -hit.docnum) for hit in top] == ranked
    assert len(top) == len(everything) > 0


@pytest.mark.parametrize("text", ["中国 发展", "联播快讯", '"国务院 常务会议"', "经济 -发展", "中国 OR 经济", "title:会议 人民", "央视网"])
@pytest.mark.parametrize("limit", [1, 3, 10, 1000])
def test_top_results_are_whooshs_top_n(searcher, text, limit, prune_all):
    """The same page in the same order (ties included) and the same count, filtered or not."""
    compiled = to_whoosh(parse(text))
    allowed = set(range(0, searcher.doc_count_all(), 3))
    for query in [compiled] * isinstance(compiled, Precomputed) + [Restricted(compiled, allowed)]:
        expected = searcher.search(query, limit=limit)
        found = top_results(searcher, query, limit)
        assert [(hit.docnum, hit.score) for hit in found] == [(hit.docnum, hit.score) for hit in expected]
        _assert_count(found, len(expected), limit)
    assert len(searcher.search(compiled)) > 0


def _assert_count(found, true_count: int, depth: int) -> None:
    """A pruned count is at least the page and at most the matches; else exact."""
    if found.total_is_exact:
        assert len(found) == true_count
    else:
        assert min(depth, true_count) <= len(found) <= true_count


@pytest.mark.parametrize("text", ["中国 OR 经济", "习近平 OR 会见 OR 中国 OR 北京 OR 上海", "(经济 OR 合作) 发展 OR 北京", "+中国 OR 世界 -经济"])
def test_alternatives_rank_as_whooshs_or_of_them_all(searcher, text):
    """Alternatives are scored a segment at a time: Whoosh's OR of them, every match
    scored, gives the same documents in the same order, the same count, and the same
    scores but for the order of additions."""
    compiled = to_whoosh(parse(text))
    assert isinstance(compiled, Precomputed)
    whooshs = searcher.search(wq.Or(compiled.subqueries), limit=None)
    expected = sorted(((hit.score, -hit.docnum) for hit in whooshs), key=lambda pair: (-round(pair[0], 9), -pair[1]))
    found = top_results(searcher, compiled, 10)
    assert [hit.docnum for hit in found] == [-docnum for _, docnum in expected[:10]]
    assert [hit.score for hit in found] == pytest.approx([score for score, _ in expected[:10]], rel=1e-12)
    assert found.total_is_exact and len(found) == len(whooshs) > 10


def test_top_results_keep_whooshs_order_of_equal_scores(searcher):
    compiled = to_whoosh(parse("categories:国内"))
    everything = top_results(searcher, compiled, 1000)
    scores = [hit.score for hit in everything]
    assert len(scores) - len(set(scores)) > 10  # many ties
    for limit in (1, 5, 17):
        assert [hit.docnum for hit in top_results(searcher, compiled, limit)] == [hit.docnum for hit in searcher.search(compiled, limit=limit)]


def test_matching_arrays_are_whooshs(searcher):
    # The stories run from 2022-09-24 to 2022-10-27, at 11:00 UTC.
    dated = wq.DateRange("date", datetime(2022, 9, 27, 11), datetime(2022, 10, 5, 11))
    queries = [
        wq.Term("category", "国内"),
        wq.Term("author", "央视网"),
        wq.Term("category", "没有这个分类"),
        dated,
        wq.DateRange("date", None, datetime(2022, 9, 30)),
        wq.DateRange("date", datetime(2022, 10, 20), None),
        wq.DateRange("date", datetime(2022, 9, 27, 11), datetime(2022, 10, 5, 11), startexcl=True, endexcl=True),
        wq.DateRange("date", datetime(2023, 1, 1), None),
        wq.And([wq.Term("category", "国内"), dated]),
        wq.Or([wq.Term("body", "中国"), wq.Term("title", "发展")]),
        wq.Phrase("body", ["中国", "发展"]),
    ]
    nonempty = 0
    for query in queries:
        expected = set(searcher.docs_for_query(query))
        assert matching_array(searcher, query).tolist() == sorted(expected), query
        nonempty += bool(expected)
    assert nonempty >= 8


def test_a_precomputed_matcher_skipped_to_its_end_can_still_be_asked_where_it_is():
    """Whoosh's AndNot asks its positive side for its id right after skipping blocks."""
    from whoosh.matching import AndNotMatcher, ListMatcher

    from search.engine.precomputed import BLOCK, ScoredDocs

    scores = {docnum: float(docnum % 7) for docnum in range(3 * BLOCK)}
    both = AndNotMatcher(ScoredDocs(scores), ListMatcher([5, 40]))
    assert both.skip_to_quality(100.0) > 0
    assert not both.is_active()
    rising = {docnum: 1.0 if docnum < BLOCK else 9.0 for docnum in range(3 * BLOCK)}
    shown = AndNotMatcher(ScoredDocs(rising), ListMatcher([5, BLOCK]))
    assert shown.skip_to_quality(5.0) == 1  # the first block cannot beat 5
    assert (shown.id(), shown.score()) == (BLOCK + 1, 9.0)  # BLOCK itself is excluded


PHRASES = [["国内", "联播"], ["联播", "快讯"], ["国内", "联播", "快讯"], ["习近平", "会见"], ["中国", "发展"], ["经济", "经济"], ["快讯", "国内"]]


@pytest.mark.parametrize("field", ["title", "body"])
def test_phrase_scores_are_whooshs(searcher, field):
    compared = 0
    for segment, _ in searcher.subsearchers:
        for words in PHRASES:
            for boost in (1.0, 0.5):
                phrase = wq.Phrase(field, words, boost=boost)
                expected = _whoosh_scores(segment, phrase)
                assert query_scores(segment, phrase) == pytest.approx(expected, rel=1e-12), words
                compared += len(expected)
        either = wq.Or([wq.Phrase(name, ["联播", "快讯"]) for name in ("title", "body", "categories")] + [wq.Term(field, "会见")])
        assert query_scores(segment, either) == pytest.approx(_whoosh_scores(segment, either), rel=1e-12)
    assert compared > 50


def test_a_phrase_in_a_field_without_positions_is_whooshs_error(searcher):
    from whoosh.query.qcore import QueryError

    segment = searcher.subsearchers[0][0]
    with pytest.raises(QueryError):
        query_scores(segment, wq.Phrase("grams", ["中国", "国发"]))


def test_positions_read_by_block_are_the_matchers(searcher):
    # Any other matcher is stepped one document at a time: both ways agree.
    from search.engine.postings import PositionCursor

    found = 0
    for segment, _ in searcher.subsearchers:
        reader = segment.reader()
        docs = sorted(set(reader.postings("body", "中国".encode()).all_ids()))[::3]
        by_block = PositionCursor(reader, "body", "中国".encode())
        stepped = PositionCursor(reader, "body", "中国".encode())
        stepped._blocks = None
        assert by_block._blocks is not None
        read = [(by_block.positions(docnum), stepped.positions(docnum)) for docnum in docs + [10**6]]
        assert all(left == right for left, right in read)
        found += sum(1 for left, _ in read if left)
    assert found > 20


@pytest.mark.parametrize("cap", [1, 7, 1000])
@pytest.mark.parametrize("numpy_loaded", [True, False])
def test_counts_of_words_together_are_whooshs(searcher, cap, numpy_loaded, monkeypatch):
    """Documents holding every word (a tuple: side by side, in any text field), as
    Whoosh's intersection of per-field ORs counts them, up to a cap: with numpy, and in
    plain Python as a process that has not loaded it counts."""
    import search.engine.docsets as docsets
    from search.engine.docsets import count_together

    if not numpy_loaded:  # the plain count, as where numpy is not in sys.modules
        monkeypatch.setattr(docsets, "_count_in_segment", docsets._count_plainly)

    fields = ("title", "body", "categories")
    word_sets = [
        [("中国",)],
        [("中国",), ("发展",)],
        [("国内", "联播")],
        [("国内", "联播", "快讯"), ("经济",)],
        [("习近平", "会见"), ("合作",), ("人民",)],
        [("中国", "发展"), ("经济", "合作")],
        [("不存在的词",), ("中国",)],
    ]
    everything = set(searcher.document_numbers())
    allowed_sets = [None, {docnum for docnum in everything if docnum % 3}]
    nonzero = 0
    for words in word_sets:
        clauses = [
            wq.Or([wq.Term(name, word[0]) for name in fields] if len(word) == 1 else [wq.Phrase(name, list(word)) for name in fields])
            for word in words
        ]
        for allowed in allowed_sets:
            matched = set(searcher.docs_for_query(wq.And(clauses)))
            expected = min(cap, len(matched if allowed is None else matched & allowed))
            assert count_together(searcher, words, fields, allowed, cap) == expected, (words, allowed)
            nonzero += expected > 0
    assert nonzero >= 10
    assert count_together(searcher, [], fields, None, cap) == count_together(searcher, [("中国",), ()], fields, None, cap) == 0


@pytest.mark.parametrize("text", ["中国 发展", "联播快讯", "经济 -发展", '"国务院 常务会议" 人民'])
def test_a_restricted_query_finds_what_whooshs_filter_lets_through(searcher, text):
    compiled = to_whoosh(parse(text))
    second = searcher.subsearchers[1][1]  # where the second segment's numbers start
    everything = set(searcher.document_numbers())
    for allowed in ({docnum for docnum in everything if docnum % 3 != 1}, {docnum for docnum in everything if docnum >= second}):
        filtered = searcher.search(compiled, limit=10, filter=allowed)
        restricted = searcher.search(Restricted(compiled, allowed), limit=10)
        assert [(hit.docnum, hit.score) for hit in restricted] == [(hit.docnum, hit.score) for hit in filtered]
        assert len(restricted) == len(filtered)
    assert len(searcher.search(Restricted(compiled, everything), limit=None)) == len(searcher.search(compiled, limit=None)) > 0


# -- MaxScore: the pruned page is the exhaustive page ------------------------------------

POOL = WORDS + ["国内", "国际", "习近平会见", "新闻联播", "疫情", "防控", "全国", "工作", "举行", "会见"]


def _random_queries(count: int, seed: int) -> list[str]:
    """Free words, phrases, required and excluded words, fields and ORs, from common and rare words."""
    import random

    rng = random.Random(seed)
    made = []
    for _ in range(count):
        words = rng.sample(POOL, rng.randint(1, 4))
        shape = rng.random()
        if shape < 0.15:
            words[0] = f'"{words[0]}{words[-1]}"'
        elif shape < 0.25:
            words[-1] = f"-{words[-1]}" if len(words) > 1 else words[-1]
        elif shape < 0.32:
            words[0] = f"+{words[0]}"
        elif shape < 0.38:
            words[0] = f"title:{words[0]}"
        elif shape < 0.44 and len(words) > 1:
            words[:2] = [f"({words[0]} OR {words[1]})"]
        made.append(" ".join(words))
    return made


def _exhaustive(searcher, query, limit: int):
    """The page and count with every match scored: no word query prunes."""
    from search.query.compile import Coordinated

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Coordinated, "best", lambda self, *args, **kwargs: None)
        return top_results(searcher, query, limit)


def _pages_and_exhaustive_pages(searcher, seed: int, allowed: set[int], exact_below: int):
    """(text, limit, page, exhaustive page) of 60 random queries: every third one filtered
    by ``allowed``, at depths 1, 10 and 30 in turn."""
    for number, text in enumerate(_random_queries(60, seed)):
        compiled = to_whoosh(parse(text))
        if not isinstance(compiled, Precomputed):
            continue
        query = Restricted(compiled, allowed) if number % 3 == 0 else compiled
        limit = (1, 10, 30)[number % 3]
        expected = _exhaustive(searcher, query, limit)
        yield text, limit, top_results(searcher, query, limit, exact_below=exact_below), expected


@pytest.fixture
def prune_all(monkeypatch):
    """MaxScore for every free-text query, however few postings it reads."""
    monkeypatch.setattr("search.query.compile.PRUNE_FROM", 0)
    monkeypatch.setattr("search.engine.postings.LOAD_NUMPY_AFTER", 0)


@pytest.mark.parametrize("seed", range(4))
def test_pruned_pages_are_the_exhaustive_pages_score_for_score(searcher, seed, prune_all):
    """Random queries, filtered or not, at several depths: the same documents, order
    and float scores as scoring every match; the count is exact or a lower bound."""
    pruned = 0
    for text, limit, found, expected in _pages_and_exhaustive_pages(searcher, seed, set(range(1, searcher.doc_count_all(), 2)), 10):
        assert [(hit.docnum, hit.score) for hit in found] == [(hit.docnum, hit.score) for hit in expected], text
        _assert_count(found, len(expected), max(limit, 10))
        if len(expected) < 10:
            assert found.total_is_exact, text
        pruned += not found.total_is_exact
    assert pruned >= 5  # pruning happened, so the comparison meant something


def test_documents_that_look_best_are_scored_once_while_lists_are_read(searcher, prune_all, monkeypatch):
    """Between lists read whole, MaxScore scores the k documents that look best exactly,
    to raise the bar; a document is scored so once per segment, however long it leads."""
    import search.engine.maxscore as maxscore

    asked: list[tuple[int, int]] = []  # (segment, document) scored exactly to raise the bar
    raising: list[bool] = []
    real_exact, real_kth_best = maxscore._Search._exact, maxscore._Search._kth_best

    def exact(self, docs):
        if raising:
            asked.extend((id(self.searcher.reader()), docnum) for docnum in docs.tolist())
        return real_exact(self, docs)

    def kth_best(self, k, outside):
        raising.append(True)
        try:
            return real_kth_best(self, k, outside)
        finally:
            raising.pop()

    monkeypatch.setattr(maxscore._Search, "_exact", exact)
    monkeypatch.setattr(maxscore._Search, "_kth_best", kth_best)
    leading = 0
    for text in _random_queries(30, 5):
        compiled = to_whoosh(parse(text))
        if not isinstance(compiled, Precomputed):
            continue
        del asked[:]
        found = top_results(searcher, compiled, 10)
        leaders = list(asked)
        assert [(hit.docnum, hit.score) for hit in found] == [(hit.docnum, hit.score) for hit in _exhaustive(searcher, compiled, 10)], text
        assert len(leaders) == len(set(leaders)), text
        leading += len(leaders)
    assert leading > 100


@pytest.mark.parametrize("seed", range(2))
def test_every_match_scored_as_arrays_gives_the_exhaustive_page_and_count(searcher, seed, monkeypatch):
    """Below PRUNE_FROM, a query of enough postings scores every match from numpy
    arrays (:func:`maxscore.every`): the same page, float for float, and the same exact count."""
    import numpy  # noqa: F401  (arrays are used only where numpy is loaded)

    monkeypatch.setattr("search.query.compile.ARRAYS_FROM", 0)
    monkeypatch.setattr("search.query.compile.PRUNE_FROM", math.inf)
    compared = 0
    for text, _, found, expected in _pages_and_exhaustive_pages(searcher, seed + 10, set(range(0, searcher.doc_count_all(), 2)), 0):
        assert [(hit.docnum, hit.score) for hit in found] == [(hit.docnum, hit.score) for hit in expected], text
        assert found.total_is_exact and len(found) == len(expected), text
        compared += len(expected) > 0
    assert compared >= 30


def test_a_one_off_search_under_prune_from_does_not_load_numpy(updated_index):
    """A CLI search is a process of one query: numpy's import would cost it more than arrays, or
    a suggestion's count of words together, save."""
    code = (
        "import sys, search.query.compile as c; c.ARRAYS_FROM = 0; c.PRUNE_FROM = float('inf'); "
        "from search import open_index; found = open_index(sys.argv[1]).search('中国 发展'); "
        "print(found.total, found.total_is_exact, 'numpy' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code, str(updated_index)], capture_output=True, text=True, check=True)
    total, exact, numpy_loaded = done.stdout.split()
    assert int(total) > 10 and exact == "True" and numpy_loaded == "False"


def test_numpy_is_loaded_to_prune_once_searches_in_dicts_have_cost_what_its_import_does(updated_index):
    """Ski rental: searches of many postings are scored in dicts (exact counts) until
    those of this process add up to LOAD_NUMPY_AFTER; the search that gets there loads
    numpy and prunes, and its page is the same."""
    code = (
        "import json, sys, search.query.compile as c, search.engine.postings as p; c.PRUNE_FROM = 0\n"
        "from search import open_index; from search.query.syntax import parse\n"
        "index = open_index(sys.argv[1]); text = '中国 发展'\n"
        "p.LOAD_NUMPY_AFTER = 2 * c.postings_of(index._searcher, c.to_whoosh(parse(text))) - 1\n"
        "for _ in range(2):\n"
        "    found = index.search(text)\n"
        "    print(json.dumps([[(h.path, h.score) for h in found.hits], found.total_is_exact, 'numpy' in sys.modules]))"
    )
    done = subprocess.run([sys.executable, "-c", code, str(updated_index)], capture_output=True, text=True, check=True)
    (first_page, first_exact, first_numpy), (second_page, second_exact, second_numpy) = map(json.loads, done.stdout.splitlines())
    assert (first_exact, first_numpy) == (True, False)
    assert (second_exact, second_numpy) == (False, True)
    assert second_page == first_page and len(first_page) == 10


def test_no_document_scores_above_its_lists_bound(searcher):
    from search.engine.bm25f import phrase_bound, term_bound

    checked = 0
    for segment, _ in searcher.subsearchers:
        for field in ("title", "body", "categories", "grams"):
            for word in POOL:
                for boost in (1.0, 0.5):
                    term = wq.Term(field, word, boost=boost)
                    scores = query_scores(segment, term)
                    assert max(scores.values(), default=0.0) <= term_bound(segment, term)
                    checked += len(scores)
        phrase = wq.Phrase("body", ["中国", "发展"])
        assert max(query_scores(segment, phrase).values()) <= phrase_bound(segment, phrase)
    assert checked > 1000


def test_a_common_word_is_counted_at_least_and_a_rare_one_exactly(updated_index, prune_all):
    with open_index(updated_index) as index:
        common = index.search("中国 发展")
        assert not common.total_is_exact and common.total >= 10
        assert common.to_json()["total_is_exact"] is False
        rare = index.search("国务院 常务会议")
        assert rare.total_is_exact or rare.total >= 10
        by_date = index.search("中国 发展", sort="date")  # every match is collected: exact
        assert by_date.total_is_exact and by_date.total > common.total


def test_scores_of_some_documents_are_the_same_floats(searcher):
    """A list read for a few documents (only their blocks), as a dict or as arrays,
    gives exactly the scores of the whole list."""
    from search.engine.arrays import term_arrays
    from search.engine.bm25f import term_scores_of

    import numpy

    checked = 0
    for segment, _ in searcher.subsearchers:
        for field in ("title", "body", "grams"):
            for word in ("中国", "发展", "联播", "国内"):
                term = wq.Term(field, word)
                whole = query_scores(segment, term)
                docs = sorted(whole)[::7] + [segment.doc_count_all() - 1]
                assert term_scores_of(segment, term, docs) == {docnum: whole[docnum] for docnum in docs if docnum in whole}
                ids, scores = term_arrays(segment, term)
                assert dict(zip(ids.tolist(), scores.tolist())) == whole
                some_ids, some_scores = term_arrays(segment, term, numpy.array(docs))
                assert dict(zip(some_ids.tolist(), some_scores.tolist())) == {docnum: whole[docnum] for docnum in docs if docnum in whole}
                checked += len(docs)
    assert checked > 100


def test_a_restriction_of_a_restriction_keeps_both_filters(searcher, prune_all):
    compiled = to_whoosh(parse("中国 发展"))
    everything = range(searcher.doc_count_all())
    twice = Restricted(Restricted(compiled, {docnum for docnum in everything if docnum % 2 == 0}), {docnum for docnum in everything if docnum % 3 == 0})
    expected = _exhaustive(searcher, twice, 10)
    found = top_results(searcher, twice, 10, exact_below=10)
    assert [(hit.docnum, hit.score) for hit in found] == [(hit.docnum, hit.score) for hit in expected]
    assert expected and all(hit.docnum % 6 == 0 for hit in found)


def test_copies_that_tie_on_a_phrase_are_checked_only_as_far_as_the_page(first_stories, tmp_path, prune_all, monkeypatch):
    """200 copies of a story hold a phrase and tie: the pruned page is the exhaustive
    one (lowest numbers first among equals), and about a page of them has its
    positions read, not all 200."""
    import search.engine.arrays as engine_arrays

    corpus = first_stories(60, "tie-corpus")
    story = next(path for path in sorted(corpus.rglob("*.md")) if "长江经济带" in path.read_text("utf-8"))
    for number in range(200):
        (corpus / f"copy-{number:03}.md").write_bytes(story.read_bytes())
    index_corpus(corpus, tmp_path / "index", workers=1)
    checked = []
    real = engine_arrays.together
    monkeypatch.setattr(engine_arrays, "together", lambda cursors, docs: checked.extend(docs) or real(cursors, docs))
    with open_index(tmp_path / "index") as index:
        searcher = index._searcher
        query = to_whoosh(parse('"长江经济带"'))
        expected = _exhaustive(searcher, query, 10)
        del checked[:]
        found = top_results(searcher, query, 10)
        assert len(expected) > 200
        assert [(hit.docnum, hit.score) for hit in found] == [(hit.docnum, hit.score) for hit in expected]
        assert len({hit.score for hit in found}) == 1  # the page is all ties
        assert 10 <= len(checked) <= 60


def test_scores_of_an_or_group_are_whooshs(searcher):
    """An OR group of words (each over the fields) is added up from posting lists, as Whoosh's matchers score it."""
    words = [wq.Or([wq.Term(name, word) for name in ("title", "body", "categories")]) for word in ("中国", "经济", "不存在的词")]
    for segment, _ in searcher.subsearchers:
        for group in (wq.Or(words[:2]), wq.Or(words), wq.Or([words[0], wq.Phrase("body", ["国务院", "常务会议"])], boost=2.0)):
            scores = query_scores(segment, group)
            assert scores and scores == pytest.approx(_whoosh_scores(segment, group), rel=1e-12)


def test_distinct_numbers_are_numpys_unique():
    import numpy

    from search.engine.postings import distinct

    rng = numpy.random.default_rng(3)
    for size in (0, 1, 2, 50, 5000):
        values = rng.integers(0, max(size // 3, 1), size)
        assert distinct(values).tolist() == numpy.unique(values).tolist()

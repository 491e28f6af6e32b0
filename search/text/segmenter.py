"""jieba's segmentation, ready in milliseconds.

jieba keeps its 350,000-word dictionary in a Python dict that every process
spends 0.6 s loading, more than a whole search should take. This module runs
jieba's own algorithm (the graph of dictionary words in a sentence, its most
probable route, and jieba's HMM for runs of characters no word covers) over a
compiled copy of the same dictionary: a marisa trie of the words and an array of
their frequencies, memory-mapped from a cache built once from jieba itself.
``tests/test_segmenter.py`` checks that the words are jieba's on the shared corpora.

A user dictionary is applied as jieba's ``add_word`` would (jieba computes the
frequencies of words given without one); the result is cached beside the base
dictionary, keyed by the words' digest.
"""

from __future__ import annotations

import array
import functools
import json
import logging
import marshal
import math
import os
import re
import shutil
import tempfile
from importlib import util
from pathlib import Path
from typing import Iterator, Sequence

import marisa_trie

from ..cache import cache_dir, read_cached, write_cached
from ..errors import DependencyError

#: The jieba release whose dictionary and algorithm this module reproduces.
JIEBA_VERSION = "0.42.1"
#: Bumped when the cache layout changes; old caches are then ignored.
CACHE_FORMAT = 1
#: What reading a cache that is missing, partial or damaged raises.
_DAMAGED = (OSError, ValueError, KeyError, RuntimeError)

#: The characters jieba's dictionary graph segments; other Chinese characters
#: (rare extensions, 〇) are words of one character, as jieba cuts them.
_JIEBA_HAN = re.compile("[\u4e00-\u9fd5]+")
_MIN_FLOAT = -3.14e100
#: HMM states that may precede each state (Begin, Middle, End of a word, Single).
_PREVIOUS = {"B": "ES", "M": "MB", "S": "SE", "E": "BM"}

#: Sentences up to this length have their words remembered, this many at most.
_MEMO_LONGEST = 24
_MEMO_SIZE = 50_000

#: A dictionary edge: a word ending at this index (inclusive), and its frequency.
Edge = tuple[int, int]


class Segmenter:
    """jieba's ``Tokenizer.cut(HMM=True)`` and its dictionary, for one set of user words.

    ``user_words`` are ``(word, frequency or None)`` in the order jieba would add them.
    """

    def __init__(self, user_words: Sequence[tuple[str, int | None]] = ()) -> None:
        base = _base()
        self._trie: marisa_trie.Trie = base.trie
        self._frequencies: array.array = base.frequencies
        #: log(frequency) - log(total) per word, as jieba computes it (base dictionary only).
        self._log_probabilities: array.array = base.log_probabilities
        self._longest = base.longest
        self.total: int = base.total
        #: User words and their frequencies (0: never kept together), with every prefix.
        self._user: dict[str, int] = {}
        self._user_prefixes: frozenset[str] = frozenset()
        if user_words:
            self.total, self._user = _user_overlay(tuple(user_words))
            self._user_prefixes = frozenset(word[:end] for word in self._user for end in range(1, len(word) + 1))
            self._longest = max(self._longest, max(map(len, self._user)))
        self._force_split = frozenset(word for word, frequency in self._user.items() if frequency == 0)
        self._log_total = math.log(self.total)
        self._memo: dict[str, tuple[str, ...]] = {}

    def frequency(self, word: str) -> int:
        """How often jieba's dictionary says ``word`` occurs; 0 if it is no word."""
        if word in self._user:
            return self._user[word]
        index = self._trie.get(word)
        return 0 if index is None else self._frequencies[index]

    def edges(self, sentence: str) -> list[list[Edge]]:
        """jieba's DAG: for each index, the dictionary words starting there as
        (last index, frequency); a lone character when no word starts there."""
        graph: list[list[Edge]] = []
        prefixes = self._trie.iter_prefixes_with_ids
        frequencies = self._frequencies
        longest = self._longest
        for start in range(len(sentence)):
            window = sentence[start : start + longest]
            found = [(start + len(word) - 1, frequencies[index]) for word, index in prefixes(window)]
            if self._user_prefixes:
                found = self._with_user_words(window, start, found)
            graph.append(found or [(start, 0)])
        return graph

    def _with_user_words(self, window: str, start: int, found: list[Edge]) -> list[Edge]:
        merged = dict(found)
        for size in range(1, len(window) + 1):
            fragment = window[:size]
            if fragment not in self._user_prefixes:
                break
            if fragment in self._user:
                merged[start + size - 1] = self._user[fragment]
        return sorted((end, frequency) for end, frequency in merged.items() if frequency)

    def route(self, graph: list[list[Edge]]) -> list[tuple[float, int]]:
        """jieba's ``calc``: for each index, the best log probability of the rest of
        the sentence and where the first word of that route ends."""
        log, log_total = math.log, self._log_total
        best: list[tuple[float, int]] = [(0.0, 0)] * (len(graph) + 1)
        for start in range(len(graph) - 1, -1, -1):
            best[start] = max((log(frequency or 1) - log_total + best[end + 1][0], end) for end, frequency in graph[start])
        return best

    def cut(self, text: str) -> Sequence[str]:
        """The words of a run of Chinese characters, as jieba's ``cut(text, HMM=True)``."""
        if _JIEBA_HAN.fullmatch(text):  # the usual case: one block
            return self._cut_block(text)
        words: list[str] = []
        at = 0
        for block in _JIEBA_HAN.finditer(text):
            words.extend(text[at : block.start()])  # characters jieba does not segment stand alone
            words.extend(self._cut_block(block.group()))
            at = block.end()
        words.extend(text[at:])
        return words

    def _cut_block(self, sentence: str) -> tuple[str, ...]:
        """The words of a sentence of characters jieba segments; short ones are
        remembered, as news text repeats its phrases."""
        words = self._memo.get(sentence)
        if words is None:
            words = tuple(self._words_on_route(sentence))
            if len(sentence) <= _MEMO_LONGEST:
                if len(self._memo) >= _MEMO_SIZE:
                    self._memo.clear()
                self._memo[sentence] = words
        return words

    def _words_on_route(self, sentence: str) -> Iterator[str]:
        ends = self._route_ends(sentence)
        start, pending = 0, ""  # pending: a run of single characters, for the HMM
        while start < len(sentence):
            end = ends[start]
            if end - start == 1:
                pending += sentence[start]
            else:
                if pending:
                    yield from self._unknown(pending)
                    pending = ""
                yield sentence[start:end]
            start = end
        if pending:
            yield from self._unknown(pending)

    def _route_ends(self, sentence: str) -> list[int]:
        """Where the word starting at each index ends on the most probable route:
        :meth:`route` over :meth:`edges`, in one pass when there are no user words."""
        if self._user:
            return [end + 1 for _, end in self.route(self.edges(sentence))]
        prefixes, log_probabilities, longest = self._trie.iter_prefixes_with_ids, self._log_probabilities, self._longest
        log_total = self._log_total
        scores = [0.0] * (len(sentence) + 1)
        ends = [0] * (len(sentence) + 1)
        for start in range(len(sentence) - 1, -1, -1):
            best, best_end = -log_total + scores[start + 1], start + 1  # the character alone
            found = False
            for word, index in prefixes(sentence[start : start + longest]):
                end = start + len(word)
                score = log_probabilities[index] + scores[end]
                # Ties go to the longer word, as with jieba's max over (score, end).
                if not found or score >= best:
                    best, best_end, found = score, end, True
            scores[start], ends[start] = best, best_end
        return ends

    def _unknown(self, run: str) -> Iterator[str]:
        """Single characters the route left: jieba's HMM finds words among them
        (names, new words) unless the run is itself a word."""
        if len(run) == 1 or self.frequency(run):
            yield from run
            return
        for word in _hmm_words(run):
            if word in self._force_split:
                yield from word
            else:
                yield word


def _hmm_words(sentence: str) -> Iterator[str]:
    """jieba's ``finalseg``: Viterbi over the Begin/Middle/End/Single states."""
    start_p, trans_p, emit_p = _hmm_model()
    probabilities = [{state: start_p[state] + emit_p[state].get(sentence[0], _MIN_FLOAT) for state in "BMES"}]
    paths = {state: [state] for state in "BMES"}
    for char in sentence[1:]:
        previous = probabilities[-1]
        current: dict[str, float] = {}
        new_paths: dict[str, list[str]] = {}
        for state in "BMES":
            emit = emit_p[state].get(char, _MIN_FLOAT)
            probability, before = max(
                (previous[prior] + trans_p[prior].get(state, _MIN_FLOAT) + emit, prior) for prior in _PREVIOUS[state]
            )
            current[state] = probability
            new_paths[state] = paths[before] + [state]
        probabilities.append(current)
        paths = new_paths
    _, last = max((probabilities[-1][state], state) for state in "ES")
    begin = following = 0
    for index, state in enumerate(paths[last]):
        if state == "B":
            begin = index
        elif state == "E":
            yield sentence[begin : index + 1]
            following = index + 1
        elif state == "S":
            yield sentence[index]
            following = index + 1
    if following < len(sentence):
        yield sentence[following:]


class _Base:
    """jieba's dictionary, compiled: words in a trie, frequencies (and their log
    probabilities) by word id."""

    def __init__(self, trie: marisa_trie.Trie, frequencies: array.array, log_probabilities: array.array, info: dict) -> None:
        self.trie, self.frequencies, self.log_probabilities = trie, frequencies, log_probabilities
        self.total, self.longest = int(info["total"]), int(info["longest"])

    @classmethod
    def compile(cls, frequency_of: dict[str, int], total: int) -> "_Base":
        words = [word for word, frequency in frequency_of.items() if frequency]
        trie = marisa_trie.Trie(words)
        frequencies = array.array("q", bytes(8 * len(trie)))
        for word in words:
            frequencies[trie[word]] = frequency_of[word]
        log_total = math.log(total)
        log_probabilities = array.array("d", [math.log(frequency) - log_total for frequency in frequencies])
        return cls(trie, frequencies, log_probabilities, {"total": total, "longest": max(map(len, words))})

    def save(self, folder: Path, model: tuple) -> None:
        """Write the cache beside its final place, then move it there in one step; a
        cache that cannot be written only means the next process compiles it again."""
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
        except OSError:
            return
        try:
            self.trie.save(str(staging / "words.marisa"))
            (staging / "frequencies.bin").write_bytes(self.frequencies.tobytes())
            (staging / "log_probabilities.bin").write_bytes(self.log_probabilities.tobytes())
            (staging / "hmm.marshal").write_bytes(marshal.dumps(model))
            info = {"total": self.total, "longest": self.longest}
            (staging / "info.json").write_text(json.dumps(info), "utf-8")
            shutil.rmtree(folder, ignore_errors=True)
            os.rename(staging, folder)
        except OSError:
            pass
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> "_Base | None":
        """The cache in ``folder``; ``None`` if it is missing, partial or damaged."""
        try:
            info, trie = cls.verified(folder)
            frequencies, log_probabilities = array.array("q"), array.array("d")
            frequencies.frombytes((folder / "frequencies.bin").read_bytes())
            log_probabilities.frombytes((folder / "log_probabilities.bin").read_bytes())
        except _DAMAGED:
            return None
        return cls(trie, frequencies, log_probabilities, info)

    @classmethod
    def is_complete(cls, folder: Path) -> bool:
        """Whether :meth:`load` would find a whole cache in ``folder``, without reading it."""
        try:
            cls.verified(folder)
        except _DAMAGED:
            return False
        return True

    @staticmethod
    def verified(folder: Path) -> tuple[dict, marisa_trie.Trie]:
        """The cache's info and its trie (memory-mapped), once its arrays' file sizes
        match the trie; :class:`ValueError` if they do not."""
        info = json.loads((folder / "info.json").read_text("utf-8"))
        trie = marisa_trie.Trie()
        trie.mmap(str(folder / "words.marisa"))
        for name in ("frequencies.bin", "log_probabilities.bin"):
            if (folder / name).stat().st_size != 8 * len(trie):  # one 8-byte number per word
                raise ValueError(f"damaged dictionary cache {folder}")
        return info, trie


def _cache_path() -> Path:
    """The compiled copy of the installed jieba's dictionary (named by that file's
    size and time, found without importing jieba or reading package metadata)."""
    spec = util.find_spec("jieba")
    dictionary = Path(spec.origin).parent / "dict.txt" if spec and spec.origin else None
    try:
        stat = dictionary.stat() if dictionary else None
    except OSError:
        stat = None
    key = f"{stat.st_size}-{stat.st_mtime_ns}" if stat else "unknown"
    return cache_dir() / f"jieba-dict-{key}-format{CACHE_FORMAT}"


@functools.cache
def _base() -> _Base:
    """The compiled dictionary, memory-mapped from the cache (compiled first if missing)."""
    folder = _cache_path()
    cached = _Base.load(folder)
    if cached is not None:
        return cached
    tokenizer = _jieba_tokenizer()
    base = _Base.compile(tokenizer.FREQ, tokenizer.total)
    _jieba_tokenizer.cache_clear()  # one jieba dictionary is 150 MB: do not keep it
    finalseg = _jieba().finalseg
    base.save(folder, (finalseg.start_P, finalseg.trans_P, finalseg.emit_P))
    return base


@functools.cache
def _hmm_model() -> tuple[dict, dict, dict]:
    """jieba's HMM probabilities (start, transition, emission), from the cache or jieba."""
    cached = read_cached(_cache_path() / "hmm.marshal")
    if cached is not None:
        return cached
    finalseg = _jieba().finalseg
    return finalseg.start_P, finalseg.trans_P, finalseg.emit_P


@functools.cache
def _jieba_tokenizer(user_words: tuple[tuple[str, int | None], ...] = ()):
    """jieba itself, loaded quietly: the source of every compiled dictionary."""
    jieba = _jieba()
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for word, frequency in user_words:
        tokenizer.add_word(word, frequency)
    return tokenizer


def _jieba():
    """The jieba package, once it is known to be the release this module reproduces
    (its dictionary's attributes and its HMM's tables are read directly)."""
    import jieba
    import jieba.finalseg

    if jieba.__version__ != JIEBA_VERSION:
        raise DependencyError(
            f"news-search needs jieba {JIEBA_VERSION}, not {jieba.__version__}: its segmenter reproduces that "
            f"release; run `pip install jieba=={JIEBA_VERSION}`"
        )
    return jieba


def is_compiled(user_words: Sequence[tuple[str, int | None]] = ()) -> bool:
    """Whether a new :class:`Segmenter` for ``user_words`` would load its dictionary
    from the cache (fast, small) rather than compile it from jieba (seconds, 100 MB)."""
    if not _Base.is_complete(_cache_path()):
        return False
    return not user_words or _cached_overlay(tuple(user_words))[2] is not None


def _cached_overlay(user_words: tuple[tuple[str, int | None], ...]) -> tuple[Path, str, tuple | None]:
    """Where ``user_words``' overlay is cached (by their digest), their listing, and what
    is kept there for these very words: ``(listing, total, overlay)``, or ``None``."""
    import hashlib

    listing = json.dumps(user_words, ensure_ascii=False)
    digest = hashlib.blake2b(listing.encode(), digest_size=12).hexdigest()
    path = _cache_path() / "user" / f"{digest}.marshal"
    cached = read_cached(path)
    if isinstance(cached, tuple) and len(cached) == 3 and cached[0] == listing:
        return path, listing, cached
    return path, listing, None


def _user_overlay(user_words: tuple[tuple[str, int | None], ...]) -> tuple[int, dict[str, int]]:
    """The total and the frequencies jieba gives ``user_words`` once added (it
    derives a frequency for a word given without one), cached by their digest."""
    path, listing, cached = _cached_overlay(user_words)
    if cached is not None:
        return cached[1], cached[2]
    tokenizer = _jieba_tokenizer(user_words)
    overlay = {word: tokenizer.FREQ[word] for word, _ in user_words}
    _jieba_tokenizer.cache_clear()  # one jieba dictionary is 150 MB: do not keep it
    write_cached(path, (listing, tokenizer.total, overlay))
    return tokenizer.total, overlay

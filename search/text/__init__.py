"""Text analysis: one pipeline for indexing, querying and highlighting.

    text ─ normalize ─▶ words ─▶ tokens ─▶ tokenizers (Whoosh)
           NFKC, t2s    jieba    terms, positions, spans

- :mod:`.normalize`: NFKC and traditional → simplified folding, with a map of offsets back.
- :mod:`.segmenter`: jieba's segmentation over a compiled, memory-mapped copy of its dictionary.
- :mod:`.words`: text cut into words; pieces and sub-words of compounds; stopwords.
- :mod:`.tokens`: the terms an index keeps of text, with positions and original spans.
- :mod:`.user_dict`: an index's own words, added to jieba's dictionary.
- :mod:`.tokenizers`: the Whoosh tokenizers pickled into an index's schema; title n-grams.

Names used throughout:

word
    What jieba cuts from a run of Chinese characters (``华中科技大学``), or a run of
    Latin letters and digits (``win11``), or a decimal (``4.5``).
piece
    One of the smallest dictionary words a Chinese word of four characters or
    more is made of (``华中`` ``科技`` ``大学``). Positions count pieces, so a quoted
    phrase that is part of a compound (``"科技大学"``) finds its pieces side by side.
sub-word
    A dictionary word inside a longer word: its pieces, and its inner words.
    Indexed so a part finds the whole; queries are never cut into sub-words.
inner word
    A sub-word that is not a piece (``经济`` in ``经济带``, ``人民共和国`` in
    ``中华人民共和国``). Indexed at :data:`.tokens.INNER_POSITIONS`, out of any
    phrase's reach, so ``经济带 发展`` never reads as the phrase ``经济 发展``.
term
    A token's text as the index holds it: normalised and lower-cased.
"""

from __future__ import annotations

#: Bumped whenever a change here would make old indexes tokenize differently.
ANALYSIS_VERSION = 3


def settings() -> dict[str, object]:
    """What an index records about how its text was analysed."""
    from importlib import metadata

    from .words import stopwords

    return {
        "analysis_version": ANALYSIS_VERSION,
        "segmenter": f"jieba {metadata.version('jieba')} (its dictionary and algorithm, compiled: search.text.segmenter)",
        "normalization": "NFKC, lower-case, traditional to simplified (OpenCC t2s, per character)",
        "positions": "one per dictionary piece of a word (华中科技大学 = 华中 科技 大学)",
        "subwords": "every dictionary word inside a longer word",
        "stopwords": len(stopwords()),
    }

"""Spelling by sound and by letters, for did-you-mean: toneless pinyin, the
distinctions many speakers blur, Latin letters read as pinyin, and edit distance."""

from __future__ import annotations

import re

LATIN = re.compile(r"[a-z]+")
_INITIALS = ("zh", "ch", "sh", *"bpmfdtnlgkhjqxrzcsyw", "")
_FINALS = frozenset(
    "a o e i u v ai ei ao ou an en ang eng ong er ia ie iao iu ian in iang ing iong "
    "ua uo uai ui uan un uang ue ve".split()
)


def fuzzy(syllable: str) -> str:
    """A syllable with the distinctions many speakers blur dropped: zh/z, ch/c, sh/s, n/l, -ng/-n."""
    if syllable[:2] in ("zh", "ch", "sh"):
        syllable = syllable[0] + syllable[2:]
    elif syllable[:1] == "n" and len(syllable) > 1 and syllable != "ng":
        syllable = "l" + syllable[1:]
    if syllable.endswith(("ang", "eng", "ing")):
        syllable = syllable[:-1]
    return syllable


def pinyin_readings(text: str, limit: int = 16) -> list[tuple[str, ...]]:
    """Ways to read Latin letters as toneless pinyin syllables (``xian``: xian, xi an)."""
    readings: list[tuple[str, ...]] = []
    # readable[i]: whether text[i:] splits into syllables at all; without it, letters
    # that end in no syllable (``uaiuai…q``) would be tried every way, exponentially.
    readable = [False] * len(text) + [True]
    for start in range(len(text) - 1, -1, -1):
        readable[start] = any(
            readable[end] and _is_syllable(text[start:end]) for end in range(start + 1, min(len(text), start + 6) + 1)
        )

    def split(start: int, done: tuple[str, ...]) -> None:
        if len(readings) >= limit:
            return
        if start == len(text):
            readings.append(done)
            return
        for end in range(min(len(text), start + 6), start, -1):
            if readable[end] and _is_syllable(text[start:end]):
                split(end, done + (text[start:end],))

    if len(text) <= 30:
        split(0, ())
    return readings


def _is_syllable(letters: str) -> bool:
    return any(letters.startswith(initial) and letters[len(initial) :] in _FINALS for initial in _INITIALS)


def deletions(word: str) -> set[str]:
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[len(b)]

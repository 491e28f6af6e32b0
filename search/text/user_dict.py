"""An index's own words, added to jieba's dictionary for its text and its queries."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

from .normalize import normalize


@dataclass(frozen=True, eq=False)
class UserDict:
    """Words added to jieba's dictionary for one index, as (word, frequency or None).

    Words are normalised like the text they will be found in. An index keeps its
    user dictionary in its schema (pickled with :class:`ChineseTokenizer`), so
    queries, and indexing in any process, segment with the same words.
    """

    entries: tuple[tuple[str, int | None], ...]
    digest: str = field(init=False)

    def __post_init__(self) -> None:
        listing = "\n".join(f"{word}\t{'' if freq is None else freq}" for word, freq in self.entries)
        object.__setattr__(self, "digest", hashlib.blake2b(listing.encode(), digest_size=12).hexdigest())

    def __hash__(self) -> int:
        return hash(self.digest)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UserDict) and other.digest == self.digest

    def __len__(self) -> int:
        return len(self.entries)

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> "UserDict":
        """Read jieba's user dictionary format: ``word [frequency] [tag]`` per line.

        Raises :class:`ValueError` naming the file (and line) that cannot be used.
        """
        try:
            text = open(path, encoding="utf-8-sig").read()
        except (OSError, UnicodeDecodeError) as error:
            raise ValueError(f"cannot read user dictionary {path}: {getattr(error, 'strerror', None) or error}") from None
        entries: dict[str, int | None] = {}
        for number, line in enumerate(text.splitlines(), 1):
            parts = line.split()
            if not parts or parts[0].startswith("#"):
                continue
            word = normalize(parts[0])[0].lower()
            # jieba's format: the frequency may be left out, the tag too (`word tag` is valid).
            frequency = parts[1] if len(parts) > 1 and parts[1].isascii() and parts[1].isdecimal() else None
            if len(parts) > 2 and frequency is None:
                raise ValueError(f"user dictionary {path}, line {number}: the frequency {parts[1]!r} is not a number")
            entries[word] = int(frequency) if frequency is not None else None
        return cls(tuple(entries.items()))

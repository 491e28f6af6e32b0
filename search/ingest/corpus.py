"""Reading a corpus folder: which files, how they decode, and what article each holds."""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import operator
import os
import re
from array import array
from stat import S_ISREG
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable, Iterator, NamedTuple, Sequence

from ..errors import CorpusError
from .dates import date_from_filename
from .encoding import decode_with_encoding
from .front_matter import clean_text, read_front_matter
from .markup import first_heading, html_to_text, looks_like_html, markdown_to_text

DEFAULT_INCLUDE: tuple[str, ...] = ("**/*.md", "**/*.markdown", "**/*.html", "**/*.htm")

#: Names (without extension, any case) of files that describe a folder rather than
#: report news: skipped unless they have front matter or ``--include`` is given.
NOT_ARTICLES = frozenset(
    {"readme", "source", "sources", "license", "licence", "copying", "notice", "changelog", "changes", "history",
     "contributing", "authors", "code_of_conduct", "security"}
)  # fmt: skip

#: Bodies longer than this are indexed whole but stored cut, for snippets and ``show``.
MAX_STORED_BODY = 200_000


class SourceFile(NamedTuple):
    """A corpus file found by the walk: its id (path relative to the root), the root,
    and its stat. A tuple sharing the root's text: a walk makes one per file, and a
    build holds them all (160,000 for ten times the stories)."""

    path: str
    root: str | os.PathLike[str]
    size: int
    mtime_ns: int

    @property
    def absolute(self) -> Path:
        """The file (made only when asked: a walk of 160,000 files spent a second on them)."""
        return Path(self.root, self.path)


class SourceFiles:
    """:class:`SourceFile` entries of one root, in order, kept as arrays rather than
    tuples: a rebuild holds every file's entry, and its workers their share, for the
    whole build (160,000 tuples took 30 MB)."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = root
        self._paths = bytearray()  # UTF-8, one after another
        self._ends = array("q")  # where each path ends in it
        self._sizes = array("q")
        self._mtimes = array("q")

    @classmethod
    def of(cls, sources: Iterable[SourceFile]) -> "SourceFiles":
        found = cls()
        for source in sources:
            found.append(source)
        return found

    def append(self, source: SourceFile) -> None:
        if self.root is None:
            self.root = source.root
        elif source.root != self.root:
            raise ValueError(f"{source.path} is under {source.root}, not {self.root}")
        self._paths += source.path.encode("utf-8")
        self._ends.append(len(self._paths))
        self._sizes.append(source.size)
        self._mtimes.append(source.mtime_ns)

    def extend(self, sources: Iterable[SourceFile]) -> None:
        for source in sources:
            self.append(source)

    def __len__(self) -> int:
        return len(self._ends)

    def __iter__(self) -> Iterator[SourceFile]:
        start, paths, root = 0, self._paths, self.root
        for end, size, mtime_ns in zip(self._ends, self._sizes, self._mtimes):
            yield SourceFile(paths[start:end].decode("utf-8"), root, size, mtime_ns)
            start = end


#: The files of a walk: in a list, or compactly.
Sources = SourceFiles | list[SourceFile]


@dataclass(frozen=True)
class Article:
    """One parsed article, ready to index."""

    path: str
    title: str
    body: str
    date: datetime | None
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    author: str | None
    content_hash: str
    size: int
    mtime_ns: int
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed, and why."""

    path: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason}


@functools.lru_cache(maxsize=64)
def _matcher(patterns: tuple[str, ...]) -> Callable[[str], object]:
    """Whether a path matches any of ``patterns`` (true or false), as globs where ``**/``
    also stands for no folder at all (``**/*.md`` matches ``a.md``): a test of the path's
    ending where every pattern is ``*.ext`` or ``**/*.ext`` (as by default: half the cost
    of an expression, in a loop run once per file), else one compiled expression."""
    extensions = [_EXTENSION_GLOB.fullmatch(pattern) for pattern in patterns]
    if patterns and all(extensions):
        endings = tuple(found.group(1) for found in extensions)
        return lambda path: path.endswith(endings)
    variants = [fnmatch.translate(variant) for pattern in patterns for variant in _glob_variants(pattern)]
    return re.compile("|".join(f"(?:{variant})" for variant in variants) or "(?!)").match


_EXTENSION_GLOB = re.compile(r"(?:\*\*/)?\*(\.[A-Za-z0-9]+)")


def _glob_variants(pattern: str) -> list[str]:
    variants = [pattern]
    if pattern.startswith("**/"):
        variants.append(pattern[3:])
    variants += [variant.replace("/**/", "/") for variant in variants if "/**/" in variant]
    return variants


def walk(
    root: str | os.PathLike[str],
    include: Sequence[str] = DEFAULT_INCLUDE,
    exclude: Sequence[str] = (),
) -> Iterator[SourceFile | Skipped]:
    """Files under ``root`` matching ``include`` and not ``exclude``, in sorted order.

    Symlinked directories are followed once each (never into a loop); files that
    cannot be stat-ed are yielded as :class:`Skipped`.
    """
    for files, skipped in walk_folders(root, include, exclude):
        yield from sorted(files + skipped, key=_by_path) if skipped else files


def walk_folders(
    root: str | os.PathLike[str],
    include: Sequence[str] = DEFAULT_INCLUDE,
    exclude: Sequence[str] = (),
    linked: list[str] | None = None,
) -> Iterator[tuple[list[SourceFile], list[Skipped]]]:
    """:func:`walk` a folder at a time: its files, and those it cannot index, each
    sorted. An update takes 160,000 files this way in lists, not one by one.
    ``linked``, if given, gets the paths another path may reach too: symlinked folders
    (as ``a/b/``), and files that are symlinks or have other hard links."""
    root_path = Path(root)
    if not root_path.is_dir():
        raise CorpusError(f"corpus folder not found: {root}")
    wanted, unwanted = _matcher(tuple(include)), _matcher(tuple(exclude))
    root_text = str(root_path)
    seen: set[tuple[int, int]] = set()
    stack = [(root_text, "")]  # folders, as paths and as their place under the root ("a/b/")
    while stack:
        folder, prefix = stack.pop()
        if linked is not None and prefix and os.path.islink(folder):
            linked.append(prefix)
        try:
            # Through the folder's descriptor: each file is stat-ed by its name alone,
            # not by a path the kernel walks again (an update stats every file).
            fd = os.open(folder, _OPEN_FOLDER)
        except OSError as error:
            yield [], [Skipped(prefix.rstrip("/") or ".", f"cannot read folder: {error.strerror}")]
            continue
        try:
            info = os.fstat(fd)
            if (info.st_dev, info.st_ino) in seen:
                continue
            seen.add((info.st_dev, info.st_ino))
            with os.scandir(fd) as listing:
                entries = sorted(listing, key=_by_name)
            found = _folder_files(entries, folder, prefix, root_text, wanted, unwanted if exclude else None, linked)
        except OSError as error:
            yield [], [Skipped(prefix.rstrip("/") or ".", f"cannot read folder: {error.strerror}")]
            continue
        finally:
            os.close(fd)
        files, skipped, folders = found
        stack.extend(reversed(folders))
        yield files, skipped


def files_at(
    root: str | os.PathLike[str],
    paths: Iterable[str],
    include: Sequence[str] = DEFAULT_INCLUDE,
    exclude: Sequence[str] = (),
) -> tuple[list[SourceFile], list[Skipped]] | None:
    """What a walk of ``root`` finds of ``paths`` alone (POSIX paths under it), for
    a corpus with no symlink or hard link: their files, and those it cannot index, each
    sorted; a path it would not yield (gone, hidden, not matching) is in neither.
    ``None`` when only a walk can tell: a path is a folder, lies in a symlinked one, or
    is a file another path reaches too (a symlink, a hard link)."""
    root_text = str(Path(root))
    wanted, unwanted = _matcher(tuple(include)), _matcher(tuple(exclude))
    files: list[SourceFile] = []
    skipped: list[Skipped] = []
    for relative in sorted(set(paths)):
        folder, _, name = f"{root_text}/{relative}".rpartition("/")
        if "/." in f"/{relative}"[: -len(name)]:
            continue  # in a hidden folder, which the walk skips
        try:
            if folder != root_text and os.path.realpath(folder) != os.path.realpath(root_text) + folder[len(root_text) :]:
                return None  # in a symlinked folder
            os.lstat(f"{folder}/{name}")
        except OSError:
            continue  # gone, or its folder is
        linked: list[str] = []
        found, cannot, folders = _folder_files([_Entry(folder, name)], folder, relative[: -len(name)], root_text, wanted, unwanted if exclude else None, linked)
        if folders or linked:
            return None
        files += found
        skipped += cannot
    return files, skipped


class _Entry:
    """A file named by a watcher, as :func:`os.scandir` would have listed it."""

    def __init__(self, folder: str, name: str) -> None:
        self.name, self._path = name, f"{folder}/{name}"

    def is_dir(self) -> bool:
        return os.path.isdir(self._path)

    def stat(self) -> os.stat_result:
        return os.stat(self._path)

    def is_symlink(self) -> bool:
        return os.path.islink(self._path)


_OPEN_FOLDER = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
_by_name = operator.attrgetter("name")
_by_path = operator.attrgetter("path")


def _folder_files(entries, folder, prefix, root, wanted, unwanted, linked=None) -> tuple[list[SourceFile], list[Skipped], list[tuple[str, str]]]:
    """The files among one folder's ``entries``, those it cannot index, and its
    subfolders (each as a path and its place under the root), in the order given;
    ``linked`` gets those of the files that are symlinks or have other hard links.
    Lists, not a generator: this loop runs once per file."""
    files: list[SourceFile] = []
    skipped: list[Skipped] = []
    folders: list[tuple[str, str]] = []
    new = tuple.__new__  # a SourceFile made in C, not by its Python-level __new__
    for entry in entries:
        name = entry.name
        if name[0] == ".":
            continue  # hidden folders and files: VCS data, editor swap files
        relative = prefix + name
        if not relative.isascii() and not _encodable(relative):
            skipped.append(Skipped(relative.encode("utf-8", "backslashreplace").decode(), "file name is not valid UTF-8"))
            continue
        try:
            if entry.is_dir():
                folders.append((f"{folder}/{name}", relative + "/"))
                continue
            if not wanted(relative) or (unwanted and unwanted(relative)):
                continue
            stat = entry.stat()
        except OSError as error:
            if wanted(relative):
                skipped.append(Skipped(relative, f"cannot read file: {error.strerror}"))
            continue
        if S_ISREG(stat.st_mode):
            files.append(new(SourceFile, (relative, root, stat.st_size, stat.st_mtime_ns)))
            if linked is not None and (stat.st_nlink > 1 or entry.is_symlink()):
                linked.append(relative)
        else:
            skipped.append(Skipped(relative, "not a regular file"))
    return files, skipped, folders


def _encodable(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes in the name, kept as surrogates
        return False
    return True


def read_source(source: SourceFile) -> bytes:
    """The bytes of a corpus file, or :class:`CorpusError` saying why they cannot be read."""
    try:
        return source.absolute.read_bytes()
    except OSError as error:
        raise CorpusError(f"cannot read file: {error.strerror}") from None


def read_article(source: SourceFile) -> Article:
    """Parse one corpus file. Raises :class:`CorpusError` with the reason it cannot be indexed."""
    return parse_article(source.path, read_source(source), size=source.size, mtime_ns=source.mtime_ns)


def content_hash(data: bytes) -> str:
    """The fingerprint an index keeps of a file's bytes, to tell real changes from touches."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def parse_article(
    path: str, data: bytes, *, size: int | None = None, mtime_ns: int = 0, articles_only: bool = False
) -> Article:
    """Parse the bytes of a corpus file known by ``path`` (relative, POSIX style).

    With ``articles_only``, a file named like a folder's own notes (:data:`NOT_ARTICLES`:
    README, SOURCE, LICENSE, CHANGELOG …) is refused unless it has front matter.
    """
    decoded, encoding = decode_with_encoding(data)
    text = clean_text(decoded)
    if not text.strip():
        raise CorpusError("empty file")
    meta = read_front_matter(text)
    name = PurePosixPath(path).name
    if articles_only and not meta.present and PurePosixPath(path).stem.lower() in NOT_ARTICLES:
        raise CorpusError(f"not an article: {name} has no front matter (name it in --include to index it)")
    is_html = name.lower().endswith((".html", ".htm")) or looks_like_html(meta.body)
    body = html_to_text(meta.body) if is_html else markdown_to_text(meta.body)
    title = meta.title or (None if meta.present else first_heading(meta.body, is_html=is_html))
    title = title or PurePosixPath(path).stem.strip()
    if not title and not body:
        raise CorpusError("no title and no text")
    warnings = list(meta.warnings)
    if encoding != "UTF-8":
        warnings.append(f"not UTF-8: decoded as {encoding}")
    if len(body) > MAX_STORED_BODY:
        warnings.append(f"body has {len(body):,} characters; only the first {MAX_STORED_BODY:,} are kept for snippets")
    return Article(
        path=path,
        title=_printable(title),
        body=_printable(body),
        date=meta.date or date_from_filename(name),
        categories=tuple(_printable(value) for value in meta.categories),
        tags=tuple(_printable(value) for value in meta.tags),
        author=_printable(meta.author) if meta.author else None,
        content_hash=content_hash(data),
        size=len(data) if size is None else size,
        mtime_ns=mtime_ns,
        warnings=tuple(warnings),
    )


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _printable(text: str) -> str:
    """Text without control characters (a stray ESC would drive the user's terminal)."""
    return _CONTROL.sub("", text)


def sample_corpus() -> Path:
    """The small sample corpus shipped with the package (our own writing)."""
    from importlib import resources

    return Path(str(resources.files("search").joinpath("sample")))

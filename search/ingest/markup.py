"""Article bodies to plain text: HTML through BeautifulSoup, Markdown by its markup.

The text keeps one paragraph per line, so snippets can cut at paragraph ends, and
carries none of the markup (no tags, no ``#``/``*``/link syntax) so snippets show
only what a reader would see.
"""

from __future__ import annotations

import re
import warnings
from html import unescape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, PageElement

_DROPPED_TAGS = {
    "script", "style", "noscript", "template", "svg", "img", "picture", "video", "audio",
    "iframe", "object", "embed", "canvas", "button", "input", "select", "textarea", "head",
}  # fmt: skip
_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
    "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main",
    "nav", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
}  # fmt: skip
_IMAGE_BOX = re.compile(r"(^|[-_ ])(img|image|pic|photo)[-_]?(box|wrap|wrapper|container)($|[-_ ])", re.I)
_BREAK = "\x1e"  # record separator: stands for a paragraph break until whitespace is folded

_HTML_START = re.compile(r"\s*<(?:!doctype|html|body|div|p|section|article|span|table|ul|ol|h[1-6]|br|blockquote|figure|center|font|strong|b|a)[\s/>]", re.I)
_MARKDOWN_SIGNS = re.compile(r"^(?:#{1,6}\s|```|~~~|\s*[-*+]\s|\s*\d+\.\s|>)", re.M)


def looks_like_html(body: str) -> bool:
    """Whether a body from a ``.md`` file is HTML (seed posts) rather than Markdown."""
    return bool(_HTML_START.match(body)) and not _MARKDOWN_SIGNS.search(body)


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment, one paragraph per line.

    One pass over the parsed tree (a loop, not recursion: nesting may be deep),
    skipping scripts, styles, media and image boxes, breaking around block tags.
    """
    from bs4 import CData, NavigableString, Tag

    soup = _parsed(html)
    pieces: list[str] = []
    stack: list[PageElement | None] = [soup]  # None marks the end of a block tag
    while stack:
        node = stack.pop()
        if node is None:
            pieces.append(_BREAK)
        elif isinstance(node, Tag):
            if node.name in _DROPPED_TAGS or any(_IMAGE_BOX.search(name) for name in node.get("class") or ()):
                continue
            if node.name in _BLOCK_TAGS:
                pieces.append(_BREAK)
                stack.append(None)
            stack.extend(reversed(node.contents))
        elif type(node) in (NavigableString, CData):  # not comments, doctypes or declarations
            pieces.append(node)
    return _paragraphs("".join(pieces).split(_BREAK))


def _parsed(html: str) -> "BeautifulSoup":
    """``html`` parsed by BeautifulSoup, imported only when a file needs it: an update
    that reads no file does not pay for its import (90 ms)."""
    from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        return BeautifulSoup(html, "lxml")


def _paragraphs(pieces: list[str]) -> str:
    lines = (" ".join(piece.split()) for piece in pieces)
    return "\n".join(line for line in lines if line)


# A fence may sit in a block quote (`> ```js`); it closes on a bare fence of its kind.
_QUOTE_PREFIX = re.compile(r"^[ \t]*(?:>[ \t]?)+")
_FENCE_OPEN = re.compile(r"^[ \t]*(?:>[ \t]?)*[ \t]*(`{3,}|~{3,})")
_FENCE_CLOSE = re.compile(r"^[ \t]*(?:>[ \t]?)*[ \t]*(`{3,}|~{3,})[ \t]*$")
_BLOCK_TAG_NAMES = "|".join(sorted(_BLOCK_TAGS))
_BRACKETED = r"(?:[^\[\]\n]|\[[^\]\n]*\])*"  # link text, allowing one level of [nested] brackets
_DESTINATION = r"\((?:[^()\s]|\([^)\s]*\))*(?:\s+[^)]*)?\)"  # (url "title"), allowing (nested) parens
_MARKDOWN_RULES = [
    (re.compile(r"<!--.*?-->", re.S), " "),  # comments, Hexo's <!-- more -->
    (re.compile(r"\{%.*?%\}", re.S), " "),  # Hexo tag plugins
    (re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.S | re.I), " "),  # raw scripts and styles
    (re.compile(rf"!\[{_BRACKETED}\]{_DESTINATION}"), " "),  # images
    (re.compile(rf"\[({_BRACKETED})\]{_DESTINATION}"), r"\1"),  # links keep their text
    (re.compile(rf"\[({_BRACKETED})\]\[[^\]\n]*\]"), r"\1"),  # reference links
    (re.compile(r"^[ \t]*\[[^\]\n]+\]:[ \t]*\S.*$", re.M), ""),  # link definitions
    (re.compile(rf"</?(?:{_BLOCK_TAG_NAMES})\b[^<>]*>", re.I), "\n\n"),  # raw HTML blocks break paragraphs
    (re.compile(r"</?[A-Za-z][^<>]*>"), " "),  # other raw HTML tags
    (re.compile(r"^[ \t]{0,3}#{1,6}[ \t]*(.*?)(?:[ \t]+#+)?[ \t]*$", re.M), "\n\\1\n"),  # headings: own paragraph
    (re.compile(r"^[ \t]*(?:[-*_][ \t]*){3,}$", re.M), ""),  # horizontal rules
    (re.compile(r"^[ \t]*\|?(?:[ \t]*:?-{2,}:?[ \t]*\|)+[ \t]*:?-*:?[ \t]*\|?[ \t]*$", re.M), ""),  # table rules
    (re.compile(r"^[ \t]*(?:>[ \t]?)+", re.M), "\n"),  # block quotes
    (re.compile(r"^[ \t]*(?:[-*+]|\d+[.)])[ \t]+", re.M), "\n"),  # list items: own paragraph
    (re.compile(r"(\*{1,3}|~~)(?=\S)(.+?)(?<=\S)\1"), r"\2"),  # emphasis, strike-through (5*3 stays)
    (re.compile(r"`+"), ""),  # inline code marks
    (re.compile(r"[ \t]*\|[ \t]*"), " "),  # table cell borders
]


def markdown_to_text(markdown: str) -> str:
    """Text of a Markdown body, one paragraph per line; code kept, markup dropped."""
    blocks: list[str] = []
    prose: list[str] = []
    code: list[str] | None = None
    fence, quoted = "", False
    for line in markdown.split("\n"):
        if code is None:
            opening = _FENCE_OPEN.match(line)
            if opening:
                blocks.append(_prose_to_text("\n".join(prose)))
                prose, code, fence = [], [], opening.group(1)
                quoted = bool(_QUOTE_PREFIX.match(line))
            else:
                prose.append(line)
            continue
        closing = _FENCE_CLOSE.match(line)
        if closing and closing.group(1)[0] == fence[0] and len(closing.group(1)) >= len(fence):
            blocks.append(_paragraphs(code))
            code = None
        else:
            code.append(_QUOTE_PREFIX.sub("", line) if quoted else line)
    blocks.append(_paragraphs(code) if code is not None else _prose_to_text("\n".join(prose)))
    return "\n".join(block for block in blocks if block)


def _prose_to_text(markdown: str) -> str:
    for pattern, replacement in _MARKDOWN_RULES:
        markdown = pattern.sub(replacement, markdown)
    paragraphs = re.split(r"\n\s*\n", unescape(markdown))
    return _paragraphs([_join_lines(paragraph) for paragraph in paragraphs])


_CJK_BREAK = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef])\s*\n\s*(?=[\u3000-\u9fff\uff00-\uffef])")


def _join_lines(paragraph: str) -> str:
    """Soft line breaks vanish between Chinese characters and become spaces elsewhere."""
    return _CJK_BREAK.sub("", paragraph)


_HEADING = re.compile(r"^\s{0,3}#\s+(.+?)\s*#*\s*$")


def first_heading(body: str, *, is_html: bool = False) -> str | None:
    """The title a document without front matter gives itself: the HTML ``<title>``
    or first ``<h1>``, or the first ``# heading`` of Markdown (outside code), as text."""
    if is_html:
        soup = _parsed(body)
        tag = soup.find("title") or soup.find("h1")
        text = " ".join(tag.get_text().split()) if tag else ""
        return text or None
    fence = ""
    for line in body.split("\n"):
        if fence:
            closing = _FENCE_CLOSE.match(line)
            if closing and closing.group(1)[0] == fence[0] and len(closing.group(1)) >= len(fence):
                fence = ""
            continue
        opening = _FENCE_OPEN.match(line)
        if opening:
            fence = opening.group(1)
            continue
        heading = _HEADING.match(line)
        if heading:
            return " ".join(_prose_to_text(heading.group(1)).split()) or None
    return None

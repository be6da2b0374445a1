"""Fallback for pages without FAQ structure: main content as heading-scoped passage chunks."""

from __future__ import annotations

import re
from collections.abc import Callable

from bs4 import NavigableString, Tag

from faq_ingest.extract.dom import first_below, has_class, walk
from faq_ingest.extract.page import Candidate, Page
from faq_ingest.extract.text import BLOCK_TAGS, HEADING_TAGS, collapse_whitespace, node_text

MAX_CHUNK_CHARS = 800
MIN_PAGE_TEXT_CHARS = 40
PATH_SEPARATOR = " › "

# Where the main content usually lives, best guess first (plain checks, not CSS selectors:
# soupsieve's matching goes quadratic on deeply nested pages).
_MAIN_MATCHERS: tuple[Callable[[Tag], bool], ...] = (
    lambda t: t.name == "main",
    lambda t: t.get("role") == "main",
    lambda t: t.name == "article",
    lambda t: has_class(t, "md-content"),
    lambda t: has_class(t, "markdown"),
    lambda t: t.name == "div" and has_class(t, "body"),
    lambda t: t.get("id") == "content",
    lambda t: has_class(t, "content"),
)
_TEXT_BLOCKS = frozenset(
    {"p", "li", "pre", "blockquote", "dd", "dt", "td", "th", "figcaption", "caption"}
)
_SKIPPED = frozenset(
    {"script", "style", "noscript", "template", "button", "form", "select", "svg", "iframe"}
)
_CONTAINERS = BLOCK_TAGS - {"br", "hr"} - HEADING_TAGS - _TEXT_BLOCKS
_LEAF_BREAKERS = _CONTAINERS | _TEXT_BLOCKS | HEADING_TAGS
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|(?<=[。！？])")


def _main_root(page: Page) -> Tag | None:
    for matches in _MAIN_MATCHERS:
        for tag in page.elements:
            if matches(tag) and node_text(tag):
                return tag
    return page.soup.body or page.soup


def _is_leaf_block(tag: Tag) -> bool:
    if tag.name in _TEXT_BLOCKS:
        return first_below(tag, _TEXT_BLOCKS) is None
    return tag.name in _CONTAINERS and first_below(tag, _LEAF_BREAKERS) is None


def _is_hidden(tag: Tag) -> bool:
    if tag.has_attr("hidden") or tag.get("aria-hidden") == "true":
        return True
    style = tag.get("style")
    return isinstance(style, str) and bool(_HIDDEN_STYLE.search(style))


def _split_long(text: str) -> list[str]:
    """Split text longer than a chunk at sentence ends, falling back to hard cuts."""
    pieces: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(text):
        while len(sentence) > MAX_CHUNK_CHARS:
            cut = sentence.rfind(" ", 0, MAX_CHUNK_CHARS)
            cut = cut if cut > MAX_CHUNK_CHARS // 2 else MAX_CHUNK_CHARS
            pieces.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if current and len(current) + len(sentence) + 1 > MAX_CHUNK_CHARS:
            pieces.append(current)
            current = ""
        current = f"{current} {sentence}".strip() if current else sentence
    if current:
        pieces.append(current)
    return [p for p in pieces if p]


class _Chunker:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.path: list[tuple[int, str, str]] = []  # (level, text, id)
        self.parts: list[str] = []
        self.first: Tag | None = None
        self.chunks: list[Candidate] = []

    def heading(self, tag: Tag) -> None:
        self.flush()
        level = int(tag.name[1])
        while self.path and self.path[-1][0] >= level:
            self.path.pop()
        text = node_text(tag)
        if text:
            ident = tag.get("id")
            self.path.append((level, text, ident if isinstance(ident, str) else ""))

    def add(self, text: str, at: Tag) -> None:
        text = text.strip()
        if not text:
            return
        for piece in _split_long(text) if len(text) > MAX_CHUNK_CHARS else [text]:
            size = sum(len(p) + 2 for p in self.parts)
            if self.parts and size + len(piece) > MAX_CHUNK_CHARS:
                self.flush()
            if self.first is None:
                self.first = at
            self.parts.append(piece)

    def _fallback_title(self) -> str:
        # No headings and no <title>: the URL, else the chunk's opening words.
        if self.page.url:
            return self.page.url
        opening = " ".join(self.parts[0].split()[:12])
        return opening[:120]

    def flush(self) -> None:
        if not self.parts or self.first is None:
            self.parts, self.first = [], None
            return
        path = tuple(text for _, text, _ in self.path)
        anchor = next((ident for _, _, ident in reversed(self.path) if ident), "")
        position = self.page.pos(self.first)
        self.chunks.append(
            Candidate(
                question=PATH_SEPARATOR.join(path) or self.page.title or self._fallback_title(),
                answer="\n\n".join(self.parts),
                extractor="passage",
                position=(position, len(self.chunks)),
                element=None,
                anchor=anchor or self.page.preceding_anchor(position),
                kind="passage",
                heading_path=path,
            )
        )
        self.parts, self.first = [], None


def extract_passages(page: Page) -> list[Candidate]:
    root = _main_root(page)
    if root is None or len(node_text(root)) < MIN_PAGE_TEXT_CHARS:
        return []
    chunker = _Chunker(page)
    # Pre-order positions: a consumed subtree is the interval [skip_start, skip_until].
    skip_start, skip_until = -1, -1
    for node in walk(root):
        if isinstance(node, Tag):
            position = page.pos(node)
            if skip_start <= position <= skip_until:
                continue
            consumed = True
            if node.name in _SKIPPED or _is_hidden(node):
                pass
            elif node.name in HEADING_TAGS:
                chunker.heading(node)
            elif _is_leaf_block(node):
                chunker.add(page.markdown([node]), node)
            else:
                consumed = False
            if consumed:
                skip_start, skip_until = position, page.subtree_end(node)
        elif type(node) is NavigableString and node.strip():
            parent = node.parent
            if parent is None or skip_start <= page.pos(parent) <= skip_until:
                continue
            chunker.add(collapse_whitespace(str(node)), parent)
    chunker.flush()
    return chunker.chunks

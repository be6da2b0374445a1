"""Page content that no extractor took as a Q/A entry becomes heading-scoped passages, and
whatever is left out is reported with its reason: nothing on a page is dropped silently.

On a page without FAQ structure this is the whole main content; on a FAQ page it is the
introduction, the section text between entries, a closing "Still need help?" paragraph.
"""

from __future__ import annotations

import re

from bs4 import NavigableString, PageElement, Tag

from faq_ingest.extract.dom import first_below, tags_below, walk
from faq_ingest.extract.page import NAVIGATION_NAME, Candidate, Page
from faq_ingest.extract.records import (
    MAX_SKIP_TITLE_CHARS,
    SKIP_BOILERPLATE,
    SKIP_DUPLICATE,
    SKIP_EMPTY_ANSWER,
    SKIP_HIDDEN,
    SKIP_NAVIGATION,
    SKIP_TOO_SHORT,
    SkippedSection,
)
from faq_ingest.extract.text import (
    BLOCK_TAGS,
    HEADING_TAGS,
    collapse_whitespace,
    count_words,
    fingerprint,
    is_boilerplate_text,
    node_text,
)

MAX_CHUNK_CHARS = 800
MIN_PAGE_TEXT_CHARS = 40
# Between the entries of a FAQ page, fewer words than this are leftovers ("Back to top").
MIN_FRAGMENT_WORDS = 3
PATH_SEPARATOR = " › "
_SUBTITLE_LEVEL = 7
_SECTION_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol")

# Where the main content usually lives, best guess first (plain checks, not CSS selectors:
# soupsieve's matching goes quadratic on deeply nested pages).
_CONTENT_CLASSES = {"md-content": 3, "markdown": 4, "content": 7}


def _content_rank(tag: Tag) -> int:
    """How surely tag is the main content: 0 <main> … 7 .content; _NOT_CONTENT otherwise."""
    name = tag.name
    if name == "main":
        return 0
    attrs = tag.attrs
    if attrs and attrs.get("role") == "main":
        return 1
    if name == "article":
        return 2
    if not attrs:
        return _NOT_CONTENT
    rank = _NOT_CONTENT
    classes = attrs.get("class") or ()
    for cls in classes.split() if isinstance(classes, str) else classes:
        rank = min(rank, _CONTENT_CLASSES.get(cls, _NOT_CONTENT))
        if cls == "body" and name == "div":
            rank = min(rank, 5)
    if attrs.get("id") == "content":
        rank = min(rank, 6)
    return rank


_NOT_CONTENT = 99
_TEXT_BLOCKS = frozenset(
    {"p", "li", "pre", "blockquote", "dd", "dt", "td", "th", "figcaption", "caption"}
)
# UI, not content: never a passage, and not worth a report either.
_SKIPPED = frozenset(
    {"script", "style", "noscript", "template", "button", "form", "select", "svg", "iframe"}
)
_CONTAINERS = BLOCK_TAGS - {"br", "hr"} - HEADING_TAGS - _TEXT_BLOCKS
_LEAF_BREAKERS = _CONTAINERS | _TEXT_BLOCKS | HEADING_TAGS
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|(?<=[。！？])")

# A passage found inside a kept answer is a duplicate only when it is more than a phrase.
_MIN_CONTAINED_CHARS = 24


def _tokens(tag: Tag) -> list[str]:
    classes = tag.attrs.get("class") or []
    if isinstance(classes, str):
        classes = classes.split()
    ident = tag.attrs.get("id")
    return [*classes, ident] if isinstance(ident, str) and ident else list(classes)


def _common_ancestor(tags: list[Tag]) -> Tag:
    lineage = [tags[0], *tags[0].parents]
    depth = {id(t): i for i, t in enumerate(lineage)}
    deepest = 0
    for tag in tags[1:]:
        node: Tag | None = tag
        while node is not None and id(node) not in depth:
            node = node.parent
        if node is not None:
            deepest = max(deepest, depth[id(node)])
    return lineage[deepest]


def _main_root(page: Page, records: list[Candidate]) -> Tag | None:
    root = _content_root(page)
    if root is None:
        return root
    if root.name in ("body", "html", "[document]"):
        # No element says where the content is: on a FAQ page, it is where the entries and
        # the page's title are (not the top bar or menus a site forgot to mark up).
        # (Their parents: the container of a single entry, not the entry's own title.)
        anchors = [c.element.parent for c in records if c.element is not None and c.element.parent]
        h1 = next((t for t in page.elements if t.name == "h1" and node_text(t)), None)
        if anchors:
            return _common_ancestor([*anchors, h1] if h1 is not None else anchors)
        return root
    # An article body whose title sits just outside it (<header><h1>…</header><article>):
    # the title and its lede belong to the content too.
    h1 = next((t for t in page.elements if t.name == "h1" and node_text(t)), None)
    if h1 is not None and h1 is not root and not any(p is root for p in h1.parents):
        outer = _common_ancestor([root, h1])
        if outer.name not in ("body", "html", "[document]"):
            return outer
    return root


def _content_root(page: Page) -> Tag | None:
    by_rank: dict[int, list[Tag]] = {}
    for tag in page.elements:
        rank = _content_rank(tag)
        if rank != _NOT_CONTENT:
            by_rank.setdefault(rank, []).append(tag)
    for rank in sorted(by_rank):
        texts = [t for t in by_rank[rank] if _has_text(t)]
        if not texts:
            continue
        if rank != 2:
            return texts[0]
        # Several articles side by side (cards, a list of posts): all of them are the content.
        found, end = [texts[0]], page.subtree_end(texts[0])
        for tag in texts[1:]:
            if page.pos(tag) > end:
                found.append(tag)
                end = page.subtree_end(tag)
        return found[0] if len(found) == 1 else _common_ancestor(found)
    return page.soup.body or page.soup


def _has_text(tag: Tag) -> bool:
    """Whether any visible string lies below tag (stops at the first, unlike node_text)."""
    return any(type(node) is NavigableString and not node.isspace() for node in walk(tag))


def _is_leaf_block(tag: Tag) -> bool:
    if tag.name in _TEXT_BLOCKS:
        return first_below(tag, _TEXT_BLOCKS) is None
    return tag.name in _CONTAINERS and first_below(tag, _LEAF_BREAKERS) is None


def _is_hidden(tag: Tag) -> bool:
    attrs = tag.attrs
    if not attrs:
        return False
    if "hidden" in attrs or attrs.get("aria-hidden") == "true":
        return True
    style = attrs.get("style")
    return isinstance(style, str) and bool(_HIDDEN_STYLE.search(style))


def _is_in_page_toc(tag: Tag) -> bool:
    """A list of links to places on this same page (a table of contents)."""
    if tag.name not in ("ul", "ol"):
        return False
    items = [c for c in tag.contents if isinstance(c, Tag)]
    if len(items) < 2:
        return False
    for item in items:
        link = first_below(item, ("a",))
        href = link.get("href") if link is not None else None
        if not (isinstance(href, str) and href.startswith("#")):
            return False
        if node_text(item) != node_text(link):
            return False
    return True


def _link_texts(tag: Tag) -> list[str]:
    return [t for t in (node_text(a) for a in tags_below(tag, ("a",))) if t]


def _is_link_bar(tag: Tag, text: str) -> bool:
    """A block made of nothing but links ("Sign in | Register | App"): navigation."""
    links = _link_texts(tag)
    if len(links) < 2:
        return False
    rest = text
    for link in links:
        rest = rest.replace(link, "", 1)
    return not any(ch.isalnum() for ch in rest)


def skip_title(tag: Tag, text: str = "") -> str:
    """How staff recognise a skipped block: its heading or label, else what its links say,
    else its opening words."""
    heading = first_below(tag, HEADING_TAGS)
    if heading is not None and node_text(heading):
        return _shorten(node_text(heading))
    label = tag.get("aria-label")
    if isinstance(label, str) and label.strip():
        return _shorten(collapse_whitespace(label))
    text = text or node_text(tag)
    links = _link_texts(tag)
    if links and sum(map(len, links)) * 2 >= len(text):
        return _shorten("links: " + ", ".join(links))
    return _shorten(_first_line(tag) or text)


def _first_line(tag: Tag) -> str:
    """The text of tag up to its first block break: "Was this article helpful?" rather
    than the whole widget with its counts."""
    parts: list[str] = []
    for node in walk(tag):
        if isinstance(node, Tag):
            if node.name in BLOCK_TAGS and any(p.strip() for p in parts):
                break
        elif type(node) is NavigableString:
            parts.append(str(node))
    return collapse_whitespace("".join(parts))


def _shorten(text: str) -> str:
    if len(text) <= MAX_SKIP_TITLE_CHARS:
        return text
    return text[: MAX_SKIP_TITLE_CHARS - 1].rsplit(" ", 1)[0] + "…"


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


class _Section:
    __slots__ = ("level", "text", "ident", "filled")

    def __init__(self, level: int, text: str, ident: str, filled: bool = False) -> None:
        self.level, self.text, self.ident = level, text, ident
        self.filled = filled  # any content or entry under it


def _heading_id(heading: Tag) -> str:
    """The heading's id, or that of the <section>/<div> it opens (a link to the section)."""
    ident = heading.get("id")
    if isinstance(ident, str) and ident.strip():
        return ident.strip()
    parent = heading.parent
    if parent is None or parent.name not in ("section", "div"):
        return ""
    first = next((c for c in parent.contents if isinstance(c, Tag)), None)
    ident = parent.get("id") if first is heading else None
    return ident.strip() if isinstance(ident, str) else ""


class _Chunker:
    def __init__(self, page: Page, records: list[Candidate]) -> None:
        self.page = page
        self.path: list[_Section] = []
        self.parts: list[str] = []
        self.first: Tag | None = None
        self.chunks: list[Candidate] = []
        self.skipped: list[SkippedSection] = []
        self.leftovers_only = bool(records)
        # The FAQs' answers and questions: a passage repeating one adds nothing. (Passages are
        # not compared with each other: a page may well say the same thing twice.) Visible
        # entries claimed their own markup, so the passages cannot repeat them.
        # Only a record read from structured data leaves its visible text unclaimed.
        self.kept = {
            fingerprint(text)
            for record in records
            if record.element is None
            for text in (record.question, record.answer)
        }
        self.kept_text = "\x00".join(self.kept)

    def skip(self, title: str, reason: str) -> None:
        if title:
            self.skipped.append(SkippedSection(_shorten(title), reason))

    def fill(self) -> None:
        for section in self.path:
            section.filled = True

    def _pop(self) -> None:
        section = self.path.pop()
        if not section.filled:
            self.skip(section.text, SKIP_EMPTY_ANSWER)

    def heading(self, tag: Tag) -> None:
        self.flush()
        level = int(tag.name[1])
        while self.path and self.path[-1].level >= level:
            self._pop()
        text = node_text(tag)
        if text:
            self.path.append(_Section(level, text, _heading_id(tag)))

    def subtitle(self, text: str) -> None:
        """A title below every heading level: a toggle button over its panel."""
        self.flush()
        while self.path and self.path[-1].level >= _SUBTITLE_LEVEL:
            self._pop()
        if text:
            # A control over a panel of form fields has no answer to miss: never reported.
            self.path.append(_Section(_SUBTITLE_LEVEL, text, "", filled=True))

    def add(self, text: str, at: Tag) -> None:
        text = text.strip()
        if not text:
            return
        self.fill()
        for piece in _split_long(text) if len(text) > MAX_CHUNK_CHARS else [text]:
            size = sum(len(p) + 2 for p in self.parts)
            if self.parts and size + len(piece) > MAX_CHUNK_CHARS:
                self.flush()
            if self.first is None:
                self.first = at
            self.parts.append(piece)

    def _fallback_title(self, answer: str) -> str:
        # No headings and no <title>: the URL, else the chunk's opening words.
        if self.page.url:
            return self.page.url
        opening = " ".join(answer.split()[:12])
        return opening[:120]

    def flush(self) -> None:
        if not self.parts or self.first is None:
            self.parts, self.first = [], None
            return
        answer = "\n\n".join(self.parts)
        first = self.first
        self.parts, self.first = [], None
        plain = node_text(first) if len(answer) < 200 else answer
        printed = fingerprint(answer)
        if printed in self.kept or (
            len(printed) >= _MIN_CONTAINED_CHARS and printed in self.kept_text
        ):
            self.skip(plain, SKIP_DUPLICATE)
            return
        if self.leftovers_only and count_words(answer) < MIN_FRAGMENT_WORDS:
            self.skip(plain or answer, SKIP_TOO_SHORT)
            return
        path = tuple(section.text for section in self.path)
        anchor = next((s.ident for s in reversed(self.path) if s.ident), "")
        position = self.page.pos(first)
        self.chunks.append(
            Candidate(
                question=PATH_SEPARATOR.join(path)
                or self.page.title
                or self._fallback_title(answer),
                answer=answer,
                extractor="passage",
                position=(position, len(self.chunks)),
                element=None,
                anchor=anchor or self.page.preceding_anchor(position),
                kind="passage",
                heading_path=path,
            )
        )

    def close(self) -> None:
        self.flush()
        while self.path:
            self._pop()


def _removed_furniture(page: Page) -> list[SkippedSection]:
    """Chrome that sat inside the article (its table of contents, a related-articles box, a
    feedback widget), as skips. A lone "Edit" link or icon is not worth a line."""
    skipped = []
    for tag in page.removed_in_content:
        text = node_text(tag)
        if count_words(text) < MIN_FRAGMENT_WORDS and first_below(tag, _SECTION_TAGS) is None:
            continue
        role = tag.get("role")
        navigation = (
            tag.name == "nav"
            or (isinstance(role, str) and role in ("navigation", "search"))
            or any(NAVIGATION_NAME.search(t) for t in _tokens(tag))
        )
        skipped.append(
            SkippedSection(
                skip_title(tag, text), SKIP_NAVIGATION if navigation else SKIP_BOILERPLATE
            )
        )
    return skipped


def extract_passages(
    page: Page, records: list[Candidate] | None = None
) -> tuple[list[Candidate], list[SkippedSection]]:
    """Passages of the main content that records (the page's FAQs) do not hold, and what
    was left out. Without records this is the whole main content, as before any FAQs."""
    records = records or []
    skipped = _removed_furniture(page)
    root = _main_root(page, records)
    if root is None or (not records and len(node_text(root)) < MIN_PAGE_TEXT_CHARS):
        return [], skipped
    if page.is_claimed(root):
        return [], skipped  # the content is one entry
    chunker = _Chunker(page, records)
    claimed = page.claimed_intervals()
    claim_index = 0
    toggled = page.toggle_targets()
    # Depth-first in document order; a subtree handled as a whole is not descended into.
    stack: list[PageElement] = root.contents[::-1]
    while stack:
        node = stack.pop()
        if isinstance(node, Tag):
            position = page.pos(node)
            while claim_index < len(claimed) and claimed[claim_index][1] < position:
                claim_index += 1
            if claim_index < len(claimed) and claimed[claim_index][0] <= position:
                chunker.fill()  # an entry sits in this section
                continue
            if node.name == "button" or node.get("role") == "tab":
                # A disclosure control titles the panel it opens ("Filters", a tab's label);
                # other buttons are UI.
                if _is_control(page, node):
                    chunker.subtitle(node_text(node))
            elif node.name in _SKIPPED:
                pass
            elif _is_hidden(node) and node.get("id") not in toggled:
                text = node_text(node)
                # Decoration (icons, "▸") is hidden on every page; only text worth reading counts.
                if count_words(text) >= MIN_FRAGMENT_WORDS:
                    chunker.skip(skip_title(node, text), SKIP_HIDDEN)
            elif _is_in_page_toc(node):
                chunker.skip(skip_title(node), SKIP_NAVIGATION)
            elif node.name in HEADING_TAGS:
                chunker.heading(node)
            elif node.name == "details" and _empty_details(node):
                chunker.skip(node_text(node), SKIP_EMPTY_ANSWER)
            elif (
                _is_leaf_block(node)
                and not _overlaps(claimed, claim_index, node, page)
                and first_below(node, match=lambda t: _is_control(page, t)) is None
            ):
                text = node_text(node)
                if is_boilerplate_text(text):
                    chunker.skip(text, SKIP_BOILERPLATE)
                elif _is_link_bar(node, text):
                    chunker.skip(skip_title(node, text), SKIP_NAVIGATION)
                else:
                    chunker.add(page.markdown([node]), node)
            elif node.contents:
                stack.extend(node.contents[::-1])
        elif type(node) is NavigableString and not node.isspace():
            if id(node) in page.claimed_strings:
                chunker.fill()
                continue
            text = collapse_whitespace(str(node))
            if is_boilerplate_text(text):
                chunker.skip(text, SKIP_BOILERPLATE)
            elif text and node.parent is not None:
                chunker.add(text, node.parent)
    chunker.close()
    return chunker.chunks, [*skipped, *chunker.skipped]


def _is_control(page: Page, control: Tag) -> bool:
    """A button or tab that opens a panel on this page."""
    if control.name != "button" and control.get("role") != "tab":
        return False
    for attr in ("aria-controls", "data-bs-target", "data-target"):
        value = control.get(attr)
        if isinstance(value, str) and any(v.lstrip("#") in page.ids for v in value.split()):
            return True
    return False


def _overlaps(claimed: list[tuple[int, int]], index: int, node: Tag, page: Page) -> bool:
    """Whether an entry was claimed inside node (then its other parts are read one by one)."""
    return index < len(claimed) and claimed[index][0] <= page.subtree_end(node)


def _empty_details(details: Tag) -> bool:
    summary = first_below(details, ("summary",))
    if summary is None:
        return False
    body = [c for c in details.contents if c is not summary]
    return not any(node_text(c) for c in body if isinstance(c, Tag | NavigableString))

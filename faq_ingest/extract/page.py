"""One parsed page shared by every extractor: chrome stripped, document order, claimed regions."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from bs4 import BeautifulSoup, NavigableString, Tag

from faq_ingest.extract.dom import all_tags, first_below
from faq_ingest.extract.structure import FAQ_WORDS
from faq_ingest.extract.text import HEADING_TAGS, collapse_whitespace, node_text
from faq_ingest.markdown import nodes_to_safe_markdown

# Page furniture whose text must never become an FAQ or a passage.
_CHROME_TAGS = frozenset({"nav", "aside", "footer", "header"})
_CHROME_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "search"})
# Keywords must start a word ("cookie-bar", "site-sidebar") so that "anchorWithStickyNavbar"
# (a Docusaurus heading class) is not mistaken for a navbar.
_CHROME_SUBSTRING = re.compile(
    r"(?<![a-z0-9])(?:cookie|consent|gdpr|banner|breadcrumb|sidebar|nav-?bar|skip-?link|skip-?to-|newsletter"
    r"|share-?(?:buttons|links)|social-?(?:links|share)|advert)",
    re.IGNORECASE,
)
# Help-center furniture inside an article (Zendesk, Intercom, Freshdesk and most themes):
# votes, author lines, related and recently viewed lists, comments, back-to-top links.
# Whole class/id words only: "rating-table" or "print-sizes" content stays.
FURNITURE_NAME = re.compile(
    r"(?<![a-z0-9])(?:article-?votes?|votes?|vote-?(?:up|down)|feedback|helpful(?:ness)?"
    r"|reactions?|reaction-?picker|(?:article|post)-?(?:meta|author|footer|comments|relatives)"
    r"|byline|comments?|comment-?(?:list|form|overview)|related(?:-?(?:articles|posts|links))?"
    r"|see-?also|recent(?:ly)?-?(?:viewed|articles|activity)|pagination|pager|prev-?next"
    r"|(?:back|return)-?to-?top|edit-?this(?:-?page)?|print-?(?:button|link)"
    r"|share-?(?:bar|tools)|last-?updated)(?![a-z])",
    re.IGNORECASE,
)
# Which of the removed pieces are navigation (the rest is boilerplate), for skip reports.
NAVIGATION_NAME = re.compile(
    r"nav|menu|toc|table-of-contents|breadcrumb|sidebar|relat|see-?also|recent|pagination|pager"
    r"|prev-?next",
    re.IGNORECASE,
)
_CHROME_EXACT = frozenset(
    {
        "nav", "navigation", "menu", "main-menu", "mobile-menu", "toc", "footer", "header",
        "site-header", "site-footer", "global-header", "global-footer", "page-footer",
        "masthead", "related", "md-header", "md-footer", "md-nav", "md-tabs", "sphinxsidebar",
        "sphinxsidebarwrapper", "table-of-contents", "pagination-nav", "theme-doc-toc-desktop",
        "theme-doc-toc-mobile", "theme-doc-footer", "theme-edit-this-page", "announcement",
    }
)  # fmt: skip
# Containers that hold the real content; chrome rules never delete one of these.
_CONTENT_MARKERS = ("main", "article")
# Elements that (or whose ancestors) span the whole page: their ids make useless anchors.
_PAGE_LEVEL = frozenset({"body", "html", "main", "article", "h1"})


@dataclass
class Candidate:
    """A question/answer found by one extractor, before merging and anchoring."""

    question: str
    answer: str
    extractor: str
    position: tuple[int, int]
    element: Tag | None = None
    anchor: str = ""
    kind: str = "faq"
    heading_path: tuple[str, ...] = field(default=())
    # Structured-data answers stay HTML until they win a merge: converting every JSON-LD
    # answer up front doubled the cost of pages that also show the same FAQs visibly.
    answer_html: str = ""


def _tokens(tag: Tag) -> list[str]:
    attrs = tag.attrs
    classes = attrs.get("class") or []
    if isinstance(classes, str):
        classes = classes.split()
    ident = attrs.get("id")
    return [*classes, ident] if isinstance(ident, str) and ident else list(classes)


def _has_ancestor(tag: Tag, names: tuple[str, ...]) -> bool:
    parent = tag.parent
    while parent is not None:
        if parent.name in names:
            return True
        parent = parent.parent
    return False


def _is_chrome(tag: Tag) -> bool:
    name = tag.name
    if name in ("html", "body", "main", "article"):
        return False
    if not tag.attrs and name not in _CHROME_TAGS:
        return False  # most elements: no role, class or id to judge by
    if name in _CHROME_TAGS:
        if name == "header" and _has_ancestor(tag, ("article", "main", "section")):
            return False  # an article's own header carries its title, not site chrome
        return first_below(tag, _CONTENT_MARKERS) is None
    role = tag.attrs.get("role")
    by_role = isinstance(role, str) and role.lower() in _CHROME_ROLES
    by_name = any(
        tok.lower() in _CHROME_EXACT or _CHROME_SUBSTRING.search(tok) or FURNITURE_NAME.search(tok)
        for tok in _tokens(tag)
    )
    if not (by_role or by_name):
        return False
    # A layout wrapper named "has-sidebar" can hold the whole article; keep such wrappers.
    return first_below(tag, match=_is_content_marker) is None


def last_tag(tag: Tag) -> Tag:
    """The last element inside tag in document order (tag itself when it has no children)."""
    node = tag
    while True:
        child = next((c for c in reversed(node.contents) if isinstance(c, Tag)), None)
        if child is None:
            return node
        node = child


def _is_content_marker(tag: Tag) -> bool:
    return tag.name in ("main", "article", "h1") or tag.get("role") == "main"


def _in_content(tag: Tag) -> bool:
    parent = tag.parent
    while parent is not None:
        if parent.name in _CONTENT_MARKERS or parent.get("role") == "main":
            return True
        parent = parent.parent
    return False


def strip_chrome(
    soup: BeautifulSoup, tags: list[Tag] | None = None, in_content: list[Tag] | None = None
) -> list[Tag]:
    """Remove page furniture and return the elements left, in document order.

    tags, when given, must be all_tags(soup). Removed subtrees are unlinked rather than
    decomposed: nothing refers to them afterwards, and decompose() visited every node.
    in_content, when given, receives the removed elements that sat inside the page's main
    content (a table of contents, a "Related articles" box): those are reported as skipped,
    while site furniture around the content is not.
    """
    doomed: list[Tag] = []
    kept: list[Tag] = []
    skip_until: Tag | None = None
    for tag in all_tags(soup) if tags is None else tags:
        if skip_until is not None:
            # Descendants of a doomed element go with it; no need to judge them.
            if tag is skip_until:
                skip_until = None
            continue
        if _is_chrome(tag):
            doomed.append(tag)
            end = last_tag(tag)
            skip_until = end if end is not tag else None
        else:
            kept.append(tag)
    if in_content is not None:
        in_content.extend(tag for tag in doomed if _in_content(tag))
    for tag in doomed:
        tag.extract()
    return kept


class Page:
    """Parsed page plus the bookkeeping extractors share (order, claims, Markdown)."""

    def __init__(self, soup: BeautifulSoup, url: str, tags: list[Tag] | None = None) -> None:
        """tags, when the caller has walked the page already, must be all_tags(soup)."""
        self.soup = soup
        self.url = url
        if tags is None:
            tags = all_tags(soup)
        title = next((tag for tag in tags if tag.name == "title"), None)
        self.title = collapse_whitespace(title.get_text()) if title is not None else ""
        self.removed_in_content: list[Tag] = []
        self.elements: list[Tag] = strip_chrome(soup, tags, self.removed_in_content)
        self.order: dict[int, int] = {id(tag): i for i, tag in enumerate(self.elements)}
        self.ids: dict[str, Tag] = {}
        for tag in self.elements:
            ident = tag.attrs.get("id")
            if isinstance(ident, str) and ident not in self.ids:
                self.ids[ident] = tag
        self._claimed_regions: list[tuple[int, int]] = []
        self._claimed_questions: list[int] = []
        # _claimed_regions merged and sorted, for is_claimed; None after a new claim.
        self._merged: list[tuple[int, int]] | None = None
        self._merged_starts: list[int] = []
        # Bare strings taken as (part of) an answer: the passage pass must not repeat them.
        self.claimed_strings: set[int] = set()
        self._anchor_points: list[tuple[int, str]] | None = None
        self._is_faq_page: bool | None = None
        # Per-page results extractors share (a heading outline, FAQ-context verdicts).
        self.memo: dict[str, object] = {}
        self._heading_positions: list[int] | None = None
        self.page_level: set[int] = set()
        for tag in self.elements:
            if tag.name in _PAGE_LEVEL:
                node: Tag | None = tag
                while node is not None and id(node) not in self.page_level:
                    self.page_level.add(id(node))
                    node = node.parent

    @property
    def is_faq_page(self) -> bool:
        """The page calls itself a FAQ (its <title> or an <h1>)."""
        if self._is_faq_page is None:
            titles = [self.title, *(node_text(t) for t in self.elements if t.name == "h1")]
            self._is_faq_page = any(FAQ_WORDS.search(t) for t in titles if t)
        return self._is_faq_page

    # --- document order -------------------------------------------------------------------
    def pos(self, tag: Tag | NavigableString | None) -> int:
        if type(tag) is Tag:  # the usual case: skip the walk up from a string
            return self.order.get(id(tag), len(self.elements))
        node = tag
        while node is not None and not isinstance(node, Tag):
            node = node.parent
        if node is None:
            return len(self.elements)
        return self.order.get(id(node), len(self.elements))

    def subtree_end(self, tag: Tag) -> int:
        """Position of the last element inside tag (document order is pre-order)."""
        return self.pos(last_tag(tag))

    # --- claims: once a stronger extractor owns a region, weaker ones keep out -------------
    def claim(self, question: Tag | None, answer_nodes: Iterable[Tag | NavigableString]) -> None:
        self._merged = None
        if question is not None:
            bisect.insort(self._claimed_questions, self.pos(question))
            self._claimed_regions.append((self.pos(question), self.subtree_end(question)))
        for node in answer_nodes:
            if isinstance(node, Tag):
                self._claimed_regions.append((self.pos(node), self.subtree_end(node)))
            else:
                self.claimed_strings.add(id(node))

    def is_claimed(self, tag: Tag) -> bool:
        p = self.pos(tag)
        if self._merged is None:
            self._merged = self.claimed_intervals()
            self._merged_starts = [start for start, _ in self._merged]
        i = bisect.bisect_right(self._merged_starts, p) - 1
        return i >= 0 and self._merged[i][1] >= p

    def claimed_intervals(self) -> list[tuple[int, int]]:
        """Claimed regions as sorted, disjoint (start, end) position intervals."""
        merged: list[tuple[int, int]] = []
        for start, end in sorted(self._claimed_regions):
            if merged and start <= merged[-1][1] + 1:
                if end > merged[-1][1]:
                    merged[-1] = (merged[-1][0], end)
            else:
                merged.append((start, end))
        return merged

    def toggle_targets(self) -> set[str]:
        """Ids of elements a control on the page shows or hides (accordion panels)."""
        targets: set[str] = set()
        for tag in self.elements:
            attrs = tag.attrs
            if not attrs:
                continue
            for attr in ("aria-controls", "data-bs-target", "data-target"):
                value = attrs.get(attr)
                if isinstance(value, str):
                    targets.update(v.lstrip("#") for v in value.split())
        return targets

    def claimed_question_between(self, start: int, end: int) -> bool:
        i = bisect.bisect_left(self._claimed_questions, start)
        return i < len(self._claimed_questions) and self._claimed_questions[i] <= end

    # --- content helpers -------------------------------------------------------------------
    def markdown(self, nodes: Iterable[Tag | NavigableString]) -> str:
        return nodes_to_safe_markdown(nodes, self.url)

    def anchor_points(self) -> list[tuple[int, str]]:
        """(position, fragment id) of every heading that can be linked to, in order."""
        if self._anchor_points is None:
            points: list[tuple[int, str]] = []
            for tag in self.elements:
                if tag.name not in HEADING_TAGS:
                    continue
                ident = tag.get("id")
                if not ident:
                    inner = first_below(tag, ("a",), lambda a: bool(a.get("id") or a.get("name")))
                    ident = inner.get("id") or inner.get("name") if inner is not None else ""
                if isinstance(ident, str) and ident.strip():
                    points.append((self.pos(tag), ident.strip()))
            self._anchor_points = points
        return self._anchor_points

    def preceding_anchor_point(self, position: int) -> tuple[int, str]:
        """(position, id) of the nearest heading with an id at or before position."""
        points = self.anchor_points()
        i = bisect.bisect_right(points, (position, "\U0010ffff")) - 1
        return points[i] if i >= 0 else (-1, "")

    def preceding_heading_text(self, position: int) -> str:
        """Text of the nearest heading before position (a list's section title)."""
        if self._heading_positions is None:
            self._heading_positions = [
                i for i, tag in enumerate(self.elements) if tag.name in HEADING_TAGS
            ]
        i = bisect.bisect_left(self._heading_positions, position) - 1
        return node_text(self.elements[self._heading_positions[i]]) if i >= 0 else ""

    def preceding_anchor(self, position: int) -> str:
        return self.preceding_anchor_point(position)[1]

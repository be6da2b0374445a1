"""FAQ entries titled by headings (h2-h4) in docs sites, help centers and shop FAQ pages.

A heading is an entry when it repeats the structure of sibling entries (see structure.py),
whether its title asks a question or not; a heading with no such siblings is an entry only
when it asks. Headings whose scope holds other entries are section titles, not entries.
"""

from __future__ import annotations

from collections.abc import Callable

from bs4 import NavigableString, Tag

from faq_ingest.extract.dom import first_below, tags_below
from faq_ingest.extract.page import Candidate, Page
from faq_ingest.extract.structure import (
    FAQ_WORDS,
    accept_group,
    group_by_structure,
    in_faq_container,
)
from faq_ingest.extract.text import (
    HEADING_TAGS,
    clean_question,
    has_question_prefix,
    is_boilerplate_text,
    looks_like_question,
    node_text,
)

QUESTION_HEADINGS = ("h2", "h3", "h4")
# Wrapper layouts (<div class="heading"><h3>…</h3></div>) are climbed at most this far.
_MAX_WRAPPER_CLIMB = 3
_STRUCTURAL = frozenset({"body", "html", "main", "article", "section"})


def _level(tag: Tag) -> int:
    return int(tag.name[1])


def _is_stop(tag: Tag, level: int) -> bool:
    """A sibling ends the answer when it is (or holds) a heading at the same or a higher level,
    or another question heading, or a thematic break."""
    if tag.name == "hr":
        return True
    if tag.name in ("p", "div", "li") and first_below(tag, HEADING_TAGS) is None:
        # The next item of an inline/prefixed FAQ list starts here.
        text = node_text(tag)
        if has_question_prefix(text):
            return True
        lead = first_below(tag, ("strong", "b"))
        if (
            lead is not None
            and text.startswith(node_text(lead))
            and looks_like_question(node_text(lead))
        ):
            return True
    headings = [tag] if tag.name in HEADING_TAGS else tags_below(tag, HEADING_TAGS)
    return any(
        _level(h) <= level or looks_like_question(node_text(h)) for h in headings if node_text(h)
    )


def _has_content(node: Tag | NavigableString) -> bool:
    if isinstance(node, Tag):
        return node.name not in ("script", "style", "template") and bool(node_text(node))
    return type(node) is NavigableString and bool(node.strip())


def _answer_start(heading: Tag) -> Tag:
    start = heading
    for _ in range(_MAX_WRAPPER_CLIMB):
        if any(_has_content(s) for s in start.next_siblings):
            break
        parent = start.parent
        if parent is None or parent.name in _STRUCTURAL:
            break
        # Only a wrapper of this heading alone; a container of other entries is not one, and
        # what follows it (a feedback box, the next list) is no part of this answer.
        if first_below(parent, HEADING_TAGS, lambda h: h is not heading) is not None:
            break
        start = parent
    return start


def _answer_nodes(page: Page, heading: Tag) -> list[Tag | NavigableString]:
    level = _level(heading)
    nodes: list[Tag | NavigableString] = []
    for sibling in _answer_start(heading).next_siblings:
        if isinstance(sibling, Tag):
            if (
                _is_stop(sibling, level)
                # A stronger extractor's FAQ list starts here; it is not part of this answer.
                or page.claimed_question_between(page.pos(sibling), page.subtree_end(sibling))
            ):
                break
            if sibling.name in ("script", "style", "template"):
                continue
            text = node_text(sibling)
            if not text:
                continue
            if is_boilerplate_text(text):
                break  # the page's feedback widget follows the last entry; it answers nothing
            nodes.append(sibling)
        elif type(sibling) is NavigableString and sibling.strip():
            nodes.append(sibling)
    return nodes


class _Outline:
    """The page's headings with their text, each one's scope (up to the next heading at its
    level or above) and the heading that encloses it. Built once per page: claims change
    between the two heading passes, the outline does not."""

    def __init__(self, page: Page) -> None:
        self.headings = [tag for tag in page.elements if tag.name in HEADING_TAGS]
        self.text: dict[int, str] = {id(h): node_text(h) for h in self.headings}
        self.end: dict[int, int] = {}
        self.parent: dict[int, Tag | None] = {}
        stack: list[Tag] = []
        for heading in self.headings:
            level = _level(heading)
            while stack and _level(stack[-1]) >= level:
                self.end[id(stack.pop())] = page.pos(heading)
            self.parent[id(heading)] = stack[-1] if stack else None
            stack.append(heading)
        for heading in stack:
            self.end[id(heading)] = len(page.elements)

    @classmethod
    def of(cls, page: Page) -> _Outline:
        outline = page.memo.get("outline")
        if not isinstance(outline, cls):
            outline = page.memo["outline"] = cls(page)
        return outline

    def holds_entries(self, page: Page, heading: Tag) -> bool:
        """True when an entry (this extractor's or a stronger one's) lies in heading's scope."""
        return page.claimed_question_between(page.pos(heading) + 1, self.end[id(heading)] - 1)

    def under_question(self, heading: Tag) -> bool:
        parent = self.parent.get(id(heading))
        return parent is not None and looks_like_question(self.text[id(parent)])

    def section_title(self, heading: Tag) -> str:
        parent = self.parent.get(id(heading))
        return self.text[id(parent)] if parent is not None else ""


def _faq_context(page: Page, outline: _Outline, group: list[Tag]) -> bool:
    first = group[0]
    return (
        page.is_faq_page
        or bool(FAQ_WORDS.search(outline.section_title(first)))
        or in_faq_container(first, page.memo.setdefault("faq_container", {}))
    )


def _question_led(page: Page, outline: _Outline, group: list[Tag]) -> list[Tag]:
    asks = [looks_like_question(outline.text[id(h)]) for h in group]
    if len(group) == 1:
        # An isolated heading: only a title that asks makes it an entry.
        return group if asks[0] else []
    if not any(asks):
        return []
    # Statement-titled siblings are entries too, unless they title a section of entries.
    return [h for h, q in zip(group, asks, strict=True) if q or not outline.holds_entries(page, h)]


def _statement_only(page: Page, outline: _Outline, group: list[Tag]) -> list[Tag]:
    if len(group) < 2:
        return []
    titles = [outline.text[id(h)] for h in group]
    if any(looks_like_question(t) for t in titles):
        return []
    if any(outline.under_question(h) for h in group):
        return []  # sub-headings inside a question's answer
    if not accept_group(titles, _faq_context(page, outline, group)):
        return []
    if any(outline.holds_entries(page, h) for h in group):
        return []  # a list of section titles over entries
    return group


def _extract(
    page: Page, choose: Callable[[Page, _Outline, list[Tag]], list[Tag]]
) -> list[Candidate]:
    outline = _Outline.of(page)
    headings = outline.headings
    candidates = [
        h
        for h in headings
        if h.name in QUESTION_HEADINGS and outline.text[id(h)] and not page.is_claimed(h)
    ]
    if not candidates:
        return []
    found: list[Candidate] = []
    # Deepest level first: whether a heading titles a section depends on the entries below it.
    for level in (4, 3, 2):
        members = [h for h in candidates if _level(h) == level]
        if not members:
            continue
        rivals = [h for h in headings if _level(h) < level]
        for group in group_by_structure(members, rivals):
            group = [h for h in group if not page.is_claimed(h)]
            for heading in choose(page, outline, group) if group else ():
                if page.is_claimed(heading):
                    continue
                answer_nodes = _answer_nodes(page, heading)
                if not answer_nodes:
                    continue  # left to the passage pass, which reports an empty answer
                answer = page.markdown(answer_nodes)
                question = clean_question(outline.text[id(heading)])
                if question and answer:
                    page.claim(heading, answer_nodes)
                    found.append(
                        Candidate(
                            question, answer, "heading", (page.pos(heading), 0), element=heading
                        )
                    )
    found.sort(key=lambda c: c.position)
    return found


def extract_headings(page: Page) -> list[Candidate]:
    """Question headings, and the statement-titled headings that repeat their structure."""
    return _extract(page, _question_led)


def extract_titled_entries(page: Page) -> list[Candidate]:
    """Lists of statement-titled headings in a FAQ context ("Order tracking", "Returns").

    The weakest evidence of all, so it runs after every other extractor: a statement heading
    over Q:/问: paragraphs or bold lead-ins is a section title, which only shows once those
    have been claimed.
    """
    return _extract(page, _statement_only)

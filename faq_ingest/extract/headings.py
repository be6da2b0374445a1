"""Question headings (h2-h4) in docs sites and hand-written FAQ pages."""

from __future__ import annotations

from bs4 import NavigableString, Tag

from faq_ingest.extract.dom import first_below, tags_below
from faq_ingest.extract.page import Candidate, Page
from faq_ingest.extract.text import (
    HEADING_TAGS,
    clean_question,
    has_question_prefix,
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
        start = parent
    return start


def extract_headings(page: Page) -> list[Candidate]:
    found: list[Candidate] = []
    for heading in page.elements:
        if heading.name not in QUESTION_HEADINGS or page.is_claimed(heading):
            continue
        raw = node_text(heading)
        if not looks_like_question(raw):
            continue
        level = _level(heading)
        answer_nodes: list[Tag | NavigableString] = []
        for sibling in _answer_start(heading).next_siblings:
            if isinstance(sibling, Tag) and (
                _is_stop(sibling, level)
                # A stronger extractor's FAQ list starts here; it is not part of this answer.
                or page.claimed_question_between(page.pos(sibling), page.subtree_end(sibling))
            ):
                break
            if _has_content(sibling):
                answer_nodes.append(sibling)
        if not answer_nodes:
            continue
        answer = page.markdown(answer_nodes)
        question = clean_question(raw)
        if question and answer:
            page.claim(heading, answer_nodes)
            found.append(
                Candidate(question, answer, "heading", (page.pos(heading), 0), element=heading)
            )
    return found

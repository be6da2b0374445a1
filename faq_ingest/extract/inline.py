"""Questions inside running text: bold lead-ins and Q:/问: prefixed paragraphs."""

from __future__ import annotations

import re
from collections.abc import Callable

from bs4 import NavigableString, Tag

from faq_ingest.extract.dom import first_below
from faq_ingest.extract.page import Candidate, Page
from faq_ingest.extract.text import (
    BLOCK_TAGS,
    HEADING_TAGS,
    clean_question,
    has_answer_prefix,
    has_question_prefix,
    is_boilerplate_text,
    looks_like_question,
    node_text,
    strip_answer_prefix,
)

Node = Tag | NavigableString
_BOLD = ("strong", "b")
# Where a same-string answer starts: "…？答：…", "…? A: …".
_INLINE_ANSWER = re.compile(r"(?:(?<=[\s?？。.!！])|^)(?:答|回答|A|Answer)\s*[:：]\s*")
_MAX_FULLWIDTH_QUESTION = 150


def _meaningful(nodes: list[Node]) -> list[Node]:
    return [n for n in nodes if isinstance(n, Tag) or (type(n) is NavigableString and n.strip())]


def _answer_markdown(page: Page, nodes: list[Node]) -> str:
    return strip_answer_prefix(page.markdown(nodes)).strip()


def _bold_lead(paragraph: Tag) -> Tag | None:
    nodes = _meaningful(list(paragraph.contents))
    if not nodes or not isinstance(nodes[0], Tag):
        return None
    lead = nodes[0]
    if lead.name not in _BOLD:
        inner = _meaningful(list(lead.contents))
        if lead.name in ("span", "a") or len(inner) != 1:
            return None
        lead = inner[0] if isinstance(inner[0], Tag) and inner[0].name in _BOLD else None
    return lead


def _following_answer(page: Page, start: Tag, is_question: Callable[[Tag], bool]) -> list[Node]:
    nodes: list[Node] = []
    for sibling in start.next_siblings:
        if isinstance(sibling, Tag):
            if sibling.name in HEADING_TAGS or sibling.name == "hr" or is_question(sibling):
                break
            if page.is_claimed(sibling) or is_boilerplate_text(node_text(sibling)):
                break
        if _meaningful([sibling]) and node_text(sibling):
            nodes.append(sibling)
    return nodes


def _starts_with_bold(tag: Tag) -> bool:
    # In bold-lead FAQ lists every bold lead-in ("Important:", "Q: …") starts a new item.
    return tag.name == "p" and _bold_lead(tag) is not None


def extract_inline(page: Page) -> list[Candidate]:
    found: list[Candidate] = []
    for paragraph in [t for t in page.elements if t.name == "p"]:
        if page.is_claimed(paragraph):
            continue
        lead = _bold_lead(paragraph)
        if lead is None:
            continue
        raw = node_text(lead)
        if not looks_like_question(raw):
            continue
        # The lead may sit in a wrapper (<em><strong>Q?</strong></em>): the answer follows it.
        wrapper = lead if lead.parent is paragraph or lead.parent is None else lead.parent
        rest = list(wrapper.next_siblings)
        if node_text_of(rest):
            answer_nodes = rest
            claimed = [paragraph]
        else:
            answer_nodes = _following_answer(page, paragraph, _starts_with_bold)
            claimed = [paragraph, *[n for n in answer_nodes if isinstance(n, Tag)]]
        answer = _answer_markdown(page, answer_nodes)
        question = clean_question(raw)
        if question and answer:
            page.claim(lead, claimed)
            found.append(Candidate(question, answer, "inline", (page.pos(lead), 0), element=lead))
    return found


def node_text_of(nodes: list[Node]) -> str:
    return " ".join(t for t in (node_text(n) for n in nodes) if t).strip()


# --- Q:/问: prefixed and fullwidth-？ questions ----------------------------------------------------

_INNER_BLOCKS = BLOCK_TAGS - {"br"}
_PREFIX_BLOCKS = frozenset({"p", "li", "div", "dt", "h5", "h6", "td"})


def _is_leaf_block(tag: Tag) -> bool:
    if tag.name not in _PREFIX_BLOCKS:
        return False
    if tag.name in ("div", "li", "td"):
        return first_below(tag, _INNER_BLOCKS) is None
    return True


def _asks(text: str) -> bool:
    if has_question_prefix(text):
        return True
    head = _INLINE_ANSWER.split(text, maxsplit=1)[0].strip()
    return (
        head.endswith("？") and len(head) <= _MAX_FULLWIDTH_QUESTION and bool(clean_question(head))
    )


def _split_inline(block: Tag) -> tuple[list[Node], list[Node]] | None:
    """Split a block holding both question and answer at its answer marker."""
    children = list(block.contents)
    for index, child in enumerate(children):
        if index == 0 and isinstance(child, Tag) and has_answer_prefix(node_text(child)):
            continue
        if isinstance(child, Tag):
            if index and has_answer_prefix(node_text(child)):
                return children[:index], children[index:]
            continue
        if type(child) is not NavigableString:
            continue
        match = _INLINE_ANSWER.search(str(child))
        if match and (index or match.start()):
            before = NavigableString(str(child)[: match.start()])
            after = NavigableString(str(child)[match.start() :])
            return [*children[:index], before], [after, *children[index + 1 :]]
    return None


def extract_prefixed(page: Page) -> list[Candidate]:
    found: list[Candidate] = []

    def is_question_block(tag: Tag) -> bool:
        return _is_leaf_block(tag) and _asks(node_text(tag))

    for block in page.elements:
        if not _is_leaf_block(block) or page.is_claimed(block):
            continue
        text = node_text(block)
        if not text or not _asks(text):
            continue
        split = _split_inline(block)
        if split is not None:
            question_nodes, answer_nodes = split
            raw = node_text_of(question_nodes)
            claimed = [block]
        else:
            raw = text
            answer_nodes = _following_answer(page, block, is_question_block)
            claimed = [block, *[n for n in answer_nodes if isinstance(n, Tag)]]
        question = clean_question(raw)
        answer = _answer_markdown(page, answer_nodes)
        if question and answer and looks_like_question(raw):
            page.claim(block, claimed)
            found.append(
                Candidate(question, answer, "prefixed", (page.pos(block), 0), element=block)
            )
    return found

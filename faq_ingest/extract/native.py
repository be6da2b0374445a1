"""FAQs written with native disclosure/definition markup: <details>/<summary> and <dl>."""

from __future__ import annotations

from bs4 import NavigableString, Tag

from faq_ingest.extract.dom import first_below
from faq_ingest.extract.page import Candidate, Page
from faq_ingest.extract.structure import FAQ_WORDS, group_by_structure, in_faq_container
from faq_ingest.extract.text import clean_question, count_words, looks_like_question, node_text

# Non-question titles are accepted when the body is substantial: many FAQs use topic titles
# ("Refund policy") in disclosure widgets, while tiny bodies are usually UI ("More", "Filters").
MIN_TOPIC_ANSWER_CHARS = 40
# A statement-titled entry of a FAQ list needs an answer of at least a short sentence.
MIN_LISTED_ANSWER_WORDS = 3


def accept(question: str, answer_text: str, listed: bool = False) -> bool:
    """listed: the entry repeats the structure of sibling entries, one of which asks a
    question (or they sit in a FAQ context); then a topic title needs only a real answer."""
    if not question or not answer_text:
        return False
    if looks_like_question(question) or len(answer_text) >= MIN_TOPIC_ANSWER_CHARS:
        return True
    return listed and count_words(answer_text) >= MIN_LISTED_ANSWER_WORDS


def _listed(page: Page, container: Tag, titles: list[str]) -> bool:
    """Whether a list of same-structure entries counts as a FAQ list as a whole."""
    if len(titles) < 2:
        return False
    return (
        any(looks_like_question(t) for t in titles)
        or page.is_faq_page
        or in_faq_container(container, page.memo.setdefault("faq_container", {}))
        or bool(FAQ_WORDS.search(page.preceding_heading_text(page.pos(container))))
    )


def _summary_of(details: Tag) -> Tag | None:
    summary = next((c for c in details.contents if getattr(c, "name", None) == "summary"), None)
    return summary if summary is not None else first_below(details, ("summary",))


def extract_details(page: Page) -> list[Candidate]:
    found: list[Candidate] = []
    all_details = [t for t in page.elements if t.name == "details"]
    listed: set[int] = set()
    for group in group_by_structure(all_details):
        summaries = [_summary_of(d) for d in group]
        titles = [clean_question(node_text(s)) for s in summaries if s is not None]
        if _listed(page, group[0], titles):
            listed.update(id(d) for d in group)
    for details in all_details:
        if page.is_claimed(details):
            continue
        summary = _summary_of(details)
        if summary is None:
            continue
        body = [
            child
            for child in details.contents
            if child is not summary and not (isinstance(child, Tag) and child.name == "summary")
        ]
        # Nested <details> belong to their own records.
        if any(isinstance(c, Tag) and first_below(c, ("details",)) is not None for c in body):
            continue
        question = clean_question(node_text(summary))
        answer_text = " ".join(node_text(c) for c in body if isinstance(c, Tag | NavigableString))
        if not accept(question, answer_text.strip(), id(details) in listed):
            continue
        answer = page.markdown(body)
        if answer:
            page.claim(summary, [details])
            found.append(
                Candidate(question, answer, "details", (page.pos(summary), 0), element=summary)
            )
    return found


def _items_of(dl: Tag) -> list[Tag]:
    """dt/dd children of dl, also inside <div> groups, but not those of nested lists."""
    items: list[Tag] = []
    for child in dl.contents:
        if not isinstance(child, Tag):
            continue
        if child.name in ("dt", "dd"):
            items.append(child)
        elif child.name == "div":
            items.extend(c for c in child.contents if isinstance(c, Tag) and c.name in ("dt", "dd"))
    return items


def extract_dl(page: Page) -> list[Candidate]:
    found: list[Candidate] = []
    for dl in [t for t in page.elements if t.name == "dl"]:
        if page.is_claimed(dl):
            continue
        # dt/dd may sit directly in <dl> or inside <div> groups (allowed by HTML).
        items = _items_of(dl)
        titles = [clean_question(node_text(t)) for t in items if t.name == "dt"]
        listed = _listed(page, dl, titles)
        index = 0
        while index < len(items):
            term = items[index]
            index += 1
            if term.name != "dt":
                continue
            definitions: list[Tag] = []
            while index < len(items) and items[index].name == "dd":
                definitions.append(items[index])
                index += 1
            if not definitions:
                continue
            question = clean_question(node_text(term))
            answer_text = " ".join(node_text(d) for d in definitions)
            if not accept(question, answer_text.strip(), listed):
                continue
            answer = "\n\n".join(filter(None, (page.markdown(d.contents) for d in definitions)))
            if answer:
                page.claim(term, definitions)
                found.append(Candidate(question, answer, "dl", (page.pos(term), 0), element=term))
    return found

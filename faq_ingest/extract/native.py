"""FAQs written with native disclosure/definition markup: <details>/<summary> and <dl>."""

from __future__ import annotations

from bs4 import NavigableString, Tag

from faq_ingest.extract.dom import first_below
from faq_ingest.extract.page import Candidate, Page
from faq_ingest.extract.text import clean_question, looks_like_question, node_text

# Non-question titles are accepted when the body is substantial: many FAQs use topic titles
# ("Refund policy") in disclosure widgets, while tiny bodies are usually UI ("More", "Filters").
MIN_TOPIC_ANSWER_CHARS = 40


def accept(question: str, answer_text: str) -> bool:
    if not question or not answer_text:
        return False
    return looks_like_question(question) or len(answer_text) >= MIN_TOPIC_ANSWER_CHARS


def extract_details(page: Page) -> list[Candidate]:
    found: list[Candidate] = []
    for details in [t for t in page.elements if t.name == "details"]:
        if page.is_claimed(details):
            continue
        summary = next((c for c in details.contents if getattr(c, "name", None) == "summary"), None)
        if summary is None:
            summary = first_below(details, ("summary",))
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
        if not accept(question, answer_text.strip()):
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
            if not accept(question, answer_text.strip()):
                continue
            answer = "\n\n".join(filter(None, (page.markdown(d.contents) for d in definitions)))
            if answer:
                page.claim(term, definitions)
                found.append(Candidate(question, answer, "dl", (page.pos(term), 0), element=term))
    return found

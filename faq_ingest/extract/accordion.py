"""Script-driven accordions: Bootstrap, ARIA disclosure buttons, and faq-question/answer classes."""

from __future__ import annotations

import re
from itertools import islice

from bs4 import Tag

from faq_ingest.extract.dom import first_below, has_class, tags_below
from faq_ingest.extract.native import MIN_LISTED_ANSWER_WORDS
from faq_ingest.extract.page import Candidate, Page
from faq_ingest.extract.structure import group_by_structure
from faq_ingest.extract.text import (
    HEADING_TAGS,
    clean_question,
    count_words,
    looks_like_question,
    node_text,
)

_QUESTION_CLASS = re.compile(r"^(?:[\w-]*?[-_]{1,2})?(?:question|faq-q)$", re.IGNORECASE)
_ANSWER_CLASS = re.compile(r"^(?:[\w-]*?[-_]{1,2})?(?:answer|faq-a)$", re.IGNORECASE)
_FAQ_CONTEXT = re.compile(r"faq|accordion|question|collaps|toggle|qa\b", re.IGNORECASE)
_TARGET_ATTRS = ("aria-controls", "data-bs-target", "data-target", "href")


def _is_toggle(tag: Tag) -> bool:
    attrs = tag.attrs
    return bool(
        attrs.get("aria-controls")
        or attrs.get("data-bs-target")
        or attrs.get("data-target")
        or (tag.name == "a" and attrs.get("data-toggle") == "collapse")
    )


def _classes(tag: Tag) -> list[str]:
    classes = tag.attrs.get("class") or []
    return classes.split() if isinstance(classes, str) else list(classes)


def _has_class(pattern: re.Pattern[str]):
    def match(tag: Tag) -> bool:
        return any(pattern.match(c) for c in _classes(tag))

    return match


def _panel_for(page: Page, trigger: Tag) -> Tag | None:
    """The element a toggle points at (aria-controls="id", data-bs-target="#id", href="#id")."""
    for attr in _TARGET_ATTRS:
        value = trigger.get(attr)
        if not isinstance(value, str) or not value.strip():
            continue
        if attr == "href" and not value.startswith("#"):
            continue
        ident = value.strip().split()[0].lstrip("#")
        if not ident or not re.fullmatch(r"[\w:.-]+", ident):
            continue
        panel = page.ids.get(ident)
        if panel is not None and panel is not trigger and trigger not in panel.parents:
            return panel
    return None


def _in_faq_context(tag: Tag) -> bool:
    for node in [tag, *islice(tag.parents, 6)]:
        if any(_FAQ_CONTEXT.search(tok) for tok in _classes(node)):
            return True
        ident = node.get("id")
        if isinstance(ident, str) and _FAQ_CONTEXT.search(ident):
            return True
    return False


def _question_element(trigger: Tag) -> Tag:
    # Accordion buttons often sit inside a heading; the heading is the natural anchor target.
    parent = trigger.parent
    if (
        parent is not None
        and parent.name in HEADING_TAGS
        and node_text(parent) == node_text(trigger)
    ):
        return parent
    return trigger


def _emit(
    page: Page,
    found: list[Candidate],
    question_el: Tag,
    panel: Tag,
    extractor: str,
    strict: bool,
    listed: bool = False,
) -> None:
    """strict: demand a question (a generic toggle outside any FAQ context), unless listed:
    the toggle repeats the structure of sibling toggles one of which asks a question."""
    if page.is_claimed(question_el) or page.is_claimed(panel):
        return
    question = clean_question(node_text(question_el))
    if not question:
        return
    topic_ok = listed and count_words(node_text(panel)) >= MIN_LISTED_ANSWER_WORDS
    if strict and not looks_like_question(question) and not topic_ok:
        return
    answer = page.markdown([panel])
    if not answer:
        return
    page.claim(question_el, [panel])
    # Without an id on the question itself, the panel's id is the deep link these widgets open.
    panel_id = panel.get("id")
    own = question_el.get("id") or next(
        (t.get("id") for t in tags_below(question_el) if t.get("id")), ""
    )
    anchor = "" if own or not isinstance(panel_id, str) else panel_id.strip()
    found.append(
        Candidate(
            question,
            answer,
            extractor,
            (page.pos(question_el), 0),
            element=question_el,
            anchor=anchor,
        )
    )


def extract_accordions(page: Page) -> list[Candidate]:
    found: list[Candidate] = []
    toggles = [tag for tag in page.elements if tag.attrs and _is_toggle(tag)]
    pairs: list[tuple[Tag, Tag, bool]] = []
    for trigger in toggles:
        role = trigger.get("role")
        if role in ("tab", "menuitem"):
            continue  # tab strips and menus are navigation, not questions
        panel = _panel_for(page, trigger)
        if panel is None:
            continue
        bootstrap = "accordion-button" in _classes(trigger) or trigger.get("data-bs-toggle") in (
            "collapse",
        )
        # Generic ARIA toggles also drive menus and filters; without FAQ context, demand a question.
        strict = not (bootstrap or _in_faq_context(trigger))
        pairs.append((_question_element(trigger), panel, strict))
    listed: set[int] = set()
    strict_pairs = any(strict for _, _, strict in pairs)
    for group in group_by_structure([q for q, _, _ in pairs]) if strict_pairs else ():
        if len(group) > 1 and any(looks_like_question(node_text(q)) for q in group):
            listed.update(id(q) for q in group)
    for question_el, panel, strict in pairs:
        _emit(page, found, question_el, panel, "accordion", strict, id(question_el) in listed)

    # Bootstrap items whose button lost its target attribute.
    classed = [t for t in page.elements if "class" in t.attrs]
    for item in classed:
        if not has_class(item, "accordion-item"):
            continue
        button = first_below(
            item, match=lambda t: has_class(t, "accordion-button", "accordion-header")
        )
        panel = first_below(
            item, match=lambda t: has_class(t, "accordion-collapse", "accordion-body")
        )
        if button is not None and panel is not None:
            _emit(page, found, _question_element(button), panel, "accordion", strict=False)

    # Class-named pairs: .faq-question + .faq-answer, .faq__question + .faq__answer, .question + .answer
    question_class = _has_class(_QUESTION_CLASS)
    for question_el in [t for t in classed if question_class(t)]:
        panel = question_el.find_next_sibling(_has_class(_ANSWER_CLASS))
        if panel is None and question_el.parent is not None:
            panel = first_below(question_el.parent, match=_has_class(_ANSWER_CLASS))
            if panel is not None and page.pos(panel) < page.pos(question_el):
                panel = None
        if panel is not None:
            _emit(page, found, question_el, panel, "accordion", strict=False)
    found.sort(key=lambda c: c.position)
    return found

"""extract_page: parse once, run every extractor over the shared soup, merge, anchor, label,
and turn the rest of the content into passages."""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from bs4 import Tag

from faq_ingest.extract.accordion import extract_accordions
from faq_ingest.extract.dom import all_tags, first_below
from faq_ingest.extract.headings import extract_headings, extract_titled_entries
from faq_ingest.extract.hidden_markdown import extract_hidden_markdown
from faq_ingest.extract.inline import extract_inline, extract_prefixed
from faq_ingest.extract.language import detect_language
from faq_ingest.extract.native import extract_details, extract_dl
from faq_ingest.extract.page import Candidate, Page
from faq_ingest.extract.passages import extract_passages
from faq_ingest.extract.records import (
    MAX_SKIP_TITLE_CHARS,
    SKIP_DUPLICATE,
    SKIP_EMPTY_ANSWER,
    SKIP_ERROR,
    ExtractedFaq,
    PageExtraction,
    SkippedSection,
)
from faq_ingest.extract.soup import parse_html
from faq_ingest.extract.structured import (
    collect_jsonld_texts,
    extract_jsonld,
    extract_microdata,
    extract_rdfa,
    plain_answer,
    render_answer,
    richness,
)
from faq_ingest.extract.text import (
    HEADING_TAGS,
    fingerprint,
    node_text,
    normalise_question,
    strip_answer_label,
)

logger = logging.getLogger(__name__)

# Order matters: each visible extractor claims the DOM it used, so weaker heuristics that run
# later cannot re-read the same question from a different angle.
VISIBLE_EXTRACTORS: tuple[Callable[[Page], list[Candidate]], ...] = (
    extract_microdata,
    extract_rdfa,
    extract_details,
    extract_dl,
    extract_accordions,
    extract_headings,
    # Before the Q:/问: heuristics: a hidden "Q: … A: …" block is source Markdown, not markup.
    extract_hidden_markdown,
    extract_inline,
    extract_prefixed,
    extract_titled_entries,
)
STRUCTURED = frozenset({"jsonld"})


def _merge(candidates: list[Candidate], skipped: list[SkippedSection]) -> list[Candidate]:
    """One record per normalised question: visible markup wins for anchor and position,
    the longer answer wins for content. A visible repeat whose answer says something else
    is reported: its answer is not kept."""
    groups: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        key = normalise_question(candidate.question)
        if key:
            groups.setdefault(key, []).append(candidate)
    merged: list[Candidate] = []
    for group in groups.values():
        visible = [c for c in group if c.extractor not in STRUCTURED]
        lead = min(visible or group, key=lambda c: c.position)
        # Visible markup wins ties: its Markdown is already rendered and matches the page.
        richest = max(group, key=lambda c: (richness(c), c.extractor not in STRUCTURED))
        anchor = lead.anchor or next((c.anchor for c in group if c.anchor), "")
        others = [c for c in visible if c is not richest]
        kept = fingerprint(plain_answer(richest)) if others else ""
        for other in others:
            if fingerprint(plain_answer(other)) not in kept:
                skipped.append(
                    SkippedSection(other.question[:MAX_SKIP_TITLE_CHARS], SKIP_DUPLICATE)
                )
        merged.append(
            Candidate(
                question=lead.question,
                answer=richest.answer,
                answer_html=richest.answer_html,
                extractor=lead.extractor,
                position=lead.position,
                element=lead.element,
                anchor=anchor,
                kind=lead.kind,
                heading_path=lead.heading_path,
            )
        )
    merged.sort(key=lambda c: c.position)
    return merged


def _own_id(element: Tag) -> str:
    ident = element.get("id")
    if not (isinstance(ident, str) and ident.strip()):
        # A heading wrapping an accordion button: the button usually carries the id.
        inner = (
            first_below(element, match=lambda t: bool(t.get("id")))
            if element.name in HEADING_TAGS
            else None
        )
        ident = inner.get("id") if inner is not None else ""
    return ident.strip() if isinstance(ident, str) else ""


def _assign_anchors(page: Page, candidates: list[Candidate]) -> None:
    """Nearest fragment id: the element's own id, an ancestor's id specific to this FAQ, else
    whichever is nearer of the preceding heading with an id and a shared section's id."""
    shared: dict[int, int] = {}
    for candidate in candidates:
        if candidate.element is not None:
            for ancestor in candidate.element.parents:
                shared[id(ancestor)] = shared.get(id(ancestor), 0) + 1
    for candidate in candidates:
        element = candidate.element
        if element is None or candidate.anchor:
            continue
        anchor = _own_id(element)
        section: tuple[int, str] = (-1, "")
        if not anchor:
            for ancestor in element.parents:
                if id(ancestor) in page.page_level:
                    break  # page-wide wrappers (#app, #content) are no better than no anchor
                value = ancestor.get("id")
                if not (isinstance(value, str) and value.strip()):
                    continue
                if shared.get(id(ancestor), 0) <= 1:
                    anchor = value.strip()
                else:
                    section = (page.pos(ancestor), value.strip())
                break
        if not anchor:
            position = page.pos(element)
            heading = page.preceding_anchor_point(position)
            anchor = max(heading, section)[1]
        candidate.anchor = anchor


def _assign_heading_paths(page: Page, candidates: list[Candidate]) -> None:
    pending = sorted(
        (c for c in candidates if c.element is not None and not c.heading_path),
        key=lambda c: page.pos(c.element),
    )
    # Question headings are records themselves, not sections that other records sit under.
    question_elements = {id(c.element) for c in candidates if c.element is not None}
    stack: list[tuple[int, str]] = []
    index = 0
    for position, tag in enumerate(page.elements):
        while index < len(pending) and page.pos(pending[index].element) <= position:
            element = pending[index].element
            level = int(element.name[1]) if element.name in HEADING_TAGS else 7
            pending[index].heading_path = tuple(text for lvl, text in stack if lvl < level)
            index += 1
        if index >= len(pending):
            break
        if tag.name in HEADING_TAGS and id(tag) not in question_elements:
            level = int(tag.name[1])
            while stack and stack[-1][0] >= level:
                stack.pop()
            text = node_text(tag)
            if text:
                stack.append((level, text))


def _to_record(candidate: Candidate) -> ExtractedFaq:
    return ExtractedFaq(
        question=candidate.question,
        answer=candidate.answer,
        anchor=candidate.anchor,
        extractor=candidate.extractor,
        language=detect_language(f"{candidate.question}\n{candidate.answer}"),
        kind=candidate.kind,
        heading_path=candidate.heading_path,
    )


def _faqs(
    page: Page, candidates: list[Candidate], skipped: list[SkippedSection]
) -> list[Candidate]:
    _assign_anchors(page, candidates)
    merged = _merge(candidates, skipped)
    _assign_heading_paths(page, merged)
    kept: list[Candidate] = []
    for candidate in merged:
        # A question whose own heading is on the path would just repeat itself.
        path = candidate.heading_path
        if path and normalise_question(path[-1]) == normalise_question(candidate.question):
            candidate.heading_path = path[:-1]
        candidate.answer = strip_answer_label(render_answer(candidate, page.url))
        if candidate.answer:
            kept.append(candidate)
        else:
            skipped.append(
                SkippedSection(candidate.question[:MAX_SKIP_TITLE_CHARS], SKIP_EMPTY_ANSWER)
            )
    return kept


def _extract(html: str, url: str) -> PageExtraction:
    soup = parse_html(html)
    # One walk serves the JSON-LD scan (before chrome stripping) and the stripping itself.
    tags = all_tags(soup)
    payloads = collect_jsonld_texts(tags)
    page = Page(soup, url, tags)
    candidates = extract_jsonld(page, payloads)
    skipped: list[SkippedSection] = []
    for extractor in VISIBLE_EXTRACTORS:
        try:
            candidates.extend(extractor(page))
        except Exception:  # noqa: BLE001
            # One heuristic tripping over odd markup must not cost the page its other FAQs;
            # what it would have read still reaches the passages below.
            logger.warning("extractor %s failed on %s", extractor.__name__, url, exc_info=True)
    faqs = _faqs(page, candidates, skipped) if candidates else []
    passages, left_out = extract_passages(page, faqs)
    records = sorted([*faqs, *passages], key=lambda c: c.position)
    return PageExtraction([_to_record(c) for c in records], [*left_out, *skipped])


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Hold off Python's cycle collector while one page is processed.

    A parsed page is thousands of mutually linked objects created in a burst; the collector
    kept re-scanning the half-built tree and cost about a fifth of extraction time. The tree
    is still collected: the first collection after re-enabling frees it in one pass.
    Reference counting keeps working meanwhile, and a page's garbage is bounded by its size.
    If another thread paused it already, leave the switch to that thread.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def extract_page(html: str, url: str) -> PageExtraction:
    """Every FAQ and passage on one decoded HTML page, and what was left out with its reason.
    Never raises: unusable input yields no records (and, if it had content, one skip)."""
    if not isinstance(html, str) or not html.strip():
        return PageExtraction()
    try:
        with _cyclic_gc_paused():
            return _extract(html, url or "")
    except Exception as exc:  # noqa: BLE001 - a crawler must survive any page the web throws at it
        logger.warning("extraction failed on %s", url, exc_info=True)
        return PageExtraction(
            [], [SkippedSection(f"whole page ({type(exc).__name__})", SKIP_ERROR)]
        )


def extract_faqs(html: str, url: str) -> list[ExtractedFaq]:
    """Run every extractor over one decoded HTML page, merge duplicates, and turn the rest
    of the main content into passages. Never raises: unusable input yields []."""
    return extract_page(html, url).records

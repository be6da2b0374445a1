"""schema.org Question/Answer from JSON-LD, microdata and RDFa."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from bs4 import BeautifulSoup, Tag

from faq_ingest.extract.dom import first_below
from faq_ingest.extract.page import Candidate, Page
from faq_ingest.extract.text import clean_question, collapse_whitespace, node_text
from faq_ingest.markdown import html_to_safe_markdown

_TAG = re.compile(r"<[^>]*>")
_LINK_TARGET = re.compile(r"\]\([^)]*\)|[*_`#>]")


def plain_answer(candidate: Candidate) -> str:
    """The answer's words, whether it is still HTML or already Markdown."""
    if candidate.answer_html and not candidate.answer:
        return html.unescape(_TAG.sub(" ", candidate.answer_html))
    return _LINK_TARGET.sub(" ", candidate.answer)


def richness(candidate: Candidate) -> int:
    """Comparable amount of answer text, whether the answer is still HTML or already Markdown."""
    if candidate.answer_html and not candidate.answer:
        return len(" ".join(html.unescape(_TAG.sub(" ", candidate.answer_html)).split()))
    return len(" ".join(_LINK_TARGET.sub(" ", candidate.answer).split()))


def render_answer(candidate: Candidate, base_url: str) -> str:
    if candidate.answer or not candidate.answer_html:
        return candidate.answer
    return html_to_safe_markdown(candidate.answer_html, base_url)


_MAX_JSON_DEPTH = 40
_JSON_WRAPPERS = re.compile(r"^\s*(?://\s*)?(?:<!--|<!\[CDATA\[)|(?://\s*)?(?:-->|\]\]>)\s*$")
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


def collect_jsonld_texts(tags: Iterable[Tag]) -> list[tuple[Tag, str]]:
    """Raw ld+json payloads among tags (all of a page's elements), read before chrome
    stripping (sites often put them in the footer)."""
    found = []
    for script in tags:
        if script.name != "script":
            continue
        kind = script.get("type")
        if isinstance(kind, str) and kind.split(";")[0].strip().lower() == "application/ld+json":
            found.append((script, script.string or script.get_text() or ""))
    return found


def _load_json(text: str) -> Any:
    text = _JSON_WRAPPERS.sub("", text.strip())
    try:
        return json.loads(text, strict=False)
    except ValueError:
        pass
    try:  # trailing commas are the most common hand-written mistake
        return json.loads(_TRAILING_COMMA.sub(r"\1", text), strict=False)
    except (ValueError, RecursionError):
        return None


def _types(node: dict[str, Any]) -> set[str]:
    raw = node.get("@type", ())
    values = raw if isinstance(raw, list) else [raw]
    return {v.rsplit("/", 1)[-1].rsplit(":", 1)[-1] for v in values if isinstance(v, str)}


def _walk_questions(data: Any) -> Iterator[dict[str, Any]]:
    """Every schema.org Question object anywhere in the payload (@graph, arrays, mainEntity)."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > _MAX_JSON_DEPTH:
            continue
        if isinstance(node, list):
            stack.extend((child, depth + 1) for child in reversed(node))
        elif isinstance(node, dict):
            if "Question" in _types(node):
                yield node
                continue
            stack.extend((child, depth + 1) for child in reversed(list(node.values())))


def _as_text(value: Any) -> str:
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str | dict)), "")
    if isinstance(value, dict):
        value = value.get("text") or value.get("name") or ""
    if not isinstance(value, str):
        return ""
    if "<" in value:
        return node_text(BeautifulSoup(value, "lxml"))
    return collapse_whitespace(html.unescape(value))


def _answer_html(question: dict[str, Any]) -> str:
    for key in ("acceptedAnswer", "suggestedAnswer"):
        answers = question.get(key)
        for answer in answers if isinstance(answers, list) else [answers]:
            if isinstance(answer, dict):
                text = answer.get("text") or answer.get("description") or ""
            else:
                text = answer
            if isinstance(text, list):
                text = " ".join(t for t in text if isinstance(t, str))
            if isinstance(text, str) and text.strip():
                return text
    return ""


def _fragment(question: dict[str, Any]) -> str:
    for key in ("url", "@id"):
        value = question.get(key)
        if isinstance(value, str) and "#" in value:
            try:
                return urlsplit(value).fragment
            except ValueError:
                continue
    return ""


def extract_jsonld(page: Page, payloads: list[tuple[Tag, str]]) -> list[Candidate]:
    found: list[Candidate] = []
    for script, text in payloads:
        data = _load_json(text)
        if data is None:
            continue
        # Scripts inside stripped chrome (footers) are gone from the order map: sort them last.
        position = page.order.get(id(script), len(page.elements))
        for index, question in enumerate(_walk_questions(data)):
            title = clean_question(_as_text(question.get("name") or question.get("text")))
            answer_html = _answer_html(question)
            if title and answer_html.strip():
                found.append(
                    Candidate(
                        question=title,
                        answer="",
                        extractor="jsonld",
                        position=(position, index),
                        anchor=_fragment(question),
                        answer_html=answer_html,
                    )
                )
    return found


# --- microdata and RDFa ------------------------------------------------------------------------


def _attr_tokens(tag: Tag, attr: str) -> list[str]:
    value = tag.get(attr)
    if isinstance(value, list):
        value = " ".join(value)
    if not isinstance(value, str):
        return []
    return [tok.rsplit("/", 1)[-1].rsplit(":", 1)[-1] for tok in value.split()]


def _has_prop(attr: str, names: tuple[str, ...]):
    def match(tag: Tag) -> bool:
        return any(tok in names for tok in _attr_tokens(tag, attr))

    return match


def _prop_text(tag: Tag) -> str:
    content = tag.get("content")
    if isinstance(content, str) and content.strip():
        return collapse_whitespace(content)
    return node_text(tag)


def _structured_items(page: Page, type_attr: str, prop_attr: str, name: str) -> list[Candidate]:
    found: list[Candidate] = []
    for item in [t for t in page.elements if t.has_attr(type_attr)]:
        if "Question" not in _attr_tokens(item, type_attr):
            continue
        title_el = first_below(item, match=_has_prop(prop_attr, ("name",)))
        if title_el is None:
            continue
        answer_el = first_below(
            item, match=_has_prop(prop_attr, ("acceptedAnswer", "suggestedAnswer"))
        )
        if answer_el is None:
            continue
        text_el = first_below(answer_el, match=_has_prop(prop_attr, ("text",)))
        body = text_el if text_el is not None else answer_el
        content = body.get("content")
        if isinstance(content, str) and content.strip() and not body.get_text(strip=True):
            answer = html_to_safe_markdown(content, page.url)
        else:
            answer = page.markdown([body])
        question = clean_question(_prop_text(title_el))
        if question and answer:
            page.claim(title_el, [answer_el])
            found.append(
                Candidate(question, answer, name, (page.pos(title_el), 0), element=title_el)
            )
    return found


def extract_microdata(page: Page) -> list[Candidate]:
    return _structured_items(page, "itemtype", "itemprop", "microdata")


def extract_rdfa(page: Page) -> list[Candidate]:
    return _structured_items(page, "typeof", "property", "rdfa")

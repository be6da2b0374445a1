"""FAQ Markdown shipped in hidden containers (rendered client-side by the site's JS)."""

from __future__ import annotations

import re
import textwrap

from bs4 import Tag
from bs4.element import PreformattedString, Script, Stylesheet

from faq_ingest.extract.dom import walk
from faq_ingest.extract.page import Candidate, Page
from faq_ingest.extract.text import (
    clean_question,
    has_question_prefix,
    looks_like_question,
    strip_answer_prefix,
)
from faq_ingest.markdown import sanitise_markdown

_MARKDOWN_TYPES = frozenset({"text/markdown", "text/x-markdown", "text/md"})
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_ATX = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$")
_BOLD_LINE = re.compile(r"^\s*(?:\*\*|__)(.+?)(?:\*\*|__)\s*$")
_LOOKS_MARKDOWN = re.compile(r"^\s{0,3}#{1,6}\s+\S|^\s*(?:\*\*|__)?\s*(?:Q|问|問)\s*[:：]", re.M)
_FENCE = re.compile(r"^\s{0,3}(?:```|~~~)")
_QUESTION_LEVEL_FOR_PREFIX = 7


def _is_container(tag: Tag) -> bool:
    name = tag.name
    if name == "script":
        kind = tag.get("type")
        return isinstance(kind, str) and kind.split(";")[0].strip().lower() in _MARKDOWN_TYPES
    if name in ("template", "noscript"):
        return True
    attrs = tag.attrs
    if not attrs:
        return False
    if "hidden" in attrs:
        return True
    style = attrs.get("style")
    return isinstance(style, str) and bool(_HIDDEN_STYLE.search(style))


def _raw_text(tag: Tag) -> str:
    if tag.name == "script":
        return tag.string or ""
    # Newlines matter in Markdown, so concatenate strings as-is instead of collapsing them.
    return "".join(
        str(s)
        for s in walk(tag)
        if isinstance(s, str) and not isinstance(s, PreformattedString | Script | Stylesheet)
    )


def parse_markdown_faqs(text: str) -> list[tuple[str, str]]:
    """(question, answer Markdown) pairs from Markdown: question headings or Q:/问: lines."""
    pairs: list[tuple[str, str]] = []
    current: tuple[str, int] | None = None
    body: list[str] = []

    def close() -> None:
        if current is not None:
            answer = strip_answer_prefix(textwrap.dedent("\n".join(body)).strip())
            if answer:
                pairs.append((current[0], answer))

    in_fence = False
    for line in textwrap.dedent(text).splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        if in_fence or _FENCE.match(line):
            if current is not None:
                body.append(line)
            continue
        heading = _ATX.match(line)
        bold = _BOLD_LINE.match(line)
        title, level = None, None
        if heading:
            title, level = heading.group(2), len(heading.group(1))
        elif bold and looks_like_question(bold.group(1)):
            title, level = bold.group(1), _QUESTION_LEVEL_FOR_PREFIX
        elif has_question_prefix(line) and looks_like_question(line):
            title, level = line, _QUESTION_LEVEL_FOR_PREFIX
        if title is not None and level is not None:
            if looks_like_question(title):
                close()
                current, body = (clean_question(title), level), []
                continue
            if current is not None and level <= current[1]:
                close()
                current, body = None, []
                continue
        if current is not None:
            body.append(line)
    close()
    return [(q, a) for q, a in pairs if q]


def extract_hidden_markdown(page: Page) -> list[Candidate]:
    found: list[Candidate] = []
    done_until = -1
    for container in page.elements:
        position = page.pos(container)
        if position <= done_until or not _is_container(container) or page.is_claimed(container):
            continue
        raw = textwrap.dedent(_raw_text(container))
        if not _LOOKS_MARKDOWN.search(raw):
            continue
        done_until = page.subtree_end(container)
        page.claim(None, [container])
        for index, (question, answer) in enumerate(parse_markdown_faqs(raw)):
            safe = sanitise_markdown(answer, page.url)
            if safe:
                found.append(
                    Candidate(
                        question, safe, "hidden_markdown", (position, index), element=container
                    )
                )
    return found

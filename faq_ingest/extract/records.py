"""The public records produced by extraction."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ExtractedFaq:
    question: str  # clean text, whitespace collapsed, no "Q:"/"问：" prefix
    answer: str  # safe Markdown (links, lists, code kept; nothing executable), no "A:"/"答：" label
    anchor: str  # nearest fragment id for the source URL ("" if none)
    # which extractor found it: "jsonld", "microdata", "rdfa", "details", "dl", "accordion",
    # "heading", "inline", "prefixed", "hidden_markdown", "passage"
    extractor: str
    language: str  # detected ISO 639-1 code, e.g. "en", "zh" ("" if unknown)
    kind: str = "faq"  # "faq" or "passage" (page content that is not a Q/A entry)
    heading_path: tuple[str, ...] = ()  # headings above it on the page (for passages especially)


# Why a piece of a page's content became neither a FAQ nor a passage.
SKIP_NAVIGATION = "navigation"  # menus, tables of contents, related-article lists
SKIP_BOILERPLATE = "boilerplate"  # "Was this article helpful?", share/print bars, banners
SKIP_EMPTY_ANSWER = "empty_answer"  # a title with nothing under it
SKIP_HIDDEN = "hidden"  # hidden with no control on the page that reveals it
SKIP_DUPLICATE = "duplicate"  # repeats a question or answer kept elsewhere
SKIP_TOO_SHORT = "too_short"  # a stray fragment of a few words between entries
SKIP_ERROR = "error"  # the page (or part of it) could not be processed
SKIP_REASONS: dict[str, str] = {
    SKIP_NAVIGATION: "navigation",
    SKIP_BOILERPLATE: "boilerplate",
    SKIP_EMPTY_ANSWER: "title without an answer",
    SKIP_HIDDEN: "hidden content",
    SKIP_DUPLICATE: "duplicate",
    SKIP_TOO_SHORT: "fragment too short",
    SKIP_ERROR: "could not be extracted",
}
MAX_SKIP_TITLE_CHARS = 200


@dataclass(frozen=True)
class SkippedSection:
    """A piece of content that extraction left out, and why (shown to staff)."""

    title: str  # its heading, label or opening words
    reason: str  # one of SKIP_REASONS


@dataclass(frozen=True)
class PageExtraction:
    records: list[ExtractedFaq] = field(default_factory=list)
    skipped: list[SkippedSection] = field(default_factory=list)

"""The public record produced by extraction."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExtractedFaq:
    question: str  # clean text, whitespace collapsed, no "Q:"/"问：" prefix
    answer: str  # safe Markdown (links, lists, code kept; nothing executable)
    anchor: str  # nearest fragment id for the source URL ("" if none)
    # which extractor found it: "jsonld", "microdata", "rdfa", "details", "dl", "accordion",
    # "heading", "inline", "prefixed", "hidden_markdown", "passage"
    extractor: str
    language: str  # detected ISO 639-1 code, e.g. "en", "zh" ("" if unknown)
    kind: str = "faq"  # "faq" or "passage" (fallback chunk of a page without FAQ structure)
    heading_path: tuple[str, ...] = ()  # headings above it on the page (for passages especially)

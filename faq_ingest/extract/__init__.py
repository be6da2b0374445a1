"""HTML -> question/answer extraction (pure functions; no Django, no network)."""

from faq_ingest.extract.pipeline import extract_faqs, extract_page
from faq_ingest.extract.records import SKIP_REASONS, ExtractedFaq, PageExtraction, SkippedSection
from faq_ingest.extract.text import normalise_question

__all__ = [
    "SKIP_REASONS",
    "ExtractedFaq",
    "PageExtraction",
    "SkippedSection",
    "extract_faqs",
    "extract_page",
    "normalise_question",
]

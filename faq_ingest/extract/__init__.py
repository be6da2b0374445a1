"""HTML -> question/answer extraction (pure functions; no Django, no network)."""

from faq_ingest.extract.pipeline import extract_faqs
from faq_ingest.extract.records import ExtractedFaq
from faq_ingest.extract.text import normalise_question

__all__ = ["ExtractedFaq", "extract_faqs", "normalise_question"]

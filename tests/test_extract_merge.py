"""Duplicates found by several extractors on one page collapse into one record."""

from __future__ import annotations

import json
from pathlib import Path

from faq_ingest.extract import extract_faqs

FIXTURES = Path(__file__).parent / "fixtures" / "html"


def test_jsonld_plus_accordion_gives_five_records_not_ten() -> None:
    html = (FIXTURES / "jsonld_accordion_duplicate.html").read_text(encoding="utf-8")
    faqs = extract_faqs(html, "https://brightbox.example/faq")
    assert len(faqs) == 5
    by_question = {f.question: f for f in faqs}
    # Visible markup wins the anchor even when structured data came first in the document.
    assert by_question["How do I submit a meter reading?"].anchor == "headingMeter"
    # The richer answer wins: JSON-LD is longer here, the accordion is richer elsewhere.
    assert "5% discount" in by_question["How can I pay my bill?"].answer
    assert "[your account](https://brightbox.example/account)" in (
        by_question["How do I submit a meter reading?"].answer
    )


def test_merge_ignores_case_spacing_and_punctuation() -> None:
    jsonld = {
        "@context": "https://schema.org",
        "@type": "FAQPage",
        "mainEntity": [
            {"@type": "Question", "name": "HOW DO I  LOG IN ?", "acceptedAnswer": {"text": "x"}},
            {"@type": "Question", "name": "Only in data?", "acceptedAnswer": {"text": "Yes."}},
        ],
    }
    html = f"""<html><head><script type="application/ld+json">{json.dumps(jsonld)}</script>
    </head><body><main><h2 id="login">How do I log in?</h2><p>Use your email address.</p>
    </main></body></html>"""
    faqs = extract_faqs(html, "https://ex.example/faq")
    assert [(f.question, f.extractor, f.anchor) for f in faqs] == [
        ("Only in data?", "jsonld", ""),
        ("How do I log in?", "heading", "login"),
    ]
    assert faqs[1].answer == "Use your email address."


def test_order_is_document_order_and_deterministic() -> None:
    html = """<main><details><summary>Second thing?</summary><p>Answer two.</p></details>
    <h2>How about the heading one?</h2><p>Answer three.</p>
    <dl><dt>Is the dl last?</dt><dd>Yes it is last.</dd></dl></main>"""
    first = extract_faqs(html, "https://ex.example/")
    assert [f.question for f in first] == [
        "Second thing?",
        "How about the heading one?",
        "Is the dl last?",
    ]
    assert first == extract_faqs(html, "https://ex.example/")

"""Every saved page yields exactly the expected records (FAQs and passages), in document
order, by the expected extractor, as well-formed records; where a fixture pins them, the
exact answers and the sections reported as skipped, with their reasons."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from faq_ingest.extract import SKIP_REASONS, ExtractedFaq, extract_faqs, extract_page

FIXTURES = Path(__file__).parent / "fixtures" / "html"
NAMES = sorted(p.name.removesuffix(".expected.json") for p in FIXTURES.glob("*.expected.json"))
EXTRACTORS = {
    "jsonld", "microdata", "rdfa", "details", "dl", "accordion", "heading", "inline",
    "prefixed", "hidden_markdown", "passage",
}  # fmt: skip


def run(name: str) -> tuple[dict, list[ExtractedFaq]]:
    expected = json.loads((FIXTURES / f"{name}.expected.json").read_text(encoding="utf-8"))
    html = (FIXTURES / f"{name}.html").read_bytes().decode(expected.get("encoding", "utf-8"))
    return expected, extract_faqs(html, expected["url"])


def test_corpus_covers_the_required_page_types() -> None:
    assert len(NAMES) >= 14
    assert {"chrome_only", "no_faq_passages", "zh_gbk", "jsonld_accordion_duplicate"} <= set(NAMES)
    # Statement-titled entries in every common shape, English and Chinese.
    assert {
        "shop_statement_h3", "sections_h4_entries", "zendesk_section", "intercom_article",
        "zh_statement_sections", "zh_tw_details", "rental_disclosures",
    } <= set(NAMES)  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_fixture_questions_exact_and_in_order(name: str) -> None:
    expected, faqs = run(name)
    assert [f.question for f in faqs] == expected["questions"]
    if "extractors" in expected:
        assert [f.extractor for f in faqs] == expected["extractors"]


@pytest.mark.parametrize("name", NAMES)
def test_fixture_records_are_well_formed(name: str) -> None:
    _, faqs = run(name)
    for faq in faqs:
        assert isinstance(faq, ExtractedFaq)
        assert faq.question == " ".join(faq.question.split())
        assert faq.answer.strip() == faq.answer and faq.answer
        assert faq.extractor in EXTRACTORS
        assert faq.kind == ("passage" if faq.extractor == "passage" else "faq")
        assert isinstance(faq.heading_path, tuple)
        lowered = faq.answer.lower()
        assert "<script" not in lowered
        assert "](javascript:" not in lowered and "<javascript:" not in lowered


@pytest.mark.parametrize("name", NAMES)
def test_fixture_pinned_answers_and_skips(name: str) -> None:
    expected = json.loads((FIXTURES / f"{name}.expected.json").read_text(encoding="utf-8"))
    html = (FIXTURES / f"{name}.html").read_bytes().decode(expected.get("encoding", "utf-8"))
    result = extract_page(html, expected["url"])
    answers = {f.question: f.answer for f in result.records}
    for question, answer in expected.get("answers", {}).items():
        assert answers[question] == answer
    if "skipped" in expected:
        assert [[s.reason, s.title] for s in result.skipped] == expected["skipped"]
    assert all(s.reason in SKIP_REASONS and s.title for s in result.skipped)

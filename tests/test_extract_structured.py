"""schema.org JSON-LD / microdata / RDFa edge cases."""

from __future__ import annotations

import json

from faq_ingest.extract import extract_faqs


def page(*payloads: str, body: str = "") -> str:
    scripts = "".join(f'<script type="application/ld+json">{p}</script>' for p in payloads)
    return f"<html><head>{scripts}</head><body>{body}</body></html>"


def q(name: str, text: str) -> dict:
    return {"@type": "Question", "name": name, "acceptedAnswer": {"@type": "Answer", "text": text}}


def test_malformed_jsonld_is_skipped_and_good_blocks_still_count() -> None:
    good = json.dumps({"@type": "FAQPage", "mainEntity": [q("Is it good?", "Yes.")]})
    html = page("{not json", '{"@type": "FAQPage", "mainEntity": [', good, "[1, 2")
    assert [f.question for f in extract_faqs(html, "")] == ["Is it good?"]


def test_single_main_entity_and_nested_graph() -> None:
    payload = {
        "@context": "https://schema.org",
        "@graph": [
            {
                "@type": "WebPage",
                "hasPart": {"@type": "FAQPage", "mainEntity": q("Nested deep?", "Found.")},
            }
        ],
    }
    faqs = extract_faqs(page(json.dumps(payload)), "")
    assert [(f.question, f.answer, f.extractor) for f in faqs] == [
        ("Nested deep?", "Found.", "jsonld")
    ]


def test_question_without_answer_is_dropped() -> None:
    payload = {"@type": "FAQPage", "mainEntity": [{"@type": "Question", "name": "Empty?"}]}
    assert extract_faqs(page(json.dumps(payload)), "") == []


def test_jsonld_wrong_types_do_not_crash() -> None:
    payloads = [
        json.dumps({"@type": "FAQPage", "mainEntity": "nope"}),
        json.dumps({"@type": "Question", "name": 42, "acceptedAnswer": [None, 3]}),
        json.dumps({"@type": ["Question"], "name": ["a"], "acceptedAnswer": {"text": {"x": 1}}}),
        json.dumps(None),
        '"just a string"',
    ]
    assert extract_faqs(page(*payloads), "") == []


def test_microdata_answer_without_text_prop_uses_whole_answer() -> None:
    body = """<div itemscope itemtype="https://schema.org/Question">
    <span itemprop="name">Do you deliver on Sundays?</span>
    <div itemprop="acceptedAnswer" itemscope itemtype="https://schema.org/Answer">
    No, Monday to Saturday only.</div></div>"""
    faqs = extract_faqs(page(body=body), "")
    assert [(f.question, f.answer, f.extractor) for f in faqs] == [
        ("Do you deliver on Sundays?", "No, Monday to Saturday only.", "microdata")
    ]

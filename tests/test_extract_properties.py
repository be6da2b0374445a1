"""extract_faqs never raises and always returns well-formed records, whatever the input."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faq_ingest.extract import ExtractedFaq, extract_faqs, extract_page, pipeline

KINDS = {"faq", "passage"}
TAGS = [
    "div", "p", "details", "summary", "dl", "dt", "dd", "h2", "h3", "strong", "b", "button",
    "script", "template", "noscript", "a", "ul", "li", "section", "main", "nav", "table", "td",
]  # fmt: skip
ATTRS = [
    "", ' hidden', ' class="accordion-item"', ' class="faq-question"', ' class="faq-answer"',
    ' aria-controls="x"', ' id="x"', ' data-bs-target="#x"', ' style="display:none"',
    ' itemtype="https://schema.org/Question"', ' itemprop="name"', ' typeof="Question"',
    ' type="application/ld+json"', ' type="text/markdown"', ' href="javascript:alert(1)"',
]  # fmt: skip
TEXTS = ["How do I?", "Q: why?", "问：如何？", "答：好", "A: yes", "### Is it?", "{", "</", "&amp"]


def assert_well_formed(result: object) -> None:
    assert isinstance(result, list)
    for faq in result:
        assert isinstance(faq, ExtractedFaq)
        assert isinstance(faq.question, str) and faq.question
        assert isinstance(faq.answer, str) and faq.answer
        assert isinstance(faq.anchor, str) and isinstance(faq.language, str)
        assert faq.kind in KINDS
        assert isinstance(faq.heading_path, tuple)
        assert all(isinstance(h, str) for h in faq.heading_path)
        assert "<script" not in faq.answer.lower()


@st.composite
def tag_soup(draw: st.DrawFn) -> str:
    pieces = draw(
        st.lists(
            st.one_of(
                st.builds(lambda t, a: f"<{t}{a}>", st.sampled_from(TAGS), st.sampled_from(ATTRS)),
                st.builds(lambda t: f"</{t}>", st.sampled_from(TAGS)),
                st.sampled_from(TEXTS),
                st.text(max_size=20),
            ),
            max_size=60,
        )
    )
    return "".join(pieces)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=2000), st.text(max_size=50))
def test_random_text_never_crashes(html: str, url: str) -> None:
    assert_well_formed(extract_faqs(html, url))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tag_soup())
def test_random_tag_soup_never_crashes(html: str) -> None:
    assert_well_formed(extract_faqs(html, "https://ex.example/faq"))


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=3000))
def test_binary_looking_text_never_crashes(blob: bytes) -> None:
    assert_well_formed(extract_faqs(blob.decode("latin-1"), "https://ex.example/"))


def test_empty_and_whitespace_input() -> None:
    assert extract_faqs("", "") == []
    assert extract_faqs("   \n\t ", "https://ex.example/") == []
    assert extract_faqs("\x00\x01\x02", "") == []


def test_deeply_nested_divs_do_not_crash_or_hang() -> None:
    for depth in (5_000, 20_000):
        html = "<div>" * depth + "<h2>How deep is it?</h2><p>Very.</p>" + "</div>" * depth
        started = time.perf_counter()
        faqs = extract_faqs(html, "https://ex.example/")
        assert_well_formed(faqs)
        assert [(f.question, f.answer) for f in faqs] == [("How deep is it?", "Very.")]
        # Linear helpers keep this around a second; quadratic walks took minutes.
        assert time.perf_counter() - started < 30


def test_deeply_nested_answer_degrades_to_plain_text() -> None:
    answer = "<div>" * 5_000 + "Keep <b>calm</b> <script>x()</script>" + "</div>" * 5_000
    html = f"<main><h2>How deep is the answer?</h2>{answer}</main>"
    faqs = extract_faqs(html, "")
    assert [(f.question, f.answer) for f in faqs] == [("How deep is the answer?", "Keep calm")]


def test_deeply_nested_inline_and_list_markup() -> None:
    html = "<ul><li>" * 3_000 + "<b>" * 3_000 + "Is this deep?" + "</b>" * 3_000
    assert_well_formed(extract_faqs(html, ""))
    details = "<details><summary>Why?</summary>" * 2_000 + "Because." + "</details>" * 2_000
    assert_well_formed(extract_faqs(details, ""))


def test_deeply_nested_jsonld() -> None:
    payload = '{"a":' * 50_000 + "1" + "}" * 50_000
    html = f'<script type="application/ld+json">{payload}</script><p>Hello there world.</p>'
    assert_well_formed(extract_faqs(html, ""))


def test_a_page_that_cannot_be_extracted_is_reported_not_silent(monkeypatch) -> None:
    def broken(html: str, url: str):
        raise RecursionError("pathological page")

    monkeypatch.setattr(pipeline, "_extract", broken)
    result = extract_page("<main><h2>How?</h2><p>So.</p></main>", "https://ex.example/")
    assert result.records == []
    assert [(s.reason, s.title) for s in result.skipped] == [
        ("error", "whole page (RecursionError)")
    ]

"""Question headings become FAQs, and so do statement headings that repeat their question
siblings' structure; section titles never do."""

from __future__ import annotations

import pytest

from faq_ingest.extract import extract_faqs


def questions(body: str) -> list[str]:
    faqs = extract_faqs(f"<html><body><main>{body}</main></body></html>", "")
    return [f.question for f in faqs if f.kind == "faq"]


@pytest.mark.parametrize(
    "title",
    [
        "How do refunds work",
        "What payment methods are accepted",
        "Why was my card declined",
        "Can I change my plan later",
        "Does the app work offline",
        "Where is my order",
        "Should I update the firmware first",
        "Billing cycles?",
        "运费怎么算？",
    ],
)
def test_asking_headings_are_questions(title: str) -> None:
    assert questions(f"<h2>{title}</h2><p>Some answer text here.</p>") == [title]


@pytest.mark.parametrize(
    "title", ["Shipping", "Getting started", "What's new in 2.0", "How it works", "Pricing"]
)
def test_section_headings_are_not_questions(title: str) -> None:
    body = f"<h2>{title}</h2><p>Some text.</p><h3>Is this one a question?</h3><p>Yes.</p>"
    assert questions(body) == ["Is this one a question?"]


def test_h5_and_h1_are_not_question_headings() -> None:
    body = "<h1>How do I start?</h1><p>Read on.</p><h5>What is this?</h5><p>Small print.</p>"
    faqs = extract_faqs(f"<main>{body}</main>", "")
    assert all(f.kind == "passage" for f in faqs)


def test_answer_includes_lower_level_content_until_same_level() -> None:
    body = (
        "<h2 id='a'>How do I export data?</h2><p>Open settings.</p><h4>CSV</h4><p>Pick CSV.</p>"
        "<h2>Contact</h2><p>Email us.</p>"
    )
    faqs = extract_faqs(f"<main>{body}</main>", "")
    # "Contact" repeats the structure of its question sibling, so it is an entry too.
    assert [(f.question, f.kind) for f in faqs] == [
        ("How do I export data?", "faq"),
        ("Contact", "faq"),
    ]
    assert "Pick CSV." in faqs[0].answer and "Email us" not in faqs[0].answer
    assert faqs[1].answer == "Email us."


def test_heading_over_an_accordion_is_a_title_not_a_question() -> None:
    body = (
        "<h2>What can we help you with?</h2><div class='accordion'>"
        "<details><summary>How do I pay?</summary><p>By card.</p></details>"
        "<details><summary>How do I cancel?</summary><p>Online.</p></details></div>"
    )
    assert questions(body) == ["How do I pay?", "How do I cancel?"]


def test_wrapped_heading_takes_answer_after_its_wrapper() -> None:
    body = (
        "<div class='q-wrap'><h3>Can I pause my subscription?</h3></div>"
        "<p>Yes, for up to three months.</p>"
    )
    faqs = extract_faqs(f"<main>{body}</main>", "")
    assert [(f.question, f.answer) for f in faqs] == [
        ("Can I pause my subscription?", "Yes, for up to three months.")
    ]

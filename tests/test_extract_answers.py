"""Spot checks of answer content, anchors and language on the fixture pages."""

from __future__ import annotations

import json
from pathlib import Path

from faq_ingest.extract import ExtractedFaq, extract_faqs

FIXTURES = Path(__file__).parent / "fixtures" / "html"


def faqs_of(name: str) -> dict[str, ExtractedFaq]:
    expected = json.loads((FIXTURES / f"{name}.expected.json").read_text(encoding="utf-8"))
    html = (FIXTURES / f"{name}.html").read_bytes().decode(expected.get("encoding", "utf-8"))
    return {f.question: f for f in extract_faqs(html, expected["url"])}


def test_jsonld_answer_html_becomes_markdown_with_absolute_links() -> None:
    faq = faqs_of("jsonld_graph")["How do I track my parcel?"]
    assert faq.answer == (
        "Enter your tracking number on the [tracking page](https://parcelly.example/track). "
        "Updates appear within **2 hours** of pickup."
    )
    assert faq.anchor == "track"  # from the Question's @id fragment
    assert faq.language == "en"


def test_jsonld_lists_and_entities_survive() -> None:
    faqs = faqs_of("jsonld_graph")
    assert faqs["Which countries do you ship to?"].answer.splitlines() == [
        "- All EU countries",
        "- United Kingdom",
        "- Switzerland and Norway",
    ]
    assert faqs["Can I change the delivery address after dispatch?"].answer.startswith("Yes — ")


def test_script_inside_jsonld_answer_is_dropped() -> None:
    answer = faqs_of("jsonld_array")["Do you offer refunds?"].answer
    assert answer == "Refunds are available within 14 days of purchase."


def test_microdata_meta_name_and_anchor() -> None:
    faqs = faqs_of("microdata")
    assert faqs["When will I get my refund?"].anchor == "refund-time"
    assert faqs["How long do I have to return an item?"].answer == (
        "You can return unworn items within **60 days** of delivery. Start a return from "
        "[your orders](https://northwind.example/account/orders)."
    )


def test_rdfa_prefixed_properties() -> None:
    faq = faqs_of("rdfa")["Does a card cost anything?"]
    assert faq.answer == "Cards are free. Replacement cards cost $2."
    assert faq.anchor == "card-cost"


def test_details_summary_strips_expander_glyph_and_keeps_paragraphs() -> None:
    faq = faqs_of("details_summary")["What is the maximum file size?"]
    assert faq.answer == (
        "Each episode can be up to **500 MB**.\n\n"
        "Need more? See [large uploads](https://loopcast.example/docs/large-uploads)."
    )
    assert faq.anchor == "max-size"
    assert faq.heading_path == ("Help Center", "Uploading")


def test_dl_joins_multiple_definitions() -> None:
    faq = faqs_of("dl_list")["Does Quillpad sync between devices?"]
    assert faq.answer == (
        "Yes. Notes sync through your Quillpad account on iOS, Android, macOS and Windows.\n\n"
        "Sync requires version 3.2 or later on every device."
    )
    assert faq.anchor == "sync"


def test_bootstrap_anchor_is_the_panel_id() -> None:
    faqs = faqs_of("bootstrap_accordion")
    assert faqs["How long is the frame warranty?"].anchor == "w1"
    assert faqs["How often should I service my bike?"].answer.endswith(
        "[Book a service](https://trailhead.example/service/book)."
    )


def test_aria_accordion_uses_trigger_id_and_hidden_panel() -> None:
    faqs = faqs_of("aria_accordion")
    assert faqs["Can I bring guests?"].anchor == "faq-btn-1"
    assert "Filters" not in faqs
    assert faqs["Is there 24/7 access?"].answer.startswith("Resident members get 24/7")


def test_faq_class_answers_keep_ordered_lists() -> None:
    faq = faqs_of("faq_classes")["How do I make a claim?"]
    assert faq.answer.splitlines()[0] == "1. Log in to [My Pawsome](https://my.pawsome.example/)"
    assert faq.anchor == "claims"  # the shared section: no closer id exists


def test_docs_pages_drop_permalinks_and_keep_code() -> None:
    mkdocs = faqs_of("mkdocs")["How do I install without internet access?"]
    assert "```\npip install --no-index tidewater-2.1.0-py3-none-any.whl\n```" in mkdocs.answer
    assert "¶" not in mkdocs.answer
    assert mkdocs.anchor == "how-do-i-install-without-internet-access"
    docusaurus = faqs_of("docusaurus")["Why am I getting 401 Unauthorized?"]
    assert "`ORBIT_API_KEY`" in docusaurus.answer
    assert "\u200b" not in docusaurus.question


def test_heading_answer_stops_at_next_heading() -> None:
    faq = faqs_of("sphinx")["Why is the first query slow?"]
    assert "pool_size" not in faq.answer
    assert faq.heading_path == ("Frequently Asked Questions", "Performance")


def test_inline_strong_answers_without_prefix_or_question() -> None:
    faqs = faqs_of("inline_strong")
    assert faqs["Can I have a campfire?"].answer.startswith("Fires are allowed")
    assert faqs["Is there Wi-Fi?"].answer == (
        "Free Wi-Fi is available near the camp store. Coverage at the sites is limited."
    )


def test_xss_page_answer_has_nothing_executable() -> None:
    answer = faqs_of("xss_answers")["How do I embed the widget?"].answer
    for needle in ("<script", "onerror", "onclick", "onmouseover", "onload", "iframe", "<form"):
        assert needle not in answer.lower()
    assert "](javascript:" not in answer and "<javascript:" not in answer
    assert "&lt;script>alert(5)&lt;/script>" in answer  # literal page text stays readable
    assert "data:text" not in answer
    assert "[widget docs](https://community.example/docs/widget)" in answer
    assert "[help@community.example](mailto:help@community.example)" in answer
    assert "Click here" in answer and "](javascript" not in answer

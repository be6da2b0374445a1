"""Markdown shipped in hidden containers is parsed and sanitised."""

from __future__ import annotations

from pathlib import Path

from faq_ingest.extract import extract_faqs

FIXTURES = Path(__file__).parent / "fixtures" / "html"


def test_script_markdown_answers_are_safe_markdown() -> None:
    html = (FIXTURES / "hidden_markdown.html").read_text(encoding="utf-8")
    faqs = {f.question: f for f in extract_faqs(html, "https://snapframe.example/help")}
    printing = faqs["How long does printing take?"]
    assert printing.answer == (
        "Standard prints ship in **2 working days**. Albums take 5 working days.\n"
        "See [production times](https://snapframe.example/help/production) for peak season."
    )
    assert printing.anchor == "faq-source"
    cancel = faqs["Can I cancel an order?"].answer
    assert "javascript:" not in cancel and "<img" not in cancel and "Click me" in cancel
    assert (
        faqs["Which paper finishes are available?"].answer
        == "- Glossy\n- Matte\n- Lustre (archival)"
    )


def test_hidden_attribute_block_and_code_fences() -> None:
    html = """<main><h1>Docs</h1><div hidden>
    ## Setup
    ### How do I install it?
    Run this:
    ```
    # not a heading
    pip install thing
    ```
    ### Configuration
    Not a question, ends the previous answer.
    </div></main>"""
    faqs = extract_faqs(html, "")
    assert [(f.question, f.extractor) for f in faqs] == [
        ("How do I install it?", "hidden_markdown")
    ]
    assert faqs[0].answer == "Run this:\n```\n# not a heading\npip install thing\n```"


def test_visible_text_with_hash_is_not_markdown() -> None:
    html = "<main><p>Call us on #5 or visit store #12 for more information today.</p></main>"
    assert [f.kind for f in extract_faqs(html, "")] == ["passage"]

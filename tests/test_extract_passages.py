"""Pages without FAQ structure fall back to heading-scoped passages; chrome never leaks in."""

from __future__ import annotations

from pathlib import Path

from faq_ingest.extract import extract_faqs

FIXTURES = Path(__file__).parent / "fixtures" / "html"


def test_chrome_only_page_yields_nothing() -> None:
    html = (FIXTURES / "chrome_only.html").read_text(encoding="utf-8")
    assert extract_faqs(html, "https://acme.example/products") == []


def test_passages_carry_heading_path_anchor_and_size_limit() -> None:
    html = (FIXTURES / "no_faq_passages.html").read_text(encoding="utf-8")
    passages = extract_faqs(html, "https://fernleaf.example/policies/shipping")
    assert {p.kind for p in passages} == {"passage"}
    assert all(len(p.answer) <= 800 for p in passages)
    highlands = passages[2]
    assert highlands.heading_path == ("Shipping policy", "UK delivery", "Highlands and islands")
    assert highlands.anchor == "highlands"
    assert highlands.language == "en"
    text = " ".join(p.answer for p in passages)
    for chrome in ("Free UK delivery on orders", "This site uses cookies", "Registered in England"):
        assert chrome not in text
    assert "[our trade team](mailto:trade@fernleaf.example)" in text


def test_long_paragraph_is_split_at_sentences() -> None:
    sentence = "This sentence is exactly about fifty characters long. "
    html = f"<title>Policy</title><main><p>{sentence * 40}</p></main>"
    passages = extract_faqs(html, "https://ex.example/p")
    assert len(passages) >= 3
    assert all(p.answer.endswith(".") and len(p.answer) <= 800 for p in passages)
    assert {p.question for p in passages} == {"Policy"}  # no headings: the page title


def test_cookie_and_consent_blocks_are_chrome() -> None:
    html = """<body><div class="cookieConsent">We use cookies to make the site work well.</div>
    <div id="gdpr-popup"><p>Your privacy matters to us, accept the terms please.</p></div>
    <div class="content"><h1>About</h1><p>We have sold handmade furniture since 1982.</p></div>
    </body>"""
    passages = extract_faqs(html, "")
    assert [(p.question, p.answer) for p in passages] == [
        ("About", "We have sold handmade furniture since 1982.")
    ]

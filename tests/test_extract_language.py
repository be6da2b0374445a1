"""Record language: CJK by script, plain English by function words (no langdetect run, even
with typographic punctuation), everything else by langdetect."""

from __future__ import annotations

import pytest

from faq_ingest.extract import language


@pytest.fixture
def no_langdetect(monkeypatch: pytest.MonkeyPatch) -> None:
    language.detect_language.cache_clear()

    def fail() -> None:
        raise AssertionError("langdetect should not run for this text")

    monkeypatch.setattr(language, "init_factory", fail)


@pytest.mark.parametrize(
    "text",
    [
        "How much does shipping cost?\n- US Standard: $5.95, free on orders over $75\n"
        "- UK Standard: £5.95 – free on orders over £60",
        "Do you repair gear that’s out of warranty?\nYes. Our Repair Center fixes most brands.",
        "About Northwind › Contact us\nOur team answers calls and emails from 6 am to 6 pm.",
    ],
)
def test_english_with_typographic_punctuation_skips_langdetect(
    no_langdetect: None, text: str
) -> None:
    assert language.detect_language(text) == "en"


def test_cjk_is_decided_by_script(no_langdetect: None) -> None:
    assert language.detect_language("如何查詢帳單？請登入會員專區。") == "zh"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Comment puis-je annuler ma commande ? Vous pouvez annuler votre commande "
         "dans les 30 minutes depuis votre compte, ensuite elle est en préparation.", "fr"),
        ("Wie kann ich meine Bestellung stornieren? Sie können Ihre Bestellung innerhalb "
         "von 30 Minuten in Ihrem Konto stornieren.", "de"),
        ("Come posso restituire un articolo? Puoi restituire gli articoli entro 30 giorni "
         "dalla consegna, basta aprire una richiesta dal tuo account.", "it"),
    ],
)  # fmt: skip
def test_other_latin_languages_still_go_to_langdetect(text: str, code: str) -> None:
    language.detect_language.cache_clear()
    assert language.detect_language(text) == code

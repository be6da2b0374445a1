"""normalise_question is the FAQ identity key: stable across cosmetic differences only."""

from __future__ import annotations

import pytest

from faq_ingest.extract import normalise_question


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("How do I log in?", "how do i log in"),
        ("How  do I\nlog in ?", "HOW DO I LOG IN?"),
        ("Q: How do I log in?", "How do I log in?"),
        ("问：如何退货？", "如何退货?"),
        ("ＷｉＦｉ？", "wifi?"),  # fullwidth forms fold under NFKC
        ("What's new?", "Whats new"),
    ],
)
def test_cosmetic_variants_share_a_key(a: str, b: str) -> None:
    assert normalise_question(a) == normalise_question(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("How do I log in?", "How do I log out?"),
        ("Can I pay by card?", "Can I pay by cash?"),
        ("如何退货？", "如何退款？"),
    ],
)
def test_different_questions_keep_different_keys(a: str, b: str) -> None:
    assert normalise_question(a) != normalise_question(b)


def test_empty_and_punctuation_only() -> None:
    assert normalise_question("") == ""
    assert normalise_question(" ?!… ") == ""

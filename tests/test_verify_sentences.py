"""The sentence verifier on crafted supported and unsupported sentences.

Runs with the test settings' hashing embedder; the thresholds are the production ones."""

from __future__ import annotations

import pytest

from chatbot.answering import facts
from chatbot.answering.verify import Verifier
from faq_ingest.retrieval.embedders import get_embedder
from faq_ingest.retrieval.searcher import IndexDoc

RETURNS = IndexDoc(
    id="11",
    question="What is your return policy?",
    answer=(
        "You can return most unused items within 30 days of delivery for a full refund.\n"
        "- Items must be unworn and have their original tags attached.\n"
        "- Gear that has been used outdoors can't be returned for a refund, but it may be "
        "covered by our 2-year warranty.\n"
        "Questions? Email returns@northwind.example or call +1 (800) 555-0199, or read "
        "https://northwind.example/help/returns. Our Denver store takes returns too."
    ),
)
SHIPPING = IndexDoc(
    id="12",
    question="How much does shipping cost?",
    answer="Standard shipping costs $4.95 and is free on orders over $50.",
)
ZH_RETURNS = IndexDoc(
    id="13",
    question="退货政策是什么？",
    answer="自收货之日起30天内，未使用的商品可以退货并全额退款。礼品卡不可退货。",
)


@pytest.fixture
def verifier():
    return Verifier(
        "what is your return policy", [RETURNS, SHIPPING], embedder=get_embedder("hashing")
    )


def check(verifier, sentence):
    return verifier.check(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "You can return most unused items within 30 days of delivery for a full refund. [1]",
        "Most unused items can be returned within 30 days of delivery for a full refund.",
        "Items must be unworn and have their original tags attached. [1]",
        "Gear that has been used outdoors can't be returned for a refund. [1]",
        "It may be covered by our two-year warranty.",
        "Email returns@northwind.example or call 800-555-0199. [1]",
        "Read https://northwind.example/help/returns for the returns policy.",
        "Our Denver store takes returns too.",
    ],
)
def test_supported_sentences_pass(verifier, sentence):
    verdict = check(verifier, sentence)
    assert verdict.supported, verdict.reasons
    assert verdict.cited == [0]
    assert "[" not in verdict.text


@pytest.mark.parametrize(
    "sentence, reason",
    [
        # numbers, units, currencies
        ("You can return most unused items within 60 days of delivery. [1]", "60 days"),
        ("You can return most unused items within 30 hours of delivery. [1]", "30 hours"),
        ("Standard shipping costs $5.95 and is free on orders over $50. [2]", "$5.95"),
        ("Standard shipping costs €4.95 and is free on orders over $50. [2]", "€4.95"),
        ("It may be covered by our three-year warranty. [1]", "three-year"),
        # negation flips, both ways
        ("Gear that has been used outdoors can be returned for a refund. [1]", "negation"),
        ("You cannot return unused items within 30 days of delivery. [1]", "negation"),
        # names
        ("Our Boulder store takes returns too. [1]", "Boulder"),
        ("You can return unused items through PayPal within 30 days. [1]", "PayPal"),
        # links, emails, phone numbers
        ("Email help@northwind.example for a full refund. [1]", "help@northwind.example"),
        ("Call +1 (800) 555-0100 for returns within 30 days. [1]", "555-0100"),
        ("Read https://northwind.example/return-center for the returns policy.", "return-center"),
        ("Visit www.returns-portal.example to return unused items. [1]", "returns-portal"),
        # widened claims, and narrowing words dropped
        ("You can return any items within 30 days of delivery for a full refund. [1]", "any"),
        ("You can return unused items within 30 days of delivery for a full refund. [1]", "most"),
        ("Gear that has been used outdoors is covered by our 2-year warranty. [1]", "may"),
        # something else altogether
        ("Our stores open at nine and sell gift cards in every colour. [1]", "not in"),
        ("I hope this helps!", "not in"),
    ],
)
def test_unsupported_sentences_fail_with_a_reason(verifier, sentence, reason):
    verdict = check(verifier, sentence)
    assert not verdict.supported, f"passed: {sentence}"
    assert any(reason in r for r in verdict.reasons), verdict.reasons


def test_a_sentence_is_checked_against_what_it_cites_and_shows_the_supporting_citation(
    verifier,
):
    # The model cited [1] for a shipping fact: shown with [2], the FAQ that says it.
    verdict = check(verifier, "Standard shipping costs $4.95 and is free on orders over $50. [1]")
    assert verdict.supported
    assert verdict.cited == [1]
    assert any("supported by [2]" in r for r in verdict.reasons)
    # A price from an FAQ it does not cite, and that no other FAQ supports, fails.
    verdict = check(verifier, "Returns within 30 days cost $4.95. [1]")
    assert not verdict.supported


def test_a_marker_out_of_range_is_ignored(verifier):
    verdict = check(verifier, "Standard shipping costs $4.95 and is free on orders over $50. [7]")
    assert verdict.supported and verdict.cited == [1]


def test_a_sentence_without_content_words_is_not_shown(verifier):
    assert not check(verifier, "[1]").supported
    assert not check(verifier, "Yes.").supported


def test_yes_or_no_must_answer_the_question_the_way_the_faq_does():
    v = Verifier("can i return used gear", [RETURNS], embedder=get_embedder("hashing"))
    wrong = v.check("Yes, gear used outdoors may be covered by our 2-year warranty. [1]")
    assert not wrong.supported
    assert any("answers yes" in r for r in wrong.reasons)
    right = v.check("No, gear used outdoors may be covered by our 2-year warranty. [1]")
    assert right.supported, right.reasons
    pickup = IndexDoc(
        "14",
        "Can I pick up my order in a store?",
        "Choose Pick up in store at checkout for free pickup at any of our 12 US stores.",
    )
    v = Verifier("can i pick up my order from a store", [pickup], embedder=get_embedder("hashing"))
    assert v.check("Yes, you can pick up your order in a store. [1]").supported
    # Without the opening answer to the question, the same words restate the FAQ's
    # question, not something its answer says.
    assert not v.check("You can pick up your order in a store. [1]").supported
    off_topic = Verifier("do you ship to canada", [RETURNS], embedder=get_embedder("hashing"))
    verdict = off_topic.check("Yes, unused items can be returned within 30 days. [1]")
    assert not verdict.supported
    assert any("not about the question" in r for r in verdict.reasons)


@pytest.mark.parametrize(
    "sentence, supported, reason",
    [
        ("未使用的商品自收货之日起30天内可以退货。[1]", True, ""),
        ("未使用的商品自收货之日起60天内可以退货。[1]", False, "60"),
        ("自收货之日起三十天内，未使用的商品可以退货并全额退款。", True, ""),
        ("礼品卡可以退货。", False, "negation"),
        ("礼品卡不可退货。", True, ""),
    ],
)
def test_chinese_sentences(sentence, supported, reason):
    v = Verifier("退货政策", [ZH_RETURNS], embedder=get_embedder("hashing"))
    verdict = v.check(sentence)
    assert verdict.supported is supported, verdict.reasons
    if reason:
        assert any(reason in r for r in verdict.reasons), verdict.reasons


def test_fact_extraction():
    quantities = facts.quantities("Costs $4.95, 3–10 business days, a two-year warranty, 15%.")
    assert [(q.value, q.currency, q.unit) for q in quantities] == [
        (4.95, "usd", ""),
        (3.0, "", "bday"),
        (10.0, "", "bday"),
        (2.0, "", "year"),
        (15.0, "", "percent"),
    ]
    # list numbers, phone numbers and links are not quantities; number words without a
    # unit ("one of our stores") are not claims
    assert facts.quantities("1. Call 800-555-0199 at one of our stores") == []
    assert facts.quantities("三十天内") == [facts.Quantity(30.0, "", "day", "三十天")]
    assert facts.emails("Mail Help@Shop.Example.") == ["help@shop.example"]
    assert facts.phones("call +1 (800) 555-0199 or 12.50") == ["+1 (800) 555-0199"]
    assert facts.urls("see [our page](/help/returns) or www.shop.example/a.") == [
        "www.shop.example/a.",
        "/help/returns",
    ]
    assert facts.names("You can pay with PayPal at our Denver store. Thanks!") == [
        "PayPal",
        "Denver",
    ]
    assert facts.negated("Gift cards can't be returned")
    assert facts.negated("This is non-refundable")
    assert not facts.negated("Gift cards can be returned")
    assert facts.negated("礼品卡不可退货") and not facts.negated("不过礼品卡可以退货")
    assert facts.yes_no_lead("Yes, you can.") is True
    assert facts.yes_no_lead("No, you can't.") is False
    assert facts.yes_no_lead("Nobody knows.") is None

"""Configured sensitive topics go to a person: keywords in the customer's message (legal
threats, chargebacks, data-protection requests, self-harm, injuries, fraud; English and
Chinese) and FAQs tagged with a configured tag when the bot cites them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chatbot import escalation as esc
from chatbot.escalation_text import SENSITIVE_TOPICS, sensitive_topic
from faq_ingest.models import Faq

POLICY = esc.EscalationPolicy(sensitive_faq_tags=frozenset({"privacy", "legal"}))

TOPICAL = [
    ("legal", "I'm going to sue you"),
    ("legal", "my lawyer will be in touch"),
    ("legal", "we will take legal action"),
    ("legal", "see you in small claims court"),
    ("legal", "I'm reporting this to trading standards"),
    ("legal", "我要去法院起诉你们"),
    ("legal", "我已经找律师了"),
    ("legal", "再不退款我就打12315"),
    ("legal", "我要找律師"),
    ("chargeback", "I'm filing a chargeback"),
    ("chargeback", "I'll dispute the charge with my bank"),
    ("chargeback", "I opened a PayPal dispute"),
    ("chargeback", "my bank reversed the payment"),
    ("chargeback", "我会联系银行拒付"),
    ("privacy", "this is a GDPR subject access request"),
    ("privacy", "delete all my personal data"),
    ("privacy", "I want my right to be forgotten"),
    ("privacy", "请删除我所有的个人数据"),
    ("self_harm", "I just want to kill myself"),
    ("self_harm", "I don't want to live anymore"),
    ("self_harm", "thinking about suicide"),
    ("self_harm", "我不想活了"),
    ("safety", "the stove caught fire and burned my hand"),
    ("safety", "my son had an allergic reaction"),
    ("safety", "the pole snapped and injured my daughter"),
    ("safety", "is there a recall on this heater?"),
    ("safety", "帐篷支架断了把孩子砸伤了"),
    ("safety", "炉子爆炸了"),
    ("fraud", "someone used my credit card on your site"),
    ("fraud", "my account was hacked"),
    ("fraud", "there is an unauthorized charge on my statement"),
    ("fraud", "I didn't place this order"),
    ("fraud", "is this email a scam?"),
    ("fraud", "信用卡被盗刷了"),
    ("fraud", "信用卡被盜刷，請幫我處理"),  # Traditional
]

NOT_SENSITIVE = [
    "this deal is killer",
    "I'm dying to know when my boots arrive",
    "my headlamp battery died",
    "what's the legal age to buy bear spray?",
    "my friend Sue recommended your store",
    "does the stove come with a fire starter?",
    "do you sell my personal information?",
    "how do I dispute a price? it went on sale",
    "I got charged twice, when does the extra charge drop off?",
    "I burned through my boot soles in a year",
    "i'm a lawyer, can i get a VAT invoice?",
    "my package was stolen from the porch",
    "how do I turn on 2FA so my account doesn't get hacked?",
    "I can't recall my password",
    "the price is killing me",
    "can I ship to a hospital address?",
    "are these court shoes true to size?",
    "笑死我了，这个帐篷有粉色的吗",
    "累死了，退货期限是几天",
    "寄到法国要交关税吗",
    "这个炉子防爆吗",
    "可以用银行卡付款吗",
    "想死你了，终于到货了",
]


@pytest.mark.parametrize("topic, text", TOPICAL)
def test_a_sensitive_message_goes_to_a_person_with_its_topic(topic, text):
    trigger = esc.before_answer(text, [], policy=POLICY)
    assert trigger is not None and trigger.kind == esc.SENSITIVE_TOPIC, trigger
    assert trigger.detail["source"] == "keyword"
    assert trigger.detail["topic"] == topic
    assert trigger.reason.startswith("Sensitive topic (")


@pytest.mark.parametrize("text", NOT_SENSITIVE)
def test_everyday_words_that_sound_alarming_do_not(text):
    assert sensitive_topic(text, SENSITIVE_TOPICS) is None


def test_only_configured_topics_count():
    only_legal = replace(POLICY, sensitive_topics=frozenset({"legal"}))
    assert esc.before_answer("I'm filing a chargeback", [], policy=only_legal) is None
    assert esc.before_answer("I'll sue you", [], policy=only_legal).detail["topic"] == "legal"


def test_staff_keywords_are_whole_words_or_chinese_phrases():
    policy = replace(
        POLICY, sensitive_topics=frozenset(), sensitive_keywords=("recall notice", "媒体曝光")
    )
    hit = esc.before_answer("Got a RECALL  NOTICE today", [], policy=policy)
    assert hit.detail == {"source": "keyword", "topic": "keyword", "phrase": "recall notice"}
    assert "configured sensitive phrase" in hit.reason
    assert esc.before_answer("我要找媒體曝光", [], policy=policy).kind == esc.SENSITIVE_TOPIC
    assert esc.before_answer("recall notices are posted", [], policy=policy) is None


def test_the_most_specific_reason_wins_and_the_others_are_listed():
    trigger = esc.before_answer("this is useless, get me a human or I'll sue you!!!", [])
    assert trigger.kind == esc.SENSITIVE_TOPIC
    assert trigger.detail["also"] == [esc.EXPLICIT_REQUEST, esc.FRUSTRATION]


def _tags(mapping):
    return lambda ids: {i: mapping[i] for i in ids if i in mapping}


def test_citing_a_tagged_faq_hands_over():
    tags_of = _tags({7: ["Privacy"], 8: ["returns"]})
    trigger = esc.after_answer(
        "how do I close my account",
        [],
        confidence=0.9,
        cited_faq_ids=(8, 7),
        policy=POLICY,
        tags_of=tags_of,
    )
    assert trigger.kind == esc.SENSITIVE_TOPIC
    assert trigger.detail == {"source": "faq_tag", "faq_id": 7, "tags": ["privacy"]}
    assert "FAQ #7" in trigger.reason and "“privacy”" in trigger.reason


def test_untagged_or_unconfigured_tags_do_not():
    tags_of = _tags({8: ["returns"], 9: ["chargeback"]})
    for cited in [(8,), (9,), ()]:
        assert (
            esc.after_answer(
                "q", [], confidence=0.9, cited_faq_ids=cited, policy=POLICY, tags_of=tags_of
            )
            is None
        )


def test_tags_are_not_looked_up_when_none_are_configured():
    def boom(_ids):
        raise AssertionError("no lookup expected")

    policy = replace(POLICY, sensitive_faq_tags=frozenset())
    assert (
        esc.after_answer("q", [], confidence=0.9, cited_faq_ids=(1,), policy=policy, tags_of=boom)
        is None
    )


@pytest.mark.django_db
def test_tags_are_read_from_the_faq_rows(settings):
    settings.HANDOFF_SENSITIVE_FAQ_TAGS = ["legal", " Privacy "]
    tagged = Faq.objects.create(
        question="Delete my data?", question_key="a", answer="…", tags=["PRIVACY", 3]
    )
    plain = Faq.objects.create(question="Shipping?", question_key="b", answer="…", tags=[])
    odd = Faq.objects.create(question="Odd?", question_key="c", answer="…", tags={"not": "a list"})
    assert esc.faq_tags((tagged.pk, plain.pk)) == {tagged.pk: ("privacy",)}
    trigger = esc.after_answer(
        "delete my data", [], confidence=0.8, cited_faq_ids=(plain.pk, tagged.pk)
    )
    assert trigger.kind == esc.SENSITIVE_TOPIC and trigger.detail["faq_id"] == tagged.pk
    assert esc.after_answer("shipping", [], confidence=0.8, cited_faq_ids=(plain.pk,)) is None
    assert esc.after_answer("odd", [], confidence=0.8, cited_faq_ids=(odd.pk,)) is None


def test_sensitive_topics_off_entirely(settings):
    settings.HANDOFF_SENSITIVE_TOPICS = []
    settings.HANDOFF_SENSITIVE_KEYWORDS = []
    settings.HANDOFF_SENSITIVE_FAQ_TAGS = []
    assert esc.SENSITIVE_TOPIC not in esc.get_policy().enabled
    assert esc.before_answer("I'm filing a chargeback", []) is None

"""Customer frustration from a tested lexicon (English and Chinese): swearing, "this is
useless", "你们这什么破服务", shouting and "???" add up to a handoff; excitement, mild
annoyance and words that only look angry ("没用过", "帐篷破了") do not."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chatbot import escalation as esc
from chatbot.escalation_text import frustration

POLICY = esc.EscalationPolicy()

FRUSTRATED = [
    "this is useless",
    "You're not helping at all!!!",
    "what a joke, worst customer service ever",
    "wtf, the checkout keeps failing",
    "for fucks sake where is my parcel",
    "I am absolutely furious",
    "this bot is so stupid",
    "are you kidding me?",
    "I'm fed up. Nothing works.",
    "Terrible service. Never ordering from you again.",
    "this is a waste of my time 😡",
    "unacceptable",
    "I give up",
    "how many times do I have to ask?",
    "I've asked three times already",
    "WHERE IS MY ORDER?!?! NOBODY ANSWERS MY EMAILS",
    "ugh, so frustrating, still waiting for my refund",
    "I want to file a complaint",
    "that didn't help at all",
    "你们这什么破服务",
    "垃圾客服！！！",
    "太差劲了",
    "问了三遍都没用",
    "气死我了",
    "受够了，我要投诉",
    "答非所问，有什么用",
    "他妈的，又取消了",
    "你们的机器人听不懂人话吗",
    "我真的很生气！！！",
    # Traditional
    "無語，你們這客服到底有沒有用",
    "什麼爛服務",
    "說了多少遍了！",
]

CALM = [
    "how do I track my order",
    "LOVE these boots!!! do they run true to size?",
    "OMG the sale is amazing",
    "HELLO, HOW DO I TRACK MY ORDER",
    "My UPS tracking says delivered but nothing is here",
    "I NEED IT BY FRIDAY - can you ship overnight?",
    "Is the bear spray returnable???",
    "ugh, forgot my password again",
    "I'm a bit disappointed with the colour, can I exchange it?",
    "not happy with the fit, can I swap sizes?",
    "still waiting on my package, how do I track it?",
    "Thanks so much!!! Do points expire?",
    "Is it stupid to buy boots a size up?",
    "sorry to bother you again",
    "商品没用过，可以退货吗",
    "帐篷破了一个洞，保修吗",
    "鞋底烂了还在保修期内吗",
    "麻烦问一下运费怎么算",
    "商品降价了能退差价吗",
    "这个背包靠谱吗",
    "露营用的垃圾袋你们有卖吗",
    "到底几天能到啊",
    "谢谢！！！积分怎么用？",
    "太好了！支持支付宝吗？",
    "我没有用优惠码",
]


@pytest.mark.parametrize("text", FRUSTRATED)
def test_a_frustrated_customer_is_handed_over(text):
    trigger = esc.before_answer(text, [], policy=POLICY)
    assert trigger is not None and trigger.kind == esc.FRUSTRATION, (trigger, frustration(text))
    assert trigger.reason.startswith("The customer sounds frustrated: ")
    assert trigger.detail["score"] >= trigger.detail["threshold"] == POLICY.frustration_threshold
    assert trigger.detail["signals"]


@pytest.mark.parametrize("text", CALM)
def test_a_calm_or_merely_excited_customer_stays_with_the_bot(text):
    assert frustration(text).score < POLICY.frustration_threshold, frustration(text)
    assert esc.before_answer(text, [], policy=POLICY) is None


def test_each_cue_is_named_for_staff():
    mood = frustration("This is SO USELESS!!! 😡")
    assert mood.signals == (
        "“useless”",
        "intensifier “so”",
        "“!!!”",
        "\U0001f621",
    )
    assert mood.score == 5.0


def test_an_intensifier_alone_or_shouting_alone_is_not_anger():
    assert frustration("I am so so excited").score == 0.0
    assert frustration("PLEASE HELP ME FIND MY ORDER NUMBER").score == 1.0  # shouting only
    # Acronyms are not shouting.
    assert frustration("UPS DHL USPS VAT GDPR").score == 0.0


def test_the_threshold_is_a_policy_knob():
    text = "ugh, I'm annoyed"  # two mild cues: 2.0
    assert frustration(text).score == 2.0
    assert esc.before_answer(text, [], policy=replace(POLICY, frustration_threshold=2.0))
    assert esc.before_answer(text, [], policy=replace(POLICY, frustration_threshold=2.5)) is None


def test_frustration_can_be_switched_off(settings):
    settings.HANDOFF_FRUSTRATION = False
    assert esc.FRUSTRATION not in esc.get_policy().enabled
    assert esc.before_answer("this is useless!!!", []) is None
    settings.HANDOFF_FRUSTRATION = True
    settings.HANDOFF_FRUSTRATION_THRESHOLD = 3.0
    policy = esc.get_policy()
    assert policy.frustration_threshold == 3.0
    assert esc.before_answer("this is useless", []) is None  # 2.0 < 3.0
    assert esc.before_answer("this is useless!!!", []).kind == esc.FRUSTRATION

"""The bot going in circles: the customer asks the same thing again in other words and
gets the same FAQ again. A follow-up that the same FAQ answers ("and can I tumble dry
it?") is not circling."""

from __future__ import annotations

from dataclasses import replace

from chatbot import escalation as esc
from chatbot.escalation import AGENT, BOT, CUSTOMER, Turn

POLICY = esc.EscalationPolicy(circling=2, circling_similarity=0.5, confidence_threshold=0.5)


def ask(question: str, cited: tuple[int, ...], confidence: float = 0.8, feedback=None):
    return [
        Turn(CUSTOMER, question),
        Turn(BOT, "…", confidence=confidence, cited_faq_ids=cited, feedback=feedback),
    ]


def after(text, history, cited=(3,), confidence=0.8, policy=POLICY):
    return esc.after_answer(
        text,
        history,
        confidence=confidence,
        cited_faq_ids=cited,
        policy=policy,
        tags_of=lambda _: {},
    )


def test_the_same_question_in_other_words_and_the_same_faq():
    history = ask("how long do I have to return boots?", (3,))
    trigger = after("how many days do I have to return the boots", history)
    assert trigger.kind == esc.CIRCLING
    assert trigger.detail["faq_id"] == 3 and trigger.detail["times"] == 2
    assert "repeats the earlier one" in trigger.detail["evidence"][0]
    assert trigger.reason.startswith("The bot cited FAQ #3 2 times for the same question")


def test_a_rephrase_marker_is_enough_without_shared_words():
    history = ask("when will I get my refund", (5,))
    trigger = after("I mean, when is the money back on my card?", history, cited=(5,))
    assert trigger.kind == esc.CIRCLING
    assert trigger.detail["evidence"] == ["the customer wrote “i mean”"]


def test_a_thumbs_down_on_the_earlier_answer_is_enough():
    history = ask("delivery time", (4,), feedback=-1)
    trigger = after("how many days until it gets here", history, cited=(4,))
    assert trigger.detail["evidence"] == ["the customer marked the earlier answer unhelpful"]


def test_a_follow_up_the_same_faq_answers_is_not_circling():
    history = ask("how do I wash a down jacket", (9,))
    assert after("can I tumble dry it?", history, cited=(9,)) is None
    assert after("what payment methods", ask("do you take paypal", (9,)), cited=(9,)) is None


def test_a_different_faq_is_not_circling():
    history = ask("how long do I have to return boots?", (3,))
    assert after("how long do I have to return boots, really", history, cited=(8,)) is None


def test_a_low_confidence_answer_cites_nothing_and_is_not_circling():
    history = ask("how long do I have to return boots?", (3,))
    assert after("how long to return boots", history, cited=(3,), confidence=0.2) is None


def test_chinese_rephrase():
    history = ask("退货期限是多久", (11,))
    assert after("我是问收到货以后多少天内还能退", history, cited=(11,)).kind == esc.CIRCLING
    history = ask("怎么查物流", (12,))
    assert after("怎么查询物流信息", history, cited=(12,)).kind == esc.CIRCLING  # shared bigrams
    assert after("积分会过期吗", ask("积分怎么获得", (13,)), cited=(13,)) is None


def test_three_times_policy_needs_two_rephrases():
    policy = replace(POLICY, circling=3)
    history = ask("how do I start a return", (6,))
    assert after("how do I start a return please", history, policy=policy) is None
    history += ask("how do I start a return please", (6,))
    trigger = after("no, I mean how do I start the return", history, cited=(6,), policy=policy)
    assert trigger.detail["times"] == 3 and len(trigger.detail["evidence"]) == 2


def test_a_rephrase_prompt_in_between_is_skipped():
    history = ask("return window for boots", (3,)) + ask("return window boots??", (), 0.2)
    assert after("what's the return window for boots", history).kind == esc.CIRCLING


def test_answers_before_a_handoff_do_not_count():
    history = ask("how long do I have to return boots?", (3,)) + [Turn(AGENT, "back to bot")]
    assert after("how long do I have to return boots", history) is None


def test_the_similarity_knob_and_switching_off(settings):
    history = ask("return window for hiking boots", (3,))
    strict = replace(POLICY, circling_similarity=1.01)  # only markers and thumbs-down count
    assert after("hiking boots return window length", history, policy=strict) is None
    assert after("hiking boots return window length", history).kind == esc.CIRCLING
    settings.HANDOFF_CIRCLING = 0
    policy = esc.get_policy()
    assert esc.CIRCLING not in policy.enabled
    assert after("I mean the return window", history, policy=policy) is None

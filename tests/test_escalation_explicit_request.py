"""A customer who asks for a person gets one, in English and Chinese (Simplified and
Traditional); a question that merely mentions agents, humans or customer service does not
leave the bot."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from chatbot import escalation as esc
from chatbot.escalation_text import explicit_request

POLICY = esc.EscalationPolicy()

ASKS_FOR_A_PERSON = [
    "human",
    "Agent!",
    "AGENT PLEASE",
    "real person please",
    "Representative.",
    "operator",
    "customer service pls",
    "I want to talk to a human",
    "can I speak with someone?",
    "let me chat with a live agent",
    "Please connect me to a representative",
    "transfer me to customer support",
    "put me through to somebody in billing",
    "escalate this to your supervisor",
    "I'd like to speak to a manager about my order",
    "i need a real person to help me",
    "we want an actual human, not a bot",
    "how can I reach a human?",
    "Could I get a live agent?",
    "is there a person I can talk to?",
    "hello?? is anyone there",
    "anybody there?",
    "I don't want to talk to a bot anymore",
    "no more bot answers please",
    "can someone from your team call me?",
    "please have somebody contact me",
    "can you transfer me?",
    "I need help from a real person",
    "ok thanks. Human, please.",
    "Agent pls, 我的订单有问题",
    "why can't I just talk to a person",
]

ZH_ASKS_FOR_A_PERSON = [
    "人工",
    "转人工",
    "转 人工",
    "人工！！",
    "人工客服",
    "真人客服在吗",
    "我要人工服务",
    "请帮我转接人工",
    "能不能转人工？",
    "我想跟真人说话",
    "有人吗？",
    "有人在吗",
    "我不想跟机器人聊",
    "联系客服",
    "叫你们经理来",
    "请让工作人员联系我",
    # Traditional
    "轉人工",
    "真人客服",
    "我要找真人客服",
    "我想和客服人員聯絡",
    "有沒有真人可以幫我",
    "不要機器人，我要人工處理",
]

FALSE_FRIENDS = [
    "can an agent pick up my parcel?",
    "is the support agent feature in my plan?",
    "human resources",
    "who handles human resources questions",
    "my travel agent booked this order, can I change the address?",
    "the delivery agent left my package next door",
    "a customs agent charged me import fees",
    "I spoke to an agent yesterday and she said the refund was processed",
    "your agent on the phone told me returns are free",
    "is the model in the photo a real person?",
    "can someone else pick up my order at the store?",
    "do I need a person at home to sign for the delivery?",
    "I need an agent to pick up my parcel",
    "I bought a gift for someone, how can they return it?",
    "was it human error that I got two boxes?",
    "is the jacket made with human hair?",
    "I don't need a human, just tell me the shipping cost",
    "I'm the person who ordered the blue tent",
    "do you have a sales representative in Canada?",
    "are the photos representative of the colour?",
    "are you a bot?",
    "how do I talk my kids into wearing hiking boots",
    "can I send the gift card to someone by email?",
    "I like people who hike",
]

ZH_FALSE_FRIENDS = [
    "你们用人工智能推荐尺码吗",
    "维修的人工费怎么算",
    "这双靴子是人工皮革吗",
    "人工成本上涨了，你们会涨价吗",
    "人工湖边露营需要什么帐篷",
    "客服说可以退货，退货期限是多久？",
    "客服之前告诉我积分会过期",
    "模特是真人吗",
    "扫地机器人可以退货吗",
    "我是真人，不是机器人，为什么要验证码",
    "有人帮我代收快递可以吗",
    "有没有人买过这款帐篷",
    "不需要人工，告诉我怎么查物流就行",
    "不用转人工了，谢谢",
    "人工智慧產品可以保固多久",
]


@pytest.mark.parametrize("text", ASKS_FOR_A_PERSON + ZH_ASKS_FOR_A_PERSON)
def test_a_request_for_a_person_hands_over(text):
    trigger = esc.before_answer(text, [], policy=POLICY)
    assert trigger is not None and trigger.kind == esc.EXPLICIT_REQUEST, trigger
    assert trigger.reason.startswith("The customer asked for a person: “")
    assert trigger.detail["phrase"] and trigger.detail["phrase"] in trigger.reason
    json.dumps(trigger.detail)


@pytest.mark.parametrize("text", FALSE_FRIENDS + ZH_FALSE_FRIENDS)
def test_a_question_that_mentions_people_is_not_a_request(text):
    assert explicit_request(text) is None
    assert esc.before_answer(text, [], policy=POLICY) is None


def test_the_quoted_phrase_is_what_the_customer_wrote():
    trigger = esc.before_answer("Hi there. Could you connect me with a live agent?", [])
    assert trigger.detail["phrase"] == "connect me with a live agent"
    zh = esc.before_answer("你好，请帮我轉人工，谢谢", [])
    assert zh.detail["phrase"] == "转人工"  # folded to Simplified


def test_a_request_wins_even_in_a_long_message():
    text = "my order NW12345678 " + "has a problem. " * 40 + "Just get me a human."
    assert esc.before_answer(text, [], policy=POLICY).kind == esc.EXPLICIT_REQUEST


def test_requests_are_always_honoured_by_the_default_policy(settings):
    # Every knob that can switch a trigger off leaves explicit requests on.
    settings.HANDOFF_FRUSTRATION = False
    settings.HANDOFF_CIRCLING = 0
    settings.HANDOFF_NEGATIVE_FEEDBACK = 0
    settings.HANDOFF_LOW_CONFIDENCE_MISSES = 0
    settings.HANDOFF_SENSITIVE_TOPICS = []
    settings.HANDOFF_SENSITIVE_KEYWORDS = []
    settings.HANDOFF_SENSITIVE_FAQ_TAGS = []
    policy = esc.get_policy()
    assert policy.enabled == {esc.BUTTON, esc.EXPLICIT_REQUEST}
    assert esc.before_answer("转人工", []).kind == esc.EXPLICIT_REQUEST


def test_only_a_policy_without_the_kind_ignores_requests():
    policy = replace(POLICY, enabled=POLICY.enabled - {esc.EXPLICIT_REQUEST})
    assert esc.before_answer("agent please", [], policy=policy) is None


def test_the_button_is_a_trigger_with_its_own_reason():
    trigger = esc.button()
    assert trigger.kind == esc.BUTTON
    assert trigger.reason == "The customer pressed “Talk to a person”."
    assert trigger.detail == {}

"""How chat code calls the triggers (chatbot/escalation.py decides when; agents.handoff acts):
each trigger kind that reaches the chat hands over with its reason recorded; the bot stays
silent while a person is involved; a hand-back cools automatic triggers down (no loops)."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone

from agents import handoff, states
from agents.models import Handoff
from chatbot import escalation
from chatbot.models import Conversation, Message
from tests.chat_client import inference_idle, open_chat, receive_until
from tests.handoff_helpers import make_agent

pytestmark = pytest.mark.django_db(transaction=True)

S = Conversation.Status


@pytest.fixture(autouse=True)
def _agent_online(settings):
    settings.AGENTS_AUTO_ASSIGN = False
    return make_agent()


def of_type(*types):
    return lambda frame: frame["type"] in types


async def say(comm, text):
    await comm.send_json_to({"type": "customer_message", "text": text})
    return await receive_until(comm, of_type("message_received", "error"))


def test_an_explicit_request_hands_over_before_the_bot_answers(tiny_kb):
    async def scenario():
        comm, greeting = await open_chat()
        await say(comm, "I want to talk to a real person please")
        frames = await receive_until(comm, of_type("status"))
        quiet = await comm.receive_nothing(timeout=1.5)
        await comm.disconnect()
        return greeting, frames, quiet

    greeting, frames, quiet = async_to_sync(scenario)()
    assert frames[-1]["status"] == "waiting"
    assert not any(f["type"] in ("token", "bot_message") for f in frames) and quiet
    conv = Conversation.objects.get(public_id=greeting["conversation_id"])
    h = Handoff.objects.get(conversation=conv)
    assert (h.trigger, h.outcome) == ("explicit_request", "queued")
    assert "real person" in h.reason
    assert not Message.objects.filter(conversation=conv, role=Message.BOT).exists()


def test_a_chinese_request_is_answered_in_chinese(tiny_kb):
    async def scenario():
        comm, greeting = await open_chat()
        await say(comm, "我要转人工")
        frames = await receive_until(comm, of_type("status"))
        await comm.disconnect()
        return frames

    frames = async_to_sync(scenario)()
    notice = next(f for f in frames if f["type"] == "system_message")
    assert "人工客服" in notice["text"] and "分钟" in notice["text"]


def test_low_confidence_after_the_answer_hands_over(tiny_kb):
    # Default policy: the first miss asks the customer to rephrase, the second hands over.
    async def scenario():
        comm, greeting = await open_chat()
        await say(comm, "xyzzy plugh quantum entanglement")
        first = await receive_until(comm, of_type("system_message"))
        await inference_idle()
        await say(comm, "frobnicate the zorkmid")
        frames = await receive_until(comm, of_type("status"))
        await inference_idle()
        await comm.disconnect()
        return greeting, first, frames

    greeting, first, frames = async_to_sync(scenario)()
    assert first[-1]["notice"] == "rephrase"
    assert not any(f["type"] == "status" for f in first)
    types = [f["type"] for f in frames]
    # The customer sees the honest "I won't guess", then the queue notice, in that order.
    assert types.index("bot_message") < types.index("system_message") < types.index("status")
    conv = Conversation.objects.get(public_id=greeting["conversation_id"])
    assert Handoff.objects.get(conversation=conv).trigger == "low_confidence"
    assert conv.status == S.WAITING


def test_repeated_thumbs_down_hand_over(tiny_kb):
    async def scenario():
        comm, greeting = await open_chat()
        answers = []
        for question in ("How do I reset my password?", "How much does standard shipping cost?"):
            await say(comm, question)
            answers.append((await receive_until(comm, of_type("bot_message")))[-1])
            await inference_idle()
        await comm.send_json_to(
            {"type": "feedback", "message_id": answers[0]["message_id"], "value": -1}
        )
        first = await receive_until(comm, of_type("feedback_received", "error"))
        await comm.send_json_to(
            {"type": "feedback", "message_id": answers[1]["message_id"], "value": -1}
        )
        second = await receive_until(comm, of_type("status", "error"))
        await comm.disconnect()
        return greeting, first, second

    greeting, first, second = async_to_sync(scenario)()
    assert first[-1] == {
        "type": "feedback_received",
        "message_id": first[-1]["message_id"],
        "value": -1,
    }
    assert second[-1]["type"] == "status" and second[-1]["status"] == "waiting"
    conv = Conversation.objects.get(public_id=greeting["conversation_id"])
    assert Handoff.objects.get(conversation=conv).trigger == "negative_feedback"
    assert list(conv.messages.filter(role=Message.BOT).values_list("feedback", flat=True)) == [
        -1,
        -1,
    ]


def test_feedback_is_validated():
    async def scenario():
        comm, _ = await open_chat()
        out = []
        for frame in (
            {"type": "feedback", "message_id": "7", "value": 1},
            {"type": "feedback", "message_id": 7, "value": 5},
            {"type": "feedback", "message_id": 7, "value": True},
        ):
            await comm.send_json_to(frame)
            out.append((await comm.receive_json_from(timeout=10))["code"])
        await comm.disconnect()
        return out

    assert async_to_sync(scenario)() == ["invalid_feedback"] * 3


def _trigger(kind: str) -> escalation.Trigger:
    return escalation.Trigger(kind, f"because of {kind}", {"k": kind})


# The trigger kinds of the escalation interface (chatbot/escalation.py).
KINDS = (
    "button",
    "explicit_request",
    "low_confidence",
    "negative_feedback",
    "frustration",
    "circling",
    "sensitive_topic",
)


@pytest.mark.parametrize("kind", KINDS)
def test_every_trigger_kind_is_recorded_with_its_reason(kind):
    conv = Conversation.objects.create(language="en")
    outcome = handoff.request(conv.pk, _trigger(kind))
    assert outcome.result == "queued"
    h = Handoff.objects.get(conversation=conv)
    assert (h.trigger, h.reason, h.detail) == (kind, f"because of {kind}", {"k": kind})
    assert conv.status_changes.get().reason == f"{kind}: because of {kind}"


def test_a_trigger_while_a_person_is_involved_does_nothing():
    conv = Conversation.objects.create()
    handoff.request(conv.pk, _trigger("button"))
    assert handoff.request(conv.pk, _trigger("frustration")).result == "ignored"
    assert Handoff.objects.filter(conversation=conv).count() == 1


def test_after_a_hand_back_automatic_triggers_cool_down_but_asking_still_works(_agent_online):
    maya = _agent_online
    conv = Conversation.objects.create()
    handoff.request(conv.pk, _trigger("low_confidence"))
    states.transition(conv.pk, S.AGENT, agent=maya)
    states.transition(conv.pk, S.BOT, actor=maya)
    for kind in ("low_confidence", "circling", "frustration", "negative_feedback"):
        assert handoff.request(conv.pk, _trigger(kind)).result == "ignored", kind
    assert handoff.request(conv.pk, _trigger("explicit_request")).result == "queued"


def test_nobody_available_is_said_once_not_after_every_answer(settings):
    settings.AGENTS_AUTO_ASSIGN = False
    from agents.models import AgentProfile

    AgentProfile.objects.update(sockets=0)  # the agent went offline
    conv = Conversation.objects.create()
    assert handoff.request(conv.pk, _trigger("low_confidence")).result == "offline"
    assert handoff.request(conv.pk, _trigger("low_confidence")).result == "ignored"
    assert conv.messages.filter(notice="offline").count() == 1
    # The customer asking again is answered again, honestly (but not once per click).
    assert handoff.request(conv.pk, _trigger("button")).result == "ignored"
    Handoff.objects.update(requested_at=timezone.now() - handoff.REPEAT_WINDOW)
    assert handoff.request(conv.pk, _trigger("button")).result == "offline"


def test_the_bot_does_not_answer_a_message_queued_before_an_agent_took_over(monkeypatch):
    from chatbot import replies

    maya = make_agent("sam", name="Sam")
    conv = Conversation.objects.create()
    asked = Message.objects.create(conversation=conv, role=Message.CUSTOMER, text="Hello?")
    handoff.request(conv.pk, _trigger("button"))
    states.transition(conv.pk, S.AGENT, agent=maya)
    called = []
    monkeypatch.setattr("chatbot.replies.answer_question", lambda *a, **k: called.append(a))
    assert replies.run(asked.pk) is None
    assert called == []
    # Its reply is cancelled, never written.
    assert list(Message.objects.filter(role=Message.BOT).values_list("state", flat=True)) == [
        Message.CANCELLED
    ]


def test_turns_hand_the_trigger_module_the_history():
    conv = Conversation.objects.create()
    q = Message.objects.create(conversation=conv, role=Message.CUSTOMER, text="Where is it?")
    Message.objects.create(
        conversation=conv,
        role=Message.BOT,
        text="Here.",
        reply_to=q,
        confidence=0.3,
        escalate=True,
        feedback=-1,
        citations=[{"faq_id": 4, "question": "Q", "url": "u"}],
    )
    Message.objects.create(conversation=conv, role=Message.SYSTEM, text="…", notice="offline")
    later = Message.objects.create(conversation=conv, role=Message.CUSTOMER, text="Again")
    turns = handoff.turns(conv, before=later)
    assert [(t.role, t.text) for t in turns] == [("customer", "Where is it?"), ("bot", "Here.")]
    bot = turns[1]
    assert (bot.confidence, bot.cited_faq_ids, bot.feedback, bot.escalated) == (0.3, (4,), -1, True)

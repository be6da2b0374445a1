"""The agent's extractive summary: the customer's own words and what the bot did, nothing
invented; and the honest wait estimate."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from agents import assignment, states, summary
from agents.models import Handoff
from chatbot.models import Conversation, Message
from tests.handoff_helpers import make_agent

pytestmark = pytest.mark.django_db


def _conv(*turns) -> Conversation:
    conv = Conversation.objects.create()
    for role, text, extra in turns:
        Message.objects.create(conversation=conv, role=role, text=text, **extra)
    return conv


def test_the_summary_quotes_the_customer_and_counts_what_the_bot_did():
    cite = {"faq_id": 1, "question": "How do refunds work?", "url": "https://x/r"}
    conv = _conv(
        (Message.CUSTOMER, "Hello there! My refund for order 88231 has not arrived yet.", {}),
        (Message.BOT, "Refunds take 5 days.", {"citations": [cite], "confidence": 0.8}),
        (Message.CUSTOMER, "ok", {}),
        (Message.CUSTOMER, "The refund still is not on my card, order 88231.", {}),
        (Message.BOT, "I won't guess.", {"escalate": True, "confidence": 0.2, "feedback": -1}),
    )
    h = Handoff(trigger="frustration", reason="The customer sounds frustrated.")
    lines = summary.summarize(list(conv.messages.all()), [h])
    assert lines[0] == "Asked: My refund for order 88231 has not arrived yet."  # not the greeting
    also = [line for line in lines if line.startswith("Also said: ")]
    assert also and all(
        line.removeprefix("Also said: ") in " ".join(m.text for m in conv.messages.all())
        for line in also
    )
    assert any("88231" in line for line in also)  # the order number surfaces
    assert "Assistant answered from: How do refunds work?" in lines
    assert "Assistant could not answer 1 question." in lines
    assert "Customer marked 1 answer unhelpful." in lines
    assert lines[-1] == "Handed over: The customer sounds frustrated."


def test_chinese_text_is_summarised_too():
    conv = _conv(
        (Message.CUSTOMER, "我的订单还没到。", {}),
        (Message.CUSTOMER, "订单号是 12345，已经两周了。", {}),
    )
    lines = summary.summarize(list(conv.messages.all()), [])
    assert lines[0] == "Asked: 我的订单还没到。"
    assert "Also said: 订单号是 12345，已经两周了。" in lines


def test_an_empty_conversation_says_so():
    assert summary.summarize([], []) == ["The customer has not written anything yet."]


def _queue(n: int) -> list[Conversation]:
    out = []
    for _ in range(n):
        conv = Conversation.objects.create()
        out.append(states.transition(conv.pk, Conversation.Status.WAITING).conversation)
    return out


def test_with_free_seats_the_wait_is_the_usual_time_to_accept():
    make_agent(max_concurrent=2)
    (conv,) = _queue(1)
    assert assignment.estimate_minutes(conv, None) == 1  # the default: a minute
    now = timezone.now()
    for minutes in (3, 4, 5):
        Handoff.objects.create(
            conversation=conv,
            trigger="button",
            reason="r",
            outcome="queued",
            accepted_at=now,
        )
        Handoff.objects.filter(accepted_at=now).update(
            requested_at=now - timedelta(minutes=minutes)
        )
        now += timedelta(seconds=1)
    assert assignment.estimate_minutes(conv, None) == 4  # the median of 3, 4 and 5


def test_a_busy_team_makes_the_queue_wait_for_chats_to_end():
    maya = make_agent(max_concurrent=1)
    Conversation.objects.create(status=Conversation.Status.AGENT, assigned_agent=maya)
    queue = _queue(3)
    # No history: 1 min to accept + 6 min per chat ahead, one agent.
    assert [assignment.estimate_minutes(c, None) for c in queue] == [7, 13, 19]

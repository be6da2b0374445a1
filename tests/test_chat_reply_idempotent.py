"""Producing the bot's reply is idempotent, yet a reply orphaned by a dead worker recovers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from chatbot import conversations
from chatbot.answering import Answer
from chatbot.models import Conversation, Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake_answer(monkeypatch):
    calls: list[str] = []

    def answer_question(question, on_token=None):
        calls.append(question)
        if on_token:
            on_token("Within 30 days.")
        return Answer(
            "Within 30 days.",
            [{"faq_id": 1, "question": "Q", "url": "https://x/"}],
            0.9,
            escalate=False,
        )

    monkeypatch.setattr("chatbot.answering.answer_question", answer_question)
    return calls


def _asked(text: str = "How long do I have to return an item?") -> Message:
    conv = Conversation.objects.create()
    return Message.objects.create(conversation=conv, role=Message.CUSTOMER, text=text)


def _reply_in_state(asked: Message, state: str, age: timedelta) -> Message:
    reply = Message.objects.create(
        conversation=asked.conversation, role=Message.BOT, reply_to=asked, state=state
    )
    Message.objects.filter(pk=reply.pk).update(created_at=timezone.now() - age)
    return reply


def test_a_second_run_for_the_same_message_does_nothing(
    fake_answer, django_capture_on_commit_callbacks
):
    asked = _asked()
    with django_capture_on_commit_callbacks(execute=True):
        first = conversations.run_reply(asked.pk)
        second = conversations.run_reply(asked.pk)

    assert fake_answer == [asked.text]
    assert first.pk == second.pk
    assert Message.objects.filter(role=Message.BOT).count() == 1
    first.refresh_from_db()
    assert (first.state, first.text, first.confidence) == (Message.COMPLETE, "Within 30 days.", 0.9)


def test_a_reply_streaming_right_now_is_left_alone(fake_answer):
    asked = _asked()
    running = _reply_in_state(asked, Message.STREAMING, timedelta(seconds=20))

    assert conversations.run_reply(asked.pk).pk == running.pk
    assert fake_answer == []
    running.refresh_from_db()
    assert running.state == Message.STREAMING


@pytest.mark.parametrize(
    "state, age",
    [
        (Message.STREAMING, conversations.STALE_STREAMING + timedelta(minutes=1)),
        (Message.FAILED, timedelta(seconds=5)),
    ],
)
def test_an_orphaned_or_failed_reply_is_produced_again(
    fake_answer, state, age, django_capture_on_commit_callbacks
):
    asked = _asked()
    stuck = _reply_in_state(asked, state, age)
    with django_capture_on_commit_callbacks(execute=True):
        reply = conversations.run_reply(asked.pk)

    assert fake_answer == [asked.text]
    assert reply.pk == stuck.pk
    assert (reply.state, reply.text) == (Message.COMPLETE, "Within 30 days.")
    assert Message.objects.filter(role=Message.BOT).count() == 1


def test_a_failing_generation_marks_the_reply_failed(monkeypatch):
    def broken(question, on_token=None):
        raise RuntimeError("model crashed")

    monkeypatch.setattr("chatbot.answering.answer_question", broken)
    asked = _asked()

    assert conversations.run_reply(asked.pk) is None
    reply = Message.objects.get(role=Message.BOT)
    assert reply.state == Message.FAILED
    # A failed reply is not replayed to the customer as an empty bot message.
    assert [m["role"] for m in conversations.history(asked.conversation)] == ["customer"]


def test_an_escalated_answer_queues_the_conversation_for_an_agent(
    monkeypatch, django_capture_on_commit_callbacks, settings
):
    from tests.handoff_helpers import make_agent

    settings.AGENTS_AUTO_ASSIGN = False
    settings.HANDOFF_LOW_CONFIDENCE_MISSES = 1  # hand over on the first miss
    make_agent()  # online and available, so the low-confidence trigger can queue it
    monkeypatch.setattr(
        "chatbot.answering.answer_question",
        lambda q, on_token=None: Answer("Handing over.", [], 0.1, escalate=True),
    )
    asked = _asked("xyzzy")
    with django_capture_on_commit_callbacks(execute=True):
        reply = conversations.run_reply(asked.pk)

    assert reply.escalate is True
    asked.conversation.refresh_from_db()
    assert asked.conversation.status == Conversation.Status.WAITING
    assert asked.conversation.handoffs.get().trigger == "low_confidence"
    replay = conversations.history(asked.conversation)
    assert [(m["role"], m["escalate"]) for m in replay] == [
        ("customer", False),
        ("bot", True),
        ("system", False),
    ]
    assert replay[-1]["notice"] == "queued"


def test_a_deleted_message_is_skipped(fake_answer):
    assert conversations.run_reply(10**9) is None
    assert fake_answer == []

"""Producing the bot's reply is idempotent, yet a reply orphaned by a dead worker recovers:
claims, heartbeats, takeover, and exactly one final message (chatbot/replies.py)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from chatbot import conversations, replies
from chatbot.answering import Answer, AnswerCancelled
from chatbot.models import Conversation, Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(monkeypatch) -> list[dict]:
    """What customers' sockets receive (agents' consoles get events of their own)."""
    sent: list[dict] = []

    def publish(group, payload, **kw):
        if group.startswith("conv."):
            sent.append(payload)

    monkeypatch.setattr("chatbot.events.publish", publish)
    return sent


@pytest.fixture
def fake_answer(monkeypatch):
    calls: list[str] = []

    def answer_question(question, on_token=None, *, should_stop=None, deadline=None):
        calls.append(question)
        if on_token:
            on_token("Within 30 days.")
        return Answer(
            "Within 30 days.",
            [{"faq_id": 1, "question": "Q", "url": "https://x/"}],
            0.9,
            escalate=False,
        )

    monkeypatch.setattr("chatbot.replies.answer_question", answer_question)
    return calls


def _asked(text: str = "How long do I have to return an item?") -> Message:
    conv = Conversation.objects.create()
    return Message.objects.create(conversation=conv, role=Message.CUSTOMER, text=text)


def _reply_in_state(asked: Message, state: str, beat_ago: timedelta, attempt: int = 1) -> Message:
    return Message.objects.create(
        conversation=asked.conversation,
        role=Message.BOT,
        reply_to=asked,
        state=state,
        attempt=attempt,
        heartbeat_at=timezone.now() - beat_ago,
    )


def test_a_second_run_for_the_same_message_does_nothing(
    fake_answer, published, django_capture_on_commit_callbacks
):
    asked = _asked()
    with django_capture_on_commit_callbacks(execute=True):
        first = replies.run(asked.pk)
        second = replies.run(asked.pk)

    assert fake_answer == [asked.text]
    assert second is None
    assert Message.objects.filter(role=Message.BOT).count() == 1
    first.refresh_from_db()
    assert (first.state, first.text, first.confidence, first.attempt) == (
        Message.COMPLETE,
        "Within 30 days.",
        0.9,
        1,
    )
    assert [p["type"] for p in published] == ["token", "bot_message"]
    assert published[0]["attempt"] == 1


def test_a_pending_reply_is_claimed_once(
    fake_answer, published, django_capture_on_commit_callbacks
):
    asked = _asked()
    pending = _reply_in_state(asked, Message.PENDING, timedelta(0), attempt=0)
    with django_capture_on_commit_callbacks(execute=True):
        reply = replies.run(asked.pk)
    assert reply.pk == pending.pk and reply.attempt == 1 and reply.state == Message.COMPLETE
    assert "reply_restart" not in [p["type"] for p in published]


def test_a_reply_whose_worker_is_beating_is_left_alone(fake_answer):
    asked = _asked()
    running = _reply_in_state(asked, Message.STREAMING, timedelta(seconds=2))

    assert replies.run(asked.pk) is None
    assert fake_answer == []
    running.refresh_from_db()
    assert (running.state, running.attempt) == (Message.STREAMING, 1)


def test_a_reply_whose_worker_stopped_beating_is_taken_over(
    fake_answer, published, settings, django_capture_on_commit_callbacks
):
    asked = _asked()
    stuck = _reply_in_state(asked, Message.STREAMING, timedelta(seconds=settings.REPLY_STALE_S + 1))
    with django_capture_on_commit_callbacks(execute=True):
        reply = replies.run(asked.pk)

    assert fake_answer == [asked.text]
    assert reply.pk == stuck.pk
    assert (reply.state, reply.text, reply.attempt) == (Message.COMPLETE, "Within 30 days.", 2)
    # The client is told to drop the dead attempt's partial text before the new tokens.
    assert [p["type"] for p in published] == ["reply_restart", "token", "bot_message"]
    assert published[0] == {"type": "reply_restart", "message_id": reply.pk, "attempt": 2}
    assert published[1]["attempt"] == 2


def test_a_failed_reply_is_produced_again(fake_answer, django_capture_on_commit_callbacks):
    asked = _asked()
    failed = _reply_in_state(asked, Message.FAILED, timedelta(seconds=5))
    with django_capture_on_commit_callbacks(execute=True):
        reply = replies.run(asked.pk)
    assert (reply.pk, reply.state, reply.attempt) == (failed.pk, Message.COMPLETE, 2)


def test_a_worker_that_lost_its_claim_writes_and_publishes_nothing(
    published, django_capture_on_commit_callbacks
):
    asked = _asked()
    _reply_in_state(asked, Message.PENDING, timedelta(0), attempt=0)
    first = replies.claim(asked.pk)
    # It stalls; the watchdog hands the reply back and another worker claims it.
    Message.objects.filter(pk=first.reply_id).update(
        heartbeat_at=timezone.now() - timedelta(minutes=5)
    )
    assert replies.requeue_stale() == [asked.pk]
    assert replies.requeue_stale() == []  # handed out once, however many watchdogs
    second = replies.claim(asked.pk)
    assert (first.attempt, second.attempt) == (1, 2)

    late = Answer("stale words", [], 0.9, escalate=False)
    fresh = Answer("fresh words", [], 0.9, escalate=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert replies.finish(first, late) is None
        assert replies.finish(second, fresh).text == "fresh words"
        assert replies.finish(second, late) is None  # and only once
    assert [p["text"] for p in published if p["type"] == "bot_message"] == ["fresh words"]


@pytest.mark.django_db(transaction=True)  # the heartbeat writes from its own thread
def test_the_heartbeat_keeps_a_claim_fresh_and_notices_losing_it(settings):
    settings.REPLY_HEARTBEAT_S = 0.05
    asked = _asked()
    held = replies.claim(asked.pk)
    Message.objects.filter(pk=held.reply_id).update(
        heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    with replies.Heartbeat(held) as beat:
        time.sleep(0.3)
        assert Message.objects.get(pk=held.reply_id).heartbeat_at > timezone.now() - timedelta(
            seconds=5
        )
        assert not beat.lost.is_set()
        Message.objects.filter(pk=held.reply_id).update(state=Message.CANCELLED)
        assert beat.lost.wait(2)


def test_a_failing_generation_marks_the_reply_failed(monkeypatch, published):
    def broken(question, on_token=None, **kwargs):
        raise RuntimeError("model crashed")

    monkeypatch.setattr("chatbot.replies.answer_question", broken)
    asked = _asked()

    assert replies.run(asked.pk) is None
    reply = Message.objects.get(role=Message.BOT)
    assert reply.state == Message.FAILED
    assert published[-1]["code"] == "generation_failed"
    from chatbot import conversations

    # A failed reply is not replayed to the customer as an empty bot message.
    assert [m["role"] for m in conversations.history(asked.conversation)] == ["customer"]


def test_an_escalated_answer_queues_the_conversation_for_an_agent(
    monkeypatch, published, django_capture_on_commit_callbacks, settings
):
    from tests.handoff_helpers import make_agent

    settings.AGENTS_AUTO_ASSIGN = False
    settings.HANDOFF_LOW_CONFIDENCE_MISSES = 1  # hand over on the first miss
    make_agent()  # online and available, so the low-confidence trigger can queue it
    monkeypatch.setattr(
        "chatbot.replies.answer_question",
        lambda q, on_token=None, **kw: Answer("Handing over.", [], 0.1, escalate=True),
    )
    asked = _asked("xyzzy")
    with django_capture_on_commit_callbacks(execute=True):
        reply = replies.run(asked.pk)

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
    assert replies.run(10**9) is None
    assert fake_answer == []


@pytest.mark.django_db(transaction=True)
def test_cancelling_stops_a_generation_in_progress(monkeypatch, published):
    """should_stop() turns true in this process at once when the reply is cancelled; the
    reply ends CANCELLED with no final message."""
    started = threading.Event()
    stopped_after: list[int] = []

    def slow(question, on_token=None, *, should_stop=None, deadline=None):
        for n in range(500):
            if should_stop():
                stopped_after.append(n)
                raise AnswerCancelled
            on_token("word ")
            started.set()
            time.sleep(0.01)
        return Answer("never", [], 0.9, escalate=False)

    monkeypatch.setattr("chatbot.replies.answer_question", slow)
    asked = _asked()
    _reply_in_state(asked, Message.PENDING, timedelta(0), attempt=0)
    result: list = []
    worker = threading.Thread(target=lambda: result.append(replies.run(asked.pk)))
    worker.start()
    assert started.wait(10)
    assert replies.cancel_unfinished(asked.conversation_id, "superseded")
    worker.join(10)

    assert result == [None]
    assert stopped_after and stopped_after[0] < 100
    reply = Message.objects.get(role=Message.BOT)
    assert reply.state == Message.CANCELLED
    types = [p["type"] for p in published]
    assert "bot_message" not in types
    assert {"type": "reply_cancelled", "message_id": reply.pk, "reason": "superseded"} in published


def test_the_deadline_degrades_to_the_faq_words(tiny_kb, settings):
    """A generation past its deadline stops and the answer is the FAQ's own text."""
    from chatbot.answering import answer_question

    settings.FAKE_TOKEN_DELAY_S = 0.05
    from chatbot.generation import _cache

    _cache.clear()
    pieces: list[str] = []
    try:
        answer = answer_question(
            "How long do I have to return an item?",
            on_token=pieces.append,
            deadline=time.monotonic() + 0.2,
        )
    finally:
        _cache.clear()
    assert answer.outcome == "fallback" and answer.timings.get("timed_out") is True
    assert 1 <= len(pieces) < 10
    assert "You can return unworn items within 30 days" in answer.answer

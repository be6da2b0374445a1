"""Back-pressure: the queue depth is visible; past CHATBOT_QUEUE_WARN_DEPTH the customer is
told the wait and offered a person; at CHATBOT_QUEUE_MAX_DEPTH a new message is refused
with `busy` (the client gives the text back); the embedded queue is bounded, and a reply
that finds it full fails visibly. Also: a newer message cancels the reply in progress."""

from __future__ import annotations

import queue

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from chatbot import inference
from chatbot.models import Message
from tests.chat_client import open_chat

pytestmark = pytest.mark.django_db(transaction=True)  # the consumer's ORM runs in a thread


@pytest.fixture
def undispatched(monkeypatch) -> list[int]:
    """Replies stay PENDING: nothing serves the queue in these tests."""
    calls: list[int] = []
    monkeypatch.setattr("chatbot.conversations.dispatch_reply", calls.append)
    return calls


async def say(comm: WebsocketCommunicator, text: str) -> list[dict]:
    """Send a message; every frame until its message_received or refusal, and a moment more."""
    await comm.send_json_to({"type": "customer_message", "text": text})
    frames = [await comm.receive_json_from(timeout=10)]
    while frames[-1]["type"] not in ("message_received", "error"):
        frames.append(await comm.receive_json_from(timeout=10))
    while not await comm.receive_nothing(timeout=0.2):
        frames.append(await comm.receive_json_from(timeout=1))
    return frames


def received(frames: list[dict]) -> int:
    return next(f["message_id"] for f in frames if f["type"] == "message_received")


def test_past_the_warn_depth_the_customer_is_told_the_wait(settings, undispatched):
    settings.QUEUE_WARN_DEPTH = 2
    settings.QUEUE_MAX_DEPTH = 4

    async def scenario():
        results = []
        for n in range(5):  # five customers, one question each
            comm, _ = await open_chat()
            results.append(await say(comm, f"question {n}"))
            await comm.disconnect()
        return results

    results = async_to_sync(scenario)()
    types = [[f["type"] for f in frames] for frames in results]
    # 0 and 1 ahead: no notice; 2 and 3 ahead: told the wait; the fifth is refused.
    assert types[0] == types[1] == ["message_received"]
    for frames in results[2:4]:
        notice = next(f for f in frames if f["type"] == "queue_status")
        assert notice["offer_human"] is True and notice["estimated_wait_s"] >= 1
        assert notice["position"] == results.index(frames)
        bot_reply = Message.objects.get(reply_to_id=received(frames))
        assert notice["message_id"] == bot_reply.pk
    refused = results[4][-1]
    assert refused["type"] == "error" and refused["code"] == "busy"
    assert refused["retry_after"] >= 1 and "ask for a person" in refused["detail"]
    # Nothing of the refused message was stored; the accepted ones are all still waiting.
    assert Message.objects.filter(role=Message.CUSTOMER).count() == 4
    assert len(undispatched) == 4

    status = Client().get("/healthz/pool").json()
    assert status["queue_depth"] == 4 and status["queue_max_depth"] == 4


def test_the_embedded_queue_is_bounded_and_a_full_queue_fails_visibly(
    settings, monkeypatch, undispatched
):
    settings.INFERENCE_MODE = "inline"
    full: queue.Queue[int] = queue.Queue(maxsize=1)
    full.put(-1)  # a job nobody serves
    monkeypatch.setattr(inference, "_queue", full)

    async def scenario():
        comm, _ = await open_chat()
        frames = await say(comm, "how do I return boots?")
        # The reply is accepted, then finds the queue full (a race past the depth check).
        await sync_to_async(inference.submit_reply)(received(frames))
        error = await comm.receive_json_from(timeout=10)
        await comm.disconnect()
        return frames, error

    frames, error = async_to_sync(scenario)()
    assert [f["type"] for f in frames] == ["message_received"]
    assert error["type"] == "error" and error["code"] == "busy" and error["retry_after"] >= 1
    reply = Message.objects.get(role=Message.BOT)
    assert reply.state == Message.FAILED
    assert full.qsize() == 1  # nothing was queued past the bound


def test_the_embedded_queue_is_created_with_the_configured_bound(settings, monkeypatch):
    settings.QUEUE_MAX_DEPTH = 7
    monkeypatch.setattr(inference, "_queue", None)
    monkeypatch.setattr(
        inference.threading,
        "Thread",
        lambda *a, **kw: type("T", (), {"start": lambda self: None})(),
    )
    assert inference._inline_queue().maxsize == 7


def test_a_newer_message_cancels_the_reply_in_progress(undispatched):
    async def scenario():
        comm, _ = await open_chat()
        first = await say(comm, "how do I return boots?")
        second = await say(comm, "actually, what does shipping cost?")
        await comm.disconnect()
        return first, second

    first, second = async_to_sync(scenario)()
    first_reply = Message.objects.get(reply_to_id=received(first))
    second_reply = Message.objects.get(reply_to_id=received(second))
    assert {
        "type": "reply_cancelled",
        "message_id": first_reply.pk,
        "reason": "superseded",
    } in second
    assert (first_reply.state, second_reply.state) == (Message.CANCELLED, Message.PENDING)

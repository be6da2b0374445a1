"""A conversation may send at most CHATBOT_MESSAGES_PER_MINUTE customer messages in any
rolling 60 s, counted from the database; one more is refused before anything is stored
or any reply is dispatched, with a `retry_after` the client can show."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.db.models import F
from django.utils import timezone

from chatbot import conversations
from chatbot.models import Conversation, Message
from tests.chat_client import open_chat

pytestmark = pytest.mark.django_db(transaction=True)  # the consumer's ORM runs in a thread

LIMIT = 3


@pytest.fixture
def dispatched(settings, monkeypatch) -> list[int]:
    """A small limit, and reply jobs recorded instead of run: this file is about whether a
    reply is dispatched, not about the reply."""
    settings.MESSAGES_PER_MINUTE = LIMIT
    calls: list[int] = []
    monkeypatch.setattr("chatbot.conversations.dispatch_reply", calls.append)
    return calls


async def say(comm: WebsocketCommunicator, text: str) -> dict:
    """Send one customer message; the server's answer to it (received or error)."""
    await comm.send_json_to({"type": "customer_message", "text": text})
    while True:
        # Each new message supersedes the (undispatched) reply to the previous one.
        frame = await comm.receive_json_from(timeout=10)
        if frame["type"] != "reply_cancelled":
            return frame


def stored_texts(public_id: str) -> list[str]:
    return list(
        Message.objects.filter(conversation__public_id=public_id, role=Message.CUSTOMER)
        .order_by("id")
        .values_list("text", flat=True)
    )


def age_messages(public_id: str, seconds: float) -> None:
    """Move a conversation's messages into the past, instead of sleeping through a window."""
    Message.objects.filter(conversation__public_id=public_id).update(
        created_at=F("created_at") - timedelta(seconds=seconds)
    )


def test_one_message_over_the_limit_is_refused_and_not_stored(dispatched):
    async def scenario():
        comm, hello = await open_chat()
        replies = [await say(comm, f"question {n}") for n in range(LIMIT + 1)]
        # A message wrong in itself is still judged on its own, without a retry_after.
        empty = await say(comm, "   ")
        await comm.disconnect()
        return hello, replies, empty

    hello, replies, empty = async_to_sync(scenario)()

    accepted, refused = replies[:LIMIT], replies[LIMIT]
    assert [r["type"] for r in accepted] == ["message_received"] * LIMIT
    assert refused["type"] == "error" and refused["code"] == "rate_limited"
    retry_after = refused["retry_after"]
    assert isinstance(retry_after, int) and 1 <= retry_after <= 60
    assert f"at most {LIMIT} a minute" in refused["detail"]
    assert f"wait {retry_after} second" in refused["detail"]
    # Nothing of the refused message was stored, and no reply was dispatched for it.
    assert stored_texts(hello["conversation_id"]) == [f"question {n}" for n in range(LIMIT)]
    assert dispatched == [r["message_id"] for r in accepted]
    assert empty["code"] == "empty_message" and "retry_after" not in empty


def test_another_conversation_is_not_affected(dispatched):
    async def scenario():
        busy, _ = await open_chat()
        for n in range(LIMIT):
            assert (await say(busy, f"question {n}"))["type"] == "message_received"
        assert (await say(busy, "one too many"))["code"] == "rate_limited"
        other, _ = await open_chat()
        reply = await say(other, "a different customer")
        await busy.disconnect()
        await other.disconnect()
        return reply

    assert async_to_sync(scenario)()["type"] == "message_received"
    assert len(dispatched) == LIMIT + 1


def test_every_socket_of_a_conversation_shares_one_budget(dispatched):
    # Counted from the database, not per socket or per process: a second tab (or a second
    # web process) on the same conversation does not get a fresh allowance.
    async def scenario():
        first, hello = await open_chat()
        for n in range(LIMIT):
            assert (await say(first, f"question {n}"))["type"] == "message_received"
        await first.disconnect()
        second, again = await open_chat(f"conversation={hello['conversation_id']}")
        assert again["conversation_id"] == hello["conversation_id"]
        reply = await say(second, "from another tab")
        await second.disconnect()
        return reply

    reply = async_to_sync(scenario)()
    assert reply["code"] == "rate_limited" and reply["retry_after"] >= 1
    assert len(dispatched) == LIMIT


def test_a_message_is_accepted_again_once_the_window_has_passed(dispatched):
    async def scenario(public_id: str | None = None):
        comm, hello = await open_chat(f"conversation={public_id}" if public_id else "")
        replies = [await say(comm, f"question {n}") for n in range(LIMIT + 1)]
        await comm.disconnect()
        return hello["conversation_id"], replies

    public_id, replies = async_to_sync(scenario)()
    assert replies[-1]["code"] == "rate_limited"

    age_messages(public_id, 61)
    same_id, replies = async_to_sync(scenario)(public_id)

    assert same_id == public_id
    assert [r["type"] for r in replies[:LIMIT]] == ["message_received"] * LIMIT
    assert replies[LIMIT]["code"] == "rate_limited"
    assert len(stored_texts(public_id)) == 2 * LIMIT
    assert len(dispatched) == 2 * LIMIT


def _conversation_with_messages_aged(ages_s: list[float]) -> uuid.UUID:
    conv = Conversation.objects.create()
    now = timezone.now()
    for n, age in enumerate(ages_s):
        msg = Message.objects.create(conversation=conv, role=Message.CUSTOMER, text=f"m{n}")
        Message.objects.filter(pk=msg.pk).update(created_at=now - timedelta(seconds=age))
    return conv.public_id


def test_the_window_rolls_and_retry_after_counts_to_the_next_free_slot(dispatched):
    public_id = _conversation_with_messages_aged([50, 30, 10])
    with pytest.raises(conversations.MessageRejected) as refused:
        conversations.add_customer_message(public_id, "too soon")
    # The message from 50 s ago leaves the window in 10 s; that frees the slot.
    assert refused.value.code == "rate_limited"
    assert refused.value.retry_after in (9, 10)

    # Only messages inside the last 60 s count.
    fresh_enough = _conversation_with_messages_aged([61, 30, 10])
    assert conversations.add_customer_message(fresh_enough, "fine").text == "fine"
    # Bot and agent messages don't count against the customer.
    conv = Conversation.objects.get(public_id=public_id)
    Message.objects.filter(conversation=conv).update(role=Message.BOT)
    assert conversations.add_customer_message(public_id, "now fine").text == "now fine"


def test_a_lowered_limit_applies_to_conversations_already_over_it(dispatched, settings):
    public_id = _conversation_with_messages_aged([40, 30, 20])
    settings.MESSAGES_PER_MINUTE = 1
    with pytest.raises(conversations.MessageRejected) as refused:
        conversations.add_customer_message(public_id, "hello")
    # Waiting for the newest message to age out is what frees a slot under a limit of 1.
    assert refused.value.retry_after in (39, 40)

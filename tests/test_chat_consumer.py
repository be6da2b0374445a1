"""The customer websocket, in-process: the real ASGI app, consumer, conversation domain,
inline inference thread, retrieval and the streaming fake generator (embedded settings)."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator

from chatbot.models import Conversation, Message
from tests.chat_client import open_chat

pytestmark = pytest.mark.django_db(transaction=True)  # replies are written by another thread

RETURNS_URL = "https://shop.example/help/returns#return-window"


async def receive_until_bot_message(comm: WebsocketCommunicator, timeout: float = 20) -> list[dict]:
    frames: list[dict] = []
    while not frames or frames[-1]["type"] not in ("bot_message", "error"):
        frames.append(await comm.receive_json_from(timeout=timeout))
    return frames


def test_a_question_streams_tokens_then_a_cited_answer(tiny_kb):
    faq = tiny_kb[RETURNS_URL]

    async def scenario():
        comm, hello = await open_chat()
        assert hello["messages"] == []
        await comm.send_json_to(
            {"type": "customer_message", "text": "How long do I have to return an item?"}
        )
        received = await comm.receive_json_from(timeout=10)
        assert received["type"] == "message_received"
        assert isinstance(received["reply_id"], int)
        first_token = await comm.receive_json_from(timeout=20)
        assert first_token["type"] == "token"
        # The customer's message was committed before the bot said a word.
        stored = await sync_to_async(
            lambda: list(Message.objects.filter(role=Message.CUSTOMER).values_list("pk", "text"))
        )()
        assert stored == [(received["message_id"], "How long do I have to return an item?")]
        rest = await receive_until_bot_message(comm)
        await comm.disconnect()
        return hello, received, [first_token, *rest]

    hello, received, frames = async_to_sync(scenario)()
    tokens, final = frames[:-1], frames[-1]
    assert final["type"] == "bot_message"
    assert len(tokens) >= 1 and {t["type"] for t in tokens} == {"token"}
    assert {t["message_id"] for t in tokens} == {final["message_id"]}
    assert final["message_id"] != received["message_id"]
    assert "30 days" in final["text"]
    assert final["escalate"] is False
    assert 0.0 <= final["confidence"] <= 1.0
    assert final["citations"] == [{"faq_id": faq.pk, "question": faq.question, "url": RETURNS_URL}]
    # Tokens carry verified sentences only: what streamed is exactly the final answer.
    assert "".join(t["text"] for t in tokens) == final["text"]

    reply = Message.objects.get(pk=final["message_id"])
    assert (reply.role, reply.state, reply.reply_to_id) == (
        Message.BOT,
        Message.COMPLETE,
        received["message_id"],
    )
    assert reply.citations == final["citations"]
    conv = Conversation.objects.get(public_id=hello["conversation_id"])
    assert conv.status == Conversation.Status.BOT


def test_a_question_the_help_center_does_not_cover_is_handed_over_honestly(tiny_kb):
    # No agent is online: the customer is told so, never promised a transfer. The default
    # policy asks to rephrase after the first miss and hands over after the second.
    async def scenario():
        comm, hello = await open_chat()
        await comm.send_json_to(
            {"type": "customer_message", "text": "xyzzy plugh quantum entanglement"}
        )
        await receive_until_bot_message(comm)
        rephrase = await comm.receive_json_from(timeout=10)
        await comm.send_json_to({"type": "customer_message", "text": "frobnicate the zorkmid"})
        frames = await receive_until_bot_message(comm)
        notice = await comm.receive_json_from(timeout=10)
        offer = await comm.receive_json_from(timeout=10)
        await comm.disconnect()
        return hello, rephrase, frames, notice, offer

    hello, rephrase, frames, notice, offer = async_to_sync(scenario)()
    assert rephrase["type"] == "system_message" and rephrase["notice"] == "rephrase"
    final = frames[-1]
    assert final["type"] == "bot_message"
    assert final["escalate"] is True
    assert final["citations"] == []
    assert final["confidence"] < 0.5
    assert "won't guess" in final["text"]
    assert notice["type"] == "system_message" and notice["notice"] == "offline"
    assert "nobody from our team is available" in notice["text"]
    assert "will join" not in notice["text"]
    assert offer == {"type": "handoff_unavailable", "reason": "no_agents", "next_open": None}
    conv = Conversation.objects.get(public_id=hello["conversation_id"])
    assert conv.status == Conversation.Status.BOT
    assert conv.handoffs.get().outcome == "offline"


def test_reconnecting_with_the_conversation_id_replays_the_history(tiny_kb):
    async def scenario():
        comm, hello = await open_chat()
        await comm.send_json_to({"type": "customer_message", "text": "I forgot my password"})
        frames = await receive_until_bot_message(comm)
        await comm.disconnect()
        again, replay = await open_chat(f"conversation={hello['conversation_id']}")
        await again.disconnect()
        fresh, other = await open_chat("conversation=not-a-uuid")
        await fresh.disconnect()
        return hello, frames[-1], replay, other

    hello, final, replay, other = async_to_sync(scenario)()
    assert replay["conversation_id"] == hello["conversation_id"]
    assert [(m["role"], m["text"]) for m in replay["messages"]] == [
        ("customer", "I forgot my password"),
        ("bot", final["text"]),
    ]
    assert replay["messages"][1]["citations"] == final["citations"]
    assert [(m["state"], m["escalate"]) for m in replay["messages"]] == [
        ("complete", False),
        ("complete", False),
    ]
    # An unknown id starts a new conversation instead of failing.
    assert other["conversation_id"] != hello["conversation_id"]
    assert other["messages"] == []


def test_two_conversations_do_not_see_each_others_tokens(tiny_kb):
    async def scenario():
        alice, _ = await open_chat()
        bob, _ = await open_chat()
        await alice.send_json_to(
            {"type": "customer_message", "text": "How much does standard shipping cost?"}
        )
        frames = await receive_until_bot_message(alice)
        await asyncio.sleep(0.2)
        bob_heard = await bob.receive_nothing(timeout=0.5)
        await alice.disconnect()
        await bob.disconnect()
        return frames, bob_heard

    frames, bob_heard = async_to_sync(scenario)()
    assert frames[-1]["type"] == "bot_message"
    assert bob_heard is True


def test_a_chinese_question_gets_a_chinese_hand_off_unescaped_on_the_wire(tiny_kb):
    # The English-only knowledge base cannot answer it; the reply is readable Chinese.
    async def scenario():
        comm, _ = await open_chat()
        await comm.send_json_to({"type": "customer_message", "text": "退货要多久？"})
        raw = []
        while True:
            text = await comm.receive_from(timeout=20)
            raw.append(text)
            if json.loads(text)["type"] in ("bot_message", "error"):
                break
        await comm.disconnect()
        return raw

    raw = async_to_sync(scenario)()
    final = json.loads(raw[-1])
    assert final["type"] == "bot_message" and final["escalate"] is True
    assert "不会猜测" in raw[-1]  # the Chinese hand-off text, unescaped
    assert "\\u" not in raw[-1]


def test_a_reply_still_streaming_is_replayed_as_streaming(tiny_kb):
    # A customer who reconnects mid-answer must be told the answer is still coming, so the
    # client keeps one bubble for the remaining tokens.
    conv = Conversation.objects.create()
    asked = Message.objects.create(conversation=conv, role=Message.CUSTOMER, text="Hi?")
    Message.objects.create(
        conversation=conv, role=Message.BOT, reply_to=asked, state=Message.STREAMING
    )
    Message.objects.create(conversation=conv, role=Message.CUSTOMER, text="Dropped reply?")

    async def scenario():
        comm, hello = await open_chat(f"conversation={conv.public_id}")
        await comm.disconnect()
        return hello

    hello = async_to_sync(scenario)()
    assert [(m["role"], m["state"]) for m in hello["messages"]] == [
        ("customer", "complete"),
        ("bot", "streaming"),
        ("customer", "complete"),
    ]

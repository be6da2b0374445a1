"""Customer and agent sockets in-process, on the real consumers, the inline inference thread
and the tiny knowledge base: ask for a person, accept, talk both ways with typing, hand
back (and the bot answers again), resolve, rate."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from agents.models import CsatRating, Handoff, StatusChange
from chatbot.models import Conversation, Message
from tests.chat_client import (
    inference_idle,
    open_agent,
    open_chat,
    receive_until,
    session_cookie,
)
from tests.handoff_helpers import make_agent

pytestmark = pytest.mark.django_db(transaction=True)


def of_type(*types):
    return lambda frame: frame["type"] in types


async def ask_bot(customer, text):
    await customer.send_json_to({"type": "customer_message", "text": text})
    frames = await receive_until(customer, of_type("bot_message", "error"))
    await inference_idle()
    return frames


def test_the_whole_handoff_over_both_sockets(tiny_kb, settings):
    settings.AGENTS_AUTO_ASSIGN = False  # the agent accepts by hand here
    maya = make_agent(online=False)
    cookie = session_cookie(maya)

    async def scenario():
        seen = {}
        agent, hello = await open_agent(cookie)
        seen["hello"] = hello
        customer, greeting = await open_chat()
        cid = greeting["conversation_id"]
        assert greeting["customer_token"]

        await ask_bot(customer, "How long do I have to return an item?")
        await customer.send_json_to({"type": "request_human"})
        seen["queued"] = await receive_until(customer, of_type("status"))
        seen["inbox"] = await receive_until(
            agent,
            lambda f: f["type"] == "inbox_update" and f["conversation"]["status"] == "waiting",
        )

        await agent.send_json_to({"type": "open", "conversation_id": cid})
        seen["detail"] = (await receive_until(agent, of_type("conversation")))[-1]
        await agent.send_json_to({"type": "accept", "conversation_id": cid})
        seen["accepted"] = await receive_until(agent, of_type("accepted", "error"))
        seen["joined"] = await receive_until(customer, of_type("status"))

        await customer.send_json_to({"type": "typing", "typing": True})
        seen["customer_typing"] = await receive_until(agent, of_type("typing"))
        await agent.send_json_to({"type": "typing", "conversation_id": cid, "typing": True})
        seen["agent_typing"] = await receive_until(customer, of_type("typing"))

        await agent.send_json_to(
            {"type": "message", "conversation_id": cid, "text": "Hi, I'm Maya. Let me check."}
        )
        seen["agent_said"] = await receive_until(customer, of_type("agent_message"))
        await customer.send_json_to({"type": "customer_message", "text": "Order 12345, thanks"})
        seen["customer_said"] = await receive_until(
            agent, lambda f: f["type"] == "message" and f["message"]["role"] == "customer"
        )
        # While Maya owns the conversation the bot says nothing.
        seen["bot_quiet"] = await customer.receive_json_from(timeout=10)
        seen["bot_quiet_after"] = await customer.receive_nothing(timeout=1.5)

        await agent.send_json_to(
            {"type": "hand_back", "conversation_id": cid, "note": "Customer only wanted to chat"}
        )
        seen["back"] = await receive_until(customer, of_type("status"))
        seen["bot_again"] = await ask_bot(customer, "How much does standard shipping cost?")

        await customer.send_json_to({"type": "request_human"})
        await receive_until(customer, of_type("status"))
        await agent.send_json_to({"type": "accept", "conversation_id": cid})
        await receive_until(agent, of_type("accepted", "error"))
        await receive_until(customer, lambda f: f["type"] == "status" and f["status"] == "agent")
        await agent.send_json_to({"type": "resolve", "conversation_id": cid})
        seen["resolved"] = await receive_until(customer, of_type("status"))
        await customer.send_json_to({"type": "rate", "score": 5, "comment": "Quick and kind"})
        seen["rated"] = await receive_until(customer, of_type("rating_received", "error"))
        await customer.send_json_to({"type": "customer_message", "text": "one more thing"})
        seen["closed"] = await receive_until(customer, of_type("error", "message_received"))
        await customer.disconnect()
        await agent.disconnect()
        seen["cid"] = cid
        return seen

    seen = async_to_sync(scenario)()
    conv = Conversation.objects.get(public_id=seen["cid"])

    assert seen["hello"]["agent"]["name"] == "Maya"
    assert seen["hello"]["inbox"] == {"waiting": [], "mine": [], "closed": []}

    queued_notice, status = seen["queued"][-2:]
    assert queued_notice["type"] == "system_message" and queued_notice["notice"] == "queued"
    assert "An agent will join you in about 1 minute" in queued_notice["text"]
    assert status == {
        "type": "status",
        "status": "waiting",
        "agent": None,
        "estimate_minutes": 1,
        "rated": False,
    }
    row = seen["inbox"][-1]["conversation"]
    assert row["id"] == seen["cid"] and row["trigger"] == "button"
    assert row["language"] == "en" and row["requested_at"]

    detail = seen["detail"]["conversation"]
    assert [m["role"] for m in detail["messages"]] == ["customer", "bot", "system"]
    bot = detail["messages"][1]
    assert bot["citations"] and 0 <= bot["confidence"] <= 1
    # The agent sees what retrieval found and whether the model's own draft was shown.
    assert bot["outcome"] in ("draft", "fallback")
    assert bot["verified"] is (bot["outcome"] == "draft")
    assert bot["retrieved"][0]["question"] == "How long do I have to return an item?"
    assert detail["summary"][0] == "Asked: How long do I have to return an item?"
    assert detail["handoffs"][0]["trigger"] == "button"

    assert seen["accepted"][-1] == {"type": "accepted", "conversation_id": seen["cid"]}
    joined_notice, joined = seen["joined"][-2:]
    assert joined_notice["text"] == "Maya has joined the conversation."
    assert joined["status"] == "agent" and joined["agent"] == {"name": "Maya"}

    assert seen["customer_typing"][-1] == {
        "type": "typing",
        "role": "customer",
        "typing": True,
        "conversation_id": seen["cid"],
    }
    assert seen["agent_typing"][-1] == {
        "type": "typing",
        "role": "agent",
        "typing": True,
        "name": "Maya",
    }
    said = seen["agent_said"][-1]
    assert said["text"] == "Hi, I'm Maya. Let me check." and said["author"] == "Maya"
    assert seen["customer_said"][-1]["message"]["text"] == "Order 12345, thanks"
    assert seen["bot_quiet"]["type"] == "message_received"
    assert seen["bot_quiet"]["reply_id"] is None  # no "assistant is typing" for it
    assert seen["bot_quiet_after"] is True

    assert [f["type"] for f in seen["back"][-2:]] == ["system_message", "status"]
    assert seen["back"][-1]["status"] == "bot"
    assert "back with the assistant" in seen["back"][-2]["text"]
    assert seen["bot_again"][-1]["type"] == "bot_message"
    assert "$4.95" in seen["bot_again"][-1]["text"]

    resolved_notice, resolved = seen["resolved"][-2:]
    assert resolved_notice["notice"] == "resolved"
    assert resolved["status"] == "resolved" and resolved["rated"] is False
    assert seen["rated"][-1] == {"type": "rating_received", "score": 5}
    assert seen["closed"][-1]["code"] == "conversation_closed"

    rating = CsatRating.objects.get(conversation=conv)
    assert (rating.score, rating.comment, rating.agent) == (5, "Quick and kind", maya)
    assert conv.status == "resolved" and conv.assigned_agent is None
    assert list(
        StatusChange.objects.filter(conversation=conv).values_list("from_status", "to_status")
    ) == [
        ("bot", "waiting"),
        ("waiting", "agent"),
        ("agent", "bot"),
        ("bot", "waiting"),
        ("waiting", "agent"),
        ("agent", "resolved"),
    ]
    first, second = Handoff.objects.filter(conversation=conv).order_by("requested_at")
    assert (first.end, first.note, first.agent) == (
        "handed_back",
        "Customer only wanted to chat",
        maya,
    )
    assert second.end == "resolved"
    agent_msg = Message.objects.get(conversation=conv, role=Message.AGENT)
    assert agent_msg.author == maya
    # The customer's message while Maya had the chat got no bot reply.
    order = Message.objects.get(text="Order 12345, thanks")
    assert not order.replies.exists()


def test_a_second_accept_is_refused_and_an_outsider_cannot_write(settings):
    settings.AGENTS_AUTO_ASSIGN = False
    maya, sam = make_agent(), make_agent("sam", name="Sam")
    cookies = session_cookie(maya), session_cookie(sam)

    async def scenario():
        (a, _), (b, _) = [await open_agent(c) for c in cookies]
        customer, greeting = await open_chat()
        cid = greeting["conversation_id"]
        await customer.send_json_to({"type": "request_human"})
        await receive_until(customer, of_type("status"))
        await a.send_json_to({"type": "accept", "conversation_id": cid})
        first = (await receive_until(a, of_type("accepted", "error")))[-1]
        await b.send_json_to({"type": "accept", "conversation_id": cid})
        second = (await receive_until(b, of_type("accepted", "error")))[-1]
        await b.send_json_to({"type": "message", "conversation_id": cid, "text": "hello"})
        write = (await receive_until(b, of_type("message_sent", "error")))[-1]
        await b.send_json_to({"type": "resolve", "conversation_id": cid})
        resolve = (await receive_until(b, of_type("error")))[-1]
        for comm in (a, b, customer):
            await comm.disconnect()
        return first, second, write, resolve

    first, second, write, resolve = async_to_sync(scenario)()
    assert first["type"] == "accepted"
    assert second["code"] == "already_taken"
    assert write["code"] == "not_yours"
    assert resolve["code"] == "not_yours"
    assert not Message.objects.filter(role=Message.AGENT).exists()


def test_auto_assignment_picks_the_least_loaded_available_agent(settings):
    settings.AGENTS_AUTO_ASSIGN = True
    busy = make_agent("busy", name="Busy")
    free = make_agent("free", name="Free")
    make_agent("away", name="Away", status="away")
    make_agent("gone", name="Gone", online=False)
    Conversation.objects.create(status=Conversation.Status.AGENT, assigned_agent=busy)

    async def scenario():
        customer, greeting = await open_chat()
        await customer.send_json_to({"type": "request_human"})
        frames = await receive_until(
            customer, lambda f: f["type"] == "status" and f["status"] == "agent"
        )
        await customer.disconnect()
        return greeting["conversation_id"], frames

    cid, frames = async_to_sync(scenario)()
    conv = Conversation.objects.get(public_id=cid)
    assert conv.assigned_agent == free
    assert frames[-1]["agent"] == {"name": "Free"}
    assert Handoff.objects.get(conversation=conv).auto_assigned is True


def test_no_agent_takes_more_than_their_maximum(settings):
    settings.AGENTS_AUTO_ASSIGN = True
    solo = make_agent("solo", name="Solo", max_concurrent=1)

    async def scenario():
        out = []
        for _ in range(2):
            customer, greeting = await open_chat()
            await customer.send_json_to({"type": "request_human"})
            await receive_until(customer, of_type("status"))
            out.append((customer, greeting["conversation_id"]))
        await sync_to_async(lambda: None)()
        for customer, _ in out:
            await customer.disconnect()
        return [cid for _, cid in out]

    first, second = async_to_sync(scenario)()
    assert Conversation.objects.get(public_id=first).assigned_agent == solo
    assert Conversation.objects.get(public_id=second).status == "waiting"

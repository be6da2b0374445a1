"""Bad frames on the agent socket get clear errors and never kill the socket."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync

from chatbot.consumers import MAX_FRAME_BYTES
from chatbot.models import Message
from tests.chat_client import open_agent, session_cookie
from tests.handoff_helpers import make_agent

pytestmark = pytest.mark.django_db(transaction=True)

BAD = [
    ("not json", "invalid_json"),
    (json.dumps([1, 2]), "invalid_frame"),
    (json.dumps({"type": 5}), "invalid_frame"),
    (json.dumps({"type": "__init__"}), "unknown_type"),
    (json.dumps({"type": "drop tables"}), "unknown_type"),
    (json.dumps({"type": "open", "conversation_id": "nope"}), "not_found"),
    (json.dumps({"type": "open", "conversation_id": ["a"]}), "not_found"),
    (json.dumps({"type": "accept", "conversation_id": None}), "not_found"),
    (
        json.dumps({"type": "message", "conversation_id": "0" * 32, "text": "hi"}),
        "not_found",
    ),
    (json.dumps({"type": "set_availability", "status": "asleep"}), "invalid"),
    (json.dumps({"type": "promote", "message_id": "12"}), "invalid"),
    (json.dumps({"type": "promote", "message_id": 10**9}), "not_found"),
    (json.dumps({"type": "hand_back", "conversation_id": "x", "note": 5}), "invalid"),
    ("x" * (MAX_FRAME_BYTES + 1), "frame_too_large"),
]


def test_each_bad_frame_gets_an_error_and_the_socket_keeps_working():
    cookie = session_cookie(make_agent())

    async def scenario():
        comm, _ = await open_agent(cookie)
        codes = []
        for frame, _code in BAD:
            await comm.send_to(text_data=frame)
            codes.append((await comm.receive_json_from(timeout=10))["code"])
        await comm.send_to(bytes_data=b"{}")
        codes.append((await comm.receive_json_from(timeout=10))["code"])
        await comm.send_json_to({"type": "ping"})
        pong = await comm.receive_json_from(timeout=10)
        await comm.disconnect()
        return codes, pong

    codes, pong = async_to_sync(scenario)()
    assert codes == [code for _f, code in BAD] + ["invalid_frame"]
    assert pong == {"type": "pong"}
    assert not Message.objects.exists()


def test_an_agent_message_must_be_a_non_empty_bounded_string(settings):
    from agents import console
    from chatbot.models import Conversation

    maya = make_agent()
    conv = Conversation.objects.create(status="agent", assigned_agent=maya)
    for text, code in (
        ("   ", "empty_message"),
        (None, "invalid"),
        ("y" * 2001, "message_too_long"),
    ):
        with pytest.raises(console.ConsoleError) as info:
            console.send_message(str(conv.public_id), maya, text)
        assert info.value.code == code
    assert not Message.objects.exists()

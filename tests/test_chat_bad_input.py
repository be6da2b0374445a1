"""Bad frames on the customer websocket get clear error frames and never kill the socket."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from chatbot.asgi import application
from chatbot.consumers import MAX_FRAME_BYTES
from chatbot.models import Message

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = [(b"origin", b"http://testserver")]

BAD_FRAMES = [
    # (what is sent, the error code expected)
    (json.dumps({"type": "customer_message", "text": ""}), "empty_message"),
    (json.dumps({"type": "customer_message", "text": " \n\t "}), "empty_message"),
    (json.dumps({"type": "customer_message", "text": "x" * 2001}), "message_too_long"),
    (json.dumps({"type": "customer_message"}), "invalid_message"),
    (json.dumps({"type": "customer_message", "text": ["a list"]}), "invalid_message"),
    ("this is not json", "invalid_json"),
    ('{"type": "customer_message", "text": "unterminated', "invalid_json"),
    (json.dumps(["customer_message", "hello"]), "invalid_frame"),
    (json.dumps("just a string"), "invalid_frame"),
    (json.dumps({"text": "no type"}), "invalid_frame"),
    (json.dumps({"type": 7}), "invalid_frame"),
    (json.dumps({"type": "agent_takeover"}), "unknown_type"),
    (
        json.dumps({"type": "customer_message", "text": "y" * (MAX_FRAME_BYTES + 1)}),
        "frame_too_large",
    ),
]


async def _send_bad_then_good(frames: list[str], binary: bool = False) -> tuple[list, list]:
    comm = WebsocketCommunicator(application, "/ws/chat/", headers=ORIGIN)
    connected, _ = await comm.connect(timeout=10)
    assert connected
    assert (await comm.receive_json_from(timeout=10))["type"] == "conversation"
    errors = []
    if binary:
        await comm.send_to(bytes_data=b'{"type": "customer_message", "text": "hi"}')
        errors.append(await comm.receive_json_from(timeout=10))
    for frame in frames:
        await comm.send_to(text_data=frame)
        errors.append(await comm.receive_json_from(timeout=10))
    # The same socket still works afterwards.
    await comm.send_json_to(
        {"type": "customer_message", "text": "How much does standard shipping cost?"}
    )
    after = []
    while not after or after[-1]["type"] not in ("bot_message", "error"):
        after.append(await comm.receive_json_from(timeout=20))
    await comm.disconnect()
    return errors, after


@pytest.mark.parametrize(
    "frame, code", BAD_FRAMES, ids=[code + f"-{i}" for i, (_f, code) in enumerate(BAD_FRAMES)]
)
def test_each_bad_frame_gets_a_clear_error_and_the_socket_stays_usable(tiny_kb, frame, code):
    errors, after = async_to_sync(_send_bad_then_good)([frame])

    assert len(errors) == 1
    error = errors[0]
    assert error["type"] == "error" and error["code"] == code
    assert isinstance(error["detail"], str) and len(error["detail"]) > 10
    assert after[0]["type"] == "message_received"
    assert after[-1]["type"] == "bot_message" and after[-1]["citations"]
    # Nothing of the rejected frame was stored: only the good question and its answer.
    assert list(Message.objects.values_list("role", flat=True).order_by("id")) == [
        Message.CUSTOMER,
        Message.BOT,
    ]


def test_many_bad_frames_in_a_row_then_a_good_one(tiny_kb):
    frames = [f for f, _code in BAD_FRAMES]
    errors, after = async_to_sync(_send_bad_then_good)(frames, binary=True)

    assert [e["code"] for e in errors] == ["invalid_frame"] + [c for _f, c in BAD_FRAMES]
    assert after[-1]["type"] == "bot_message"


def test_limits_mention_the_numbers_the_customer_needs(tiny_kb):
    errors, _ = async_to_sync(_send_bad_then_good)(
        [json.dumps({"type": "customer_message", "text": "x" * 2500})]
    )
    assert "2000" in errors[0]["detail"] and "2500" in errors[0]["detail"]


def test_a_message_of_exactly_the_limit_is_accepted(tiny_kb):
    async def scenario():
        comm = WebsocketCommunicator(application, "/ws/chat/", headers=ORIGIN)
        await comm.connect(timeout=10)
        await comm.receive_json_from(timeout=10)
        await comm.send_json_to({"type": "customer_message", "text": "shipping " * 222 + "ok"})
        first = await comm.receive_json_from(timeout=10)
        frames = [first]
        while frames[-1]["type"] not in ("bot_message", "error"):
            frames.append(await comm.receive_json_from(timeout=20))
        await comm.disconnect()
        return frames

    text_len = len("shipping " * 222 + "ok")
    assert text_len == 2000
    frames = async_to_sync(scenario)()
    assert frames[0]["type"] == "message_received"
    assert frames[-1]["type"] == "bot_message"


def test_ping_gets_a_pong(tiny_kb):
    async def scenario():
        comm = WebsocketCommunicator(application, "/ws/chat/", headers=ORIGIN)
        await comm.connect(timeout=10)
        await comm.receive_json_from(timeout=10)
        await comm.send_json_to({"type": "ping"})
        reply = await comm.receive_json_from(timeout=10)
        await comm.disconnect()
        return reply

    assert async_to_sync(scenario)() == {"type": "pong"}


def test_a_foreign_origin_is_refused():
    async def scenario():
        comm = WebsocketCommunicator(
            application, "/ws/chat/", headers=[(b"origin", b"https://evil.example")]
        )
        connected, _ = await comm.connect(timeout=10)
        await comm.disconnect()
        return connected

    assert async_to_sync(scenario)() is False

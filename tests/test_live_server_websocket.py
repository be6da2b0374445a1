"""A real daphne process, the demo help center crawled over HTTP from it, and a real
websocket client: the whole embedded deployment, end to end over sockets."""

from __future__ import annotations

import json
import time

import pytest
import requests
from websockets.sync.client import ClientConnection, connect

# The hashing embedder used here only matches surface words, so the question stays close
# to the FAQ's wording; paraphrases are the real-model test's job.
QUESTION = "What is your return policy?"


def _open(live_demo, query: str = "") -> tuple[ClientConnection, dict]:
    url = live_demo.ws_url + (f"?{query}" if query else "")
    ws = connect(url, origin=live_demo.base_url, open_timeout=10)
    hello = json.loads(ws.recv(timeout=10))
    assert hello["type"] == "conversation"
    return ws, hello


def _ask(ws: ClientConnection, text: str, timeout: float = 30) -> list[dict]:
    ws.send(json.dumps({"type": "customer_message", "text": text}))
    frames: list[dict] = []
    deadline = time.monotonic() + timeout
    while not frames or frames[-1]["type"] not in ("bot_message", "error"):
        frames.append(json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic()))))
    return frames


def test_the_demo_site_was_crawled_through_the_app(live_demo):
    page = requests.get(f"{live_demo.base_url}/demo-help/returns.html", timeout=10)
    assert page.status_code == 200 and "Return window" in page.text
    health = requests.get(f"{live_demo.base_url}/healthz", timeout=10).json()
    assert health == {"ok": True, "mode": "embedded", "inference": "inline"}


def test_a_demo_question_streams_tokens_then_cites_the_demo_page(live_demo):
    ws, hello = _open(live_demo)
    try:
        frames = _ask(ws, QUESTION)
    finally:
        ws.close()

    types = [f["type"] for f in frames]
    assert types[0] == "message_received"
    assert types[-1] == "bot_message"
    assert types[1:-1].count("token") >= 2 and set(types[1:-1]) == {"token"}
    final = frames[-1]
    assert final["escalate"] is False
    assert "30 days" in final["text"]
    urls = [c["url"] for c in final["citations"]]
    assert urls and all(u.startswith(f"{live_demo.base_url}/demo-help/") for u in urls)
    assert any("/demo-help/returns.html" in u for u in urls)
    # The cited page is really there.
    assert requests.get(urls[0], timeout=10).status_code == 200


def test_reconnecting_with_the_conversation_id_replays_the_history(live_demo):
    ws, hello = _open(live_demo)
    try:
        final = _ask(ws, QUESTION)[-1]
    finally:
        ws.close()

    again, replay = _open(live_demo, f"conversation={hello['conversation_id']}")
    try:
        assert replay["conversation_id"] == hello["conversation_id"]
        assert [(m["role"], m["text"]) for m in replay["messages"]] == [
            ("customer", QUESTION),
            ("bot", final["text"]),
        ]
        assert replay["messages"][1]["citations"] == final["citations"]
        # The conversation goes on over the new socket.
        follow_up = _ask(again, "Are returns free?")
    finally:
        again.close()
    assert follow_up[-1]["type"] == "bot_message" and follow_up[-1]["citations"]


def test_bad_frames_over_a_real_socket_leave_it_usable(live_demo):
    ws, _ = _open(live_demo)
    try:
        ws.send("not json")
        assert json.loads(ws.recv(timeout=10))["code"] == "invalid_json"
        ws.send(b"\x00\x01")
        assert json.loads(ws.recv(timeout=10))["code"] == "invalid_frame"
        frames = _ask(ws, "x" * 2001)
        assert frames == [frames[0]] and frames[0]["code"] == "message_too_long"
        assert _ask(ws, QUESTION)[-1]["type"] == "bot_message"
    finally:
        ws.close()


def test_a_conversation_sending_too_fast_is_told_when_to_retry(live_demo):
    limit = 10  # CHATBOT_MESSAGES_PER_MINUTE's default: the live server leaves it unset
    ws, _ = _open(live_demo)
    acks: list[dict] = []
    errors: list[dict] = []
    answers = superseded = 0
    try:
        for n in range(limit + 1):
            ws.send(json.dumps({"type": "customer_message", "text": f"{QUESTION} ({n})"}))
        # Read until every frame sent is settled and every accepted one answered or
        # superseded by the next (reply_cancelled), so the server's one inference thread is
        # idle again for the next test.
        deadline = time.monotonic() + 120
        while len(acks) + len(errors) < limit + 1 or answers + superseded < len(acks):
            frame = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if frame["type"] == "message_received":
                acks.append(frame)
            elif frame["type"] == "error":
                errors.append(frame)
            elif frame["type"] == "bot_message":
                answers += 1
            elif frame["type"] == "reply_cancelled":
                assert frame["reason"] == "superseded"
                superseded += 1
    finally:
        ws.close()

    assert len(acks) == limit
    assert answers >= 1  # at least the last message is answered
    assert [e["code"] for e in errors] == ["rate_limited"]
    assert isinstance(errors[0]["retry_after"], int) and 1 <= errors[0]["retry_after"] <= 60


def test_the_api_answers_over_http(live_demo):
    response = requests.post(
        f"{live_demo.base_url}/api/v1/ask", json={"question": QUESTION}, timeout=30
    )
    assert response.status_code == 200
    data = response.json()
    assert data["escalate"] is False
    assert any("/demo-help/returns.html" in c["url"] for c in data["citations"])


@pytest.mark.parametrize("origin", [None, "https://evil.example"])
def test_a_socket_from_another_origin_is_refused(live_demo, origin):
    from websockets.exceptions import InvalidStatus

    with pytest.raises(InvalidStatus):
        connect(live_demo.ws_url, origin=origin, open_timeout=10)

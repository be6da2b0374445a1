"""Embedded mode (one daphne process, SQLite): a reply accepted before the process died is
answered after it restarts, and the customer who reconnects gets it, once."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from websockets.sync.client import connect

from tests.services import app_env, free_port, manage, start_daphne

QUESTION = "What is your return policy?"


def _frames_until(ws, done, timeout: float) -> list[dict]:
    frames: list[dict] = []
    deadline = time.monotonic() + timeout
    while not frames or not done(frames[-1]):
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"timed out; frames so far: {frames}"
        frames.append(json.loads(ws.recv(timeout=remaining)))
    return frames


@pytest.mark.timeout(400)
def test_a_reply_pending_when_daphne_is_killed_is_answered_after_the_restart(tmp_path):
    env = app_env(
        DATA_DIR=str(tmp_path),
        CHATBOT_GENERATOR="fake",
        CHATBOT_EMBEDDER="hashing",
        CHATBOT_INDEX_RELOAD_CHECK_S="0",
        CHATBOT_FAKE_TOKEN_DELAY_S="0.2",
        INFERENCE_MODE="inline",
        CHATBOT_RECOVER_ON_START="1",
        # Long enough that the restart, not the disconnect, decides the reply's fate.
        CHATBOT_DISCONNECT_CANCEL_S="600",
    )
    for var in ("DATABASE_URL", "REDIS_URL"):
        env.pop(var, None)
    assert manage(env, "migrate", "--noinput", timeout=180).returncode == 0
    port = free_port()
    daphne = start_daphne(env, port, tmp_path)
    base = f"http://127.0.0.1:{port}"
    ws_url = base.replace("http://", "ws://") + "/ws/chat/"
    try:
        crawl = manage(env, "crawl", f"{base}/demo-help/index.html", timeout=180)
        assert crawl.stdout.startswith("succeeded"), crawl.stdout + crawl.stderr
        with connect(ws_url, origin=base, open_timeout=10) as ws:
            hello = json.loads(ws.recv(timeout=10))
            ws.send(json.dumps({"type": "customer_message", "text": QUESTION}))
            before = _frames_until(ws, lambda f: f["type"] == "token", 60)
            os.killpg(daphne.popen.pid, signal.SIGKILL)  # kill -9 mid-answer
            daphne.popen.wait(10)
        assert not any(f["type"] == "bot_message" for f in before)
        reply_id = before[-1]["message_id"]

        daphne.stop()
        daphne = start_daphne(env, port, tmp_path)
        with connect(
            f"{ws_url}?conversation={hello['conversation_id']}", origin=base, open_timeout=10
        ) as ws:
            replay = json.loads(ws.recv(timeout=10))
            bot = [m for m in replay["messages"] if m["role"] == "bot"]
            assert [m["message_id"] for m in bot] == [reply_id]
            if bot[0]["state"] != "complete":
                # Still being answered: the rest arrives on this socket.
                after = _frames_until(ws, lambda f: f["type"] in ("bot_message", "error"), 90)
                final = after[-1]
                assert final["type"] == "bot_message" and final["message_id"] == reply_id
                text = final["text"]
            else:
                text = bot[0]["text"]
        assert "30 days" in text
        # Recovered after the restart, as the log says, and stored once.
        assert "answering 1 replies pending before the restart" in daphne.log()
        with connect(
            f"{ws_url}?conversation={hello['conversation_id']}", origin=base, open_timeout=10
        ) as ws:
            replay = json.loads(ws.recv(timeout=10))
        assert [(m["role"], m["state"]) for m in replay["messages"]] == [
            ("customer", "complete"),
            ("bot", "complete"),
        ]
    finally:
        daphne.stop()

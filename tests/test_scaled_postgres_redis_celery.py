"""Scaled mode end to end: PostgreSQL, Redis, Celery workers on `ingest` and `inference`,
and daphne. Streamed tokens must travel worker → Redis channel layer → daphne → client."""

from __future__ import annotations

import contextlib
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from websockets.sync.client import connect

from tests.services import (
    app_env,
    free_port,
    fresh_postgres_database,
    fresh_redis_db,
    manage,
    start_celery_worker,
    start_daphne,
)

pytestmark = pytest.mark.services

QUESTION = "What is your return policy?"


@pytest.fixture(scope="module")
def scaled_stack(tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("scaled")
    with contextlib.ExitStack() as stack:
        db_url = stack.enter_context(fresh_postgres_database())
        redis_url = stack.enter_context(fresh_redis_db())
        env = app_env(
            DATABASE_URL=db_url,
            REDIS_URL=redis_url,
            DATA_DIR=str(log_dir),
            CHATBOT_GENERATOR="fake",
            CHATBOT_EMBEDDER="hashing",
            CHATBOT_INDEX_RELOAD_CHECK_S="0",
            CHATBOT_INDEX_DEBOUNCE_S="0",
        )
        env.pop("INFERENCE_MODE", None)  # scaled mode must pick `celery` by itself
        migrate = manage(env, "migrate", "--noinput", timeout=240)
        assert migrate.returncode == 0, migrate.stderr

        port = free_port()
        # Start the three processes at once: each takes seconds to boot.
        with ThreadPoolExecutor(max_workers=3) as pool:
            futures = [
                pool.submit(start_celery_worker, env, "ingest", log_dir),
                pool.submit(start_celery_worker, env, "inference", log_dir),
                pool.submit(start_daphne, env, port, log_dir),
            ]
            procs = []
            for future in futures:
                with contextlib.suppress(Exception):
                    procs.append(future.result())
        for proc in procs:
            stack.callback(proc.stop)
        assert len(procs) == 3, [f.exception() for f in futures]
        ingest, inference, daphne = procs

        base = f"http://127.0.0.1:{port}"
        crawl = manage(env, "crawl", f"{base}/demo-help/index.html", timeout=240)
        assert crawl.returncode == 0, crawl.stdout + crawl.stderr
        assert crawl.stdout.startswith("succeeded"), crawl.stdout + crawl.stderr
        yield {"base": base, "env": env, "ingest": ingest, "inference": inference, "daphne": daphne}


def test_the_web_process_runs_in_scaled_mode(scaled_stack):
    health = requests.get(scaled_stack["base"] + "/healthz", timeout=10).json()
    assert health == {"ok": True, "mode": "scaled", "inference": "celery"}


def test_a_websocket_question_is_answered_by_the_inference_worker(scaled_stack):
    base = scaled_stack["base"]
    ws_url = base.replace("http://", "ws://") + "/ws/chat/"
    with connect(ws_url, origin=base, open_timeout=10) as ws:
        hello = json.loads(ws.recv(timeout=10))
        assert hello["type"] == "conversation"
        ws.send(json.dumps({"type": "customer_message", "text": QUESTION}))
        frames: list[dict] = []
        deadline = time.monotonic() + 60
        while not frames or frames[-1]["type"] not in ("bot_message", "error"):
            frames.append(json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic()))))

    types = [f["type"] for f in frames]
    assert types[0] == "message_received", frames
    assert types[-1] == "bot_message", frames
    assert types[1:-1].count("token") >= 2 and set(types[1:-1]) == {"token"}
    final = frames[-1]
    assert final["escalate"] is False and "30 days" in final["text"]
    assert any("/demo-help/returns.html" in c["url"] for c in final["citations"])
    # The reply was produced by the worker, not by daphne.
    # (Celery logs "Task <name>[<id>] received/succeeded"; the start-up banner lists names.)
    # The task publishes the answer on commit and only then returns, so the client can
    # hold the bot_message a moment before the worker logs "succeeded".
    inference = scaled_stack["inference"]
    succeeded = r"chatbot\.tasks\.generate_reply\[[-\w]+\] succeeded"
    inference.wait_until(lambda: re.search(succeeded, inference.log()), 15, "reply task logged")
    assert "chatbot.tasks.generate_reply[" not in scaled_stack["ingest"].log()
    # The rebuild the crawl requested went to the ingest queue.
    assert "faq_ingest.tasks.rebuild_index[" in scaled_stack["ingest"].log()

    # The reply is stored in PostgreSQL and replayed on reconnect.
    with connect(
        f"{ws_url}?conversation={hello['conversation_id']}", origin=base, open_timeout=10
    ) as ws:
        replay = json.loads(ws.recv(timeout=10))
    assert [m["role"] for m in replay["messages"]] == ["customer", "bot"]
    assert replay["messages"][1]["text"] == final["text"]


def test_the_http_api_is_answered_by_the_inference_worker(scaled_stack):
    before = scaled_stack["inference"].log().count("chatbot.tasks.answer[")
    response = requests.post(
        scaled_stack["base"] + "/api/v1/ask", json={"question": "Are returns free?"}, timeout=60
    )
    assert response.status_code == 200, response.text
    data = response.json()
    assert set(data) == {"answer", "citations", "confidence", "escalate"}
    assert data["escalate"] is False
    assert any("/demo-help/returns.html" in c["url"] for c in data["citations"])
    assert scaled_stack["inference"].log().count("chatbot.tasks.answer[") > before

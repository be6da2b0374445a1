"""The inference pool's faults, for real: PostgreSQL, Redis, daphne and two Celery inference
workers. A slowed fake generator (CHATBOT_FAKE_TOKEN_DELAY_S) keeps each answer streaming
for seconds, so a kill or a disconnect lands mid-answer.

- a worker killed with SIGKILL mid-answer: the other worker takes the reply over well within
  30 s, the client is told to restart the bubble, and exactly one final message arrives;
- a customer who leaves cancels the generation in progress;
- the workers report their health and model; the queue depth is visible.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
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
BUILD_INDEX = "from faq_ingest.index import build_snapshot; print(build_snapshot(force=True))"
SQL_REPLY = (
    "from chatbot.models import Message; import json; "
    "print(json.dumps([[m.pk, m.state, m.attempt, m.text] "
    "for m in Message.objects.filter(role='bot').order_by('pk')]))"
)


@pytest.fixture(scope="module")
def pool_stack(tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("pool")
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
            CHATBOT_FAKE_TOKEN_DELAY_S="0.25",
            CHATBOT_REPLY_HEARTBEAT_S="0.5",
            CHATBOT_REPLY_STALE_S="4",
            CHATBOT_DISCONNECT_CANCEL_S="0.5",
        )
        env.pop("INFERENCE_MODE", None)
        migrate = manage(env, "migrate", "--noinput", timeout=240)
        assert migrate.returncode == 0, migrate.stderr

        port = free_port()
        with ThreadPoolExecutor(max_workers=3) as pool:
            futures = [
                pool.submit(start_celery_worker, env, "inference", log_dir, label="-a"),
                # The other pool `make worker-inference` uses.
                pool.submit(start_celery_worker, env, "inference", log_dir, label="-b", threads=2),
                pool.submit(start_daphne, env, port, log_dir),
            ]
            procs = []
            for future in futures:
                with contextlib.suppress(Exception):
                    procs.append(future.result())
        for proc in procs:
            stack.callback(proc.stop)
        assert len(procs) == 3, [f.exception() for f in futures]
        base = f"http://127.0.0.1:{port}"
        # Crawled by the management command, indexed here: no ingest worker needed.
        crawl = manage(env, "crawl", f"{base}/demo-help/index.html", timeout=240)
        assert crawl.stdout.startswith("succeeded"), crawl.stdout + crawl.stderr
        built = manage(env, "shell", "-c", BUILD_INDEX, timeout=240)
        assert built.returncode == 0, built.stderr
        yield {"base": base, "env": env, "workers": procs[:2], "daphne": procs[2]}


def _ws_url(base: str, conversation: str | None = None) -> str:
    url = base.replace("http://", "ws://") + "/ws/chat/"
    return url + (f"?conversation={conversation}" if conversation else "")


def _frames_until(ws, done, timeout: float) -> list[dict]:
    frames: list[dict] = []
    deadline = time.monotonic() + timeout
    while not frames or not done(frames[-1]):
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"timed out; frames so far: {frames}"
        frame = json.loads(ws.recv(timeout=remaining))
        frame["_received"] = time.monotonic()  # not part of the protocol: for timing
        frames.append(frame)
    return frames


def _bot_rows(env) -> list[list]:
    out = manage(env, "shell", "-c", SQL_REPLY, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


RECEIVED = re.compile(r"chatbot\.tasks\.generate_reply\[[-\w]+\] received")


def _received(proc) -> int:
    return len(RECEIVED.findall(proc.log_path.read_text(errors="replace")))


def _holder(workers, before: list[int]):
    """The worker that received a generate_reply task since `before` (counts of `received`
    log lines: a `succeeded` line of an earlier task may still be on its way)."""
    for proc, seen in zip(workers, before, strict=True):
        if _received(proc) > seen:
            return proc
    return None


def test_workers_report_health_and_the_queue_is_visible(pool_stack):
    status = requests.get(pool_stack["base"] + "/healthz/pool", timeout=10).json()
    assert status["queue_depth"] == 0 and status["queue_max_depth"] >= 1
    names = {w["name"] for w in status["workers"]}
    assert len(names) == 2, status
    assert sorted(w["slots"] for w in status["workers"]) == [1, 1]  # fake: one at a time
    # Each loaded and warmed its models before Celery started consuming ("ready.").
    for proc in pool_stack["workers"]:
        log = proc.log_path.read_text(errors="replace")
        warmed = log.find("chatbot.watchdog: inference worker")
        consuming = re.search(r"inference-\w+@\S+ ready\.", log)
        assert consuming and -1 < warmed < consuming.start(), log[-3000:]
    for worker in status["workers"]:
        assert worker["ok"] is True and worker["backend"] == "fake"
        assert worker["version"] and worker["model"] and worker["device"] == "cpu"


def test_a_worker_streams_to_a_live_websocket_client(pool_stack):
    base = pool_stack["base"]
    with connect(_ws_url(base), origin=base, open_timeout=10) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "conversation"
        ws.send(json.dumps({"type": "customer_message", "text": QUESTION}))
        frames = _frames_until(ws, lambda f: f["type"] in ("bot_message", "error"), 90)
    tokens = [f for f in frames if f["type"] == "token"]
    assert len(tokens) >= 3 and {t["attempt"] for t in tokens} == {1}
    final = frames[-1]
    assert final["type"] == "bot_message" and "30 days" in final["text"]
    assert "".join(t["text"] for t in tokens).strip().startswith(final["text"].split()[0])


def test_a_worker_killed_mid_answer_is_taken_over_with_one_final_message(pool_stack):
    base, workers = pool_stack["base"], pool_stack["workers"]
    assert all(w.popen.poll() is None for w in workers), "an earlier test killed a worker"
    before = [_received(w) for w in workers]
    with connect(_ws_url(base), origin=base, open_timeout=10) as ws:
        hello = json.loads(ws.recv(timeout=10))
        ws.send(json.dumps({"type": "customer_message", "text": QUESTION}))
        first = _frames_until(ws, lambda f: f["type"] == "token", 60)
        victim = _holder(workers, before)
        assert victim is not None, [w.log() for w in workers]
        # Two tokens in: the kill lands mid-answer.
        first += _frames_until(ws, lambda f: f["type"] == "token", 10)
        os.killpg(victim.popen.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        rest = _frames_until(ws, lambda f: f["type"] in ("bot_message", "error"), 60)
        taken_over_after = next(
            (f["_received"] - killed_at for f in rest if f["type"] == "reply_restart"), None
        )
        # Nothing more arrives: no second final message from anyone.
        with pytest.raises(TimeoutError):
            extra = ws.recv(timeout=3)
            pytest.fail(f"unexpected frame after the final message: {extra}")

    survivor = next(w for w in workers if w is not victim)
    frames = first + rest
    restarts = [f for f in frames if f["type"] == "reply_restart"]
    finals = [f for f in frames if f["type"] == "bot_message"]
    assert len(finals) == 1 and "30 days" in finals[0]["text"], frames
    assert len(restarts) == 1 and restarts[0]["attempt"] == 2, frames
    assert taken_over_after is not None and taken_over_after < 30
    reply_id = finals[0]["message_id"]
    assert restarts[0]["message_id"] == reply_id
    # Tokens after the restart are the second attempt's, and they spell the whole answer
    # again (the client replaces the first attempt's partial text with them).
    after = frames[frames.index(restarts[0]) + 1 :]
    second_attempt = [f for f in after if f["type"] == "token"]
    assert second_attempt and {t["attempt"] for t in second_attempt} == {2}
    assert "".join(t["text"] for t in second_attempt).split()[:3] == finals[0]["text"].split()[:3]
    assert _received(survivor) > before[workers.index(survivor)]
    rows = [r for r in _bot_rows(pool_stack["env"]) if r[0] == reply_id]
    assert rows == [[reply_id, "complete", 2, finals[0]["text"]]]

    # The reconnecting customer sees the one answer.
    with connect(_ws_url(base, hello["conversation_id"]), origin=base, open_timeout=10) as ws:
        replay = json.loads(ws.recv(timeout=10))
    assert [(m["role"], m["state"]) for m in replay["messages"]] == [
        ("customer", "complete"),
        ("bot", "complete"),
    ]
    print(f"takeover after SIGKILL: {taken_over_after:.1f} s")


def test_leaving_cancels_the_generation_in_progress(pool_stack):
    base = pool_stack["base"]
    live = [w for w in pool_stack["workers"] if w.popen.poll() is None]
    assert live
    with connect(_ws_url(base), origin=base, open_timeout=10) as ws:
        json.loads(ws.recv(timeout=10))
        ws.send(json.dumps({"type": "customer_message", "text": QUESTION}))
        frames = _frames_until(ws, lambda f: f["type"] == "token", 60)
    reply_id = frames[-1]["message_id"]
    # The grace is 0.5 s, the heartbeat 0.5 s: the worker stops within a few seconds,
    # long before the ~25 words x 0.25 s the full answer takes.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if any(f"reply {reply_id} stopped" in w.log() for w in live):
            break
        time.sleep(0.3)
    else:
        pytest.fail("the worker did not stop generating\n" + "\n".join(w.log() for w in live))
    rows = [r for r in _bot_rows(pool_stack["env"]) if r[0] == reply_id]
    assert rows == [[reply_id, "cancelled", 1, ""]]

"""The handoff in the scaled shape: PostgreSQL, Redis channel layer, the customer on one
daphne process and the agent on another, the bot on a Celery inference worker, and the
timeouts run by Celery beat on the ingest worker.

Every event crosses processes: the worker's low-confidence trigger reaches the agent's
inbox, the agent's words and typing reach the customer, and when the agent's console
goes away beat's sweep puts the chat back in the queue and tells the customer."""

from __future__ import annotations

import contextlib
import json
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from websockets.sync.client import connect

from tests.services import (
    Proc,
    app_env,
    free_port,
    fresh_postgres_database,
    fresh_redis_db,
    manage,
    start_celery_worker,
    start_daphne,
)

pytestmark = pytest.mark.services


def start_beat(env, log_dir) -> Proc:
    proc = Proc(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "chatbot",
            "beat",
            "-S",
            "django_celery_beat.schedulers:DatabaseScheduler",
            "--loglevel",
            "INFO",
            "-s",
            str(log_dir / "beat-schedule"),
        ],
        env,
        log_dir / "celery-beat.log",
    )
    proc.wait_until(lambda: "beat: Starting" in proc.log(), 60, "celery beat")
    return proc


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("handoff-scaled")
    with contextlib.ExitStack() as stack:
        env = app_env(
            DATABASE_URL=stack.enter_context(fresh_postgres_database()),
            REDIS_URL=stack.enter_context(fresh_redis_db()),
            DATA_DIR=str(log_dir),
            CHATBOT_GENERATOR="fake",
            CHATBOT_EMBEDDER="hashing",
            CHATBOT_INDEX_RELOAD_CHECK_S="0",
            AGENTS_AUTO_ASSIGN="0",
            AGENTS_HEARTBEAT_S="1",
            AGENTS_DISCONNECT_GRACE_S="2",
            AGENTS_SWEEP_EVERY_S="1",
        )
        env.pop("INFERENCE_MODE", None)
        env.pop("CHATBOT_IN_PROCESS_SCHEDULER", None)  # scaled: beat runs the jobs, not web
        migrate = manage(env, "migrate", "--noinput", timeout=240)
        assert migrate.returncode == 0, migrate.stderr
        demo = manage(env, "create_demo_agent", "--force", timeout=60)
        password = re.search(r"password (\S+)", demo.stdout).group(1)

        ports = free_port(), free_port()
        with ThreadPoolExecutor(max_workers=5) as pool:
            futures = [
                pool.submit(start_daphne, env, ports[0], log_dir),
                pool.submit(start_daphne, env, ports[1], log_dir),
                pool.submit(start_celery_worker, env, "inference", log_dir),
                pool.submit(start_celery_worker, env, "ingest", log_dir),
                pool.submit(start_beat, env, log_dir),
            ]
            procs = []
            for future in futures:
                with contextlib.suppress(Exception):
                    procs.append(future.result())
        for proc in procs:
            stack.callback(proc.stop)
        assert len(procs) == 5, [f.exception() for f in futures]
        yield {
            "customer_base": f"http://127.0.0.1:{ports[0]}",
            "agent_base": f"http://127.0.0.1:{ports[1]}",
            "password": password,
            "procs": dict(zip(["a", "b", "inference", "ingest", "beat"], procs, strict=True)),
        }


def sign_in(base: str, password: str) -> str:
    session = requests.Session()
    page = session.get(f"{base}/agent/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = session.post(
        f"{base}/agent/login/",
        data={"username": "demo-agent", "password": password, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/agent/login/"},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text[:500]
    return session.cookies["sessionid"]


def recv_until(ws, wanted, timeout=60) -> list[dict]:
    frames: list[dict] = []
    deadline = time.monotonic() + timeout
    while not frames or not wanted(frames[-1]):
        frames.append(json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic()))))
    return frames


def test_customer_and_agent_on_different_web_processes(stack):
    cbase, abase = stack["customer_base"], stack["agent_base"]
    session = sign_in(abase, stack["password"])
    agent_url = abase.replace("http://", "ws://") + "/ws/agent/"
    chat_url = cbase.replace("http://", "ws://") + "/ws/chat/"

    agent = connect(
        agent_url,
        origin=abase,
        additional_headers={"Cookie": f"sessionid={session}"},
        open_timeout=10,
    )
    hello = json.loads(agent.recv(timeout=10))
    assert hello["type"] == "hello" and hello["agent"]["name"] == "Maya"

    with connect(chat_url, origin=cbase, open_timeout=10) as customer:
        greeting = json.loads(customer.recv(timeout=10))
        cid = greeting["conversation_id"]
        # Nothing in the knowledge base covers it: the worker's answer is "I won't guess";
        # the first miss asks to rephrase, the second one's low-confidence trigger queues
        # the chat (an agent is online).
        customer.send(json.dumps({"type": "customer_message", "text": "xyzzy plugh frobnicate"}))
        recv_until(customer, lambda f: f.get("notice") == "rephrase")
        customer.send(json.dumps({"type": "customer_message", "text": "zorkmid quantum blorb"}))
        frames = recv_until(customer, lambda f: f["type"] == "status")
        types = [f["type"] for f in frames]
        assert "bot_message" in types and frames[-1]["status"] == "waiting"
        queued = recv_until(
            agent,
            lambda f: f["type"] == "inbox_update" and f["conversation"]["status"] == "waiting",
        )[-1]["conversation"]
        assert (queued["id"], queued["trigger"]) == (cid, "low_confidence")

        agent.send(json.dumps({"type": "accept", "conversation_id": cid}))
        assert recv_until(agent, lambda f: f["type"] in ("accepted", "error"))[-1]["type"] == (
            "accepted"
        )
        joined = recv_until(customer, lambda f: f["type"] == "status")
        assert joined[-1]["agent"] == {"name": "Maya"}
        assert any(f.get("text") == "Maya has joined the conversation." for f in joined)

        agent.send(json.dumps({"type": "open", "conversation_id": cid}))
        recv_until(agent, lambda f: f["type"] == "conversation")
        customer.send(json.dumps({"type": "typing", "typing": True}))
        assert recv_until(agent, lambda f: f["type"] == "typing")[-1]["role"] == "customer"
        agent.send(json.dumps({"type": "typing", "conversation_id": cid, "typing": True}))
        assert recv_until(customer, lambda f: f["type"] == "typing")[-1]["name"] == "Maya"
        agent.send(
            json.dumps({"type": "message", "conversation_id": cid, "text": "Hi, Maya here."})
        )
        said = recv_until(customer, lambda f: f["type"] == "agent_message")[-1]
        assert said["text"] == "Hi, Maya here."
        customer.send(json.dumps({"type": "customer_message", "text": "Thanks Maya"}))
        heard = recv_until(
            agent, lambda f: f["type"] == "message" and f["message"]["role"] == "customer"
        )[-1]
        assert heard["message"]["text"] == "Thanks Maya"

        # The agent's console goes away. Past the grace period beat's sweep, on the ingest
        # worker, puts the chat back in the queue, and the customer on the other web
        # process is told.
        agent.close()
        gone = recv_until(customer, lambda f: f["type"] == "status" and f["status"] == "waiting")
        notice = next(f for f in gone if f["type"] == "system_message")
        assert notice["notice"] == "requeued" and notice["text"].startswith("Maya got disconnected")
        assert any(f["type"] == "handoff_unavailable" for f in gone)  # nobody else is online

    procs = stack["procs"]
    assert "chatbot.tasks.generate_reply[" in procs["inference"].log()
    assert "agents.tasks.sweep[" in procs["ingest"].log()
    assert "agents.tasks.sweep" in procs["beat"].log()
    for web in ("a", "b"):
        assert "agents.tasks.sweep" not in procs[web].log()  # no scheduler thread in web

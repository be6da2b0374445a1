"""The handoff's timeouts: a waiting customer who left is marked abandoned (nothing lost), an
agent whose console is gone past the grace period loses the chat back to the queue (and the
customer is told), and the scheduler thread really runs the sweep."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.contrib.auth import get_user_model
from django.utils import timezone

from agents import states, sweeps
from agents.models import AgentProfile, Handoff
from chatbot import scheduler
from chatbot.models import Conversation, Message
from tests.chat_client import inference_idle, open_agent, open_chat, receive_until, session_cookie
from tests.handoff_helpers import make_agent

pytestmark = pytest.mark.django_db(transaction=True)

S = Conversation.Status


def of_type(*types):
    return lambda frame: frame["type"] in types


def _waiting(seen_ago: timedelta | None) -> Conversation:
    conv = Conversation.objects.create(
        customer_seen_at=None if seen_ago is None else timezone.now() - seen_ago
    )
    Message.objects.create(conversation=conv, role=Message.CUSTOMER, text="Where is my order?")
    states.transition(conv.pk, S.WAITING)
    Handoff.objects.create(
        conversation=conv, trigger="button", reason="pressed", outcome=Handoff.QUEUED
    )
    return conv


def test_a_customer_gone_past_the_timeout_is_abandoned_and_nothing_is_lost(settings, tiny_kb):
    settings.AGENTS_ABANDON_AFTER_S = 60
    settings.AGENTS_AUTO_ASSIGN = False
    gone = _waiting(timedelta(seconds=90))
    here = _waiting(timedelta(seconds=5))

    assert sweeps.run()["abandoned"] == 1
    gone.refresh_from_db()
    here.refresh_from_db()
    assert (gone.status, here.status) == (S.ABANDONED, S.WAITING)
    assert Handoff.objects.get(conversation=gone).end == "abandoned"
    assert list(gone.messages.values_list("role", "notice")) == [
        ("customer", ""),
        ("system", "abandoned"),
    ]
    assert sweeps.run()["abandoned"] == 0  # idempotent

    # The customer comes back: the assistant picks up again, with everything still there.
    async def come_back():
        customer, hello = await open_chat(f"conversation={gone.public_id}")
        await customer.send_json_to(
            {"type": "customer_message", "text": "How much does standard shipping cost?"}
        )
        frames = await receive_until(customer, of_type("bot_message", "error"))
        await inference_idle()
        await customer.disconnect()
        return hello, frames

    hello, frames = async_to_sync(come_back)()
    assert hello["status"] == S.ABANDONED
    assert [m["text"] for m in hello["messages"]][0] == "Where is my order?"
    assert frames[-1]["type"] == "bot_message" and "$4.95" in frames[-1]["text"]
    gone.refresh_from_db()
    assert gone.status == S.BOT


def test_a_connected_waiting_customer_is_kept_in_the_queue(settings):
    settings.AGENTS_ABANDON_AFTER_S = 1
    settings.AGENTS_HEARTBEAT_S = 0.2
    settings.AGENTS_AUTO_ASSIGN = False
    conv = _waiting(timedelta(seconds=30))

    async def stay():
        customer, _ = await open_chat(f"conversation={conv.public_id}")
        await asyncio.sleep(1.5)  # heartbeats keep customer_seen_at fresh meanwhile
        result = await sync_to_async(sweeps.run)()
        await customer.disconnect()
        return result

    assert async_to_sync(stay)()["abandoned"] == 0
    conv.refresh_from_db()
    assert conv.status == S.WAITING


def test_an_agent_gone_past_the_grace_period_loses_the_chat_to_the_queue(settings):
    settings.AGENTS_DISCONNECT_GRACE_S = 30
    settings.AGENTS_AUTO_ASSIGN = True
    maya = make_agent(online=False)
    cookie = session_cookie(maya)
    conv = _waiting(timedelta(seconds=1))
    Conversation.objects.filter(pk=conv.pk).update(customer_seen_at=timezone.now())

    def rows():
        conv.refresh_from_db()
        return conv.status, conv.assigned_agent, AgentProfile.objects.get(user=maya).sockets

    def maya_gone_for_31s():
        AgentProfile.objects.filter(user=maya).update(
            last_seen_at=timezone.now() - timedelta(seconds=31)
        )
        return make_agent("sam", name="Sam")

    async def scenario():
        agent, _ = await open_agent(cookie)  # connecting takes the waiting chat
        customer, _ = await open_chat(f"conversation={conv.public_id}")
        await agent.disconnect()
        after_disconnect = await sync_to_async(rows)()
        # Within the grace period (a page reload, a flaky network) nothing happens.
        within = await sync_to_async(sweeps.run)()
        still = await sync_to_async(rows)()
        # Past it, the chat goes back to the queue and the customer is told.
        await sync_to_async(maya_gone_for_31s)()
        result = await sync_to_async(sweeps.run)()
        frames = await receive_until(
            customer, lambda f: f["type"] == "status" and f["status"] == "agent"
        )
        await customer.disconnect()
        return after_disconnect, within, still, result, frames

    after_disconnect, within, still, result, frames = async_to_sync(scenario)()
    assert after_disconnect == (S.AGENT, maya, 0)
    assert within["requeued"] == 0 and still[:2] == (S.AGENT, maya)
    sam = get_user_model().objects.get(username="sam")
    assert result["requeued"] == 1
    notices = [f["text"] for f in frames if f["type"] == "system_message"]
    assert notices[0].startswith("Maya got disconnected. You're back in the queue")
    assert notices[-1] == "Sam has joined the conversation."
    conv.refresh_from_db()
    assert (conv.status, conv.assigned_agent) == (S.AGENT, sam)
    first, second = Handoff.objects.filter(conversation=conv).order_by("requested_at", "id")
    assert (first.end, first.agent) == ("requeued", maya)
    assert (second.trigger, second.agent) == ("requeued", sam)
    assert second.detail["previous_agent"] == "Maya"


def test_a_crashed_server_does_not_keep_an_agent_online_forever(settings):
    settings.AGENTS_DISCONNECT_GRACE_S = 10
    settings.AGENTS_AUTO_ASSIGN = False
    maya = make_agent()
    # Two sockets counted, then the server died: no disconnect was ever reported.
    AgentProfile.objects.filter(user=maya).update(
        sockets=2, last_seen_at=timezone.now() - timedelta(minutes=5)
    )
    conv = Conversation.objects.create(status=S.AGENT, assigned_agent=maya)
    assert sweeps.run()["requeued"] == 1
    conv.refresh_from_db()
    assert conv.status == S.WAITING and conv.assigned_agent is None


def test_the_in_process_scheduler_runs_the_sweep(settings):
    settings.AGENTS_ABANDON_AFTER_S = 1
    settings.AGENTS_AUTO_ASSIGN = False
    conv = _waiting(timedelta(seconds=5))
    thread = scheduler.Scheduler([scheduler.Job("agents-sweep", "agents.tasks.sweep", 0.2)])
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if Conversation.objects.get(pk=conv.pk).status == S.ABANDONED:
                break
            time.sleep(0.1)
    finally:
        thread.stop()
        thread.join(timeout=10)
    assert Conversation.objects.get(pk=conv.pk).status == S.ABANDONED


def test_the_scheduler_reads_its_jobs_from_the_beat_schedule(settings):
    jobs = scheduler.jobs()
    assert [(j.name, j.task) for j in jobs] == [("agents-sweep", "agents.tasks.sweep")]
    assert jobs[0].every_s == settings.AGENTS_SWEEP_EVERY_S

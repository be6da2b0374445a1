"""Who reaches what: only agents reach the console and its socket; an agent without staff
status cannot reach the admin; a customer sees and touches only their own conversation."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import AnonymousUser

from agents import customer
from chatbot.models import Conversation, Message
from tests.chat_client import open_agent, open_chat, receive_until, session_cookie
from tests.handoff_helpers import PASSWORD, make_agent, make_outsider

pytestmark = pytest.mark.django_db(transaction=True)

CONSOLE_URLS = ["/agent/", "/agent/api/canned?q=x", "/agent/api/kb?q=return"]


@pytest.mark.parametrize("url", CONSOLE_URLS)
def test_signed_out_visitors_are_sent_to_the_sign_in_page(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/agent/login/?next=")


@pytest.mark.parametrize("url", CONSOLE_URLS)
def test_signed_in_non_agents_are_refused(client, url):
    client.force_login(make_outsider(staff=True))  # even staff, if not in the group
    response = client.get(url)
    assert response.status_code == 403
    if url == "/agent/":
        assert b"not a member of the <em>Agents</em> group" in response.content


@pytest.mark.parametrize("url", CONSOLE_URLS)
def test_agents_get_in(client, url, tiny_kb):
    client.force_login(make_agent())
    response = client.get(url)
    assert response.status_code == 200


def test_an_inactive_agent_is_refused(client):
    maya = make_agent()
    maya.is_active = False
    maya.save()
    client.force_login(maya)
    assert client.get("/agent/").status_code in (302, 403)


def test_the_sign_in_page_signs_agents_in(client):
    make_agent()
    page = client.get("/agent/login/")
    assert page.status_code == 200 and b'name="password"' in page.content
    response = client.post("/agent/login/", {"username": "maya", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/agent/"
    assert client.get("/agent/").status_code == 200


def test_an_agent_without_staff_status_cannot_reach_the_admin(client):
    make_agent()
    client.post("/agent/login/", {"username": "maya", "password": PASSWORD})
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    # Nor sign in there.
    response = client.post("/admin/login/?next=/admin/", {"username": "maya", "password": PASSWORD})
    assert response.status_code == 200
    assert b"staff account" in response.content


def test_the_agent_socket_refuses_the_signed_out_and_non_agents():
    outsider_cookie = session_cookie(make_outsider(staff=True))

    async def scenario():
        anon, anon_hello = await open_agent(None)
        other, other_hello = await open_agent(outsider_cookie)
        forged, forged_hello = await open_agent(b"sessionid=not-a-real-session")
        return anon_hello, other_hello, forged_hello

    assert async_to_sync(scenario)() == (None, None, None)


def test_the_agent_socket_accepts_an_agent():
    cookie = session_cookie(make_agent())

    async def scenario():
        comm, hello = await open_agent(cookie)
        await comm.disconnect()
        return hello

    hello = async_to_sync(scenario)()
    assert hello["agent"]["name"] == "Maya"


def test_the_customer_socket_has_no_agent_powers(settings):
    settings.AGENTS_AUTO_ASSIGN = False
    make_agent()

    async def scenario():
        comm, greeting = await open_chat()
        await comm.send_json_to({"type": "request_human"})
        await receive_until(comm, lambda f: f["type"] == "status")
        replies = []
        for frame in (
            {"type": "accept", "conversation_id": greeting["conversation_id"]},
            {"type": "message", "conversation_id": greeting["conversation_id"], "text": "hi"},
            {"type": "resolve", "conversation_id": greeting["conversation_id"]},
            {"type": "open", "conversation_id": greeting["conversation_id"]},
        ):
            await comm.send_json_to(frame)
            replies.append(await comm.receive_json_from(timeout=10))
        await comm.disconnect()
        return greeting, replies

    greeting, replies = async_to_sync(scenario)()
    assert [r["code"] for r in replies] == ["unknown_type"] * 4
    assert Conversation.objects.get(public_id=greeting["conversation_id"]).status == "waiting"


def test_a_customer_cannot_touch_another_conversation(tiny_kb):
    theirs = Conversation.objects.create()
    asked = Message.objects.create(conversation=theirs, role=Message.CUSTOMER, text="Hi")
    answer = Message.objects.create(
        conversation=theirs, role=Message.BOT, text="Hello", reply_to=asked
    )

    async def scenario():
        comm, _ = await open_chat()
        await comm.send_json_to({"type": "feedback", "message_id": answer.pk, "value": -1})
        feedback = await comm.receive_json_from(timeout=10)
        await comm.send_json_to({"type": "rate", "score": 1})
        rating = await comm.receive_json_from(timeout=10)
        await comm.send_json_to({"type": "cancel_handoff"})
        cancel = await comm.receive_json_from(timeout=10)
        await comm.disconnect()
        return feedback, rating, cancel

    feedback, rating, cancel = async_to_sync(scenario)()
    assert feedback["code"] == "not_found"
    assert rating["code"] == "not_resolved"
    assert cancel["code"] == "not_waiting"
    answer.refresh_from_db()
    assert answer.feedback is None


def test_an_agent_message_reaches_only_its_own_conversation(settings):
    settings.AGENTS_AUTO_ASSIGN = True
    cookie = session_cookie(make_agent())

    async def scenario():
        agent, _ = await open_agent(cookie)
        alice, alice_hello = await open_chat()
        bob, _ = await open_chat()
        await alice.send_json_to({"type": "request_human"})
        await receive_until(alice, lambda f: f["type"] == "status" and f["status"] == "agent")
        await agent.send_json_to(
            {"type": "message", "conversation_id": alice_hello["conversation_id"], "text": "Hi"}
        )
        heard = await receive_until(alice, lambda f: f["type"] == "agent_message")
        bob_heard = await bob.receive_nothing(timeout=1)
        for comm in (agent, alice, bob):
            await comm.disconnect()
        return heard[-1], bob_heard

    heard, bob_heard = async_to_sync(scenario)()
    assert heard["text"] == "Hi" and bob_heard is True


def test_a_forged_customer_token_gets_a_fresh_identity():
    key, token = customer.customer_key(None)
    assert customer.customer_key(token) == (key, token)
    forged = token[:-2] + ("A" if token[-1] != "A" else "B") + token[-1]
    other_key, other_token = customer.customer_key(forged)
    assert other_key != key and other_token != forged
    assert customer.customer_key("garbage")[0] != key


def test_is_agent_is_false_for_anonymous():
    from agents.availability import is_agent

    assert is_agent(AnonymousUser()) is False
    assert is_agent(None) is False

"""A socket gets a conversation id when it connects, but the conversation's row is created
only with its first customer message, so page views and bots that never chat store
nothing. The id works the same before and after the row exists."""

from __future__ import annotations

import textwrap
import uuid
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import IntegrityError
from django.utils import timezone

from chatbot import conversations
from chatbot.models import Conversation, Message, conversation_group
from tests.chat_client import open_chat
from tests.services import app_env, fresh_postgres_database, manage

pytestmark = pytest.mark.django_db(transaction=True)  # the consumer's ORM runs in a thread


@pytest.fixture
def dispatched(monkeypatch) -> list[int]:
    calls: list[int] = []
    monkeypatch.setattr("chatbot.conversations.dispatch_reply", calls.append)
    return calls


async def visit(query: str = "") -> dict:
    """Connect, read the greeting, leave without a word."""
    comm, hello = await open_chat(query)
    await comm.disconnect()
    return hello


async def say(comm: WebsocketCommunicator, text: str) -> dict:
    await comm.send_json_to({"type": "customer_message", "text": text})
    while True:
        # Each new message supersedes the (undispatched) reply to the previous one.
        frame = await comm.receive_json_from(timeout=10)
        if frame["type"] != "reply_cancelled":
            return frame


def test_connecting_gives_an_id_but_stores_nothing():
    hello = async_to_sync(visit)()

    assert uuid.UUID(hello["conversation_id"]).version == 4
    assert (hello["status"], hello["messages"]) == ("bot", [])
    assert Conversation.objects.count() == 0


def test_many_visits_store_nothing():
    async def scenario():
        return [await visit() for _ in range(5)]

    ids = {hello["conversation_id"] for hello in async_to_sync(scenario)()}
    assert len(ids) == 5
    assert Conversation.objects.count() == 0


def test_reconnecting_before_the_first_message_keeps_the_id(dispatched):
    async def scenario():
        first = await visit()
        again = await visit(f"conversation={first['conversation_id']}")
        return first, again

    first, again = async_to_sync(scenario)()

    assert again["conversation_id"] == first["conversation_id"]
    assert (again["status"], again["messages"]) == ("bot", [])
    assert Conversation.objects.count() == 0


def test_the_first_message_creates_exactly_one_conversation(dispatched):
    async def scenario():
        first = await visit()
        comm, again = await open_chat(f"conversation={first['conversation_id']}")
        replies = [await say(comm, "first question"), await say(comm, "second question")]
        await comm.disconnect()
        replay = await visit(f"conversation={first['conversation_id']}")
        return first, replies, replay

    first, replies, replay = async_to_sync(scenario)()

    assert [r["type"] for r in replies] == ["message_received", "message_received"]
    conv = Conversation.objects.get()
    assert str(conv.public_id) == first["conversation_id"]
    assert conv.status == Conversation.Status.BOT
    assert list(conv.messages.filter(role=Message.CUSTOMER).values_list("pk", "text")) == [
        (replies[0]["message_id"], "first question"),
        (replies[1]["message_id"], "second question"),
    ]
    assert dispatched == [r["message_id"] for r in replies]
    assert replay["conversation_id"] == first["conversation_id"]
    # The second message superseded the first one's reply; its own reply is still waiting
    # (dispatch is stubbed here), and the replay shows it as pending.
    assert [(m["role"], m["text"], m["state"]) for m in replay["messages"]] == [
        ("customer", "first question", "complete"),
        ("customer", "second question", "complete"),
        ("bot", "", "pending"),
    ]


def test_a_refused_first_message_stores_nothing(dispatched):
    async def scenario():
        comm, hello = await open_chat()
        reply = await say(comm, "   ")
        await comm.disconnect()
        return reply

    assert async_to_sync(scenario)()["code"] == "empty_message"
    assert Conversation.objects.count() == 0
    assert dispatched == []


def test_a_closed_or_malformed_id_gets_a_fresh_one():
    # Resolved long enough ago that its customer no longer sees it.
    closed = Conversation.objects.create(
        status=Conversation.Status.RESOLVED,
        status_changed_at=timezone.now() - timedelta(seconds=settings.AGENTS_RESUME_RESOLVED_S + 5),
    )
    escalated = Conversation.objects.create(status=Conversation.Status.WAITING)

    async def scenario():
        return [
            await visit(query)
            for query in (
                f"conversation={closed.public_id}",
                "conversation=not-a-uuid",
                "conversation=",
                f"conversation={escalated.public_id}",
            )
        ]

    after_closed, after_garbage, after_empty, resumed = async_to_sync(scenario)()

    fresh = [after_closed, after_garbage, after_empty]
    assert all(uuid.UUID(h["conversation_id"]).version == 4 for h in fresh)
    assert len({h["conversation_id"] for h in fresh} | {str(closed.public_id)}) == 4
    assert resumed["conversation_id"] == str(escalated.public_id)
    assert resumed["status"] == "waiting"
    # No rows for the fresh ids: only the two made above.
    assert Conversation.objects.count() == 2


def test_a_socket_that_joined_before_the_row_existed_hears_the_answer(tiny_kb):
    # The channel-layer group comes from the public id alone, so a second tab opened on
    # the id before anyone wrote is in the same group as the row's replies later.
    async def scenario():
        alice, hello = await open_chat()
        tab, _ = await open_chat(f"conversation={hello['conversation_id']}")
        await alice.send_json_to(
            {"type": "customer_message", "text": "How much does standard shipping cost?"}
        )
        heard = []
        while not heard or heard[-1]["type"] not in ("bot_message", "error"):
            heard.append(await tab.receive_json_from(timeout=20))
        await alice.disconnect()
        await tab.disconnect()
        return hello, heard

    hello, heard = async_to_sync(scenario)()

    assert heard[-1]["type"] == "bot_message" and heard[-1]["citations"]
    conv = Conversation.objects.get()
    assert str(conv.public_id) == hello["conversation_id"]
    assert conv.group_name == conversation_group(uuid.UUID(hello["conversation_id"]))


def test_losing_the_race_to_create_the_row_retries_on_the_winners_row(dispatched, monkeypatch):
    # What the losing side sees where its snapshot predates the winner's commit (see the
    # PostgreSQL test below for the real thing; SQLite serialises writers, so it can't
    # race): its INSERT fails on the unique public_id although its re-read finds no row.
    public_id = uuid.uuid4()
    real = conversations._add_customer_message
    attempts: list[str] = []

    def lose_first_attempt(pid: uuid.UUID, clean: str, customer_key: str | None) -> Message:
        attempts.append(clean)
        if len(attempts) == 1:
            Conversation.objects.create(public_id=pid)  # the other socket's first message
            raise IntegrityError("duplicate key value violates unique constraint")
        return real(pid, clean, customer_key)

    monkeypatch.setattr(conversations, "_add_customer_message", lose_first_attempt)
    msg = conversations.add_customer_message(public_id, "  from the second tab ")

    assert attempts == ["from the second tab", "from the second tab"]
    conv = Conversation.objects.get()
    assert (conv.public_id, msg.conversation_id) == (public_id, conv.pk)
    assert list(conv.messages.filter(role=Message.CUSTOMER).values_list("text", flat=True)) == [
        "from the second tab"
    ]
    assert dispatched == [msg.pk]


def test_a_second_failure_is_not_retried_forever(dispatched, monkeypatch):
    calls: list[uuid.UUID] = []

    def always_fails(pid: uuid.UUID, clean: str, customer_key: str | None) -> Message:
        calls.append(pid)
        raise IntegrityError("something else is wrong")

    monkeypatch.setattr(conversations, "_add_customer_message", always_fails)
    with pytest.raises(IntegrityError):
        conversations.add_customer_message(uuid.uuid4(), "hello")
    assert len(calls) == 2


# The race for real: PostgreSQL, where a losing INSERT waits on the unique index until the
# winner commits. The rival holds its new row uncommitted while add_customer_message runs.
RACE_SCRIPT = textwrap.dedent(
    """
    import os, threading, time, uuid
    import psycopg
    from django.db import connection, transaction
    from chatbot import conversations
    from chatbot.models import Conversation, Message

    level = os.environ["RACE_ISOLATION"]
    connection.settings_dict["OPTIONS"]["isolation_level"] = getattr(
        psycopg.IsolationLevel, level
    )
    conversations.dispatch_reply = lambda pk: None
    public_id = uuid.uuid4()
    inserted = threading.Event()

    def rival():
        with transaction.atomic():
            Conversation.objects.create(public_id=public_id)
            inserted.set()
            time.sleep(1.0)
        connection.close()

    thread = threading.Thread(target=rival)
    thread.start()
    assert inserted.wait(10)
    msg = conversations.add_customer_message(public_id, "first words")
    thread.join()
    rows = Conversation.objects.filter(public_id=public_id).count()
    stored = Message.objects.filter(conversation__public_id=public_id, role="customer").count()
    print("RESULT", rows, stored, msg.conversation.public_id == public_id)
    """
)


@pytest.mark.services
def test_two_first_messages_racing_on_postgres_make_one_conversation(tmp_path):
    with fresh_postgres_database() as url:
        env = app_env(
            DATABASE_URL=url,
            DATA_DIR=str(tmp_path),
            CHATBOT_GENERATOR="fake",
            CHATBOT_EMBEDDER="hashing",
        )
        env.pop("REDIS_URL", None)
        migrate = manage(env, "migrate", "--noinput", timeout=180)
        assert migrate.returncode == 0, migrate.stderr
        # READ COMMITTED is PostgreSQL's default; under REPEATABLE READ the loser's re-read
        # inside its old snapshot misses the winner's row, and only a retry in a fresh
        # transaction finds it.
        for level in ("READ_COMMITTED", "REPEATABLE_READ"):
            race = manage(dict(env, RACE_ISOLATION=level), "shell", "-c", RACE_SCRIPT)
            assert race.returncode == 0, f"{level}: {race.stdout}{race.stderr}"
            assert "RESULT 1 1 True" in race.stdout, f"{level}: {race.stdout}{race.stderr}"

"""The console's read models: the three lists, and a conversation's full view with the
customer's earlier conversations."""

from __future__ import annotations

import pytest

from agents import inbox, states
from agents.models import CsatRating, Handoff
from chatbot.models import Conversation, Message
from tests.handoff_helpers import make_agent

pytestmark = pytest.mark.django_db

S = Conversation.Status


def _handoff(conv, **fields):
    return Handoff.objects.create(
        conversation=conv, trigger="button", reason="pressed", outcome="queued", **fields
    )


def test_the_three_lists():
    maya, sam = make_agent(), make_agent("sam", name="Sam")
    waiting = Conversation.objects.create()
    states.transition(waiting.pk, S.WAITING)
    _handoff(waiting)
    mine = Conversation.objects.create(status=S.AGENT, assigned_agent=maya)
    theirs = Conversation.objects.create(status=S.AGENT, assigned_agent=sam)
    # Nobody could come the first time; later an agent came and resolved it.
    resolved = Conversation.objects.create(status=S.RESOLVED)
    Handoff.objects.create(
        conversation=resolved, trigger="button", reason="r", outcome="offline", end="offline"
    )
    _handoff(resolved, agent=maya, end="resolved", ended_at=resolved.created_at)
    missed = Conversation.objects.create()  # only an offline attempt: not a closed chat
    Handoff.objects.create(
        conversation=missed,
        trigger="button",
        reason="r",
        outcome="offline",
        end="offline",
        ended_at=missed.created_at,
    )

    lists = inbox.lists_for(maya)
    ids = {name: [row["id"] for row in rows] for name, rows in lists.items()}
    assert ids == {
        "waiting": [str(waiting.public_id)],
        "mine": [str(mine.public_id)],
        "closed": [str(resolved.public_id)],
    }
    assert str(theirs.public_id) not in sum(ids.values(), [])
    assert lists["waiting"][0]["trigger"] == "button"
    assert lists["mine"][0]["agent"] == {"id": maya.pk, "name": "Maya"}


def test_the_view_shows_a_known_customers_earlier_conversations():
    before = Conversation.objects.create(customer_key="k" * 32, status=S.RESOLVED)
    Message.objects.create(conversation=before, role=Message.CUSTOMER, text="Boots too small")
    CsatRating.objects.create(conversation=before, score=4)
    stranger = Conversation.objects.create(customer_key="z" * 32)
    Message.objects.create(conversation=stranger, role=Message.CUSTOMER, text="Not theirs")
    now = Conversation.objects.create(customer_key="k" * 32, language="en")
    Message.objects.create(conversation=now, role=Message.CUSTOMER, text="Exchange again")

    view = inbox.detail(now)
    assert view["known_customer"] is True
    assert [(e["id"], e["first_message"], e["csat"]) for e in view["earlier"]] == [
        (str(before.public_id), "Boots too small", 4)
    ]
    unknown = Conversation.objects.create()
    assert inbox.detail(unknown)["earlier"] == []  # no key: nobody else's history
    Conversation.objects.create()  # another unknown customer
    assert inbox.detail(unknown)["earlier"] == []


def test_message_rows_carry_the_answer_record_agents_need():
    conv = Conversation.objects.create()
    msg = Message.objects.create(
        conversation=conv,
        role=Message.BOT,
        text="x",
        confidence=0.7,
        citations=[],
        outcome="fallback",
        kept_draft=False,
        references=[{"faq_id": 3, "question": "Q?", "url": "", "score": 0.9}, "junk"],
    )
    row = inbox.message_row(msg)
    assert row["confidence"] == 0.7 and row["role"] == "bot"
    assert row["outcome"] == "fallback" and row["verified"] is False
    assert row["retrieved"] == [{"faq_id": 3, "question": "Q?", "url": "", "score": 0.9}]
    said = Message.objects.create(conversation=conv, role=Message.CUSTOMER, text="hi")
    assert "retrieved" not in inbox.message_row(said)

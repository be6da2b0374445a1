"""The only place handoff code pushes websocket events, always after commit.

Groups on the channel layer:
- `conv.<hex>` — the customer's sockets (chatbot.models.conversation_group);
- `agents.conv.<hex>` — agent consoles that have the conversation open;
- `agents.inbox` — every agent console (queue and list changes);
- `agents.user.<id>` — one agent's consoles (assignments, availability).
"""

from __future__ import annotations

import logging
import uuid

from django.db import transaction

from agents import inbox
from agents.models import CsatRating
from chatbot import events
from chatbot.models import Conversation, Message, conversation_group

log = logging.getLogger(__name__)

INBOX_GROUP = "agents.inbox"


def watchers_group(public_id: uuid.UUID) -> str:
    return f"agents.conv.{public_id.hex}"


def agent_group(user_id: int) -> str:
    return f"agents.user.{user_id}"


def _publish_on_commit(group: str, payload: dict) -> None:
    # robust: the rows are committed whatever happens to the notification; a channel
    # layer hiccup is logged, not raised into the code that committed them.
    transaction.on_commit(lambda: events.publish(group, payload), robust=True)


def to_customer(conv: Conversation, payload: dict) -> None:
    _publish_on_commit(conversation_group(conv.public_id), payload)


def to_watchers(conv: Conversation, payload: dict) -> None:
    _publish_on_commit(watchers_group(conv.public_id), payload)


def to_agent(user_id: int, payload: dict) -> None:
    _publish_on_commit(agent_group(user_id), payload)


def inbox_changed(conversation_id: int) -> None:
    """Every console re-files this conversation (queue, mine, closed) from a fresh row."""

    def send() -> None:
        row = inbox.row_for(conversation_id)
        if row is not None:
            events.publish(INBOX_GROUP, {"type": "inbox_update", "conversation": row})

    transaction.on_commit(send, robust=True)


def message_added(conv: Conversation, msg: Message) -> None:
    """Agent consoles watching the conversation see every message as it is stored."""
    to_watchers(
        conv,
        {
            "type": "message",
            "conversation_id": str(conv.public_id),
            "message": inbox.message_row(msg),
        },
    )


def post_notice(conv: Conversation, notice: str, text: str) -> Message:
    """A system message the customer sees in the transcript (and on replay), announcing a
    state change; agents see it too."""
    msg = Message.objects.create(conversation=conv, role=Message.SYSTEM, text=text, notice=notice)
    to_customer(conv, events.system_message(msg.pk, text, notice, msg.created_at.isoformat()))
    message_added(conv, msg)
    return msg


def status_to_customer(conv: Conversation, *, estimate_minutes: int | None = None) -> None:
    agent_name = None
    if conv.status == Conversation.Status.AGENT and conv.assigned_agent_id:
        agent_name = inbox.display_name(conv.assigned_agent)
    rated = CsatRating.objects.filter(conversation=conv).exists()
    to_customer(conv, events.status(conv.status, agent_name, estimate_minutes, rated))

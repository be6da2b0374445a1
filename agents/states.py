"""The conversation state machine: the only code that changes Conversation.status.

    bot → waiting → agent → resolved
    agent → bot (handed back with a note) · agent → waiting (agent gone, or put back)
    waiting → bot (customer went back) · waiting → abandoned (customer left)
    bot/waiting → ticket (customer left a message) · abandoned/ticket → bot (came back)

Every change is one conditional UPDATE under a row lock, so two processes racing to move
the same conversation cannot both win, and it writes one StatusChange row. Anything not
in TRANSITIONS raises IllegalTransition.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from agents.models import StatusChange
from chatbot.models import Conversation

BOT = Conversation.Status.BOT
WAITING = Conversation.Status.WAITING
AGENT = Conversation.Status.AGENT
RESOLVED = Conversation.Status.RESOLVED
ABANDONED = Conversation.Status.ABANDONED
TICKET = Conversation.Status.TICKET

# (from, to) -> what the change means; the default reason recorded on StatusChange.
TRANSITIONS: dict[tuple[str, str], str] = {
    (BOT, WAITING): "queued for an agent",
    (BOT, TICKET): "nobody available; the customer left a message",
    (WAITING, AGENT): "an agent joined",
    (WAITING, BOT): "the customer went back to the assistant",
    (WAITING, ABANDONED): "the customer left before an agent joined",
    (WAITING, TICKET): "the customer left a message instead of waiting",
    (AGENT, RESOLVED): "resolved by the agent",
    (AGENT, BOT): "handed back to the assistant",
    (AGENT, WAITING): "returned to the queue",
    (ABANDONED, BOT): "the customer came back",
    (TICKET, BOT): "the customer wrote again",
}

# Where the bot answers customer messages; elsewhere it stays silent.
BOT_ANSWERS = frozenset({BOT})
# Where a human is involved or about to be: handoff triggers do nothing here.
WITH_HUMANS = frozenset({WAITING, AGENT})
CLOSED = frozenset({RESOLVED})


class IllegalTransition(Exception):
    """The move is not in the table, or the conversation is not where the caller expected
    (someone else moved it first: e.g. another agent accepted it)."""

    def __init__(self, current: str, target: str, detail: str = "") -> None:
        self.current = current
        self.target = target
        super().__init__(detail or f"cannot go from {current!r} to {target!r}")


@dataclass(frozen=True)
class Change:
    conversation: Conversation  # as it is after the change
    previous: str
    record: StatusChange


def allowed(current: str, target: str) -> bool:
    return (current, target) in TRANSITIONS


def transition(
    conversation_id: int,
    target: str,
    *,
    expected: str | Iterable[str] | None = None,
    agent: AbstractBaseUser | None = None,
    actor: AbstractBaseUser | None = None,
    reason: str = "",
) -> Change:
    """Move one conversation to `target`. `agent` is required for, and only for, AGENT.

    `expected` names the state(s) the caller believes the conversation is in; anything
    else raises IllegalTransition without changing it. Runs in (or opens) a transaction
    and locks the row; the status write is conditional on the status read, so even a
    database without row locks lets exactly one of two racing callers through.
    """
    if (target == AGENT) != (agent is not None):
        raise ValueError("an agent is given exactly when moving to the agent state")
    with transaction.atomic():
        conv = Conversation.objects.select_for_update().get(pk=conversation_id)
        current = conv.status
        if expected is not None:
            wanted = {expected} if isinstance(expected, str) else set(expected)
            if current not in wanted:
                raise IllegalTransition(
                    current, target, f"conversation is {current!r}, not {sorted(wanted)}"
                )
        if not allowed(current, target):
            raise IllegalTransition(current, target)
        now = timezone.now()
        moved = Conversation.objects.filter(
            pk=conv.pk, status=current, assigned_agent_id=conv.assigned_agent_id
        ).update(
            status=target,
            assigned_agent=agent,
            status_changed_at=now,
            updated_at=now,
        )
        if moved != 1:
            raise IllegalTransition(current, target, "conversation changed concurrently")
        record = StatusChange.objects.create(
            conversation=conv,
            from_status=current,
            to_status=target,
            actor=actor if actor is not None else agent,
            reason=(reason or TRANSITIONS[(current, target)])[:300],
        )
        conv.status, conv.assigned_agent, conv.status_changed_at = target, agent, now
        conv.updated_at = now
    return Change(conv, current, record)

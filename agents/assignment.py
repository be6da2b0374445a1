"""Who takes a waiting conversation: a manual accept, or the least-loaded available agent.

Locking rule: an agent's AgentProfile row is locked before the conversation row (here and
nowhere else in the other order), so an agent's load is counted and raised atomically and
two accepts of one conversation serialise on the conversation row (states.transition).
"""

from __future__ import annotations

import logging
import math
import statistics
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from agents import availability, notify, states, texts
from agents.models import AgentProfile, Handoff, Team
from chatbot.models import Conversation

log = logging.getLogger(__name__)

S = Conversation.Status


class AssignmentError(Exception):
    """`code`: already_taken, not_waiting, at_capacity, not_an_agent."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def profile_for(user) -> AgentProfile:
    profile, _ = AgentProfile.objects.get_or_create(
        user=user, defaults={"max_concurrent": settings.AGENTS_MAX_CONCURRENT}
    )
    return profile


def load_of(user) -> int:
    return Conversation.objects.filter(status=S.AGENT, assigned_agent=user).count()


def open_handoff(conversation_id: int) -> Handoff | None:
    return (
        Handoff.objects.filter(
            conversation_id=conversation_id, outcome=Handoff.QUEUED, ended_at__isnull=True
        )
        .order_by("-requested_at", "-id")
        .first()
    )


def accept(conversation_id: int, user, *, auto: bool = False) -> states.Change:
    """Give a waiting conversation to `user`. Exactly one of any number of concurrent
    accepts of the same conversation succeeds; the others raise AssignmentError
    ("already_taken")."""
    if not availability.is_agent(user):
        raise AssignmentError("not_an_agent", "Only members of the Agents group take chats.")
    profile_for(user)
    with transaction.atomic():
        profile = AgentProfile.objects.select_for_update().get(user=user)
        if load_of(user) >= profile.max_concurrent:
            raise AssignmentError(
                "at_capacity",
                f"You already have {profile.max_concurrent} active chats (your maximum).",
            )
        try:
            change = states.transition(conversation_id, S.AGENT, expected=S.WAITING, agent=user)
        except states.IllegalTransition as exc:
            if exc.current == S.AGENT:
                raise AssignmentError(
                    "already_taken", "Another agent has already taken this conversation."
                ) from None
            raise AssignmentError(
                "not_waiting", f"This conversation is no longer waiting ({exc.current})."
            ) from None
        now = timezone.now()
        profile.last_assigned_at = now
        profile.save(update_fields=["last_assigned_at"])
        conv = change.conversation
        Handoff.objects.filter(
            conversation=conv, outcome=Handoff.QUEUED, ended_at__isnull=True
        ).update(agent=user, accepted_at=now, auto_assigned=auto)
        name = profile.name
        notify.post_notice(conv, "joined", texts.say("joined", conv.language, agent=name))
        notify.status_to_customer(conv)
        notify.inbox_changed(conv.pk)
        if auto:
            notify.to_agent(
                user.pk, {"type": "assigned", "conversation": {"id": str(conv.public_id)}}
            )
    return change


def auto_assign(conversation_id: int) -> object | None:
    """Give a waiting conversation to the least-loaded available agent with room (ties:
    the one who got a chat longest ago). Returns the agent, or None."""
    conv = Conversation.objects.filter(pk=conversation_id, status=S.WAITING).first()
    if conv is None:
        return None
    handoff = open_handoff(conversation_id)
    team = handoff.team if handoff else availability.team_for(conv.language)
    candidates = (
        availability.with_load(availability.ready_agents(team))
        .filter(load__lt=F("max_concurrent"))
        .order_by("load", F("last_assigned_at").asc(nulls_first=True), "pk")
    )
    for profile in candidates:
        try:
            accept(conversation_id, profile.user, auto=True)
        except AssignmentError as exc:
            if exc.code == "at_capacity":
                continue  # filled up since the list was read; try the next one
            return None  # taken or moved on meanwhile: nothing to do
        return profile.user
    return None


def assign_waiting() -> int:
    """Offer the queue, oldest first, to agents with room. Returns how many were assigned."""
    if not settings.AGENTS_AUTO_ASSIGN:
        return 0
    assigned = 0
    waiting = Conversation.objects.filter(status=S.WAITING).order_by("status_changed_at", "pk")
    for conv_id in list(waiting.values_list("pk", flat=True)[:200]):
        if auto_assign(conv_id) is None:
            # Nobody took it. With teams, another conversation may still fit someone.
            if not Team.objects.exists():
                break
            continue
        assigned += 1
    return assigned


# --- How long until someone comes --------------------------------------------------------

DEFAULT_ACCEPT_S = 60.0
DEFAULT_HANDLE_S = 6 * 60.0
RECENT = 30


def _recent_durations(field_from: str, field_to: str) -> list[float]:
    since = timezone.now() - timedelta(days=14)
    rows = (
        Handoff.objects.filter(
            **{f"{field_from}__isnull": False, f"{field_to}__isnull": False},
            requested_at__gte=since,
        )
        .order_by(f"-{field_to}")
        .values_list(field_from, field_to)[:RECENT]
    )
    return [(b - a).total_seconds() for a, b in rows if b >= a]


def estimate_minutes(conv: Conversation, team: Team | None) -> int:
    """An honest wait: from the queue ahead of this conversation, the free seats of the
    agents online now, and how long recent chats took to be accepted and handled (medians,
    with modest defaults until there is history). At least 1."""
    ahead = Conversation.objects.filter(status=S.WAITING).exclude(pk=conv.pk)
    if conv.status_changed_at is not None:
        ahead = ahead.filter(status_changed_at__lt=conv.status_changed_at)
    ahead_n = ahead.count()
    agents = list(availability.with_load(availability.ready_agents(team)))
    free = sum(max(0, a.max_concurrent - a.load) for a in agents)
    accept_s = statistics.median(
        _recent_durations("requested_at", "accepted_at") or [DEFAULT_ACCEPT_S]
    )
    handle_s = statistics.median(_recent_durations("accepted_at", "ended_at") or [DEFAULT_HANDLE_S])
    handle_s = max(handle_s, 60.0)
    if not agents:
        wait = accept_s + handle_s
    elif free > ahead_n:
        wait = accept_s
    else:
        # Everyone is busy: seats free up one handle-time at a time per agent.
        rounds = math.ceil((ahead_n - free + 1) / len(agents))
        wait = accept_s + rounds * handle_s
    return max(1, math.ceil(wait / 60.0))

"""Who is connected. Sockets report in on connect, every AGENTS_HEARTBEAT_S while open,
and on disconnect; the database is the truth, so it holds across web processes.

A server that crashes cannot report its sockets closed: its counts stop mattering once
the heartbeat is older than availability.online_window().
"""

from __future__ import annotations

import uuid

from django.db.models import Case, F, When
from django.utils import timezone

from agents import availability
from agents.assignment import profile_for
from agents.models import AgentProfile
from chatbot.models import Conversation


def agent_connected(user) -> AgentProfile:
    profile = profile_for(user)
    now = timezone.now()
    stale = now - availability.online_window()
    AgentProfile.objects.filter(pk=profile.pk).update(
        # A stale heartbeat means every socket counted before is gone.
        sockets=Case(
            When(last_seen_at__isnull=True, then=1),
            When(last_seen_at__lt=stale, then=1),
            default=F("sockets") + 1,
        ),
        last_seen_at=now,
    )
    profile.refresh_from_db()
    return profile


def agent_heartbeat(user_id: int) -> None:
    AgentProfile.objects.filter(user_id=user_id).update(last_seen_at=timezone.now())


def agent_disconnected(user_id: int) -> None:
    AgentProfile.objects.filter(user_id=user_id).update(
        sockets=Case(When(sockets__gt=0, then=F("sockets") - 1), default=0),
        last_seen_at=timezone.now(),
    )


def customer_seen(public_id: uuid.UUID) -> None:
    """Only conversations a person is involved in need to know the customer is there."""
    Conversation.objects.filter(
        public_id=public_id,
        status__in=[Conversation.Status.WAITING, Conversation.Status.AGENT],
    ).update(customer_seen_at=timezone.now())

"""The timeouts of the handoff, run periodically (agents.tasks.sweep: Celery beat in the
scaled shape, the in-process scheduler thread in the embedded one).

Each step re-reads and moves one conversation at a time through states.transition, so a
sweep running twice at once, or racing an agent, changes each conversation at most once.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from agents import assignment, availability, console, notify, states, texts, tickets
from agents.models import AgentProfile, Handoff
from chatbot.models import Conversation

log = logging.getLogger(__name__)

S = Conversation.Status


def abandon_gone_customers() -> int:
    """Waiting conversations whose customer has been away AGENTS_ABANDON_AFTER_S. They
    stay in the queue until then; afterwards they are kept, marked abandoned, and pick up
    with the assistant again if the customer comes back."""
    cutoff = timezone.now() - timedelta(seconds=settings.AGENTS_ABANDON_AFTER_S)
    stale = Conversation.objects.filter(status=S.WAITING).filter(
        Q(customer_seen_at__lt=cutoff)
        | Q(customer_seen_at__isnull=True, status_changed_at__lt=cutoff)
    )
    done = 0
    for conv_id in list(stale.values_list("pk", flat=True)):
        with transaction.atomic():
            conv = Conversation.objects.select_for_update().get(pk=conv_id)
            seen = conv.customer_seen_at or conv.status_changed_at
            if conv.status != S.WAITING or (seen and seen >= cutoff):
                continue  # an agent took it, or the customer came back, meanwhile
            conv = states.transition(conv.pk, S.ABANDONED, expected=S.WAITING).conversation
            Handoff.objects.filter(
                conversation=conv, outcome=Handoff.QUEUED, ended_at__isnull=True
            ).update(ended_at=timezone.now(), end=Handoff.ABANDONED)
            notify.post_notice(conv, "abandoned", texts.say("abandoned", conv.language))
            notify.status_to_customer(conv)
            notify.inbox_changed(conv.pk)
            done += 1
    return done


def requeue_from_gone_agents() -> int:
    """Chats whose agent's console has been gone for AGENTS_DISCONNECT_GRACE_S go back to
    the queue, and the customer is told."""
    now = timezone.now()
    grace_cutoff = now - timedelta(seconds=settings.AGENTS_DISCONNECT_GRACE_S)
    online = availability.online_q(now)
    gone_users = (
        AgentProfile.objects.exclude(online)
        .filter(Q(last_seen_at__lt=grace_cutoff) | Q(last_seen_at__isnull=True))
        .values_list("user_id", flat=True)
    )
    orphaned = Conversation.objects.filter(status=S.AGENT).filter(
        Q(assigned_agent_id__in=gone_users) | Q(assigned_agent__agent_profile__isnull=True)
    )
    moved = 0
    for conv_id, agent_id in list(orphaned.values_list("pk", "assigned_agent_id")):
        if console.requeue(conv_id, "the agent disconnected", expected_agent_id=agent_id):
            moved += 1
    return moved


def run() -> dict[str, int]:
    result = {
        "abandoned": abandon_gone_customers(),
        "requeued": requeue_from_gone_agents(),
        "assigned": assignment.assign_waiting(),
        "tickets_emailed": tickets.retry_unsent(),
    }
    if any(result.values()):
        log.info("handoff sweep: %s", result)
    return result

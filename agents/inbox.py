"""What the agent console shows: inbox rows, the three lists, a conversation's full view.

Read-only; every shape here is documented in docs/protocol.md (agent socket).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from agents import summary
from agents.models import AgentProfile, CsatRating, Handoff, Ticket
from chatbot.models import Conversation, Message

S = Conversation.Status
RECENTLY_CLOSED = timedelta(days=3)
LIST_LIMIT = 100
TRANSCRIPT_LIMIT = 500
PREVIEW_CHARS = 140


def display_name(user) -> str:
    if user is None:
        return ""
    profile = AgentProfile.objects.filter(user=user).first()
    if profile is not None:
        return profile.name
    return user.first_name or user.get_username()


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def customer_online(conv: Conversation) -> bool:
    if conv.customer_seen_at is None:
        return False
    window = timedelta(seconds=settings.AGENTS_HEARTBEAT_S * 2.5)
    return conv.customer_seen_at >= timezone.now() - window


def message_row(m: Message) -> dict:
    row = {
        "message_id": m.pk,
        "role": m.role,
        "text": m.text,
        "state": m.state,
        "created_at": _iso(m.created_at),
        "citations": m.citations,
        "confidence": m.confidence,
        "escalate": m.escalate,
        "feedback": m.feedback,
        "notice": m.notice,
        "author": display_name(m.author) if m.author_id else "",
    }
    if m.role == Message.BOT:
        # From the answer record: whether the customer read the model's own verified words
        # ("draft"), a quote of the FAQ because no drafted sentence was supported
        # ("fallback"), or nothing ("handoff"); and what retrieval found, best first.
        row["outcome"] = m.outcome
        row["verified"] = m.kept_draft
        row["retrieved"] = [
            {
                "faq_id": r.get("faq_id"),
                "question": str(r.get("question", ""))[:200],
                "url": r.get("url", ""),
                "score": r.get("score"),
            }
            for r in (m.references or [])[:5]
            if isinstance(r, dict)
        ]
    return row


def _open_handoff(conv: Conversation) -> Handoff | None:
    return conv.handoffs.filter(outcome=Handoff.QUEUED).order_by("-requested_at", "-id").first()


def row(conv: Conversation) -> dict:
    handoff = _open_handoff(conv)
    last = conv.messages.exclude(role=Message.SYSTEM).order_by("-created_at", "-id").first()
    csat = CsatRating.objects.filter(conversation=conv).values_list("score", flat=True).first()
    agent = conv.assigned_agent
    return {
        "id": str(conv.public_id),
        "status": conv.status,
        "agent": {"id": agent.pk, "name": display_name(agent)} if agent else None,
        "language": conv.language,
        "trigger": handoff.trigger if handoff else "",
        "reason": handoff.reason if handoff else "",
        "end": handoff.end if handoff else "",
        "requested_at": _iso(handoff.requested_at) if handoff else None,
        "status_changed_at": _iso(conv.status_changed_at),
        "customer_online": customer_online(conv),
        "last_message": (
            {"role": last.role, "text": last.text[:PREVIEW_CHARS], "at": _iso(last.created_at)}
            if last
            else None
        ),
        "csat": csat,
        "ticket": Ticket.objects.filter(conversation=conv).exists(),
    }


def row_for(conversation_id: int) -> dict | None:
    conv = Conversation.objects.select_related("assigned_agent").filter(pk=conversation_id).first()
    return row(conv) if conv else None


def lists_for(user) -> dict[str, list[dict]]:
    """The console's three lists: the queue (oldest first), this agent's chats, and
    conversations that left a person's hands recently."""
    base = Conversation.objects.select_related("assigned_agent")
    waiting = base.filter(status=S.WAITING).order_by("status_changed_at", "pk")[:LIST_LIMIT]
    mine = base.filter(status=S.AGENT, assigned_agent=user).order_by("status_changed_at")
    since = timezone.now() - RECENTLY_CLOSED
    # One filter() so both conditions apply to the same handoff row; offline attempts
    # (nobody came) are not conversations an agent closed.
    ended = [e for e, _label in Handoff.END_CHOICES if e != Handoff.OFFLINE]
    closed = (
        base.filter(
            Q(handoffs__ended_at__gte=since, handoffs__end__in=ended)
            | Q(tickets__created_at__gte=since)
        )
        .exclude(status__in=[S.WAITING, S.AGENT])
        .distinct()
        .order_by("-status_changed_at")[:20]
    )
    return {
        "waiting": [row(c) for c in waiting],
        "mine": [row(c) for c in mine],
        "closed": [row(c) for c in closed],
    }


def detail(conv: Conversation) -> dict:
    messages = list(
        conv.messages.select_related("author").order_by("created_at", "id")[:TRANSCRIPT_LIMIT]
    )
    handoffs = list(conv.handoffs.select_related("agent").order_by("requested_at", "id"))
    earlier = []
    if conv.customer_key:
        for other in (
            Conversation.objects.filter(customer_key=conv.customer_key)
            .exclude(pk=conv.pk)
            .order_by("-created_at")[:10]
        ):
            first = other.messages.filter(role=Message.CUSTOMER).order_by("created_at").first()
            earlier.append(
                {
                    "id": str(other.public_id),
                    "created_at": _iso(other.created_at),
                    "status": other.status,
                    "first_message": first.text[:PREVIEW_CHARS] if first else "",
                    "csat": CsatRating.objects.filter(conversation=other)
                    .values_list("score", flat=True)
                    .first(),
                }
            )
    csat = CsatRating.objects.filter(conversation=conv).first()
    return {
        **row(conv),
        "created_at": _iso(conv.created_at),
        "known_customer": bool(conv.customer_key),
        "messages": [message_row(m) for m in messages],
        "handoffs": [
            {
                "trigger": h.trigger,
                "reason": h.reason,
                "outcome": h.outcome,
                "unavailable_reason": h.unavailable_reason,
                "requested_at": _iso(h.requested_at),
                "agent": display_name(h.agent) if h.agent_id else "",
                "accepted_at": _iso(h.accepted_at),
                "auto_assigned": h.auto_assigned,
                "ended_at": _iso(h.ended_at),
                "end": h.end,
                "note": h.note,
            }
            for h in handoffs
        ],
        "summary": summary.summarize(messages, handoffs),
        "earlier": earlier,
        "csat": {"score": csat.score, "comment": csat.comment} if csat else None,
        "tickets": [
            {
                "email": t.email,
                "message": t.message,
                "created_at": _iso(t.created_at),
                "emailed": t.emailed_at is not None,
            }
            for t in conv.tickets.order_by("created_at")
        ],
    }

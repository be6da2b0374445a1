"""What the customer's chat window can do about the handoff: ask for a person, go back to
the assistant while waiting, rate answers, rate the agent after resolution. The customer
consumer parses frames and calls these; each acts only on the socket's own conversation.
"""

from __future__ import annotations

import uuid

from django.core import signing
from django.db import transaction
from django.utils import timezone

from agents import handoff, inbox, notify, states, texts
from agents.models import CsatRating, Handoff
from chatbot import escalation
from chatbot.models import Conversation, Message

S = Conversation.Status
CUSTOMER_SALT = "agents.customer-key"
MAX_COMMENT_CHARS = 2000


class Rejected(ValueError):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


# --- Who the customer is -----------------------------------------------------------------


def customer_key(token: str | None) -> tuple[str, str]:
    """(key, token) for a browser: the key its signed token names, or a new one. Signed
    so a customer cannot claim another customer's history by guessing a key."""
    if token:
        try:
            key = signing.loads(token, salt=CUSTOMER_SALT)
        except signing.BadSignature:
            key = None
        if isinstance(key, str) and len(key) == 32:
            return key, token
    key = uuid.uuid4().hex
    return key, signing.dumps(key, salt=CUSTOMER_SALT)


def view(public_id: uuid.UUID) -> dict:
    """The handoff part of the greeting: who the customer is with, and whether a resolved
    conversation still waits for a rating."""
    conv = Conversation.objects.select_related("assigned_agent").filter(public_id=public_id).first()
    if conv is None:
        return {"agent": None, "rated": False, "estimate_minutes": None}
    agent = inbox.display_name(conv.assigned_agent) if conv.assigned_agent_id else None
    estimate = None
    if conv.status == S.WAITING:
        estimate = (
            Handoff.objects.filter(conversation=conv, outcome=Handoff.QUEUED, ended_at__isnull=True)
            .order_by("-requested_at", "-id")
            .values_list("estimate_minutes", flat=True)
            .first()
        )
    return {
        "agent": {"name": agent} if agent else None,
        "rated": CsatRating.objects.filter(conversation=conv).exists(),
        "estimate_minutes": estimate,
    }


def _conversation(public_id: uuid.UUID, customer_key: str | None) -> Conversation:
    conv, _ = Conversation.objects.get_or_create(
        public_id=public_id, defaults={"customer_key": customer_key}
    )
    return conv


# --- Actions ---------------------------------------------------------------------------


def request_human(public_id: uuid.UUID, customer_key: str | None = None) -> handoff.Outcome:
    trigger = escalation.Trigger("button", "The customer pressed “Talk to a person”.", {})
    with transaction.atomic():
        conv = _conversation(public_id, customer_key)
        if conv.status in states.CLOSED:
            raise Rejected("conversation_closed", "This conversation is closed; start a new one.")
        if conv.status in (S.ABANDONED, S.TICKET):
            states.transition(conv.pk, S.BOT, expected=conv.status)
        return handoff.request(conv.pk, trigger)


def cancel_waiting(public_id: uuid.UUID) -> None:
    with transaction.atomic():
        conv = Conversation.objects.select_for_update().filter(public_id=public_id).first()
        if conv is None or conv.status != S.WAITING:
            raise Rejected("not_waiting", "You are not waiting for an agent.")
        conv = states.transition(conv.pk, S.BOT, expected=S.WAITING).conversation
        Handoff.objects.filter(
            conversation=conv, outcome=Handoff.QUEUED, ended_at__isnull=True
        ).update(ended_at=timezone.now(), end=Handoff.CANCELLED)
        notify.post_notice(conv, "cancelled", texts.say("cancelled", conv.language))
        notify.status_to_customer(conv)
        notify.inbox_changed(conv.pk)


def feedback(public_id: uuid.UUID, message_id: object, value: object) -> int | None:
    """Thumbs up (1), down (-1) or withdrawn (0) on one of this conversation's bot
    answers. A thumbs down may hand the conversation over (repeated negative feedback)."""
    if not isinstance(message_id, int) or isinstance(message_id, bool):
        raise Rejected("invalid_feedback", "`message_id` must be an integer.")
    if value not in (1, -1, 0) or isinstance(value, bool):
        raise Rejected("invalid_feedback", "`value` must be 1, -1 or 0.")
    stored = None if value == 0 else value
    with transaction.atomic():
        msg = (
            Message.objects.select_related("conversation")
            .filter(
                pk=message_id,
                role=Message.BOT,
                state=Message.COMPLETE,
                conversation__public_id=public_id,
            )
            .first()
        )
        if msg is None:
            # Also what another conversation's message id gets: nothing to learn from it.
            raise Rejected("not_found", "No such answer in this conversation.")
        Message.objects.filter(pk=msg.pk).update(feedback=stored)
        msg.feedback = stored
        notify.message_added(msg.conversation, msg)
    if stored == -1:
        handoff.after_feedback(msg.conversation_id)
    return stored


def rate(public_id: uuid.UUID, score: object, comment: object = "") -> CsatRating:
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise Rejected("invalid_rating", "`score` must be a whole number from 1 to 5.")
    if comment is None:
        comment = ""
    if not isinstance(comment, str):
        raise Rejected("invalid_rating", "`comment` must be a string.")
    with transaction.atomic():
        conv = Conversation.objects.select_for_update().filter(public_id=public_id).first()
        if conv is None or conv.status != S.RESOLVED:
            raise Rejected("not_resolved", "Ratings are for resolved conversations.")
        if CsatRating.objects.filter(conversation=conv).exists():
            raise Rejected("already_rated", "You have already rated this conversation.")
        agent_id = (
            Handoff.objects.filter(conversation=conv, end=Handoff.RESOLVED)
            .order_by("-ended_at")
            .values_list("agent_id", flat=True)
            .first()
        )
        rating = CsatRating.objects.create(
            conversation=conv,
            score=score,
            comment=comment.strip()[:MAX_COMMENT_CHARS],
            agent_id=agent_id,
        )
        notify.status_to_customer(conv)
        notify.inbox_changed(conv.pk)
    return rating

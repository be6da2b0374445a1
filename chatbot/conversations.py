"""Create conversations, append messages, run the bot's reply. The only module that
pushes chat events, and it pushes them only for committed rows.

A conversation is known by its public id from the moment a socket connects, but its row
is created only with the first customer message (see `resolve_public_id`)."""

from __future__ import annotations

import logging
import math
import uuid
from datetime import timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import IntegrityError, close_old_connections, transaction
from django.db.models import Q
from django.utils import timezone

from agents import handoff
from agents.inbox import display_name
from chatbot import events
from chatbot.models import Conversation, Message

log = logging.getLogger(__name__)

STALE_STREAMING = timedelta(minutes=10)
RATE_WINDOW = timedelta(seconds=60)  # CHATBOT_MESSAGES_PER_MINUTE counts over this


class MessageRejected(ValueError):
    def __init__(self, code: str, detail: str, *, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        # Seconds until the same message would be accepted; only for limits that clear by
        # waiting (rate_limited), None for messages that are wrong in themselves.
        self.retry_after = retry_after


class Snapshot(NamedTuple):
    status: str
    messages: list[dict]


def resolve_public_id(wanted: str | None) -> uuid.UUID:
    """The conversation id a new socket continues. Creates nothing: the row is created
    with the first customer message (`add_customer_message`), so page views and bots
    that never write leave no rows behind.

    `wanted` is kept when it is a well-formed id that is not a closed conversation,
    including an id issued earlier to a socket that never wrote (it has no row yet). A
    resolved conversation stays open to its customer for AGENTS_RESUME_RESOLVED_S (to read
    it and rate it). Anything else gets a fresh id.
    """
    if wanted:
        try:
            public_id = uuid.UUID(wanted)
        except ValueError:
            return uuid.uuid4()
        row = (
            Conversation.objects.filter(public_id=public_id)
            .values_list("status", "status_changed_at")
            .first()
        )
        if row is None or row[0] != Conversation.Status.RESOLVED:
            return public_id
        resume_until = timedelta(seconds=settings.AGENTS_RESUME_RESOLVED_S)
        if row[1] is not None and row[1] > timezone.now() - resume_until:
            return public_id
    return uuid.uuid4()


def snapshot(public_id: uuid.UUID) -> Snapshot:
    """Status and recent history for the `conversation` event; an id without a row yet
    is an open conversation with no messages."""
    conv = Conversation.objects.filter(public_id=public_id).first()
    if conv is None:
        return Snapshot(Conversation.Status.BOT, [])
    return Snapshot(conv.status, history(conv))


def validate_text(text: object) -> str:
    if not isinstance(text, str):
        raise MessageRejected("invalid_message", "`text` must be a string")
    text = text.strip()
    if not text:
        raise MessageRejected("empty_message", "The message is empty.")
    if len(text) > settings.MAX_MESSAGE_CHARS:
        raise MessageRejected(
            "message_too_long",
            f"Messages are limited to {settings.MAX_MESSAGE_CHARS} characters "
            f"(this one has {len(text)}).",
        )
    return text


def add_customer_message(
    public_id: uuid.UUID, text: object, *, customer_key: str | None = None
) -> Message:
    """Persist the customer's message, creating the conversation's row with its first
    message; the bot reply is dispatched only after commit, and only while the bot is
    the one answering (agents.handoff decides; it may hand over instead).

    Raises MessageRejected for a bad text, a resolved conversation, or when the
    conversation is over its rate limit; then nothing is saved (not even a new
    conversation's row).
    """
    clean = validate_text(text)
    try:
        return _add_customer_message(public_id, clean, customer_key)
    except IntegrityError:
        # Two sockets sent the first message of the same new conversation at once and the
        # other one created the row. get_or_create already re-reads after losing the
        # insert, but under an isolation level stricter than READ COMMITTED that re-read
        # runs in the old snapshot and misses the row; a fresh transaction sees it.
        return _add_customer_message(public_id, clean, customer_key)


def _add_customer_message(public_id: uuid.UUID, clean: str, customer_key: str | None) -> Message:
    with transaction.atomic():
        # The row lock serialises messages of one conversation across processes, which is
        # what makes the count below exact.
        conv, _created = Conversation.objects.select_for_update().get_or_create(
            public_id=public_id, defaults={"customer_key": customer_key}
        )
        if conv.status == Conversation.Status.RESOLVED:
            raise MessageRejected(
                "conversation_closed", "This conversation is resolved. Start a new one to write."
            )
        _check_rate(conv)
        msg = Message.objects.create(conversation=conv, role=Message.CUSTOMER, text=clean)
        conv.save(update_fields=["updated_at"])
        # Read by the consumer: the client shows the assistant typing only when it will answer.
        msg.bot_will_reply = handoff.on_customer_message(conv, msg)
        if msg.bot_will_reply:
            transaction.on_commit(lambda: dispatch_reply(msg.pk))
    return msg


def _check_rate(conv: Conversation) -> None:
    """At most MESSAGES_PER_MINUTE customer messages in any rolling RATE_WINDOW.

    Counted from the stored messages, not process memory, so the limit holds however many
    sockets and web processes the conversation is spread over. Rejected messages are not
    stored, so they don't count: a client that keeps hammering is let in again as soon
    as its accepted messages age out.
    """
    limit = settings.MESSAGES_PER_MINUTE
    now = timezone.now()
    recent = list(
        Message.objects.filter(
            conversation=conv, role=Message.CUSTOMER, created_at__gt=now - RATE_WINDOW
        )
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:limit]
    )
    if len(recent) < limit:
        return
    # A slot frees up when the limit-th most recent message leaves the window.
    wait = (recent[-1] + RATE_WINDOW - now).total_seconds()
    retry_after = max(1, math.ceil(wait))
    raise MessageRejected(
        "rate_limited",
        f"You're sending messages faster than we can answer: at most {limit} a minute. "
        f"Please wait {retry_after} second{'s' if retry_after != 1 else ''} and try again.",
        retry_after=retry_after,
    )


def dispatch_reply(customer_message_id: int) -> None:
    from chatbot import inference

    inference.submit_reply(customer_message_id)


def run_reply(customer_message_id: int) -> Message | None:
    """Produce the bot's reply to one customer message. Idempotent: a second run for the
    same message finds the reply already claimed and returns without doing anything."""
    from chatbot.answering import answer_question

    close_old_connections()
    customer = (
        Message.objects.select_related("conversation")
        .filter(pk=customer_message_id, role=Message.CUSTOMER)
        .first()
    )
    if customer is None:
        return None  # deleted while queued
    conv = customer.conversation
    if not handoff.bot_may_answer(conv.pk):
        return None  # a person took over while this waited: the bot stays silent
    try:
        with transaction.atomic():
            reply, created = Message.objects.get_or_create(
                reply_to=customer,
                role=Message.BOT,
                defaults={"conversation": conv, "state": Message.STREAMING},
            )
    except IntegrityError:
        return None
    if not created:
        # Re-run only a reply that failed, or one left STREAMING far longer than any
        # generation takes: its worker died mid-answer and Celery redelivered the task
        # (acks_late). A younger STREAMING reply is a duplicate delivery still running.
        stale_before = timezone.now() - STALE_STREAMING
        retry = Q(state=Message.FAILED) | Q(state=Message.STREAMING, created_at__lt=stale_before)
        if not Message.objects.filter(retry, pk=reply.pk).update(state=Message.STREAMING):
            return reply
    group = conv.group_name
    # The model call can take seconds: don't hold a DB connection through it.
    close_old_connections()
    try:
        answer = answer_question(
            customer.text,
            on_token=lambda piece: events.publish(group, events.token(reply.pk, piece)),
        )
    except Exception:
        log.exception("reply to message %s failed", customer_message_id)
        Message.objects.filter(pk=reply.pk).update(state=Message.FAILED)
        events.publish(
            group,
            events.error(
                "generation_failed",
                "Sorry, something went wrong while answering. Please try again.",
            ),
        )
        return None
    with transaction.atomic():
        Message.objects.filter(pk=reply.pk).update(
            text=answer.answer,
            citations=answer.citations,
            confidence=answer.confidence,
            escalate=answer.escalate,
            state=Message.COMPLETE,
            **answer.to_record(),
        )
        transaction.on_commit(
            lambda: events.publish(
                group,
                events.bot_message(
                    reply.pk, answer.answer, answer.citations, answer.confidence, answer.escalate
                ),
            )
        )
        # The after-answer triggers (low confidence, circling, sensitive topics) commit
        # with the answer; their notices ("An agent will join…") publish after it.
        handoff.after_bot_answer(reply.pk)
    reply.refresh_from_db()
    return reply


def history(conversation: Conversation, limit: int = 50) -> list[dict]:
    msgs = list(
        conversation.messages.exclude(state=Message.FAILED)
        .select_related("author")
        .order_by("-created_at", "-id")[:limit]
    )
    # `state` lets a client that reconnects mid-answer keep streaming into the same bubble;
    # `escalate` keeps the hand-off marker on replay; `author` is an agent's display name,
    # `notice` what a system message announces, `feedback` the customer's thumbs.
    return [
        {
            "message_id": m.pk,
            "role": m.role,
            "text": m.text,
            "citations": m.citations,
            "state": m.state,
            "escalate": m.escalate,
            "author": display_name(m.author) if m.author_id else "",
            "notice": m.notice,
            "feedback": m.feedback,
            "created_at": m.created_at.isoformat(),
        }
        for m in reversed(msgs)
    ]

"""Create conversations and append messages; the bot reply's lifecycle is in
chatbot/replies.py. Chat events are pushed only for committed rows, from here and from
replies.

A conversation is known by its public id from the moment a socket connects, but its row
is created only with the first customer message (see `resolve_public_id`)."""

from __future__ import annotations

import logging
import math
import uuid
from datetime import timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from agents import handoff
from agents.inbox import display_name
from chatbot import inference, pool, replies
from chatbot.models import Conversation, Message

log = logging.getLogger(__name__)

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
            # Refusing rolls the message back with everything above: a full answering
            # queue must not block a customer who is talking to a person.
            _check_queue()
            msg.bot_reply = replies.accept(msg)
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


def _check_queue() -> None:
    """Back-pressure: past QUEUE_MAX_DEPTH waiting replies a new message is refused (and
    given back to the customer), never accepted into a queue that cannot serve it."""
    retry_after = pool.over_capacity()
    if retry_after is not None:
        raise MessageRejected(
            "busy",
            "We're answering a lot of questions right now. Please send yours again in "
            f"about {retry_after} seconds, or ask for a person.",
            retry_after=retry_after,
        )


def dispatch_reply(customer_message_id: int) -> None:
    inference.submit_reply(customer_message_id)


def history(conversation: Conversation, limit: int = 50) -> list[dict]:
    msgs = list(
        conversation.messages.exclude(state__in=(Message.FAILED, Message.CANCELLED))
        .select_related("author")
        .order_by("-created_at", "-id")[:limit]
    )
    # `state` (pending/streaming) lets a client that reconnects mid-answer keep streaming
    # into the same bubble; `escalate` keeps the hand-off marker on replay; `author` is an
    # agent's display name, `notice` what a system message announces, `feedback` the
    # customer's thumbs.
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

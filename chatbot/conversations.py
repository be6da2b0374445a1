"""Create conversations, append messages, run the bot's reply. The only module that
pushes chat events, and it pushes them only for committed rows."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, close_old_connections, transaction
from django.db.models import Q
from django.utils import timezone

from chatbot import events
from chatbot.models import Conversation, Message

log = logging.getLogger(__name__)

STALE_STREAMING = timedelta(minutes=10)


class MessageRejected(ValueError):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def get_or_start(public_id: str | None) -> Conversation:
    if public_id:
        try:
            conv = Conversation.objects.filter(public_id=uuid.UUID(public_id)).first()
        except ValueError:
            conv = None
        if conv is not None and conv.status != Conversation.CLOSED:
            return conv
    return Conversation.objects.create()


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


def add_customer_message(conversation_id: int, text: object) -> Message:
    """Persist the customer's message; the bot reply is dispatched only after commit."""
    clean = validate_text(text)
    with transaction.atomic():
        conv = Conversation.objects.select_for_update().get(pk=conversation_id)
        msg = Message.objects.create(conversation=conv, role=Message.CUSTOMER, text=clean)
        conv.save(update_fields=["updated_at"])
        # Until an agent takes over, the bot keeps answering an escalated conversation.
        if conv.status != Conversation.CLOSED:
            transaction.on_commit(lambda: dispatch_reply(msg.pk))
    return msg


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
        )
        if answer.escalate:
            Conversation.objects.filter(pk=conv.pk, status=Conversation.OPEN).update(
                status=Conversation.ESCALATED
            )
        transaction.on_commit(
            lambda: events.publish(
                group,
                events.bot_message(
                    reply.pk, answer.answer, answer.citations, answer.confidence, answer.escalate
                ),
            )
        )
    reply.refresh_from_db()
    return reply


def history(conversation: Conversation, limit: int = 50) -> list[dict]:
    msgs = list(
        conversation.messages.exclude(state=Message.FAILED).order_by("-created_at", "-id")[:limit]
    )
    # `state` lets a client that reconnects mid-answer keep streaming into the same bubble;
    # `escalate` keeps the hand-off marker on replay.
    return [
        {
            "message_id": m.pk,
            "role": m.role,
            "text": m.text,
            "citations": m.citations,
            "state": m.state,
            "escalate": m.escalate,
            "created_at": m.created_at.isoformat(),
        }
        for m in reversed(msgs)
    ]

from __future__ import annotations

import uuid

from django.db import models


def conversation_group(public_id: uuid.UUID) -> str:
    """The channel-layer group of a conversation. Built from the public id alone, so a
    socket joins the same group before the conversation's row exists and after."""
    return f"conv.{public_id.hex}"


class Conversation(models.Model):
    OPEN = "open"
    ESCALATED = "escalated"
    CLOSED = "closed"
    STATUS_CHOICES = [(OPEN, "Open"), (ESCALATED, "Waiting for a human"), (CLOSED, "Closed")]

    # The customer's handle on the conversation (kept by the browser); never the pk.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(max_length=16, choices=STATUS_CHOICES, default=OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return f"Conversation {self.public_id}"

    @property
    def group_name(self) -> str:
        return conversation_group(self.public_id)


class Message(models.Model):
    CUSTOMER = "customer"
    BOT = "bot"
    AGENT = "agent"
    SYSTEM = "system"
    ROLE_CHOICES = [(CUSTOMER, "Customer"), (BOT, "Bot"), (AGENT, "Agent"), (SYSTEM, "System")]

    PENDING = "pending"
    STREAMING = "streaming"
    COMPLETE = "complete"
    FAILED = "failed"
    CANCELLED = "cancelled"
    STATE_CHOICES = [
        (PENDING, "Pending"),
        (STREAMING, "Streaming"),
        (COMPLETE, "Complete"),
        (FAILED, "Failed"),
        (CANCELLED, "Cancelled"),
    ]

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    role = models.CharField(max_length=16, choices=ROLE_CHOICES)
    text = models.TextField(blank=True)
    citations = models.JSONField(default=list, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    escalate = models.BooleanField(default=False)
    state = models.CharField(max_length=16, choices=STATE_CHOICES, default=COMPLETE)
    # For a bot message: the customer message it answers.
    reply_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Bot replies only (chatbot/replies.py): how many times a worker claimed this reply, and
    # when its current worker last proved it is alive. A STREAMING reply whose heartbeat is
    # stale belongs to a dead worker and is taken over.
    attempt = models.PositiveIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["role", "state"], name="message_role_state")]
        constraints = [
            # At most one bot reply per customer message: the claim that makes
            # reply generation idempotent when a task is delivered twice.
            models.UniqueConstraint(
                fields=["reply_to"],
                condition=models.Q(role="bot"),
                name="one_bot_reply_per_message",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.text[:60]}"


class InferenceWorker(models.Model):
    """One inference process (a Celery worker per GPU, or the embedded web process) and its
    last heartbeat: the health registry the web side reads (chatbot/pool.py)."""

    name = models.CharField(max_length=200, unique=True)
    backend = models.CharField(max_length=200)
    model = models.CharField(max_length=500, blank=True)
    version = models.CharField(max_length=100, blank=True)
    device = models.CharField(max_length=100, blank=True)
    pid = models.IntegerField(null=True)
    # Replies it generates at once (1 for llama.cpp; the batch size for transformers).
    slots = models.PositiveIntegerField(default=1)
    started_at = models.DateTimeField()
    heartbeat_at = models.DateTimeField()
    busy = models.BooleanField(default=False)
    ok = models.BooleanField(default=True)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

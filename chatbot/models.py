from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


def conversation_group(public_id: uuid.UUID) -> str:
    """The channel-layer group of a conversation. Built from the public id alone, so a
    socket joins the same group before the conversation's row exists and after."""
    return f"conv.{public_id.hex}"


class Conversation(models.Model):
    class Status(models.TextChoices):
        """Who is answering. Changed only by agents.states.transition (see its table)."""

        BOT = "bot", "With the assistant"
        WAITING = "waiting", "Waiting for an agent"
        AGENT = "agent", "With an agent"
        RESOLVED = "resolved", "Resolved"
        ABANDONED = "abandoned", "Abandoned while waiting"
        TICKET = "ticket", "Left a message"

    # The customer's handle on the conversation (kept by the browser); never the pk.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.BOT)
    # The agent who owns the conversation; set exactly while status is AGENT (a check
    # constraint holds it). PROTECT: an agent in a live chat cannot be deleted mid-chat.
    assigned_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_conversations",
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    # A stable, server-signed identity the customer's browser keeps across conversations,
    # so agents can see a known customer's earlier conversations. NULL, not "", for
    # "unknown": unknown customers must never be grouped together as one.
    customer_key = models.CharField(  # noqa: DJ001
        max_length=64, null=True, blank=True, db_index=True
    )
    language = models.CharField(max_length=16, blank=True)
    # Refreshed while a customer socket is connected: a waiting customer who left is
    # marked abandoned once this is old enough (agents.sweeps).
    customer_seen_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["status", "status_changed_at"])]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(status="agent", assigned_agent__isnull=False)
                    | (~models.Q(status="agent") & models.Q(assigned_agent__isnull=True))
                ),
                name="agent_owner_iff_status_agent",
            ),
        ]

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
    # Agent messages: who wrote it (the customer sees the display name only).
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chat_messages",
    )
    # System messages: which state change they announce (queued, joined, back_to_bot, …).
    notice = models.CharField(max_length=24, blank=True)
    # Bot messages: the customer's thumbs up (1) or down (-1).
    feedback = models.SmallIntegerField(null=True, blank=True)
    # A bot message's answer record (chatbot/answering): everything the model generated,
    # the verdict on each of its sentences with reasons, the retrieved FAQs with their
    # scores, whether the customer read the model's own words (kept_draft) or a quoted
    # fallback / hand-off (outcome), and the timings of each step.
    OUTCOME_CHOICES = [
        ("draft", "Verified draft"),
        ("fallback", "Quoted FAQ (draft not shown)"),
        ("handoff", "Hand-off (no confident answer)"),
    ]
    draft = models.TextField(blank=True)
    verdicts = models.JSONField(default=list, blank=True)
    references = models.JSONField(default=list, blank=True)
    kept_draft = models.BooleanField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=OUTCOME_CHOICES, blank=True)
    timings = models.JSONField(default=dict, blank=True)
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

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
    STATE_CHOICES = [
        (PENDING, "Pending"),
        (STREAMING, "Streaming"),
        (COMPLETE, "Complete"),
        (FAILED, "Failed"),
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

    class Meta:
        ordering = ["created_at", "id"]
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

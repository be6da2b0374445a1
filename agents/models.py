"""Human handoff: agents, teams and their hours, the handoff record, tickets, canned replies.

Conversation.status itself lives on chatbot.Conversation and changes only through
agents.states.transition, which also writes the StatusChange rows below.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

AGENTS_GROUP = "Agents"


class Team(models.Model):
    """Who can take a conversation, and when. A team with no business hours is open at
    all hours; with no teams configured at all, every agent serves every conversation."""

    name = models.CharField(max_length=100, unique=True)
    timezone = models.CharField(
        max_length=64, default="UTC", help_text="IANA name, e.g. Europe/Berlin."
    )
    languages = models.CharField(
        max_length=100,
        blank=True,
        help_text="Comma-separated language codes this team serves first (e.g. zh). "
        "Blank: any language.",
    )
    is_default = models.BooleanField(
        default=False, help_text="Takes conversations no other team's languages match."
    )

    class Meta:
        ordering = ["-is_default", "name"]

    def __str__(self) -> str:
        return self.name

    def language_list(self) -> list[str]:
        return [c.strip().lower() for c in self.languages.split(",") if c.strip()]


class BusinessHours(models.Model):
    MONDAY, SUNDAY = 0, 6
    WEEKDAYS = [
        (0, "Monday"),
        (1, "Tuesday"),
        (2, "Wednesday"),
        (3, "Thursday"),
        (4, "Friday"),
        (5, "Saturday"),
        (6, "Sunday"),
    ]

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(choices=WEEKDAYS)
    opens = models.TimeField()
    closes = models.TimeField(help_text="Earlier than opens: the shift runs past midnight.")

    class Meta:
        ordering = ["team", "weekday", "opens"]
        verbose_name_plural = "business hours"

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class Holiday(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["team", "date"], name="one_holiday_a_day")]

    def __str__(self) -> str:
        return f"{self.date} {self.name}".strip()


class AgentProfile(models.Model):
    AVAILABLE = "available"
    AWAY = "away"
    STATUS_CHOICES = [(AVAILABLE, "Available"), (AWAY, "Away")]

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_profile"
    )
    display_name = models.CharField(
        max_length=60, blank=True, help_text="What customers see; blank: first name or username."
    )
    status = models.CharField(max_length=16, choices=STATUS_CHOICES, default=AVAILABLE)
    max_concurrent = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(50)]
    )
    teams = models.ManyToManyField(Team, blank=True, related_name="agents")
    # Presence: console sockets open now, and the last heartbeat from any of them. A
    # count that a crashed server left behind is ignored once the heartbeat is stale.
    sockets = models.PositiveIntegerField(default=0)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.display_name or self.user.first_name or self.user.get_username()


class Handoff(models.Model):
    """One attempt to bring a person in, with the trigger that caused it. Offline attempts
    (nobody could come) are recorded too, so staff see every time the bot gave up."""

    QUEUED = "queued"
    OFFLINE = "offline"
    OUTCOME_CHOICES = [(QUEUED, "Queued for an agent"), (OFFLINE, "Nobody available")]

    RESOLVED = "resolved"
    HANDED_BACK = "handed_back"
    REQUEUED = "requeued"
    ABANDONED = "abandoned"
    CANCELLED = "cancelled"
    TICKET = "ticket"
    END_CHOICES = [
        (RESOLVED, "Resolved"),
        (HANDED_BACK, "Handed back to the assistant"),
        (REQUEUED, "Returned to the queue"),
        (ABANDONED, "Customer left"),
        (CANCELLED, "Customer went back to the assistant"),
        (TICKET, "Customer left a message"),
        (OFFLINE, "Nobody available"),
    ]

    conversation = models.ForeignKey(
        "chatbot.Conversation", on_delete=models.CASCADE, related_name="handoffs"
    )
    trigger = models.CharField(max_length=32, db_index=True)
    reason = models.CharField(max_length=300)
    detail = models.JSONField(default=dict, blank=True)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL)
    outcome = models.CharField(max_length=16, choices=OUTCOME_CHOICES)
    unavailable_reason = models.CharField(max_length=32, blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    estimate_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="handoffs",
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    auto_assigned = models.BooleanField(default=False)
    ended_at = models.DateTimeField(null=True, blank=True)
    end = models.CharField(max_length=16, choices=END_CHOICES, blank=True)
    note = models.TextField(blank=True, help_text="The agent's note when handing back.")

    class Meta:
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"{self.trigger}: {self.reason[:60]}"


class StatusChange(models.Model):
    """The audit trail of Conversation.status: one row per transition."""

    conversation = models.ForeignKey(
        "chatbot.Conversation", on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(max_length=16)
    to_status = models.CharField(max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"


class Ticket(models.Model):
    OPEN = "open"
    DONE = "done"
    STATUS_CHOICES = [(OPEN, "Open"), (DONE, "Done")]

    conversation = models.ForeignKey(
        "chatbot.Conversation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL)
    email = models.EmailField()
    message = models.TextField()
    language = models.CharField(max_length=16, blank=True)
    status = models.CharField(max_length=8, choices=STATUS_CHOICES, default=OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Ticket {self.pk} from {self.email}"


class CannedReply(models.Model):
    title = models.CharField(max_length=120)
    body = models.TextField()
    language = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "canned replies"

    def __str__(self) -> str:
        return self.title


class CsatRating(models.Model):
    conversation = models.OneToOneField(
        "chatbot.Conversation", on_delete=models.CASCADE, related_name="csat"
    )
    score = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(blank=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "CSAT rating"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__gte=1, score__lte=5), name="csat_score_1_to_5"
            )
        ]

    def __str__(self) -> str:
        return f"{self.score}/5"


class FaqDraft(models.Model):
    """Where an agent-promoted FAQ came from, for the staff who review it."""

    faq = models.OneToOneField("faq_ingest.Faq", on_delete=models.CASCADE, related_name="draft")
    message = models.ForeignKey("chatbot.Message", null=True, on_delete=models.SET_NULL)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "FAQ promoted by an agent"

    def __str__(self) -> str:
        return f"Draft FAQ {self.faq_id}"

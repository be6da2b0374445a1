from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from agents.admin import HandoffInline, StatusChangeInline
from chatbot.models import Conversation, InferenceWorker, Message


def _table(headers: list[str], rows: list[tuple]) -> str:
    head = format_html_join("", "<th>{}</th>", ((h,) for h in headers))
    cells = "{}" * len(headers)
    body = format_html_join("", "<tr>" + cells.replace("{}", "<td>{}</td>") + "</tr>", rows)
    return format_html('<table class="answer-record"><tr>{}</tr>{}</table>', head, body)


def _scores(scores: dict) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in scores.items() if isinstance(v, int | float))


def answer_record(msg: Message) -> str:
    """The bot message's answer record for staff: read-only, every value escaped."""
    if msg.role != Message.BOT:
        return "—"
    if not msg.outcome:
        return "No answer record (answered before records were kept, or still streaming)."
    verdicts = _table(
        ["generated sentence", "verdict", "reasons", "cites FAQ", "scores"],
        [
            (
                v.get("generated", ""),
                "shown" if v.get("supported") else "dropped",
                "; ".join(v.get("reasons", [])) or "—",
                ", ".join(str(i) for i in v.get("cited_faq_ids", [])) or "—",
                _scores(v.get("scores", {})),
            )
            for v in msg.verdicts
        ],
    )
    references = _table(
        ["rank", "FAQ", "question", "score", "bm25", "dense", "in prompt", "cited"],
        [
            (
                r.get("rank"),
                r.get("faq_id"),
                r.get("question", ""),
                f"{r.get('score', 0):.3f}",
                f"{r.get('bm25', 0):.3f}",
                f"{r.get('dense', 0):.3f}",
                f"yes ({r.get('prompt_chars', 0)} chars)" if r.get("in_prompt") else "no",
                "yes" if r.get("cited") else "no",
            )
            for r in msg.references
        ],
    )
    timings = ", ".join(
        f"{k} {v:.3f}s" if isinstance(v, float) else f"{k} {v}" for k, v in msg.timings.items()
    )
    return format_html(
        "<p><strong>Outcome:</strong> {} &nbsp; <strong>Kept draft:</strong> {} &nbsp; "
        "<strong>Confidence:</strong> {}</p>"
        "<p><strong>Draft (everything the model wrote):</strong></p><pre>{}</pre>"
        "<p><strong>Verdict per sentence:</strong></p>{}"
        "<p><strong>References:</strong></p>{}"
        "<p><strong>Timings:</strong> {}</p>",
        msg.get_outcome_display(),
        "yes" if msg.kept_draft else "no",
        "—" if msg.confidence is None else f"{msg.confidence:.3f}",
        msg.draft or "(none: no generation ran)",
        verdicts,
        references,
        timings or "—",
    )


class MessageInline(admin.TabularInline):
    model = Message
    fk_name = "conversation"
    extra = 0
    fields = (
        "created_at",
        "role",
        "author",
        "text",
        "confidence",
        "escalate",
        "feedback",
        "outcome",
        "state",
        "attempt",
        "record",
    )
    readonly_fields = fields
    can_delete = False

    @admin.display(description="answer record")
    def record(self, msg: Message) -> str:
        if msg.role != Message.BOT or not msg.pk:
            return "—"
        url = reverse("admin:chatbot_message_change", args=[msg.pk])
        return format_html('<a href="{}">view</a>', url)


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("public_id", "status", "assigned_agent", "language", "created_at", "updated_at")
    list_filter = ("status", "language")
    # Status changes only through agents.states (the console or the chat), never by hand.
    readonly_fields = (
        "public_id",
        "status",
        "assigned_agent",
        "status_changed_at",
        "customer_key",
        "customer_seen_at",
        "created_at",
        "updated_at",
    )
    inlines = [HandoffInline, StatusChangeInline, MessageInline]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """Read-only: messages are what was said; staff inspect them, never edit them."""

    list_display = ("created_at", "conversation", "role", "short_text", "outcome", "kept_draft")
    list_filter = ("role", "outcome", "kept_draft")
    fields = (
        "conversation",
        "role",
        "created_at",
        "text",
        "citations",
        "confidence",
        "escalate",
        "state",
        "record",
    )
    readonly_fields = fields

    @admin.display(description="text")
    def short_text(self, msg: Message) -> str:
        return msg.text[:80]

    @admin.display(description="answer record")
    def record(self, msg: Message) -> str:
        return answer_record(msg)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # staff with view permission get the read-only page

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(InferenceWorker)
class InferenceWorkerAdmin(admin.ModelAdmin):
    """The inference pool's health registry, written by the workers themselves."""

    list_display = ("name", "backend", "model", "device", "slots", "busy", "ok", "heartbeat_at")
    readonly_fields = [f.name for f in InferenceWorker._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

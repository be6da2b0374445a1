from django.contrib import admin

from agents.admin import HandoffInline, StatusChangeInline
from chatbot.models import Conversation, Message


class MessageInline(admin.TabularInline):
    model = Message
    fk_name = "conversation"
    extra = 0
    fields = ("created_at", "role", "author", "text", "confidence", "escalate", "feedback", "state")
    readonly_fields = fields
    can_delete = False


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

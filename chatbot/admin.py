from django.contrib import admin

from chatbot.models import Conversation, InferenceWorker, Message


class MessageInline(admin.TabularInline):
    model = Message
    fk_name = "conversation"
    extra = 0
    fields = ("created_at", "role", "text", "confidence", "escalate", "state", "attempt")
    readonly_fields = fields
    can_delete = False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("public_id", "status", "created_at", "updated_at")
    list_filter = ("status",)
    readonly_fields = ("public_id", "created_at", "updated_at")
    inlines = [MessageInline]


@admin.register(InferenceWorker)
class InferenceWorkerAdmin(admin.ModelAdmin):
    """The inference pool's health registry, written by the workers themselves."""

    list_display = ("name", "backend", "model", "device", "slots", "busy", "ok", "heartbeat_at")
    readonly_fields = [f.name for f in InferenceWorker._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

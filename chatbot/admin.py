from django.contrib import admin

from chatbot.models import Conversation, Message


class MessageInline(admin.TabularInline):
    model = Message
    fk_name = "conversation"
    extra = 0
    fields = ("created_at", "role", "text", "confidence", "escalate", "state")
    readonly_fields = fields
    can_delete = False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("public_id", "status", "created_at", "updated_at")
    list_filter = ("status",)
    readonly_fields = ("public_id", "created_at", "updated_at")
    inlines = [MessageInline]

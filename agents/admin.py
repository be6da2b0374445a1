"""Staff screens for the handoff: agents (on the user page), teams and their hours,
handoff records with their triggers, tickets, canned replies, ratings, promoted FAQs."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.urls import reverse
from django.utils.html import format_html

from agents.models import (
    AgentProfile,
    BusinessHours,
    CannedReply,
    CsatRating,
    FaqDraft,
    Handoff,
    Holiday,
    StatusChange,
    Team,
    Ticket,
)

User = get_user_model()


class AgentProfileInline(admin.StackedInline):
    model = AgentProfile
    can_delete = False
    fields = ("display_name", "status", "max_concurrent", "teams", "last_seen_at")
    readonly_fields = ("last_seen_at",)
    filter_horizontal = ("teams",)
    verbose_name_plural = "Agent settings (for members of the Agents group)"


# Agents are ordinary users in the "Agents" group: they are managed on the user page,
# which gains their agent settings.
admin.site.unregister(User)


@admin.register(User)
class AgentAwareUserAdmin(UserAdmin):
    inlines = [*UserAdmin.inlines, AgentProfileInline]
    list_display = (*UserAdmin.list_display, "is_agent")

    @admin.display(boolean=True, description="Agent")
    def is_agent(self, obj) -> bool:
        return obj.groups.filter(name="Agents").exists()


class BusinessHoursInline(admin.TabularInline):
    model = BusinessHours
    extra = 0


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "timezone", "languages", "is_default")
    inlines = [BusinessHoursInline, HolidayInline]


def _conversation_link(conv) -> str:
    if conv is None:
        return "—"
    url = reverse("admin:chatbot_conversation_change", args=[conv.pk])
    return format_html('<a href="{}">{}</a>', url, str(conv.public_id)[:8])


@admin.register(Handoff)
class HandoffAdmin(admin.ModelAdmin):
    list_display = (
        "requested_at",
        "trigger",
        "reason",
        "outcome",
        "unavailable_reason",
        "agent",
        "end",
        "conversation_link",
    )
    list_filter = ("trigger", "outcome", "end", "unavailable_reason", "auto_assigned")
    search_fields = ("reason", "note")
    readonly_fields = [f.name for f in Handoff._meta.fields]
    date_hierarchy = "requested_at"

    @admin.display(description="Conversation")
    def conversation_link(self, obj: Handoff) -> str:
        return _conversation_link(obj.conversation)

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(StatusChange)
class StatusChangeAdmin(admin.ModelAdmin):
    list_display = ("created_at", "from_status", "to_status", "actor", "reason")
    list_filter = ("to_status", "from_status")
    readonly_fields = [f.name for f in StatusChange._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ("created_at", "email", "short_message", "status", "team", "emailed_at")
    list_filter = ("status", "team")
    search_fields = ("email", "message")
    readonly_fields = (
        "conversation",
        "email",
        "message",
        "language",
        "created_at",
        "emailed_at",
        "email_attempts",
        "email_error",
    )
    actions = ["mark_done"]

    @admin.display(description="Message")
    def short_message(self, obj: Ticket) -> str:
        return obj.message[:80]

    @admin.action(description="Mark as done")
    def mark_done(self, request, queryset):
        queryset.update(status=Ticket.DONE)


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):
    list_display = ("title", "language", "updated_at")
    list_filter = ("language",)
    search_fields = ("title", "body")


@admin.register(CsatRating)
class CsatRatingAdmin(admin.ModelAdmin):
    list_display = ("created_at", "score", "agent", "comment")
    list_filter = ("score", "agent")
    readonly_fields = ("conversation", "score", "comment", "agent", "created_at")

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(FaqDraft)
class FaqDraftAdmin(admin.ModelAdmin):
    list_display = ("created_at", "faq_link", "proposed_by", "published")
    readonly_fields = ("faq", "message", "proposed_by", "created_at")

    @admin.display(description="FAQ (review and activate it there)")
    def faq_link(self, obj: FaqDraft) -> str:
        url = reverse("admin:faq_ingest_faq_change", args=[obj.faq_id])
        return format_html('<a href="{}">{}</a>', url, obj.faq.question[:80])

    @admin.display(boolean=True)
    def published(self, obj: FaqDraft) -> bool:
        return obj.faq.active

    def has_add_permission(self, request) -> bool:
        return False


class HandoffInline(admin.TabularInline):
    model = Handoff
    extra = 0
    can_delete = False
    fields = ("requested_at", "trigger", "reason", "outcome", "agent", "end", "note")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class StatusChangeInline(admin.TabularInline):
    model = StatusChange
    extra = 0
    can_delete = False
    fields = ("created_at", "from_status", "to_status", "actor", "reason")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

"""Staff screens. Actions are thin: they call knowledge/tasks and report back."""

from __future__ import annotations

import logging
import re

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from faq_ingest import knowledge, schedule, sync, tasks
from faq_ingest.errors import CrawlNotStarted
from faq_ingest.extract import SKIP_REASONS
from faq_ingest.models import CrawledPage, CrawlRun, Faq, FaqRevision, FaqSource, IndexSnapshot

log = logging.getLogger(__name__)


def _send_crawl(source_id: int) -> None:
    try:
        tasks.crawl_source.delay(source_id)
    except CrawlNotStarted as exc:
        # Embedded shape only (the task runs inline): another crawl won the lease between
        # the check in the action and now. The REFUSED run in the crawl list says so.
        log.warning("crawl of source %s not started: %s", source_id, exc)


def _enqueue_crawl(source_id: int) -> None:
    transaction.on_commit(lambda: _send_crawl(source_id))


@admin.register(FaqSource)
class FaqSourceAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "start_url",
        "enabled",
        "crawl_every_hours",
        "last_crawled_at",
        "faq_count",
    )
    list_filter = ("enabled",)
    actions = ["crawl_now", "crawl_all"]

    @admin.display(description="Active FAQs")
    def faq_count(self, obj: FaqSource) -> int:
        return obj.faqs.filter(active=True).count()

    @admin.action(description="Crawl now")
    def crawl_now(self, request, queryset):
        queued = 0
        for source in queryset:
            holder = sync.running_crawl(source.pk)
            if holder is not None:
                self.message_user(
                    request, f"Not queued: {sync.busy_message(holder)}.", messages.WARNING
                )
                continue
            _enqueue_crawl(source.pk)
            queued += 1
        if queued:
            self.message_user(request, f"Queued {queued} crawl(s).", messages.SUCCESS)

    @admin.action(description="Crawl all enabled sources")
    def crawl_all(self, request, queryset):
        transaction.on_commit(lambda: tasks.crawl_all.delay())
        self.message_user(request, "Queued a crawl of every enabled source.", messages.SUCCESS)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        schedule.sync_schedule(obj)

    def delete_model(self, request, obj):
        source_id = obj.pk
        super().delete_model(request, obj)
        schedule.remove_schedule(source_id)

    def delete_queryset(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        super().delete_queryset(request, queryset)
        for source_id in ids:
            schedule.remove_schedule(source_id)


class FaqRevisionInline(admin.TabularInline):
    model = FaqRevision
    extra = 0
    can_delete = False
    fields = ("created_at", "changed_by", "active", "question", "answer")
    readonly_fields = fields
    ordering = ("-created_at", "-id")
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


# What staff type into; the rest of the change page is read-only crawl bookkeeping.
FORM_FIELDS = (
    "source",
    "question",
    "answer",
    "alternates",
    "source_url",
    "language",
    "kind",
    "active",
)
# Attributes whose change by staff makes the FAQ theirs (the source compared by id).
STAFF_EDITABLE = tuple("source_id" if f == "source" else f for f in FORM_FIELDS)
# Tags are staff labels, not page content: editing them neither takes the FAQ from the
# crawler nor rebuilds the index (chatbot/escalation.py reads them live, by id).
LABEL_FIELDS = ("tags",)
_TAG_SPLIT = re.compile(r"[,，、\n]+")
MAX_TAG_CHARS = 50


class TagsField(forms.CharField):
    """Tags typed as "privacy, legal"; stored as a list of casefolded, unique strings."""

    def prepare_value(self, value):
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return value

    def to_python(self, value) -> list[str]:
        text = super().to_python(value) or ""
        tags: list[str] = []
        for part in _TAG_SPLIT.split(text):
            tag = " ".join(part.split()).casefold()
            if not tag or tag in tags:
                continue
            if len(tag) > MAX_TAG_CHARS:
                raise forms.ValidationError(
                    f"Each tag must be at most {MAX_TAG_CHARS} characters.", code="tag_too_long"
                )
            tags.append(tag)
        return tags


class FaqAdminForm(forms.ModelForm):
    """Checks a FAQ's identity before it is saved, so a clash with another FAQ is an error
    on the form rather than an IntegrityError (HTTP 500) from the database.

    Identity is the `faq_unique_question_per_source` constraint: source + `question_key`.
    `question_key` is not on the form (the admin shows it read-only), so Django's own
    constraint validation skips it; this form works out the key the FAQ will be saved with
    and checks it by hand. A FAQ keeps the key it already has when staff edit its question
    (that is how re-crawls still find it), so only a new FAQ, or one without a key, gets
    its key from the question typed in.
    """

    tags = TagsField(
        required=False,
        help_text=(
            "Comma-separated labels. When the bot cites a FAQ with a tag listed in "
            "CHATBOT_HANDOFF_SENSITIVE_FAQ_TAGS (by default handoff, legal, chargeback, "
            "privacy, self_harm, safety, fraud), it hands the conversation to a person."
        ),
    )

    class Meta:
        model = Faq
        fields = (*FORM_FIELDS, *LABEL_FIELDS)

    def clean(self):
        cleaned = super().clean()
        if "question" not in cleaned or "source" not in cleaned:
            return cleaned  # the field's own error is already on the form
        if not self.instance.question_key:
            from faq_ingest.extract import normalise_question

            self.instance.question_key = normalise_question(cleaned["question"])[:500]
        source = cleaned["source"]
        if source is None:
            return cleaned  # like the database, FAQs without a source never clash
        clash = (
            Faq.objects.filter(source=source, question_key=self.instance.question_key)
            .exclude(pk=self.instance.pk)
            .first()
        )
        if clash is not None:
            url = reverse("admin:faq_ingest_faq_change", args=[clash.pk])
            self.add_error(
                "question",
                forms.ValidationError(
                    format_html(
                        "An FAQ with this question already exists for this source: "
                        '<a href="{}">{}</a> (questions are compared ignoring case, '
                        "spacing and punctuation).",
                        url,
                        clash,
                    ),
                    code="duplicate_question",
                ),
            )
        return cleaned


@admin.register(Faq)
class FaqAdmin(admin.ModelAdmin):
    form = FaqAdminForm
    list_display = (
        "question",
        "source",
        "kind",
        "language",
        "active",
        "edited_by_staff",
        "conflict_flag",
        "updated_at",
    )
    list_filter = ("active", "kind", "language", "edited_by_staff", "crawl_conflict", "source")
    search_fields = ("question", "answer")
    # Ownership changes only through record_staff_edit and the actions below, so a checkbox
    # cannot hand a FAQ back to the crawler without choosing the page's text.
    readonly_fields = (
        "question_key",
        "content_hash",
        "extractor",
        "missing_count",
        "retired_at",
        "crawl_conflict_notice",
        "crawled_question",
        "crawled_answer",
        "edited_by_staff",
        "created_at",
        "updated_at",
    )
    fields = (
        *FORM_FIELDS,
        *LABEL_FIELDS,
        "crawl_conflict_notice",
        "crawled_question",
        "crawled_answer",
        "edited_by_staff",
        "extractor",
        "question_key",
        "content_hash",
        "missing_count",
        "retired_at",
        "created_at",
        "updated_at",
    )
    inlines = [FaqRevisionInline]
    actions = ["accept_crawled", "keep_mine", "deactivate", "activate"]

    @admin.display(description="Conflict", boolean=True)
    def conflict_flag(self, obj: Faq) -> bool:
        return obj.crawl_conflict

    @admin.display(description="Crawl conflict")
    def crawl_conflict_notice(self, obj: Faq) -> str:
        if not obj.crawl_conflict:
            return "—"
        return format_html(
            "<strong>Page changed since your edit.</strong> The crawled version is shown "
            "below. Use the actions “Accept crawled version” or “Keep my version”."
        )

    def save_model(self, request, obj, form, change):
        # obj.question_key was set, and checked against other FAQs, by FaqAdminForm.clean.
        before = Faq.objects.filter(pk=obj.pk).first() if change else None
        super().save_model(request, obj, form, change)
        # "Save" on an untouched form is not an edit: it must not freeze the FAQ against
        # future crawls. Compared field by field because form.has_changed() reports an
        # empty JSON list (`alternates`) as changed on every save.
        if before is None or any(
            getattr(before, name) != getattr(obj, name) for name in STAFF_EDITABLE
        ):
            knowledge.record_staff_edit(obj, request.user.get_username())

    @admin.action(description="Accept crawled version (page wins)")
    def accept_crawled(self, request, queryset):
        faqs = list(queryset.filter(edited_by_staff=True))
        for faq in faqs:
            knowledge.accept_crawled_version(faq, request.user.get_username())
        self.message_user(
            request, f"Crawled version accepted for {len(faqs)} FAQ(s).", messages.SUCCESS
        )

    @admin.action(description="Keep my version (dismiss conflict)")
    def keep_mine(self, request, queryset):
        for faq in queryset.filter(crawl_conflict=True):
            knowledge.keep_staff_version(faq, request.user.get_username())
        self.message_user(request, "Conflicts dismissed; staff versions kept.", messages.SUCCESS)

    @admin.action(description="Deactivate selected FAQs")
    def deactivate(self, request, queryset):
        for faq in queryset:
            faq.active = False
            faq.save()
            knowledge.record_staff_edit(faq, request.user.get_username())

    @admin.action(description="Activate selected FAQs")
    def activate(self, request, queryset):
        for faq in queryset:
            faq.active = True
            faq.save()
            knowledge.record_staff_edit(faq, request.user.get_username())


@admin.register(FaqRevision)
class FaqRevisionAdmin(admin.ModelAdmin):
    list_display = ("faq", "changed_by", "active", "created_at")
    readonly_fields = (
        "faq",
        "question",
        "answer",
        "active",
        "changed_by",
        "crawl_run",
        "created_at",
    )
    actions = ["revert"]

    list_filter = ("changed_by",)
    search_fields = ("question", "answer")

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # history is what makes every change recoverable

    @admin.action(description="Revert the FAQ to this revision")
    def revert(self, request, queryset):
        for rev in queryset:
            knowledge.revert_to(rev, request.user.get_username())
        self.message_user(request, "Reverted.", messages.SUCCESS)


# CrawlRun's skip lists are shown as one table (skipped_report), not as raw JSON.
_SKIP_FIELDS = ("skipped_sections", "skipped_by_reason")


def _http_only(url: object) -> str:
    return url if isinstance(url, str) and url.startswith(("http://", "https://")) else ""


@admin.register(CrawlRun)
class CrawlRunAdmin(admin.ModelAdmin):
    list_display = (
        "source",
        "status",
        "started_at",
        "duration",
        "pages_fetched",
        "pages_not_modified",
        "pages_failed",
        "faqs_added",
        "faqs_updated",
        "faqs_unchanged",
        "conflicts_link",
        "faqs_retired",
        "notice",
        "skipped",
    )
    list_filter = ("status", "source")
    readonly_fields = [f.name for f in CrawlRun._meta.fields if f.name not in _SKIP_FIELDS] + [
        "duration",
        "skipped_report",
    ]

    @admin.display(description="Skipped sections")
    def skipped_report(self, obj: CrawlRun) -> str:
        # Content of the crawled pages that became neither a FAQ nor a passage, so a loss is
        # visible here rather than silent. Titles come from crawled pages: escaped.
        if not obj.skipped:
            return "None: every section became a FAQ or a passage."
        by_reason = ", ".join(
            f"{SKIP_REASONS.get(reason, reason)}: {count}"
            for reason, count in sorted(obj.skipped_by_reason.items(), key=lambda rc: -rc[1])
        )
        rows = format_html_join(
            "",
            '<tr><td>{}</td><td>{}</td><td><a href="{}" rel="noreferrer">{}</a></td></tr>',
            (
                (
                    SKIP_REASONS.get(s.get("reason", ""), s.get("reason", "")),
                    s.get("title", ""),
                    _http_only(s.get("url")),
                    s.get("url", ""),
                )
                for s in obj.skipped_sections
            ),
        )
        listed = len(obj.skipped_sections)
        more = (
            format_html("<p>{} more not listed (repeats and the rest).</p>", obj.skipped - listed)
            if obj.skipped > listed
            else ""
        )
        return format_html(
            "<p>{} ({})</p><table><thead><tr><th>Reason</th><th>Title</th><th>Page</th></tr>"
            "</thead><tbody>{}</tbody></table>{}",
            obj.skipped,
            by_reason,
            rows,
            more,
        )

    @admin.display(description="Why")
    def notice(self, obj: CrawlRun) -> str:
        # Why a crawl retired nothing, failed or never started: the first thing staff need.
        text = obj.suspicious_reason or obj.error
        return text if len(text) <= 160 else text[:159] + "…"

    @admin.display(description="Duration (s)")
    def duration(self, obj: CrawlRun) -> str:
        return "—" if obj.duration_s is None else f"{obj.duration_s:.1f}"

    @admin.display(description="Conflicts", ordering="conflicts")
    def conflicts_link(self, obj: CrawlRun) -> str:
        # Conflicts are resolved on the FAQ screen, so the count leads there. The listing
        # shows the source's conflicts open now, which staff may have settled since.
        if not obj.conflicts:
            return "0"
        url = reverse("admin:faq_ingest_faq_changelist")
        return format_html(
            '<a href="{}?crawl_conflict__exact=1&amp;source__id__exact={}">{}</a>',
            url,
            obj.source_id,
            obj.conflicts,
        )

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(CrawledPage)
class CrawledPageAdmin(admin.ModelAdmin):
    list_display = ("url", "source", "last_status", "last_fetched_at")
    list_filter = ("source", "last_status")
    readonly_fields = [f.name for f in CrawledPage._meta.fields]


@admin.register(IndexSnapshot)
class IndexSnapshotAdmin(admin.ModelAdmin):
    list_display = ("id", "status", "faq_count", "embedder", "build_seconds", "created_at")
    exclude = ("payload",)
    readonly_fields = (
        "status",
        "faq_count",
        "embedder",
        "fingerprint",
        "build_seconds",
        "created_at",
        "ready_at",
        "error",
        "lease_owner",
        "heartbeat_at",
        "lease_expires_at",
    )

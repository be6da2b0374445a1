from __future__ import annotations

from django.db import models


class FaqSource(models.Model):
    """A help center the crawler keeps in sync."""

    name = models.CharField(max_length=200)
    start_url = models.URLField(max_length=2000)
    extra_urls = models.TextField(
        blank=True, help_text="More start URLs, one per line (same site as the start URL)."
    )
    enabled = models.BooleanField(default=True)
    max_pages = models.PositiveIntegerField(default=200)
    max_depth = models.PositiveIntegerField(default=5)
    crawl_every_hours = models.PositiveIntegerField(
        default=0, help_text="0 disables the schedule; otherwise Celery beat re-crawls."
    )
    last_crawled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def start_urls(self) -> list[str]:
        extra = [u.strip() for u in self.extra_urls.splitlines() if u.strip()]
        return [self.start_url, *extra]


class Faq(models.Model):
    KIND_FAQ = "faq"
    KIND_PASSAGE = "passage"
    KIND_CHOICES = [(KIND_FAQ, "FAQ"), (KIND_PASSAGE, "Passage")]

    source = models.ForeignKey(
        FaqSource, null=True, blank=True, on_delete=models.SET_NULL, related_name="faqs"
    )
    question = models.TextField()
    # Identity across re-crawls: source + normalised question (see extract.normalise_question).
    question_key = models.CharField(max_length=500, db_index=True)
    answer = models.TextField(help_text="Markdown.")
    alternates = models.JSONField(
        default=list, blank=True, help_text="Other phrasings of the question."
    )
    # Staff labels. A tag listed in CHATBOT_HANDOFF_SENSITIVE_FAQ_TAGS makes the bot hand the
    # conversation to a person whenever it cites this FAQ (chatbot/escalation.py).
    tags = models.JSONField(
        default=list,
        blank=True,
        help_text="Labels such as “privacy” or “legal”; see CHATBOT_HANDOFF_SENSITIVE_FAQ_TAGS.",
    )
    source_url = models.URLField(max_length=2000, blank=True)
    language = models.CharField(max_length=16, blank=True)
    kind = models.CharField(max_length=16, choices=KIND_CHOICES, default=KIND_FAQ)
    extractor = models.CharField(max_length=40, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    active = models.BooleanField(default=True)
    # Consecutive successful crawls of its source that did not see this FAQ.
    missing_count = models.PositiveIntegerField(default=0)
    retired_at = models.DateTimeField(null=True, blank=True)
    # Set when staff edit by hand: the crawler then never overwrites it, and records what
    # the page says now in `crawled_*` so staff can resolve the conflict.
    edited_by_staff = models.BooleanField(default=False)
    crawled_question = models.TextField(blank=True)
    crawled_answer = models.TextField(blank=True)
    crawl_conflict = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "question_key"], name="faq_unique_question_per_source"
            ),
        ]

    def __str__(self) -> str:
        return self.question[:120]


class FaqRevision(models.Model):
    """One saved state of a FAQ; every change appends one, so nothing is ever lost."""

    faq = models.ForeignKey(Faq, on_delete=models.CASCADE, related_name="revisions")
    question = models.TextField()
    answer = models.TextField()
    active = models.BooleanField(default=True)
    changed_by = models.CharField(max_length=200)  # "crawler", "staff:<username>", "revert"
    crawl_run = models.ForeignKey("CrawlRun", null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.faq_id} by {self.changed_by} at {self.created_at:%Y-%m-%d %H:%M}"


class CrawlRun(models.Model):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"
    # Every page answered, but what they said looks like an outage (FAQ pages emptied, or a
    # mass retirement): nothing was retired; `suspicious_reason` says why.
    SUSPICIOUS = "suspicious"
    # Never started: another crawl of the source held the lease (`error` names it).
    REFUSED = "refused"
    STATUS_CHOICES = [
        (RUNNING, "Running"),
        (SUCCEEDED, "Succeeded"),
        (PARTIAL, "Partial (some pages failed)"),
        (FAILED, "Failed"),
        (SUSPICIOUS, "Suspicious (nothing retired)"),
        (REFUSED, "Not started (another crawl was running)"),
    ]

    source = models.ForeignKey(FaqSource, on_delete=models.CASCADE, related_name="crawl_runs")
    status = models.CharField(max_length=16, choices=STATUS_CHOICES, default=RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    pages_fetched = models.PositiveIntegerField(default=0)
    pages_not_modified = models.PositiveIntegerField(default=0)
    pages_failed = models.PositiveIntegerField(default=0)
    failures = models.JSONField(default=list, blank=True)  # [{"url", "code", "detail"}]
    faqs_added = models.PositiveIntegerField(default=0)
    faqs_updated = models.PositiveIntegerField(default=0)
    faqs_unchanged = models.PositiveIntegerField(default=0)
    # Not folded into `faqs_unchanged`: these need a staff decision, and "unchanged" hid
    # them. Counted per crawl like the other FAQ counts, so a conflict still open is
    # counted again by every crawl that re-reads its page (see sync._apply_page).
    conflicts = models.PositiveIntegerField(
        default=0,
        help_text=(
            "FAQs read by this crawl whose page text differs from a staff edit and awaits "
            "“Accept crawled version” or “Keep my version” in the FAQ admin."
        ),
    )
    faqs_retired = models.PositiveIntegerField(default=0)
    # Content of the pages this crawl covered that became neither a FAQ nor a passage
    # (navigation, boilerplate, a title without an answer, a duplicate…). Pages that were not
    # re-parsed (304, unchanged) count what their last parse left out.
    skipped = models.PositiveIntegerField(
        default=0, help_text="Sections of the crawled pages left out, with a reason for each."
    )
    # [{"url", "title", "reason"}], at most MAX_SKIPPED_SECTIONS and at most a few per
    # (title, reason), so one widget repeated on every page cannot crowd out the rest.
    skipped_sections = models.JSONField(default=list, blank=True)
    skipped_by_reason = models.JSONField(default=dict, blank=True)  # {reason: count}
    error = models.TextField(blank=True)
    suspicious_reason = models.TextField(blank=True)
    # The Celery task that ran this crawl: a redelivered task finds its earlier attempt.
    task_id = models.CharField(max_length=255, blank=True, db_index=True)
    # The lease (see faq_ingest/leases.py): who runs the crawl and until when the claim
    # holds without a new heartbeat. Cleared when the run finishes.
    lease_owner = models.CharField(max_length=255, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)

    MAX_SKIPPED_SECTIONS = 300

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Crawl {self.pk} of {self.source_id}: {self.status}"

    @property
    def duration_s(self) -> float | None:
        if not self.finished_at:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class CrawledPage(models.Model):
    """What the last crawl learned about one URL, for conditional GET next time."""

    source = models.ForeignKey(FaqSource, on_delete=models.CASCADE, related_name="pages")
    url = models.URLField(max_length=2000)
    etag = models.CharField(max_length=500, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    # FAQ ids this page produced last time it was parsed: a 304 or unchanged page still
    # "sees" them, so they are not counted missing.
    faq_ids = models.JSONField(default=list, blank=True)
    # What its last parse left out, [{"title", "reason"}]: counted again by a crawl that
    # gets 304 or an unchanged page, like faq_ids.
    skipped_sections = models.JSONField(default=list, blank=True)
    last_status = models.CharField(max_length=40, blank=True)
    last_fetched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "url"], name="crawled_page_unique_url"),
        ]

    def __str__(self) -> str:
        return self.url


class IndexSnapshot(models.Model):
    """A versioned, self-contained retrieval index built from the FAQ table.

    Stored in the database so that every web and inference process, on any machine, can
    load the same version; the newest READY row is the live one.
    """

    BUILDING = "building"
    READY = "ready"
    FAILED = "failed"
    STATUS_CHOICES = [(BUILDING, "Building"), (READY, "Ready"), (FAILED, "Failed")]

    status = models.CharField(max_length=16, choices=STATUS_CHOICES, default=BUILDING)
    created_at = models.DateTimeField(auto_now_add=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    faq_count = models.PositiveIntegerField(default=0)
    embedder = models.CharField(max_length=300, blank=True)
    # Hash of everything indexed; a rebuild with an unchanged fingerprint is skipped.
    fingerprint = models.CharField(max_length=64, blank=True, db_index=True)
    build_seconds = models.FloatField(default=0.0)
    payload = models.BinaryField(blank=True, default=b"")
    error = models.TextField(blank=True)
    # The build's lease, as on CrawlRun: a BUILDING row whose lease ran out is marked failed.
    lease_owner = models.CharField(max_length=255, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"Index snapshot {self.pk} ({self.status}, {self.faq_count} FAQs)"

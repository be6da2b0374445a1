from __future__ import annotations

from collections import Counter

from django.core.management.base import BaseCommand, CommandError

from faq_ingest.crawl import canonicalize_url
from faq_ingest.errors import CrawlNotStarted
from faq_ingest.extract import SKIP_REASONS
from faq_ingest.index import build_snapshot
from faq_ingest.models import CrawlRun, FaqSource
from faq_ingest.sync import crawl_source


def summary_line(run: CrawlRun) -> str:
    """The one-line report printed after a crawl (also what scripts grep)."""
    return (
        f"{run.status}: pages fetched {run.pages_fetched}, not modified "
        f"{run.pages_not_modified}, failed {run.pages_failed}; FAQs added "
        f"{run.faqs_added}, updated {run.faqs_updated}, unchanged {run.faqs_unchanged}, "
        f"conflicts {run.conflicts}, retired {run.faqs_retired}; "
        f"sections skipped {run.skipped}{_reasons(run)}; "
        f"errors {len(run.failures) + bool(run.error)}"
    )


def _reasons(run: CrawlRun) -> str:
    """How many sections each reason left out, e.g. " (navigation 3, boilerplate 1)"."""
    counts = Counter(run.skipped_by_reason)
    if not counts:
        return ""
    return " (" + ", ".join(f"{SKIP_REASONS.get(r, r)} {n}" for r, n in counts.most_common()) + ")"


class Command(BaseCommand):
    help = "Crawl a help center now and print a one-line summary."

    def add_arguments(self, parser) -> None:
        parser.add_argument("url")
        parser.add_argument("--max-pages", type=int, default=None)
        parser.add_argument("--max-depth", type=int, default=None)
        parser.add_argument("--name", default="")

    def handle(
        self, *args, url: str, max_pages: int | None, max_depth: int | None, name: str, **opts
    ) -> None:
        canonical = canonicalize_url(url)
        if not canonical or not canonical.startswith(("http://", "https://")):
            raise CommandError(f"not an http(s) URL: {url!r}")
        if max_pages is not None and max_pages < 1:
            raise CommandError("--max-pages must be at least 1")
        if max_depth is not None and max_depth < 0:
            raise CommandError("--max-depth must be at least 0")
        source = FaqSource.objects.filter(start_url=canonical).order_by("pk").first()
        if source is None:
            source = FaqSource.objects.create(start_url=canonical, name=name or canonical)
        try:
            run = crawl_source(source.pk, max_pages=max_pages, max_depth=max_depth)
        except CrawlNotStarted as exc:
            raise CommandError(f"crawl not started: {exc}") from None
        if run.status != CrawlRun.FAILED:
            build_snapshot()  # the shell user expects answers right away, not after a debounce
        self.stdout.write(summary_line(run))
        for failure in run.failures[:20]:
            self.stderr.write(f"  {failure['code']}: {failure['url']} {failure['detail']}")
        if run.error:
            self.stderr.write(f"  error: {run.error}")
        if run.suspicious_reason:
            self.stderr.write(f"  suspicious: {run.suspicious_reason}")
        for skip in run.skipped_sections[:20]:
            reason = SKIP_REASONS.get(skip["reason"], skip["reason"])
            self.stderr.write(f"  skipped ({reason}): {skip['title']} [{skip['url']}]")
        if run.status == CrawlRun.FAILED:
            # A non-zero exit lets scripts (and load_demo) notice that nothing was crawled.
            raise CommandError(f"crawl failed: {run.error or 'see errors above'}")
        if run.status == CrawlRun.SUSPICIOUS:
            # Not a success either: a cron job running this should tell someone.
            raise CommandError("crawl suspicious, nothing retired: see the reason above")

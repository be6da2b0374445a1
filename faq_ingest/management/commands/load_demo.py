from __future__ import annotations

import time

import requests
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from faq_ingest import index, sync
from faq_ingest.crawl import canonicalize_url
from faq_ingest.models import CrawlRun, Faq, FaqSource

DEMO_NAME = "Northwind demo help center"


def demo_state(source: FaqSource | None) -> str:
    """'absent', 'loaded' (its last finished crawl succeeded) or 'interrupted'."""
    if source is None:
        return "absent"
    last = (
        CrawlRun.objects.filter(source=source)
        .exclude(status__in=[CrawlRun.RUNNING, CrawlRun.REFUSED])
        .order_by("-started_at", "-id")
        .first()
    )
    return "loaded" if last is not None and last.status == CrawlRun.SUCCEEDED else "interrupted"


class Command(BaseCommand):
    help = (
        "Ingest the bundled demo help center through the real crawler, over HTTP, "
        "from the running app's /demo-help/ pages. Runs once; a load that was interrupted "
        "(the process was killed) is finished on the next run. --force crawls again."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--server", default="http://127.0.0.1:8000")
        parser.add_argument(
            "--wait", type=float, default=120.0, help="seconds to wait for the server to come up"
        )
        parser.add_argument("--force", action="store_true")

    def handle(self, *args, server: str, wait: float, force: bool, **opts) -> None:
        url = canonicalize_url(f"{server.rstrip('/')}/demo-help/index.html")
        if url is None:
            raise CommandError(f"not an http(s) server URL: {server!r}")
        source = FaqSource.objects.filter(start_url=url).order_by("pk").first()
        if source is not None:
            # A crawl whose process was killed must not pass for one still running.
            self._wait_for_running_crawl(source, wait)
        state = demo_state(source)
        if not force:
            if state == "absent" and Faq.objects.exists():
                self.stdout.write("knowledge base already has FAQs; demo not reloaded")
                return
            if state == "loaded":
                self._ensure_index(wait)
                count = Faq.objects.filter(source=source, active=True).count()
                self.stdout.write(f"demo already loaded ({count} FAQs)")
                return
            if state == "interrupted":
                self.stdout.write("finishing an interrupted demo load")
        self._wait_for_server(server, wait)
        call_command("crawl", url, name=DEMO_NAME, stdout=self.stdout, stderr=self.stderr)
        self._ensure_index(wait)

    def _wait_for_server(self, server: str, wait: float) -> None:
        deadline = time.monotonic() + wait
        while True:
            try:
                if requests.get(f"{server}/healthz", timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise CommandError(f"server at {server} did not come up in {wait:.0f}s")
            time.sleep(0.5)

    def _wait_for_running_crawl(self, source: FaqSource, wait: float) -> None:
        """Another live loader (a second `make run`) may be crawling: let it finish. A dead
        one's lease runs out within INGEST_LEASE_S (at once on this machine)."""
        deadline = time.monotonic() + wait + settings.INGEST_LEASE_S
        announced = False
        while (holder := sync.running_crawl(source.pk)) is not None:
            if not announced:
                self.stdout.write(f"waiting: {sync.busy_message(holder)}")
                announced = True
            if time.monotonic() > deadline:
                raise CommandError(f"demo not loaded: {sync.busy_message(holder)}")
            time.sleep(1.0)

    def _ensure_index(self, wait: float) -> None:
        # The crawl builds the index, but an earlier run may have been killed in the build,
        # or the server's start-up check may be building the same content right now.
        if not index.ensure_current(wait_s=wait):
            raise CommandError("the demo is loaded but its index could not be brought up to date")

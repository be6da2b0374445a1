from __future__ import annotations

import time

import requests
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from faq_ingest.models import Faq


class Command(BaseCommand):
    help = (
        "Ingest the bundled demo help center through the real crawler, over HTTP, "
        "from the running app's /demo-help/ pages (first run only unless --force)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--server", default="http://127.0.0.1:8000")
        parser.add_argument(
            "--wait", type=float, default=120.0, help="seconds to wait for the server to come up"
        )
        parser.add_argument("--force", action="store_true")

    def handle(self, *args, server: str, wait: float, force: bool, **opts) -> None:
        if Faq.objects.exists() and not force:
            self.stdout.write("knowledge base already has FAQs; demo not reloaded")
            return
        deadline = time.monotonic() + wait
        while True:
            try:
                if requests.get(f"{server}/healthz", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise CommandError(f"server at {server} did not come up in {wait:.0f}s")
            time.sleep(0.5)
        call_command("crawl", f"{server}/demo-help/index.html", name="Northwind demo help center")

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from agents.demo import ensure_demo_agent


class Command(BaseCommand):
    help = (
        "Create (once) the demo support agent and print how to sign in to the agent console. "
        "Skipped in the scaled shape unless --force: a production install gets no demo account."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--server", default="http://127.0.0.1:8000")
        parser.add_argument("--force", action="store_true")

    def handle(self, *args, server: str, force: bool, **opts) -> None:
        if settings.SCALED and not force:
            self.stdout.write("scaled shape: no demo agent created (use --force to create one)")
            return
        creds = ensure_demo_agent()
        server = server.rstrip("/")
        self.stdout.write(
            "\n"
            f"  Customer chat:  {server}/\n"
            f"  Agent console:  {server}/agent/   "
            f"user {creds.username}   password {creds.password}\n"
            "  (open both, press “Talk to a person” in the chat, and answer as the agent)\n"
        )

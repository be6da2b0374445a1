"""The demo agent a newcomer signs in with to try both sides of the handoff at once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from agents.models import AGENTS_GROUP, AgentProfile, CannedReply

USERNAME = "demo-agent"
DISPLAY_NAME = "Maya"

CANNED = [
    (
        "Greeting",
        "Hi, I'm Maya from the Northwind support team. I've read the conversation so far; "
        "give me a moment to look into it.",
    ),
    (
        "Order number",
        "Could you tell me your order number? It's in the confirmation e-mail and starts with NW.",
    ),
    ("Anything else", "Is there anything else I can help you with today?"),
    (
        "Refund timing",
        "Once the return reaches our warehouse, the refund is issued within 5 business days "
        "to the original payment method.",
    ),
]


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    created: bool


def credentials_file() -> Path:
    return settings.DATA_DIR / "demo-agent-password.txt"


def ensure_demo_agent() -> Credentials:
    """Create the demo agent (an Agents member without staff status, so it cannot reach
    the admin) and a few canned replies; re-running keeps the same account and password.
    The password is random per install and kept in DATA_DIR, readable only by its owner."""
    path = credentials_file()
    password = path.read_text().strip() if path.exists() else ""
    with transaction.atomic():
        user, created = get_user_model().objects.get_or_create(
            username=USERNAME, defaults={"first_name": DISPLAY_NAME, "is_staff": False}
        )
        if created or not password or not user.check_password(password):
            password = password or secrets.token_urlsafe(12)
            user.set_password(password)
            user.save()
        user.groups.add(Group.objects.get_or_create(name=AGENTS_GROUP)[0])
        AgentProfile.objects.get_or_create(
            user=user,
            defaults={
                "display_name": DISPLAY_NAME,
                "max_concurrent": settings.AGENTS_MAX_CONCURRENT,
            },
        )
        for title, body in CANNED:
            CannedReply.objects.get_or_create(
                title=title, defaults={"body": body, "language": "en"}
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(password + "\n")
    path.chmod(0o600)
    return Credentials(USERNAME, password, created)

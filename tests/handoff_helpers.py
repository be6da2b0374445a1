"""A fixed cast for handoff tests: agents, a customer conversation, a staff user."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from agents.models import AGENTS_GROUP, AgentProfile
from chatbot.models import Conversation

PASSWORD = "correct horse battery staple"


def make_agent(
    username: str = "maya",
    *,
    name: str = "Maya",
    online: bool = True,
    status: str = AgentProfile.AVAILABLE,
    max_concurrent: int = 3,
    email: str = "",
):
    user = get_user_model().objects.create_user(
        username, email=email or f"{username}@support.example", password=PASSWORD
    )
    user.first_name = name
    user.save()
    # get_or_create: transactional tests flush the rows the migration made.
    user.groups.add(Group.objects.get_or_create(name=AGENTS_GROUP)[0])
    AgentProfile.objects.create(
        user=user,
        status=status,
        max_concurrent=max_concurrent,
        sockets=1 if online else 0,
        last_seen_at=timezone.now() if online else None,
    )
    return user


def make_outsider(username: str = "outsider", *, staff: bool = False):
    return get_user_model().objects.create_user(
        username, password=PASSWORD, is_staff=staff, email=f"{username}@example.com"
    )


def conversation(status: str = Conversation.Status.BOT, **fields) -> Conversation:
    return Conversation.objects.create(status=status, **fields)

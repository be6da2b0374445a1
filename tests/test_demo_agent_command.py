"""`create_demo_agent` (run by `make run`): one demo agent, same credentials every run,
an agent who cannot reach the admin, and none in the scaled shape unless asked."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from agents.availability import is_agent
from agents.models import CannedReply

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    out = StringIO()
    call_command("create_demo_agent", *args, stdout=out)
    return out.getvalue()


def test_it_creates_the_agent_once_and_prints_the_same_password(settings, tmp_path, client):
    settings.DATA_DIR = tmp_path
    first = _run("--server", "http://127.0.0.1:8000")
    second = _run("--server", "http://127.0.0.1:8000")
    pattern = r"http://127.0.0.1:8000/agent/\s+user demo-agent\s+password (\S+)"
    password = re.search(pattern, first).group(1)
    assert re.search(pattern, second).group(1) == password
    assert (tmp_path / "demo-agent-password.txt").stat().st_mode & 0o077 == 0

    users = get_user_model().objects.filter(username="demo-agent")
    assert users.count() == 1
    agent = users.get()
    assert is_agent(agent) and not agent.is_staff and agent.agent_profile.name == "Maya"
    assert CannedReply.objects.count() == 4  # not duplicated by the second run
    assert client.login(username="demo-agent", password=password)


def test_it_is_skipped_in_the_scaled_shape_unless_forced(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.SCALED = True
    assert "no demo agent created" in _run()
    assert not get_user_model().objects.filter(username="demo-agent").exists()
    assert "user demo-agent" in _run("--force")

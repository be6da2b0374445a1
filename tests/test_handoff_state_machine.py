"""The conversation state machine: every legal move, every illegal one, and its records."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from django.db import IntegrityError, transaction

from agents import states
from agents.models import StatusChange
from chatbot.models import Conversation
from tests.handoff_helpers import make_agent

pytestmark = pytest.mark.django_db

S = Conversation.Status
ALL = [s.value for s in S]

LEGAL = {
    ("bot", "waiting"),
    ("bot", "ticket"),
    ("waiting", "agent"),
    ("waiting", "bot"),
    ("waiting", "abandoned"),
    ("waiting", "ticket"),
    ("agent", "resolved"),
    ("agent", "bot"),
    ("agent", "waiting"),
    ("abandoned", "bot"),
    ("ticket", "bot"),
}


def _in(status: str, agent) -> Conversation:
    return Conversation.objects.create(
        status=status, assigned_agent=agent if status == S.AGENT else None
    )


def test_the_table_is_exactly_the_documented_lifecycle():
    assert set(states.TRANSITIONS) == LEGAL


@pytest.mark.parametrize("current,target", sorted(LEGAL))
def test_each_legal_transition_moves_and_is_recorded(current, target):
    maya = make_agent()
    conv = _in(current, maya)
    change = states.transition(
        conv.pk, target, agent=maya if target == S.AGENT else None, reason="because"
    )
    conv.refresh_from_db()
    assert conv.status == target and change.previous == current
    assert (conv.assigned_agent == maya) == (target == S.AGENT)
    assert conv.status_changed_at is not None
    record = StatusChange.objects.get(conversation=conv)
    assert (record.from_status, record.to_status, record.reason) == (current, target, "because")


@pytest.mark.parametrize(
    "current,target",
    sorted(p for p in itertools.product(ALL, ALL) if p not in LEGAL),
)
def test_every_other_move_raises_and_changes_nothing(current, target):
    maya = make_agent()
    conv = _in(current, maya)
    with pytest.raises(states.IllegalTransition) as info:
        states.transition(conv.pk, target, agent=maya if target == S.AGENT else None)
    assert (info.value.current, info.value.target) == (current, target)
    conv.refresh_from_db()
    assert conv.status == current
    assert not StatusChange.objects.exists()


def test_resolved_is_final():
    assert not [t for (c, t) in states.TRANSITIONS if c == S.RESOLVED]


def test_a_stale_expectation_raises_even_for_a_legal_move():
    maya, sam = make_agent(), make_agent("sam", name="Sam")
    conv = _in(S.WAITING, None)
    states.transition(conv.pk, S.AGENT, expected=S.WAITING, agent=maya)
    # Sam read "waiting" a moment ago; it is not any more.
    with pytest.raises(states.IllegalTransition) as info:
        states.transition(conv.pk, S.AGENT, expected=S.WAITING, agent=sam)
    assert info.value.current == S.AGENT
    conv.refresh_from_db()
    assert conv.assigned_agent == maya


def test_the_agent_argument_goes_with_the_agent_state_only():
    maya = make_agent()
    with pytest.raises(ValueError):
        states.transition(_in(S.WAITING, None).pk, S.AGENT)
    with pytest.raises(ValueError):
        states.transition(_in(S.BOT, None).pk, S.WAITING, agent=maya)


def test_the_database_refuses_an_owner_outside_the_agent_state():
    maya = make_agent()
    with pytest.raises(IntegrityError), transaction.atomic():
        Conversation.objects.create(status=S.BOT, assigned_agent=maya)
    with pytest.raises(IntegrityError), transaction.atomic():
        Conversation.objects.create(status=S.AGENT)


# Conversation.status is written by agents/states.py alone. A write elsewhere would skip
# the table, the audit row and the race guard, so any new one must fail this test.
STATUS_WRITE = re.compile(
    r"\.update\([^)]*\bstatus\s*=\s*(Conversation\.|S\.|states\.|\"|')"
    r"|\bconv(ersation)?\.status\s*=[^=]"
)


def test_no_code_outside_the_state_machine_writes_the_status():
    root = Path(__file__).resolve().parent.parent
    offenders = []
    for path in [*root.glob("chatbot/**/*.py"), *root.glob("agents/**/*.py")]:
        if "migrations" in path.parts or path.name == "states.py":
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if STATUS_WRITE.search(line):
                offenders.append(f"{path.relative_to(root)}:{n}: {line.strip()}")
    assert offenders == []


def test_the_status_write_pattern_catches_writes():
    assert STATUS_WRITE.search(
        "Conversation.objects.filter(pk=1).update(status=Conversation.Status.BOT)"
    )
    assert STATUS_WRITE.search("conv.status = 'bot'")
    assert not STATUS_WRITE.search("if conv.status == S.BOT:")

"""Business hours and holidays per team, in the team's own time zone."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from agents import availability
from agents.models import BusinessHours, Holiday, Team
from tests.handoff_helpers import make_agent

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def team():
    team = Team.objects.create(name="EU", timezone="Europe/Berlin", is_default=True)
    for weekday in range(5):  # Monday to Friday, 09:00–17:30 Berlin time
        BusinessHours.objects.create(team=team, weekday=weekday, opens=time(9), closes=time(17, 30))
    return team


def at(y, m, d, hh, mm=0, tz=BERLIN):
    return datetime(y, m, d, hh, mm, tzinfo=tz)


def test_open_inside_the_hours_and_closed_outside(team):
    # 2026-12-02 is a Wednesday.
    assert availability.hours_state(team, at(2026, 12, 2, 10)) == (True, "", None)
    assert availability.hours_state(team, at(2026, 12, 2, 17, 29))[0] is True
    is_open, why, next_open = availability.hours_state(team, at(2026, 12, 2, 17, 30))
    assert (is_open, why) == (False, availability.OUTSIDE_HOURS)
    assert next_open == at(2026, 12, 3, 9)


def test_the_time_zone_is_the_teams(team):
    # 08:30 UTC is 09:30 in Berlin (winter): open; 16:45 UTC is 17:45 Berlin: closed.
    utc = ZoneInfo("UTC")
    assert availability.hours_state(team, at(2026, 12, 2, 8, 30, utc))[0] is True
    assert availability.hours_state(team, at(2026, 12, 2, 16, 45, utc))[0] is False


def test_the_weekend_reopens_on_monday(team):
    is_open, why, next_open = availability.hours_state(team, at(2026, 12, 5, 12))  # Saturday
    assert (is_open, why) == (False, availability.OUTSIDE_HOURS)
    assert next_open == at(2026, 12, 7, 9)
    assert next_open.weekday() == 0


def test_a_holiday_closes_the_day_and_says_so(team):
    Holiday.objects.create(team=team, date=date(2026, 12, 24), name="Christmas Eve")
    Holiday.objects.create(team=team, date=date(2026, 12, 25), name="Christmas")
    is_open, why, next_open = availability.hours_state(team, at(2026, 12, 24, 11))
    assert (is_open, why) == (False, availability.HOLIDAY)
    # The 25th is a holiday too, the 26th/27th a weekend: Monday the 28th.
    assert next_open == at(2026, 12, 28, 9)


def test_a_shift_past_midnight_counts_for_both_days():
    night = Team.objects.create(name="Night", timezone="Asia/Shanghai")
    BusinessHours.objects.create(team=night, weekday=2, opens=time(22), closes=time(6))
    shanghai = ZoneInfo("Asia/Shanghai")
    assert availability.hours_state(night, at(2026, 12, 2, 23, tz=shanghai))[0] is True
    assert availability.hours_state(night, at(2026, 12, 3, 5, 59, tz=shanghai))[0] is True
    assert availability.hours_state(night, at(2026, 12, 3, 6, tz=shanghai))[0] is False
    assert availability.hours_state(night, at(2026, 12, 2, 21, tz=shanghai))[2] == at(
        2026, 12, 2, 22, tz=shanghai
    )


def test_a_team_without_hours_is_always_open():
    team = Team.objects.create(name="24/7")
    assert availability.hours_state(team, at(2026, 12, 6, 3)) == (True, "", None)


def test_the_team_is_chosen_by_language_then_default():
    default = Team.objects.create(name="Support", is_default=True)
    chinese = Team.objects.create(name="中文", languages="zh, zh-tw")
    assert availability.team_for("zh") == chinese
    assert availability.team_for("zh-CN") == chinese
    assert availability.team_for("en") == default
    assert availability.team_for("") == default


def test_no_teams_means_every_agent_serves_every_conversation():
    assert availability.team_for("en") is None
    assert availability.can_hand_over("en").reason == availability.NO_AGENTS
    make_agent()
    assert availability.can_hand_over("en").ok


def test_an_open_team_still_needs_one_of_its_own_agents_online(team):
    maya = make_agent()
    # Online at the moment the check is made for.
    maya.agent_profile.last_seen_at = at(2026, 12, 2, 10)
    maya.agent_profile.save()
    verdict = availability.can_hand_over("en", now=at(2026, 12, 2, 10))
    assert (verdict.ok, verdict.reason) == (False, availability.NO_AGENTS)  # not in the team
    maya.agent_profile.teams.add(team)
    assert availability.can_hand_over("en", now=at(2026, 12, 2, 10)).ok
    maya.agent_profile.last_seen_at = at(2026, 12, 2, 20)
    maya.agent_profile.save()
    closed = availability.can_hand_over("en", now=at(2026, 12, 2, 20))
    assert (closed.ok, closed.reason, closed.next_open) == (
        False,
        availability.OUTSIDE_HOURS,
        at(2026, 12, 3, 9),
    )

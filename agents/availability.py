"""Can a person come? Teams, business hours, holidays, and which agents are online.

Pure reads: nothing here changes state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from agents.models import AGENTS_GROUP, AgentProfile, Team
from chatbot.models import Conversation

NO_AGENTS = "no_agents"
OUTSIDE_HOURS = "outside_hours"
HOLIDAY = "holiday"


@dataclass(frozen=True)
class Verdict:
    ok: bool
    team: Team | None
    reason: str = ""  # NO_AGENTS, OUTSIDE_HOURS or HOLIDAY when not ok
    next_open: datetime | None = None  # in the team's time zone, when known


def online_window() -> timedelta:
    return timedelta(seconds=settings.AGENTS_HEARTBEAT_S * 2.5)


def is_agent(user) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.groups.filter(name=AGENTS_GROUP).exists()
    )


def team_for(language: str) -> Team | None:
    """The team that takes a conversation in `language`: one that lists the language,
    else the default team, else any team; None when no teams are configured."""
    teams = list(Team.objects.all())
    if not teams:
        return None
    lang = (language or "").lower().split("-")[0]
    for team in teams:
        if lang and lang in team.language_list():
            return team
    for team in teams:
        if team.is_default:
            return team
    return teams[0]


def team_zone(team: Team) -> ZoneInfo:
    try:
        return ZoneInfo(team.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _shifts(team: Team, day: date, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """Opening intervals starting on `day` (local time), a shift past midnight included."""
    out = []
    for h in team.hours.all():
        if h.weekday != day.weekday():
            continue
        start = datetime.combine(day, h.opens, zone)
        end_day = day if h.closes > h.opens else day + timedelta(days=1)
        end = datetime.combine(end_day, h.closes, zone)
        out.append((start, end))
    return out


def hours_state(team: Team, at: datetime) -> tuple[bool, str, datetime | None]:
    """(open now, why closed, when it next opens). No hours configured: always open."""
    hours = list(team.hours.all())
    if not hours:
        return True, "", None
    zone = team_zone(team)
    local = at.astimezone(zone)
    holidays = set(team.holidays.values_list("date", flat=True))
    # Yesterday's shift may run past midnight into today.
    for offset in (-1, 0):
        day = local.date() + timedelta(days=offset)
        if day in holidays:
            continue
        for start, end in _shifts(team, day, zone):
            if start <= local < end:
                return True, "", None
    reason = HOLIDAY if local.date() in holidays else OUTSIDE_HOURS
    for offset in range(0, 15):
        day = local.date() + timedelta(days=offset)
        if day in holidays:
            continue
        starts = sorted(s for s, _ in _shifts(team, day, zone) if s > local)
        if starts:
            return False, reason, starts[0]
    return False, reason, None


def agents_for(team: Team | None) -> QuerySet[AgentProfile]:
    qs = AgentProfile.objects.filter(
        user__is_active=True, user__groups__name=AGENTS_GROUP
    ).select_related("user")
    if team is not None:
        qs = qs.filter(teams=team)
    return qs.distinct()


def online_q(now: datetime | None = None) -> Q:
    now = now or timezone.now()
    return Q(sockets__gt=0, last_seen_at__gte=now - online_window())


def with_load(qs: QuerySet[AgentProfile]) -> QuerySet[AgentProfile]:
    return qs.annotate(
        load=Count(
            "user__assigned_conversations",
            filter=Q(user__assigned_conversations__status=Conversation.Status.AGENT),
            distinct=True,
        )
    )


def ready_agents(team: Team | None, now: datetime | None = None) -> QuerySet[AgentProfile]:
    """Agents who would take a chat now: online and set available (at capacity or not)."""
    return agents_for(team).filter(online_q(now), status=AgentProfile.AVAILABLE)


def can_hand_over(language: str, now: datetime | None = None) -> Verdict:
    now = now or timezone.now()
    team = team_for(language)
    if team is not None:
        is_open, why, next_open = hours_state(team, now)
        if not is_open:
            return Verdict(False, team, why, next_open)
    if not ready_agents(team, now).exists():
        return Verdict(False, team, NO_AGENTS)
    return Verdict(True, team)

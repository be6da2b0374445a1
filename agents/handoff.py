"""What chat code calls: bring a person in when a trigger fires, honestly.

The chat side (chatbot/conversations.py) calls four functions:
- `on_customer_message(conv, msg)` inside the transaction that stores a customer message:
  returns whether the bot should answer it (it stays silent while a person is involved);
- `bot_may_answer(conversation_id)` before producing a reply;
- `after_bot_answer(reply_id)` once a bot reply is stored;
- `request(conversation_id, trigger)` for the "Talk to a person" button (agents.customer).

When to hand over is decided by chatbot.escalation (pure); this module decides whether
anyone can come, and tells the customer the truth either way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from agents import assignment, availability, notify, states, texts
from agents.models import Handoff, StatusChange
from chatbot import escalation, events
from chatbot.models import Conversation, Message
from faq_ingest.extract.language import detect_language

log = logging.getLogger(__name__)

S = Conversation.Status
# Triggers the customer asked for: they are honoured even during the cool-down that
# follows a hand-back or an offline answer.
CUSTOMER_ASKED = frozenset({"button", "explicit_request"})
QUEUED, OFFLINE, IGNORED = "queued", "offline", "ignored"


@dataclass(frozen=True)
class Outcome:
    result: str  # queued, offline, or ignored (already with a person, or cooling down)
    handoff: Handoff | None = None
    estimate_minutes: int | None = None


def turns(conv: Conversation, *, before: Message | None = None) -> list[escalation.Turn]:
    """The conversation as escalation.Turn objects, oldest first, up to (not including)
    `before`. System notices are not turns; a handoff notice marks the turn before it."""
    qs = conv.messages.exclude(state=Message.FAILED).order_by("created_at", "id")
    if before is not None:
        qs = qs.filter(id__lt=before.pk)
    out: list[escalation.Turn] = []
    for m in qs:
        if m.role == Message.SYSTEM:
            if m.notice in ("queued", "offline") and out:
                out[-1].escalated = True
            continue
        cited = tuple(
            int(c["faq_id"])
            for c in (m.citations or [])
            if isinstance(c, dict) and isinstance(c.get("faq_id"), int)
        )
        out.append(
            escalation.Turn(
                role=m.role,
                text=m.text,
                confidence=m.confidence,
                cited_faq_ids=cited,
                feedback=m.feedback,
                # Set only by a handoff notice (above): `m.escalate` marks a bot answer that
                # found nothing, which is a low-confidence miss, not a handover.
            )
        )
    return out


def _cooling_down(conv: Conversation) -> bool:
    """Right after an agent handed back, or after we told the customer nobody can come,
    automatic triggers must not bounce them straight back (handoff loops) or repeat the
    same 'nobody is available' notice on every answer."""
    since = timezone.now() - timedelta(seconds=settings.AGENTS_RETRIGGER_COOLDOWN_S)
    handed_back = StatusChange.objects.filter(
        conversation=conv, from_status=S.AGENT, to_status=S.BOT, created_at__gte=since
    ).exists()
    told_offline = Handoff.objects.filter(
        conversation=conv, outcome=Handoff.OFFLINE, requested_at__gte=since
    ).exists()
    return handed_back or told_offline


REPEAT_WINDOW = timedelta(seconds=15)


def _just_told_offline(conv: Conversation) -> bool:
    return Handoff.objects.filter(
        conversation=conv,
        outcome=Handoff.OFFLINE,
        requested_at__gte=timezone.now() - REPEAT_WINDOW,
    ).exists()


def request(conversation_id: int, trigger: escalation.Trigger) -> Outcome:
    """Bring a person into a conversation the bot is handling. Queues it when a team is
    open and an agent is online and available; otherwise records the attempt, tells the
    customer nobody can come (never promising a transfer) and offers to take a message."""
    with transaction.atomic():
        conv = Conversation.objects.select_for_update().get(pk=conversation_id)
        if conv.status != S.BOT:
            return Outcome(IGNORED)
        if trigger.kind not in CUSTOMER_ASKED and _cooling_down(conv):
            log.info("trigger %s ignored during cool-down (%s)", trigger.kind, conv.public_id)
            return Outcome(IGNORED)
        if _just_told_offline(conv):
            # A button pressed again and again: one honest answer, not one per click.
            return Outcome(IGNORED)
        Conversation.objects.filter(pk=conv.pk).update(customer_seen_at=timezone.now())
        verdict = availability.can_hand_over(conv.language)
        fields = {
            "conversation": conv,
            "trigger": trigger.kind[:32],
            "reason": trigger.reason[:300],
            "detail": trigger.detail or {},
            "team": verdict.team,
        }
        if not verdict.ok:
            return _offline(conv, verdict, fields)
        change = states.transition(conv.pk, S.WAITING, reason=f"{trigger.kind}: {trigger.reason}")
        conv = change.conversation
        minutes = assignment.estimate_minutes(conv, verdict.team)
        handoff = Handoff.objects.create(**fields, outcome=Handoff.QUEUED, estimate_minutes=minutes)
        notify.post_notice(conv, "queued", texts.say("queued", conv.language, minutes=minutes))
        notify.status_to_customer(conv, estimate_minutes=minutes)
        notify.inbox_changed(conv.pk)
        if settings.AGENTS_AUTO_ASSIGN:
            transaction.on_commit(lambda: assignment.auto_assign(conversation_id), robust=True)
    return Outcome(QUEUED, handoff, minutes)


def _offline(conv: Conversation, verdict: availability.Verdict, fields: dict) -> Outcome:
    now = timezone.now()
    handoff = Handoff.objects.create(
        **fields,
        outcome=Handoff.OFFLINE,
        unavailable_reason=verdict.reason,
        ended_at=now,
        end=Handoff.OFFLINE,
    )
    if verdict.reason == availability.NO_AGENTS:
        text = texts.say("offline_no_agents", conv.language)
    else:
        when = texts.next_open_phrase(verdict.next_open, conv.language)
        text = texts.say("offline_hours", conv.language, next_open=when)
    notify.post_notice(conv, "offline", text)
    notify.to_customer(
        conv,
        events.handoff_unavailable(
            verdict.reason, verdict.next_open.isoformat() if verdict.next_open else None
        ),
    )
    return Outcome(OFFLINE, handoff)


def on_customer_message(conv: Conversation, msg: Message) -> bool:
    """Called with the conversation row locked, right after `msg` is stored. Returns
    whether the bot should answer it."""
    now = timezone.now()
    updates: dict = {"customer_seen_at": now}
    if not conv.language:
        language = detect_language(msg.text)
        if language:
            updates["language"] = conv.language = language
    Conversation.objects.filter(pk=conv.pk).update(**updates)

    if conv.status in (S.ABANDONED, S.TICKET):
        # The customer came back: nothing was lost, the assistant picks up again.
        came_back = conv.status == S.ABANDONED
        conv = states.transition(conv.pk, S.BOT, expected=conv.status).conversation
        if came_back:
            notify.post_notice(conv, "welcome_back", texts.say("welcome_back", conv.language))
        notify.status_to_customer(conv)
        notify.inbox_changed(conv.pk)
    notify.message_added(conv, msg)
    if conv.status in states.WITH_HUMANS:
        notify.inbox_changed(conv.pk)
        return False
    if conv.status not in states.BOT_ANSWERS:
        return False
    trigger = escalation.before_answer(msg.text, turns(conv, before=msg))
    if trigger is None:
        return True
    outcome = request(conv.pk, trigger)
    if outcome.result == QUEUED:
        return False
    # Nobody can come. A customer who only asked for a person gets the honest notice and
    # the message form, not a bot answer to "human please"; anything else is answered.
    return trigger.kind not in CUSTOMER_ASKED


def bot_may_answer(conversation_id: int) -> bool:
    status = (
        Conversation.objects.filter(pk=conversation_id).values_list("status", flat=True).first()
    )
    return status in states.BOT_ANSWERS


def after_bot_answer(reply_id: int) -> None:
    """Run the after-answer triggers on a stored bot reply, and show it to watching agents."""
    reply = (
        Message.objects.select_related("conversation", "reply_to")
        .filter(pk=reply_id, role=Message.BOT)
        .first()
    )
    if reply is None:
        return
    conv = reply.conversation
    notify.message_added(conv, reply)  # no transaction open: published right away
    if conv.status not in states.BOT_ANSWERS or reply.reply_to is None:
        return
    history = turns(conv, before=reply.reply_to)
    cited = tuple(
        int(c["faq_id"])
        for c in (reply.citations or [])
        if isinstance(c, dict) and isinstance(c.get("faq_id"), int)
    )
    confidence = float(reply.confidence or 0.0)
    trigger = escalation.after_answer(
        reply.reply_to.text, history, confidence=confidence, cited_faq_ids=cited
    )
    if trigger is not None and request(conv.pk, trigger).result != IGNORED:
        return
    if reply.escalate and escalation.low_confidence_needs_rephrase(history, confidence):
        with transaction.atomic():
            notify.post_notice(conv, "rephrase", texts.say("rephrase", conv.language))


def after_feedback(conversation_id: int) -> Outcome | None:
    conv = Conversation.objects.filter(pk=conversation_id).first()
    if conv is None or conv.status not in states.BOT_ANSWERS:
        return None
    trigger = escalation.after_feedback(turns(conv))
    if trigger is None:
        return None
    return request(conv.pk, trigger)

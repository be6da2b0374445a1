"""What an agent does from the console: talk, resolve, hand back, requeue, promote an
answer to a FAQ, set availability. The agent consumer parses frames and calls these.

Every function checks that the agent owns the conversation (status AGENT, assigned to
them) under the conversation's row lock, so an agent who just lost a chat (requeued after
a disconnect) cannot keep writing into it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from agents import assignment, availability, inbox, notify, states, texts
from agents.models import AgentProfile, FaqDraft, Handoff
from chatbot import events
from chatbot.models import Conversation, Message, conversation_group
from faq_ingest import knowledge

S = Conversation.Status
MAX_NOTE_CHARS = 2000


class ConsoleError(Exception):
    """`code`: not_found, not_yours, invalid, empty_message, message_too_long."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def find(public_id: str | uuid.UUID) -> Conversation:
    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        raise ConsoleError("not_found", "No such conversation.") from None
    conv = Conversation.objects.select_related("assigned_agent").filter(public_id=key).first()
    if conv is None:
        raise ConsoleError("not_found", "No such conversation.")
    return conv


def _owned(public_id: str | uuid.UUID, agent) -> Conversation:
    conv = Conversation.objects.select_for_update().get(pk=find(public_id).pk)
    if conv.status != S.AGENT or conv.assigned_agent_id != agent.pk:
        raise ConsoleError("not_yours", "You are not in this conversation (any more).")
    return conv


def _clean_text(text: object) -> str:
    if not isinstance(text, str):
        raise ConsoleError("invalid", "`text` must be a string.")
    text = text.strip()
    if not text:
        raise ConsoleError("empty_message", "The message is empty.")
    if len(text) > settings.MAX_MESSAGE_CHARS:
        raise ConsoleError(
            "message_too_long", f"Messages are limited to {settings.MAX_MESSAGE_CHARS} characters."
        )
    return text


def owns(public_id: str | uuid.UUID, agent) -> bool:
    try:
        conv = find(public_id)
    except ConsoleError:
        return False
    return conv.status == S.AGENT and conv.assigned_agent_id == agent.pk


def typing(public_id: str, agent, is_typing: bool) -> tuple[str, dict]:
    """The customer group and payload for the agent's typing indicator; only the agent
    who owns the conversation may show one."""
    conv = find(public_id)
    if conv.status != S.AGENT or conv.assigned_agent_id != agent.pk:
        raise ConsoleError("not_yours", "You are not in this conversation.")
    payload = events.typing("agent", is_typing, inbox.display_name(agent))
    return conversation_group(conv.public_id), payload


def accept(public_id: str, agent) -> Conversation:
    return assignment.accept(find(public_id).pk, agent).conversation


def send_message(public_id: str, agent, text: object) -> Message:
    clean = _clean_text(text)
    with transaction.atomic():
        conv = _owned(public_id, agent)
        msg = Message.objects.create(
            conversation=conv, role=Message.AGENT, text=clean, author=agent
        )
        Conversation.objects.filter(pk=conv.pk).update(updated_at=timezone.now())
        notify.to_customer(
            conv,
            events.agent_message(
                msg.pk, clean, inbox.display_name(agent), msg.created_at.isoformat()
            ),
        )
        notify.message_added(conv, msg)
        notify.inbox_changed(conv.pk)
    return msg


def _end_handoff(conv: Conversation, end: str, note: str = "") -> None:
    Handoff.objects.filter(conversation=conv, outcome=Handoff.QUEUED, ended_at__isnull=True).update(
        ended_at=timezone.now(), end=end, note=note
    )


def resolve(public_id: str, agent) -> Conversation:
    with transaction.atomic():
        conv = _owned(public_id, agent)
        conv = states.transition(conv.pk, S.RESOLVED, expected=S.AGENT, actor=agent).conversation
        _end_handoff(conv, Handoff.RESOLVED)
        name = inbox.display_name(agent)
        notify.post_notice(conv, "resolved", texts.say("resolved", conv.language, agent=name))
        notify.status_to_customer(conv)
        notify.inbox_changed(conv.pk)
        _refill_on_commit()
    return conv


def hand_back(public_id: str, agent, note: object = "") -> Conversation:
    """Give the conversation back to the assistant; the note stays with the handoff
    record for agents and staff (the customer is told they are back with the assistant)."""
    if not isinstance(note, str):
        raise ConsoleError("invalid", "`note` must be a string.")
    note = note.strip()[:MAX_NOTE_CHARS]
    with transaction.atomic():
        conv = _owned(public_id, agent)
        conv = states.transition(
            conv.pk, S.BOT, expected=S.AGENT, actor=agent, reason=note[:300]
        ).conversation
        _end_handoff(conv, Handoff.HANDED_BACK, note)
        notify.post_notice(conv, "back_to_bot", texts.say("back_to_bot", conv.language))
        notify.status_to_customer(conv)
        notify.inbox_changed(conv.pk)
        _refill_on_commit()
    return conv


def requeue(conversation_id: int, reason: str, *, expected_agent_id: int | None = None) -> bool:
    """Put a conversation back in the queue (its agent disconnected), telling the
    customer; returns False when it had already moved on. A new Handoff record with
    trigger "requeued" keeps the history of who had it."""
    with transaction.atomic():
        conv = Conversation.objects.select_for_update().filter(pk=conversation_id).first()
        if conv is None or conv.status != S.AGENT:
            return False
        if expected_agent_id is not None and conv.assigned_agent_id != expected_agent_id:
            return False
        previous = conv.assigned_agent
        name = inbox.display_name(previous)
        old = assignment.open_handoff(conv.pk)
        conv = states.transition(conv.pk, S.WAITING, expected=S.AGENT, reason=reason).conversation
        _end_handoff(conv, Handoff.REQUEUED)
        verdict = availability.can_hand_over(conv.language)
        minutes = assignment.estimate_minutes(conv, verdict.team) if verdict.ok else None
        Handoff.objects.create(
            conversation=conv,
            trigger="requeued",
            reason=reason[:300],
            detail={"previous_agent": name, "first_trigger": old.trigger if old else ""},
            team=old.team if old else verdict.team,
            outcome=Handoff.QUEUED,
            estimate_minutes=minutes,
        )
        if verdict.ok:
            text = texts.say("requeued", conv.language, agent=name, minutes=minutes)
            notify.post_notice(conv, "requeued", text)
        else:
            text = texts.say("requeued_nobody", conv.language, agent=name)
            notify.post_notice(conv, "requeued", text)
            notify.to_customer(
                conv,
                events.handoff_unavailable(
                    verdict.reason, verdict.next_open.isoformat() if verdict.next_open else None
                ),
            )
        notify.status_to_customer(conv, estimate_minutes=minutes)
        notify.inbox_changed(conv.pk)
        _refill_on_commit()
    return True


def _refill_on_commit() -> None:
    """A seat just freed up (or a chat re-entered the queue): offer the queue again."""
    if settings.AGENTS_AUTO_ASSIGN:
        transaction.on_commit(assignment.assign_waiting, robust=True)


def set_availability(agent, status: object) -> AgentProfile:
    if status not in (AgentProfile.AVAILABLE, AgentProfile.AWAY):
        raise ConsoleError("invalid", "`status` must be available or away.")
    profile = assignment.profile_for(agent)
    AgentProfile.objects.filter(pk=profile.pk).update(status=status)
    profile.status = status
    notify.to_agent(agent.pk, {"type": "availability", "status": status})
    if status == AgentProfile.AVAILABLE:
        _refill_on_commit()
    return profile


def promote_to_faq(message_id: object, agent, question: object = None) -> FaqDraft:
    """Turn an agent's answer into an inactive draft FAQ for staff to review. The question
    is the customer's last message before the answer unless the agent wrote one. Once
    staff activate it in the admin, the index rebuild picks it up like any other FAQ."""
    if not isinstance(message_id, int):
        raise ConsoleError("invalid", "`message_id` must be an integer.")
    msg = (
        Message.objects.select_related("conversation")
        .filter(pk=message_id, role=Message.AGENT)
        .first()
    )
    if msg is None:
        raise ConsoleError("not_found", "No such agent message.")
    if isinstance(question, str) and question.strip():
        asked = question.strip()
    else:
        before = (
            msg.conversation.messages.filter(role=Message.CUSTOMER, id__lt=msg.pk)
            .order_by("-id")
            .first()
        )
        if before is None:
            raise ConsoleError("invalid", "Write the question this answer belongs to.")
        asked = before.text
    if FaqDraft.objects.filter(message=msg).exists():
        raise ConsoleError("invalid", "This answer has already been promoted.")
    with transaction.atomic():
        faq = knowledge.create_draft(
            asked[:1000],
            msg.text,
            language=msg.conversation.language,
            created_by=f"agent:{agent.get_username()}",
        )
        return FaqDraft.objects.create(faq=faq, message=msg, proposed_by=agent)

"""Messages customers leave when nobody can come: stored for agents, e-mailed to the team.

E-mail goes through Django's e-mail backend (EMAIL_* settings) from a task, after commit.
Sending is claimed with a conditional UPDATE, so a task delivered twice sends once; a
failed send is recorded on the ticket and retried by the periodic sweep a few times.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from agents import availability, notify, states, texts
from agents.models import Handoff, Ticket
from chatbot.models import Conversation

log = logging.getLogger(__name__)

S = Conversation.Status
MAX_MESSAGE_CHARS = 5000
MAX_EMAIL_ATTEMPTS = 5
RETRY_AFTER = timedelta(minutes=1)


class TicketRejected(ValueError):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def _clean(email: object, message: object) -> tuple[str, str]:
    if not isinstance(email, str) or not isinstance(message, str):
        raise TicketRejected("invalid_ticket", "Send `email` and `message` as strings.")
    email, message = email.strip(), message.strip()
    try:
        validate_email(email)
    except ValidationError:
        raise TicketRejected("invalid_email", "Please enter a valid e-mail address.") from None
    if len(email) > 254:
        raise TicketRejected("invalid_email", "Please enter a valid e-mail address.")
    if not message:
        raise TicketRejected("invalid_ticket", "Please write a message for our team.")
    if len(message) > MAX_MESSAGE_CHARS:
        raise TicketRejected(
            "invalid_ticket", f"Messages are limited to {MAX_MESSAGE_CHARS} characters."
        )
    return email, message


def leave_message(public_id: uuid.UUID, email: object, message: object) -> Ticket:
    """Store a ticket for the conversation. Allowed while nobody is chatting with the
    customer (with the assistant or waiting); an agent in the chat makes it pointless."""
    email, message = _clean(email, message)
    with transaction.atomic():
        conv = Conversation.objects.select_for_update().filter(public_id=public_id).first()
        if conv is None:
            raise TicketRejected("not_available", "Write to us first, then leave a message.")
        if conv.status not in (S.BOT, S.WAITING, S.TICKET):
            raise TicketRejected(
                "not_available", "An agent is in this conversation: write to them here."
            )
        ticket = Ticket.objects.create(
            conversation=conv,
            team=availability.team_for(conv.language),
            email=email,
            message=message,
            language=conv.language,
        )
        if conv.status != S.TICKET:
            was_waiting = conv.status == S.WAITING
            conv = states.transition(conv.pk, S.TICKET, expected=conv.status).conversation
            if was_waiting:
                Handoff.objects.filter(
                    conversation=conv, outcome=Handoff.QUEUED, ended_at__isnull=True
                ).update(ended_at=timezone.now(), end=Handoff.TICKET)
        notify.post_notice(conv, "ticket", texts.say("ticket", conv.language, email=email))
        notify.status_to_customer(conv)
        notify.inbox_changed(conv.pk)
        ticket_id = ticket.pk
        transaction.on_commit(lambda: _enqueue_email(ticket_id), robust=True)
    return ticket


def _enqueue_email(ticket_id: int) -> None:
    from agents.tasks import send_ticket_email

    send_ticket_email.delay(ticket_id)


def recipients(ticket: Ticket) -> list[str]:
    if settings.AGENTS_TICKET_EMAILS:
        return list(settings.AGENTS_TICKET_EMAILS)
    emails = sorted({p.user.email for p in availability.agents_for(ticket.team) if p.user.email})
    if not emails and ticket.team is not None:
        # Nobody in the team has an address: every agent with one hears about it.
        emails = sorted({p.user.email for p in availability.agents_for(None) if p.user.email})
    return emails


def send_email(ticket_id: int) -> bool:
    """Send the ticket to the team once. Returns True when this call sent it."""
    now = timezone.now()
    claimed = Ticket.objects.filter(pk=ticket_id, emailed_at__isnull=True).update(
        emailed_at=now, email_attempts=F("email_attempts") + 1
    )
    if not claimed:
        return False  # sent already, or gone
    ticket = Ticket.objects.select_related("conversation").get(pk=ticket_id)
    to = recipients(ticket)
    if not to:
        log.warning("ticket %s: no recipient addresses (set AGENTS_TICKET_EMAILS)", ticket_id)
        Ticket.objects.filter(pk=ticket_id).update(
            emailed_at=None, email_error="No recipient: set AGENTS_TICKET_EMAILS."
        )
        return False
    conv = ticket.conversation
    body = (
        f"A customer left a message while nobody could take the chat.\n\n"
        f"From: {ticket.email}\nLanguage: {ticket.language or 'unknown'}\n"
        f"Conversation: {conv.public_id if conv else '(deleted)'} "
        f"(under “Recently closed” in the agent console, {reverse('agent-console')})\n\n"
        f"{ticket.message}\n"
    )
    mail = EmailMessage(
        subject=f"[Support] Message from {ticket.email}",
        body=body,
        to=to,
        reply_to=[ticket.email],
    )
    try:
        mail.send(fail_silently=False)
    except Exception as exc:
        log.exception("ticket %s: e-mail failed", ticket_id)
        Ticket.objects.filter(pk=ticket_id).update(emailed_at=None, email_error=str(exc)[:2000])
        return False
    Ticket.objects.filter(pk=ticket_id).update(email_error="")
    return True


def retry_unsent() -> int:
    """Tickets whose e-mail failed (SMTP down) get a few more tries, a minute apart."""
    due = Ticket.objects.filter(
        emailed_at__isnull=True,
        email_attempts__lt=MAX_EMAIL_ATTEMPTS,
        created_at__lt=timezone.now() - RETRY_AFTER,
    ).values_list("pk", flat=True)[:20]
    return sum(1 for ticket_id in list(due) if send_email(ticket_id))

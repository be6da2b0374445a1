"""When nobody can come: the customer is told the truth, never promised a transfer, and can
leave an e-mail address and a message, which becomes a ticket e-mailed to the team."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from asgiref.sync import async_to_sync
from django.core import mail
from django.utils import timezone

from agents import availability, tickets
from agents.models import BusinessHours, Handoff, Holiday, Team, Ticket
from chatbot.models import Conversation, Message
from tests.chat_client import inference_idle, open_chat, receive_until
from tests.handoff_helpers import make_agent

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _locmem_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.AGENTS_TICKET_EMAILS = ["help@northwind.example"]
    mail.outbox = []


def of_type(*types):
    return lambda frame: frame["type"] in types


async def press_button(customer) -> list[dict]:
    await customer.send_json_to({"type": "request_human"})
    return await receive_until(customer, of_type("handoff_unavailable", "status", "error"))


def _closed_team_with_an_agent_online() -> Team:
    """A team whose only hours are on a day that is not today (in its zone)."""
    team = Team.objects.create(name="Support", timezone="Europe/Berlin", is_default=True)
    today = timezone.now().astimezone(availability.team_zone(team)).weekday()
    BusinessHours.objects.create(team=team, weekday=(today + 2) % 7, opens=time(9), closes=time(17))
    make_agent().agent_profile.teams.add(team)
    return team


def test_with_no_agent_online_the_customer_is_told_and_offered_a_message(settings):
    make_agent(online=False)  # exists, but is not connected

    async def scenario():
        customer, greeting = await open_chat()
        frames = await press_button(customer)
        await customer.disconnect()
        return greeting, frames

    greeting, frames = async_to_sync(scenario)()
    notice, offer = frames[-2:]
    assert notice["type"] == "system_message" and notice["notice"] == "offline"
    assert "nobody from our team is available" in notice["text"]
    assert "can't transfer" in notice["text"]
    assert not any("will join" in f.get("text", "") for f in frames)
    assert offer == {"type": "handoff_unavailable", "reason": "no_agents", "next_open": None}
    conv = Conversation.objects.get(public_id=greeting["conversation_id"])
    assert conv.status == "bot"
    handoff = Handoff.objects.get(conversation=conv)
    assert (handoff.trigger, handoff.outcome, handoff.unavailable_reason) == (
        "button",
        "offline",
        "no_agents",
    )


def test_away_agents_do_not_count_as_available():
    make_agent(status="away")

    async def scenario():
        customer, _ = await open_chat()
        frames = await press_button(customer)
        await customer.disconnect()
        return frames

    assert async_to_sync(scenario)()[-1]["reason"] == "no_agents"


def test_outside_business_hours_says_when_the_team_is_back():
    _closed_team_with_an_agent_online()

    async def scenario():
        customer, _ = await open_chat()
        frames = await press_button(customer)
        await customer.disconnect()
        return frames

    frames = async_to_sync(scenario)()
    notice, offer = frames[-2:]
    assert offer["reason"] == "outside_hours" and offer["next_open"]
    assert "Our team is offline right now (we're back" in notice["text"]
    assert "09:00" in notice["text"]


def test_a_holiday_is_a_reason_of_its_own():
    team = Team.objects.create(name="Support", timezone="UTC", is_default=True)
    for weekday in range(7):
        BusinessHours.objects.create(team=team, weekday=weekday, opens=time(0), closes=time(0))
    Holiday.objects.create(team=team, date=timezone.now().date(), name="Founders' day")
    make_agent().agent_profile.teams.add(team)
    verdict = availability.can_hand_over("en")
    assert (verdict.ok, verdict.reason) == (False, availability.HOLIDAY)


def test_leaving_a_message_makes_a_ticket_and_emails_the_team_once():
    async def scenario():
        customer, greeting = await open_chat()
        await customer.send_json_to({"type": "customer_message", "text": "My parcel is lost"})
        await receive_until(customer, of_type("bot_message", "error"))
        await inference_idle()
        await press_button(customer)
        await customer.send_json_to(
            {"type": "leave_message", "email": "not-an-address", "message": "hello"}
        )
        bad = await receive_until(customer, of_type("error", "ticket_created"))
        await customer.send_json_to(
            {
                "type": "leave_message",
                "email": "ana@example.com",
                "message": "Order 5512 never arrived. Please call me back.",
            }
        )
        good = await receive_until(customer, of_type("ticket_created", "error"))
        after = await receive_until(customer, of_type("status"))
        await customer.disconnect()
        return greeting, bad, good, after

    greeting, bad, good, after = async_to_sync(scenario)()
    assert bad[-1]["code"] == "invalid_email"
    assert good[-1]["type"] == "ticket_created" and good[-1]["email"] == "ana@example.com"
    assert [f["type"] for f in after[-2:]] == ["system_message", "status"]
    assert "We'll reply to ana@example.com" in after[-2]["text"]
    assert after[-1]["status"] == "ticket"

    ticket = Ticket.objects.get()
    conv = Conversation.objects.get(public_id=greeting["conversation_id"])
    assert (ticket.conversation, ticket.email, ticket.status) == (conv, "ana@example.com", "open")
    assert ticket.emailed_at is not None and ticket.email_error == ""
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["help@northwind.example"]
    assert sent.reply_to == ["ana@example.com"]
    assert "Order 5512 never arrived" in sent.body
    assert str(conv.public_id) in sent.body
    # A task delivered twice sends once.
    assert tickets.send_email(ticket.pk) is False
    assert len(mail.outbox) == 1
    # Nothing was lost: the chat so far is still there.
    assert Message.objects.filter(conversation=conv, role=Message.CUSTOMER).count() == 1


def test_writing_again_after_a_ticket_goes_back_to_the_assistant(tiny_kb):
    async def scenario():
        customer, greeting = await open_chat()
        await press_button(customer)
        await customer.send_json_to(
            {"type": "leave_message", "email": "ana@example.com", "message": "Call me"}
        )
        await receive_until(customer, lambda f: f["type"] == "status" and f["status"] == "ticket")
        await customer.send_json_to(
            {"type": "customer_message", "text": "How much does standard shipping cost?"}
        )
        frames = await receive_until(customer, of_type("bot_message", "error"))
        await inference_idle()
        await customer.disconnect()
        return greeting, frames

    greeting, frames = async_to_sync(scenario)()
    assert frames[-1]["type"] == "bot_message" and "$4.95" in frames[-1]["text"]
    assert any(f["type"] == "status" and f["status"] == "bot" for f in frames)
    assert Conversation.objects.get(public_id=greeting["conversation_id"]).status == "bot"


def test_a_failed_send_is_recorded_and_retried(settings, monkeypatch):
    conv = Conversation.objects.create()
    ticket = Ticket.objects.create(conversation=conv, email="ana@example.com", message="Hi")

    def smtp_down(self, fail_silently=False):
        raise ConnectionRefusedError("SMTP server down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", smtp_down)
    assert tickets.send_email(ticket.pk) is False
    ticket.refresh_from_db()
    assert ticket.emailed_at is None and "SMTP server down" in ticket.email_error
    assert ticket.email_attempts == 1

    monkeypatch.undo()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.AGENTS_TICKET_EMAILS = ["help@northwind.example"]
    Ticket.objects.filter(pk=ticket.pk).update(created_at=timezone.now() - timedelta(minutes=2))
    assert tickets.retry_unsent() == 1
    ticket.refresh_from_db()
    assert ticket.emailed_at is not None and ticket.email_error == ""
    assert len(mail.outbox) == 1


def test_without_a_configured_address_the_agents_are_emailed(settings):
    settings.AGENTS_TICKET_EMAILS = []
    make_agent("maya", email="maya@northwind.example")
    make_agent("sam", name="Sam", email="sam@northwind.example")
    ticket = Ticket.objects.create(email="ana@example.com", message="Hi")
    assert tickets.send_email(ticket.pk) is True
    assert sorted(mail.outbox[0].to) == ["maya@northwind.example", "sam@northwind.example"]


def test_a_message_cannot_be_left_while_an_agent_is_chatting():
    maya = make_agent()
    conv = Conversation.objects.create(status="agent", assigned_agent=maya)
    with pytest.raises(tickets.TicketRejected) as info:
        tickets.leave_message(conv.public_id, "ana@example.com", "hello")
    assert info.value.code == "not_available"
    assert not Ticket.objects.exists()

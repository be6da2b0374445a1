"""Handoff entry points for Celery. Thin: each takes ids and calls one function."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="agents.tasks.sweep", ignore_result=True)
def sweep() -> dict:
    from agents.sweeps import run

    return run()


@shared_task(name="agents.tasks.send_ticket_email", acks_late=True, ignore_result=True)
def send_ticket_email(ticket_id: int) -> bool:
    from agents.tickets import send_email

    return send_email(ticket_id)


@shared_task(name="agents.tasks.search_kb")
def search_kb(query: str, k: int = 5) -> list[dict]:
    from agents.kb import search_here

    return search_here(query, k)

"""Inference-queue entry points. Thin: they call one function each."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="chatbot.tasks.generate_reply", acks_late=True, ignore_result=True)
def generate_reply(customer_message_id: int) -> None:
    from chatbot.conversations import run_reply

    run_reply(customer_message_id)


@shared_task(name="chatbot.tasks.answer")
def answer(question: str) -> dict:
    from chatbot.answering import answer_question

    return answer_question(question).to_public()


@shared_task(name="chatbot.tasks.health")
def health() -> dict:
    from chatbot.generation import get_generator

    return get_generator().health()

"""Inference-queue entry points. Thin: they call one function each."""

from __future__ import annotations

from celery import shared_task

from chatbot import replies


# acks_late: a worker killed mid-answer leaves the message to be redelivered (after the
# broker's visibility timeout); the reply watchdog usually takes it over much sooner, and
# the redelivered task then finds the reply finished and does nothing.
@shared_task(name="chatbot.tasks.generate_reply", acks_late=True, ignore_result=True)
def generate_reply(customer_message_id: int) -> None:
    replies.run(customer_message_id)


@shared_task(name="chatbot.tasks.answer")
def answer(question: str) -> dict:
    from chatbot.answering import answer_question

    return answer_question(question).to_public()


@shared_task(name="chatbot.tasks.health")
def health() -> dict:
    """A worker proves it can generate now, and says which model and version it serves."""
    from chatbot.generation import get_generator

    return get_generator().health()

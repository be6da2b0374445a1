"""retrieve → decide → prompt → generate → verify → cite."""

from chatbot.answering.pipeline import Answer, answer_question

__all__ = ["Answer", "answer_question"]

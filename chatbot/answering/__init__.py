"""retrieve → decide → prompt → generate → verify → cite."""

from chatbot.answering.pipeline import Answer, AnswerCancelled, answer_question

__all__ = ["Answer", "AnswerCancelled", "answer_question"]

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from chatbot.answering import answer_question
from chatbot.conversations import MessageRejected, validate_text


class Command(BaseCommand):
    help = "Answer one question from the knowledge base."

    def add_arguments(self, parser) -> None:
        parser.add_argument("question")
        parser.add_argument("--json", action="store_true", help="print the machine shape only")

    def handle(self, *args, question: str, json: bool, **opts) -> None:
        try:
            question = validate_text(question)
        except MessageRejected as exc:
            raise CommandError(exc.detail) from None
        if json:
            result = answer_question(question)
            self.stdout.write(_dumps(result.to_public()))
            return
        result = answer_question(question, on_token=lambda p: self.stdout.write(p, ending=""))
        self.stdout.write("")
        self.stdout.write(f"\nanswer: {result.answer}")
        for c in result.citations:
            self.stdout.write(f"  [{c['faq_id']}] {c['question']} — {c['url']}")
        self.stdout.write(
            f"confidence {result.confidence:.2f}, escalate {result.escalate}, "
            f"grounded {result.grounded}, timings "
            + ", ".join(f"{k} {v:.2f}s" for k, v in result.timings.items())
        )


def _dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False)

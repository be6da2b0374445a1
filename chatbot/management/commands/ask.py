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
        parser.add_argument(
            "--record",
            action="store_true",
            help="with --json: add the answer record staff see (draft, verdict per "
            "sentence, references with scores, kept_draft, timings) under 'record'",
        )

    def handle(self, *args, question: str, json: bool, record: bool, **opts) -> None:
        try:
            question = validate_text(question)
        except MessageRejected as exc:
            raise CommandError(exc.detail) from None
        if json:
            result = answer_question(question)
            data = result.to_public()
            if record:
                data["record"] = result.to_record()
            self.stdout.write(_dumps(data))
            return
        result = answer_question(question, on_token=lambda p: self.stdout.write(p, ending=""))
        self.stdout.write("")
        for c in result.citations:
            self.stdout.write(f"  [{c['faq_id']}] {c['question']} — {c['url']}")
        for v in result.verdicts:
            mark = "shown  " if v["supported"] else "dropped"
            why = f" ({'; '.join(v['reasons'])})" if v["reasons"] else ""
            self.stdout.write(f"  {mark} {v['generated']}{why}")
        timings = ", ".join(
            f"{k} {v:.2f}s" for k, v in result.timings.items() if isinstance(v, float)
        )
        self.stdout.write(
            f"confidence {result.confidence:.2f}, escalate {result.escalate}, "
            f"outcome {result.outcome}, timings {timings}"
        )


def _dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False)

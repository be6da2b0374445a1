"""Generators that need no model: a fast fake for unit tests, and an extractive backend
that answers with the best reference verbatim (useful where no model may run)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

from chatbot.generation.base import ChatMessage, Generator

_REF_RE = re.compile(r"^\[(\d+)\] Q: .*?\nA: (.*?)(?:\n\n\[\d+\] Q: |\n\"\"\")", re.S | re.M)


def _first_reference(messages: list[ChatMessage]) -> tuple[str, str] | None:
    for m in messages:
        # The references sit inside the fence; the instructions before it hold an example.
        content = m["content"]
        fenced = content.split('\n"""\n', 1)
        match = _REF_RE.search(fenced[1] if len(fenced) == 2 else content)
        if match:
            return match.group(1), match.group(2).strip()
    return None


class ExtractiveGenerator(Generator):
    name = "extractive"

    def __init__(self, model: str = "") -> None:
        self.delay_s = 0.0

    def stream(
        self, messages: list[ChatMessage], *, max_tokens: int, stop: list[str] | None = None
    ) -> Iterator[str]:
        ref = _first_reference(messages)
        text = f"{ref[1]} [{ref[0]}]" if ref else "I don't know."
        for word in re.findall(r"\S+\s*", text)[:max_tokens]:
            if self.delay_s:
                time.sleep(self.delay_s)
            yield word

    def warmup(self) -> None:
        pass


class FakeGenerator(ExtractiveGenerator):
    """The extractive generator with a per-token delay (CHATBOT_FAKE_TOKEN_DELAY_S), so tests
    see real streaming and can act mid-answer.

    With CHATBOT_MODEL naming a JSON file ({"words in the question": ["piece", ...]}), a
    question containing those words gets the scripted pieces instead: end-to-end tests use
    it to make the bot write what a real model might, such as an invented sentence.
    """

    name = "fake"

    def __init__(self, model: str = "") -> None:
        from django.conf import settings

        super().__init__(model)
        self.delay_s = settings.FAKE_TOKEN_DELAY_S
        self.script: dict[str, list[str]] = json.loads(Path(model).read_text()) if model else {}

    def stream(
        self, messages: list[ChatMessage], *, max_tokens: int, stop: list[str] | None = None
    ) -> Iterator[str]:
        question = messages[-1]["content"].lower() if messages else ""
        for words, pieces in self.script.items():
            if words.lower() in question:
                for piece in pieces[:max_tokens]:
                    time.sleep(self.delay_s)
                    yield piece
                return
        yield from super().stream(messages, max_tokens=max_tokens, stop=stop)

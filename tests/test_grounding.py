"""The grounding check: answers must be supported by the FAQs they cite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chatbot.answering import grounding
from chatbot.generation.base import Generator
from faq_ingest.retrieval.searcher import IndexDoc

RETURNS = IndexDoc(
    id="1",
    question="How long do I have to return an item?",
    answer="You can return unworn items within 30 days of delivery for a full refund.",
    url="https://shop.example/returns#window",
)
SHIPPING = IndexDoc(
    id="2",
    question="How much does shipping cost?",
    answer="Standard shipping costs $4.95 and is free on orders over $50.",
    url="https://shop.example/shipping#cost",
)


def test_a_paraphrase_of_the_cited_faq_is_supported():
    check = grounding.check(
        "You can return unworn items within 30 days of delivery. [1]", [RETURNS, SHIPPING]
    )
    assert check.cited == [0]
    assert check.unsupported_numbers == []
    assert check.support >= grounding.MIN_SUPPORT
    assert check.supported


def test_an_invented_number_fails_even_when_the_words_match():
    check = grounding.check(
        "You can return unworn items within 60 days of delivery. [1]", [RETURNS]
    )
    assert check.unsupported_numbers == ["60"]
    assert not check.supported


def test_a_number_from_an_uncited_faq_does_not_count_as_support():
    # $4.95 is true for shipping, but the answer cites the returns FAQ for it.
    check = grounding.check("Returns cost 4.95 within 30 days. [1]", [RETURNS, SHIPPING])
    assert check.cited == [0]
    assert check.unsupported_numbers == ["4.95"]
    assert not check.supported


def test_an_answer_about_something_else_is_unsupported():
    check = grounding.check(
        "Our stores open at nine and sell gift cards in every colour. [1]", [RETURNS]
    )
    assert check.support < grounding.MIN_SUPPORT
    assert not check.supported


def test_without_citation_marks_the_most_overlapping_reference_is_cited():
    check = grounding.check("Standard shipping is free on orders over $50.", [RETURNS, SHIPPING])
    assert check.cited == [1]
    assert check.supported


def test_no_references_or_empty_answer_is_never_supported():
    assert not grounding.check("Within 30 days. [1]", []).supported
    assert not grounding.check("[1]", [RETURNS]).supported


def test_citation_parsing_keeps_order_drops_duplicates_and_out_of_range():
    answer = "Yes [2], and also [1]. See [2] or [3] or [0] or [12]."
    assert grounding.cited_indexes(answer, 2) == [1, 0]
    assert grounding.cited_indexes(answer, 12) == [1, 0, 2, 11]
    assert grounding.cited_indexes("no marks here", 3) == []


def test_citation_marks_are_stripped_from_the_shown_answer():
    assert grounding.strip_citation_marks("Within 30 days [1]. Free over $50 [2]") == (
        "Within 30 days. Free over $50"
    )


class _InventingGenerator(Generator):
    name = "inventing"

    def stream(self, messages, *, max_tokens, stop=None) -> Iterator[str]:
        yield from ["You have ", "90 days ", "to return ", "items. [1]"]

    def warmup(self) -> None:
        pass


@pytest.mark.django_db
def test_pipeline_replaces_an_ungrounded_draft_with_the_faq_text(monkeypatch, settings):
    from chatbot.answering import pipeline
    from faq_ingest.index import build_snapshot
    from faq_ingest.models import Faq

    faq = Faq.objects.create(
        question=RETURNS.question,
        question_key="return window",
        answer=RETURNS.answer,
        source_url=RETURNS.url,
        language="en",
    )
    Faq.objects.create(
        question=SHIPPING.question,
        question_key="shipping cost",
        answer=SHIPPING.answer,
        source_url=SHIPPING.url,
        language="en",
    )
    build_snapshot()
    settings.ANSWER_CONFIDENCE_THRESHOLD = 0.0  # this test is about grounding, not retrieval
    monkeypatch.setattr(pipeline, "get_generator", lambda: _InventingGenerator())
    streamed: list[str] = []

    answer = pipeline.answer_question(
        "How long do I have to return an item?", on_token=streamed.append
    )

    assert "".join(streamed) == "You have 90 days to return items. [1]"
    assert answer.grounded is False
    assert "90" not in answer.answer
    assert answer.answer == faq.answer
    assert answer.citations == [{"faq_id": faq.pk, "question": faq.question, "url": faq.source_url}]
    assert answer.escalate is False

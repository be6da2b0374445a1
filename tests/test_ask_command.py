"""`manage.py ask "q" --json`: exactly one JSON object, the stable machine shape."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db

RETURNS_URL = "https://shop.example/help/returns#return-window"


def _ask_json(question: str) -> tuple[str, dict]:
    out = io.StringIO()
    call_command("ask", question, "--json", stdout=out)
    text = out.getvalue()
    return text, json.loads(text)  # fails on any extra output around the object


def _assert_contract(data: dict) -> None:
    assert isinstance(data, dict)
    assert set(data) == {"answer", "citations", "confidence", "escalate"}
    assert isinstance(data["answer"], str) and data["answer"].strip()
    assert isinstance(data["citations"], list)
    for c in data["citations"]:
        assert set(c) == {"faq_id", "question", "url"}
        assert type(c["faq_id"]) is int
        assert isinstance(c["question"], str) and isinstance(c["url"], str)
    assert type(data["confidence"]) is float and 0.0 <= data["confidence"] <= 1.0
    assert type(data["escalate"]) is bool


def test_a_covered_question_prints_one_cited_json_object(tiny_kb):
    faq = tiny_kb[RETURNS_URL]
    text, data = _ask_json("How long do I have to return an item?")

    assert text.count("\n") == 1 and text.endswith("}\n")
    _assert_contract(data)
    assert data["escalate"] is False
    assert data["confidence"] >= 0.5
    assert "30 days" in data["answer"]
    assert "[1]" not in data["answer"]  # citation marks become structured citations
    assert data["citations"] == [{"faq_id": faq.pk, "question": faq.question, "url": RETURNS_URL}]


def test_an_uncovered_question_escalates_with_no_citations(tiny_kb):
    _text, data = _ask_json("What is the airspeed velocity of an unladen swallow?")
    _assert_contract(data)
    assert data["escalate"] is True
    assert data["citations"] == []
    assert data["confidence"] < 0.5


def test_an_empty_knowledge_base_escalates():
    _text, data = _ask_json("How long do I have to return an item?")
    _assert_contract(data)
    assert data["escalate"] is True and data["confidence"] == 0.0


def test_non_ascii_is_printed_unescaped(tiny_kb):
    text, data = _ask_json("退货要多久？")
    _assert_contract(data)
    assert "\\u" not in text and "不会猜测" in data["answer"]


@pytest.mark.parametrize("question", ["", "   ", "x" * 2001])
def test_an_invalid_question_is_a_command_error(question):
    with pytest.raises(CommandError):
        call_command("ask", question, "--json", stdout=io.StringIO())


def test_the_human_output_streams_the_answer_and_lists_sources(tiny_kb):
    out = io.StringIO()
    call_command("ask", "How much does standard shipping cost?", stdout=out)
    text = out.getvalue()
    assert "4.95" in text
    assert "https://shop.example/help/shipping#shipping-cost" in text
    assert "escalate False" in text


def test_record_adds_the_answer_record_next_to_the_stable_shape(tiny_kb):
    out = io.StringIO()
    call_command("ask", "How long do I have to return an item?", "--json", "--record", stdout=out)
    data = json.loads(out.getvalue())
    record = data.pop("record")
    _assert_contract(data)
    assert set(record) == {"draft", "verdicts", "references", "kept_draft", "outcome", "timings"}
    assert record["kept_draft"] is True and record["outcome"] == "draft"
    assert record["draft"].endswith("[1]")  # what the (extractive fake) model wrote
    assert all(v["supported"] for v in record["verdicts"])
    assert data["answer"] == " ".join(v["text"] for v in record["verdicts"])

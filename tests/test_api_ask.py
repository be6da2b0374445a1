"""POST /api/v1/ask: the same answer shape as `ask --json`, and clear JSON errors."""

from __future__ import annotations

import json

import pytest

from chatbot.views import MAX_BODY_BYTES

pytestmark = pytest.mark.django_db

URL = "/api/v1/ask"
RETURNS_URL = "https://shop.example/help/returns#return-window"


def _post(client, body: bytes | str, content_type: str = "application/json"):
    return client.generic("POST", URL, body, content_type=content_type)


def _assert_answer_shape(data: dict) -> None:
    assert set(data) == {"answer", "citations", "confidence", "escalate"}
    assert isinstance(data["answer"], str) and data["answer"]
    assert isinstance(data["escalate"], bool)
    assert isinstance(data["confidence"], float) and 0.0 <= data["confidence"] <= 1.0
    assert isinstance(data["citations"], list)
    for c in data["citations"]:
        assert set(c) == {"faq_id", "question", "url"}
        assert isinstance(c["faq_id"], int) and isinstance(c["question"], str)
        assert isinstance(c["url"], str)


def test_a_covered_question_gets_a_cited_answer(client, tiny_kb):
    faq = tiny_kb[RETURNS_URL]
    response = _post(client, json.dumps({"question": "How long do I have to return an item?"}))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = response.json()
    _assert_answer_shape(data)
    assert data["escalate"] is False
    assert "30 days" in data["answer"]
    assert data["citations"] == [{"faq_id": faq.pk, "question": faq.question, "url": RETURNS_URL}]


def test_an_uncovered_question_is_escalated_without_citations(client, tiny_kb):
    response = _post(client, json.dumps({"question": "xyzzy plugh quantum entanglement"}))

    assert response.status_code == 200
    data = response.json()
    _assert_answer_shape(data)
    assert data["escalate"] is True and data["citations"] == []


def test_unicode_is_sent_unescaped(client, tiny_kb):
    response = _post(client, json.dumps({"question": "退货要多久？"}, ensure_ascii=False))
    assert response.status_code == 200
    assert "不会猜测".encode() in response.content  # the Chinese "I won't guess"


@pytest.mark.parametrize(
    "body, status, code",
    [
        (b"{not json", 400, "invalid_json"),
        (b"\xff\xfe\x00garbage", 400, "invalid_json"),
        (b"", 400, "invalid_request"),
        (b"[1, 2]", 400, "invalid_request"),
        (b'"How long?"', 400, "invalid_request"),
        (b'{"q": "How long?"}', 400, "invalid_request"),
        (b'{"question": ""}', 400, "empty_message"),
        (b'{"question": "   "}', 400, "empty_message"),
        (b'{"question": 42}', 400, "invalid_message"),
        (json.dumps({"question": "x" * 2001}).encode(), 400, "message_too_long"),
        (
            json.dumps({"question": "ok", "pad": "x" * MAX_BODY_BYTES}).encode(),
            413,
            "body_too_large",
        ),
        # Beyond Django's own DATA_UPLOAD_MAX_MEMORY_SIZE: still our JSON error, not an HTML 400.
        (json.dumps({"question": "ok", "pad": "x" * 3_000_000}).encode(), 413, "body_too_large"),
    ],
)
def test_bad_requests_get_a_json_error(client, tiny_kb, body, status, code):
    response = _post(client, body)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["detail"], str) and error["detail"]


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_other_methods_are_refused_with_a_json_error(client, method):
    response = client.generic(method, URL)
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_no_csrf_token_is_needed_for_the_api(tiny_kb):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        URL, {"question": "How much does standard shipping cost?"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert "4.95" in response.json()["answer"]


def test_a_worker_that_does_not_answer_in_time_gives_503(client, settings, monkeypatch):
    from celery.exceptions import TimeoutError as CeleryTimeoutError

    from chatbot import tasks

    class _Pending:
        def get(self, timeout):
            raise CeleryTimeoutError("The operation timed out.")

    settings.INFERENCE_MODE = "celery"
    monkeypatch.setattr(tasks.answer, "apply_async", lambda *a, **kw: _Pending())
    response = _post(client, json.dumps({"question": "Where is my parcel?"}))

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "busy"

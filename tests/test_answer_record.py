"""Each bot message keeps its answer record (draft, verdict per sentence, references with
scores, kept-draft flag, timings), and staff read it in the admin."""

from __future__ import annotations

import re

import pytest

from chatbot import events, replies
from chatbot.answering import pipeline
from chatbot.models import Conversation, Message
from tests.test_answer_pipeline import Scripted

pytestmark = pytest.mark.django_db

RETURNS_URL = "https://shop.example/help/returns#return-window"
DRAFT = (
    "You can return unworn items within 30 days of delivery for a full refund. [1] "
    "Bring them to our <script>alert(1)</script> Boulder outlet for cash. [1]"
)


@pytest.fixture
def answered(tiny_kb, monkeypatch, settings, django_capture_on_commit_callbacks):
    settings.ANSWER_CONFIDENCE_THRESHOLD = 0.0
    monkeypatch.setattr(pipeline, "get_generator", lambda: Scripted(re.findall(r"\S+\s*", DRAFT)))
    published: list[dict] = []
    conv = Conversation.objects.create()
    # What the customer's socket receives (agents' consoles get their own events).
    monkeypatch.setattr(
        events,
        "publish",
        lambda group, payload: published.append(payload) if group == conv.group_name else None,
    )
    asked = Message.objects.create(
        conversation=conv, role=Message.CUSTOMER, text="How long do I have to return an item?"
    )
    with django_capture_on_commit_callbacks(execute=True):
        reply = replies.run(asked.pk)
    return tiny_kb, reply, published


def test_the_reply_stores_its_answer_record(answered):
    kb, reply, published = answered
    reply.refresh_from_db()
    faq = kb[RETURNS_URL]
    assert reply.text == "You can return unworn items within 30 days of delivery for a full refund."
    assert reply.kept_draft is True and reply.outcome == "draft"
    assert "Boulder outlet" in reply.draft
    assert [v["supported"] for v in reply.verdicts] == [True, False]
    assert any("Boulder" in r for r in reply.verdicts[1]["reasons"])
    assert reply.verdicts[0]["cited_faq_ids"] == [faq.pk]
    assert reply.references[0]["faq_id"] == faq.pk
    assert {"score", "bm25", "dense", "in_prompt", "cited"} <= set(reply.references[0])
    assert {"retrieval_s", "first_sentence_s", "total_s", "timed_out"} <= set(reply.timings)
    # What went out on the socket: the verified sentence, then the same final text.
    tokens = [p["text"] for p in published if p["type"] == "token"]
    assert tokens == [reply.text]
    assert published[-1]["type"] == "bot_message" and published[-1]["text"] == reply.text
    assert not any("Boulder" in str(p) for p in published)


def test_staff_read_the_record_in_the_admin_and_cannot_change_it(answered, admin_client):
    _kb, reply, _ = answered
    page = admin_client.get(f"/admin/chatbot/message/{reply.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Verified draft" in html and "Kept draft:</strong> yes" in html
    assert "dropped" in html and "name “Boulder” is not in [1]" in html
    # Model output is data: shown escaped, never as markup.
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "retrieval_s" in html
    conv_page = admin_client.get(f"/admin/chatbot/conversation/{reply.conversation_id}/change/")
    assert f"/admin/chatbot/message/{reply.pk}/change/" in conv_page.content.decode()
    changed = admin_client.post(f"/admin/chatbot/message/{reply.pk}/change/", {"text": "edited"})
    assert changed.status_code == 403
    reply.refresh_from_db()
    assert reply.text != "edited"

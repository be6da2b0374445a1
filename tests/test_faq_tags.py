"""FAQ tags: staff type them in the admin as comma-separated words; they are stored as a
list, are not page content (editing them leaves the FAQ to the crawler and records no
revision), and the handoff policy reads them by id."""

from __future__ import annotations

import pytest

from chatbot import escalation as esc
from faq_ingest.models import Faq
from tests.test_ingest_admin import change_form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def faq() -> Faq:
    return Faq.objects.create(
        question="How do I delete my account?",
        question_key="how do i delete my account",
        answer="Go to Account settings.",
    )


def url(f: Faq) -> str:
    return f"/admin/faq_ingest/faq/{f.pk}/change/"


def test_new_faqs_have_no_tags(faq):
    assert faq.tags == []


def test_staff_set_tags_without_taking_the_faq_from_the_crawler(admin_client, faq):
    data = change_form_data(admin_client.get(url(faq)))
    data["tags"] = " Privacy, legal，隐私,, privacy "
    resp = admin_client.post(url(faq), data)
    assert resp.status_code == 302, resp.context and resp.context["adminform"].form.errors

    faq.refresh_from_db()
    assert faq.tags == ["privacy", "legal", "隐私"]
    assert faq.edited_by_staff is False
    assert faq.revisions.count() == 0
    page = admin_client.get(url(faq)).content.decode()
    assert 'value="privacy, legal, 隐私"' in page
    assert "CHATBOT_HANDOFF_SENSITIVE_FAQ_TAGS" in page  # the help text says what tags do


def test_editing_content_and_tags_together_is_still_a_staff_edit(admin_client, faq):
    data = change_form_data(admin_client.get(url(faq)))
    data.update(tags="privacy", answer="Go to Account settings > Privacy.")
    assert admin_client.post(url(faq), data).status_code == 302
    faq.refresh_from_db()
    assert faq.edited_by_staff and faq.tags == ["privacy"]


def test_an_overlong_tag_is_a_form_error(admin_client, faq):
    data = change_form_data(admin_client.get(url(faq)))
    data["tags"] = "x" * 51
    resp = admin_client.post(url(faq), data)
    assert resp.status_code == 200
    assert resp.context["adminform"].form.errors["tags"] == [
        "Each tag must be at most 50 characters."
    ]
    faq.refresh_from_db()
    assert faq.tags == []


def test_clearing_tags(admin_client, faq):
    faq.tags = ["privacy"]
    faq.save()
    data = change_form_data(admin_client.get(url(faq)))
    data["tags"] = ""
    assert admin_client.post(url(faq), data).status_code == 302
    faq.refresh_from_db()
    assert faq.tags == []


def test_a_tag_set_in_the_admin_hands_over_when_cited(admin_client, faq, settings):
    settings.HANDOFF_SENSITIVE_FAQ_TAGS = ["privacy"]
    assert esc.after_answer("delete account", [], confidence=0.9, cited_faq_ids=(faq.pk,)) is None
    data = change_form_data(admin_client.get(url(faq)))
    data["tags"] = "Privacy"
    admin_client.post(url(faq), data)
    trigger = esc.after_answer("delete account", [], confidence=0.9, cited_faq_ids=(faq.pk,))
    assert trigger.kind == esc.SENSITIVE_TOPIC and trigger.detail["faq_id"] == faq.pk

"""FAQ identity is source + normalised question: a changed answer is an update with a
revision (same pk), never a delete + insert; staff can revert it in the admin."""

from __future__ import annotations

import pytest

from faq_ingest import sync
from faq_ingest.models import Faq, FaqRevision
from tests.test_ingest_fixture_site import FaqSite, faq, make_source

pytestmark = pytest.mark.django_db

Q = "How do I return an item?"


def test_changed_answer_updates_in_place_with_history(admin_client) -> None:
    site = FaqSite({"/": [(Q, "Within 30 days."), ("Can I exchange?", "Yes.")]})
    with site.serve() as server:
        source = make_source(server)
        sync.crawl_source(source.pk)
        pk = faq(Q).pk
        site.pages["/"][0] = (Q, "Within 60 days, free of charge.")
        run = sync.crawl_source(source.pk)

    assert (run.faqs_added, run.faqs_updated, run.faqs_unchanged) == (0, 1, 1)
    updated = Faq.objects.get(pk=pk)  # same row: not deleted and re-inserted
    assert updated.answer == "Within 60 days, free of charge."
    assert Faq.objects.count() == 2
    history = list(updated.revisions.values_list("answer", "changed_by", "crawl_run_id"))
    assert [h[0] for h in history] == ["Within 60 days, free of charge.", "Within 30 days."]
    assert {h[1] for h in history} == {"crawler"}
    assert history[0][2] == run.pk

    # Staff see the history on the FAQ's admin page and can revert the update.
    page = admin_client.get(f"/admin/faq_ingest/faq/{pk}/change/")
    assert page.status_code == 200 and "Within 30 days." in page.content.decode()
    old = updated.revisions.get(answer="Within 30 days.")
    resp = admin_client.post(
        "/admin/faq_ingest/faqrevision/",
        {"action": "revert", "_selected_action": [old.pk]},
        follow=True,
    )
    assert resp.status_code == 200
    reverted = Faq.objects.get(pk=pk)
    assert reverted.answer == "Within 30 days." and reverted.edited_by_staff
    assert reverted.revisions.first().changed_by.startswith("revert by staff:admin")
    assert FaqRevision.objects.filter(faq_id=pk).count() == 3  # nothing lost


def test_question_key_ignores_cosmetic_changes() -> None:
    site = FaqSite({"/": [("How do I return an item?", "Within 30 days.")]})
    with site.serve() as server:
        source = make_source(server)
        sync.crawl_source(source.pk)
        pk = Faq.objects.get().pk
        site.pages["/"] = [("how do I  return an item", "Within 30 days.")]
        run = sync.crawl_source(source.pk)
    assert Faq.objects.count() == 1 and Faq.objects.get().pk == pk
    # The wording changed, so it is an update of the same FAQ, not a new one.
    assert run.faqs_added == 0 and run.faqs_updated == 1


def test_same_question_on_two_sources_is_two_faqs() -> None:
    site = FaqSite({"/": [(Q, "Within 30 days.")]})
    with site.serve() as server:
        a, b = make_source(server), make_source(server, name="copy")
        sync.crawl_source(a.pk)
        sync.crawl_source(b.pk)
    assert Faq.objects.filter(question=Q).count() == 2

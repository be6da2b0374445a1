"""A FAQ staff edited is never overwritten by a crawl. When its page changes after the
edit the admin shows the conflict, and staff accept the page's version or keep theirs."""

from __future__ import annotations

import pytest

from faq_ingest import knowledge, sync
from faq_ingest.models import Faq
from tests.test_ingest_fixture_site import FaqSite, faq, make_source

pytestmark = pytest.mark.django_db

Q = "How long do refunds take?"
NOTICE = "Page changed since your edit."


def edit(question: str, answer: str, user: str = "alice") -> Faq:
    f = faq(question)
    f.answer = answer
    f.save()
    knowledge.record_staff_edit(f, user)
    return f


@pytest.fixture
def site_and_source():
    site = FaqSite({"/": [(Q, "Five days."), ("Other?", "Other answer.")]})
    with site.serve() as server:
        source = make_source(server)
        sync.crawl_source(source.pk)
        yield site, source


def test_unchanged_page_neither_overwrites_nor_flags(site_and_source) -> None:
    site, source = site_and_source
    edit(Q, "Five working days, to the original card.")
    site.pages["/"][1] = ("Other?", "A new answer.")  # the page is re-read, Q's text is not new
    run = sync.crawl_source(source.pk)
    assert run.pages_fetched == 1
    f = faq(Q)
    assert f.answer == "Five working days, to the original card."
    assert f.edited_by_staff and not f.crawl_conflict
    assert run.faqs_updated == 1  # only "Other?"


def test_changed_page_is_flagged_not_applied(site_and_source, admin_client) -> None:
    site, source = site_and_source
    mine = edit(Q, "Five working days.")
    revisions = mine.revisions.count()
    site.pages["/"][0] = (Q, "Ten days.")
    sync.crawl_source(source.pk)
    f = faq(Q)
    assert f.answer == "Five working days." and f.crawl_conflict
    assert (f.crawled_question, f.crawled_answer) == (Q, "Ten days.")
    assert f.revisions.count() == revisions  # the FAQ itself did not change
    page = admin_client.get(f"/admin/faq_ingest/faq/{f.pk}/change/").content.decode()
    assert NOTICE in page and "Ten days." in page
    listing = admin_client.get("/admin/faq_ingest/faq/?crawl_conflict__exact=1").content.decode()
    assert Q in listing


def test_accept_crawled_version_action(site_and_source, admin_client) -> None:
    site, source = site_and_source
    edit(Q, "Five working days.")
    site.pages["/"][0] = (Q, "Ten days.")
    sync.crawl_source(source.pk)
    pk = faq(Q).pk
    resp = admin_client.post(
        "/admin/faq_ingest/faq/", {"action": "accept_crawled", "_selected_action": [pk]}
    )
    assert resp.status_code == 302
    f = Faq.objects.get(pk=pk)
    assert f.answer == "Ten days." and not f.edited_by_staff and not f.crawl_conflict
    assert f.revisions.first().changed_by == "staff:admin accepted crawled version"
    # The crawler owns it again: the next page change is applied.
    site.pages["/"][0] = (Q, "Twelve days.")
    run = sync.crawl_source(source.pk)
    assert run.faqs_updated == 1 and Faq.objects.get(pk=pk).answer == "Twelve days."


def test_keep_my_version_action(site_and_source, admin_client) -> None:
    site, source = site_and_source
    edit(Q, "Five working days.")
    site.pages["/"][0] = (Q, "Ten days.")
    sync.crawl_source(source.pk)
    pk = faq(Q).pk
    admin_client.post("/admin/faq_ingest/faq/", {"action": "keep_mine", "_selected_action": [pk]})
    f = Faq.objects.get(pk=pk)
    assert f.answer == "Five working days." and f.edited_by_staff and not f.crawl_conflict
    sync.crawl_source(source.pk)  # same page again: no new conflict
    assert not faq(Q).crawl_conflict
    site.pages["/"][0] = (Q, "Eleven days.")  # the page moves on: flagged again
    sync.crawl_source(source.pk)
    f = faq(Q)
    assert f.crawl_conflict and f.answer == "Five working days."


def test_page_catching_up_with_staff_is_no_conflict(site_and_source) -> None:
    site, source = site_and_source
    edit(Q, "Seven days.")
    site.pages["/"][0] = (Q, "Seven days.")
    sync.crawl_source(source.pk)
    f = faq(Q)
    assert not f.crawl_conflict and f.edited_by_staff


def test_staff_edit_settles_an_open_conflict(site_and_source) -> None:
    site, source = site_and_source
    edit(Q, "Five working days.")
    site.pages["/"][0] = (Q, "Ten days.")
    sync.crawl_source(source.pk)
    assert faq(Q).crawl_conflict
    edit(Q, "Ten working days.")
    assert not faq(Q).crawl_conflict
    sync.crawl_source(source.pk)
    assert not faq(Q).crawl_conflict and faq(Q).answer == "Ten working days."

"""A crawl that finds a staff-edited FAQ's page changed counts it in `CrawlRun.conflicts`,
not in `faqs_unchanged`, so operators see that staff have a decision to make.

Every FAQ a crawl reads lands in exactly one of added/updated/unchanged/conflicts; a
conflict still open is counted again by each crawl that re-reads its page.
"""

from __future__ import annotations

import pytest

from faq_ingest import knowledge, sync
from faq_ingest.management.commands.crawl import summary_line
from faq_ingest.models import CrawlRun
from tests.test_ingest_fixture_site import FaqSite, faq, make_source

pytestmark = pytest.mark.django_db

Q = "How long do refunds take?"
OTHER = "Do you ship abroad?"


def edit(question: str, answer: str) -> None:
    f = faq(question)
    f.answer = answer
    f.save()
    knowledge.record_staff_edit(f, "alice")


def counts(run: CrawlRun) -> tuple[int, int, int, int]:
    return run.faqs_added, run.faqs_updated, run.faqs_unchanged, run.conflicts


@pytest.fixture
def site_and_source():
    site = FaqSite({"/": [(Q, "Five days."), (OTHER, "No.")]})
    with site.serve() as server:
        source = make_source(server)
        first = sync.crawl_source(source.pk)
        assert counts(first) == (2, 0, 0, 0)
        yield site, source


def test_changed_page_under_a_staff_edit_counts_as_conflict(site_and_source) -> None:
    site, source = site_and_source
    edit(Q, "Five working days.")
    site.pages["/"][0] = (Q, "Ten days.")
    run = sync.crawl_source(source.pk)
    assert faq(Q).crawl_conflict and faq(Q).answer == "Five working days."
    # OTHER is unchanged; Q is the conflict and is not also counted as unchanged.
    assert counts(run) == (0, 0, 1, 1)
    assert sum(counts(run)) == len(site.pages["/"])
    assert "unchanged 1, conflicts 1, retired 0;" in summary_line(run)
    assert CrawlRun.objects.get(pk=run.pk).conflicts == 1  # saved, not only in memory


def test_no_staff_edit_means_no_conflict(site_and_source) -> None:
    site, source = site_and_source
    site.pages["/"][1] = (OTHER, "Yes, to 40 countries.")  # re-read the page; Q is the same
    run = sync.crawl_source(source.pk)
    assert counts(run) == (0, 1, 1, 0)
    unread = sync.crawl_source(source.pk)  # nothing changed: 304, no FAQ read at all
    assert unread.pages_not_modified == 1 and counts(unread) == (0, 0, 0, 0)


def test_open_conflict_is_counted_by_each_crawl_that_reads_it(site_and_source) -> None:
    site, source = site_and_source
    edit(Q, "Five working days.")
    site.pages["/"][0] = (Q, "Ten days.")
    sync.crawl_source(source.pk)
    site.pages["/"][1] = (OTHER, "Yes.")  # Q's text is as last time, its conflict still open
    again = sync.crawl_source(source.pk)
    assert counts(again) == (0, 1, 0, 1)
    # Once staff keep their version, the same page text is no longer a conflict.
    knowledge.keep_staff_version(faq(Q), "alice")
    site.pages["/"][1] = (OTHER, "Yes, everywhere.")
    settled = sync.crawl_source(source.pk)
    assert counts(settled) == (0, 1, 1, 0)


def test_page_catching_up_with_staff_is_unchanged(site_and_source) -> None:
    site, source = site_and_source
    edit(Q, "Seven days.")
    site.pages["/"][0] = (Q, "Seven days.")
    run = sync.crawl_source(source.pk)
    assert not faq(Q).crawl_conflict
    assert counts(run) == (0, 0, 2, 0)


def test_admin_shows_conflicts_and_links_to_them(site_and_source, admin_client) -> None:
    site, source = site_and_source
    edit(Q, "Five working days.")
    site.pages["/"][0] = (Q, "Ten days.")
    run = sync.crawl_source(source.pk)
    listing = admin_client.get("/admin/faq_ingest/crawlrun/").content.decode()
    link = f"/admin/faq_ingest/faq/?crawl_conflict__exact=1&amp;source__id__exact={source.pk}"
    assert f'<a href="{link}">1</a>' in listing
    conflicts = admin_client.get(link.replace("&amp;", "&"))
    assert conflicts.status_code == 200
    assert [f.question for f in conflicts.context["cl"].result_list] == [Q]
    detail = admin_client.get(f"/admin/faq_ingest/crawlrun/{run.pk}/change/").content.decode()
    assert "Conflicts" in detail and "awaits" in detail

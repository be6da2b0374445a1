"""Re-crawling an unchanged site uses conditional GETs: every page answers 304, is counted
as not modified, and no page body is sent or parsed again."""

from __future__ import annotations

import pytest

from faq_ingest import sync
from faq_ingest.models import CrawledPage, CrawlRun, Faq
from tests.test_ingest_fixture_site import FaqSite, make_source

pytestmark = pytest.mark.django_db


def test_unchanged_recrawl_is_all_304(monkeypatch) -> None:
    site = FaqSite({f"/p{i}": [(f"Question {i}?", f"Answer {i}.")] for i in range(5)})
    site.pages["/"] = [("Home?", "Home.")]
    with site.serve() as server:
        source = make_source(server)
        first = sync.crawl_source(source.pk)
        assert first.pages_fetched == 6
        assert all(p.etag for p in CrawledPage.objects.all())
        before = len(server.requests)

        parsed = []
        real = sync.extract_page
        monkeypatch.setattr(sync, "extract_page", lambda *a: parsed.append(a) or real(*a))
        again = sync.crawl_source(source.pk)
        page_requests = [r for r in server.requests[before:] if r.path in site.pages]

    assert again.status == CrawlRun.SUCCEEDED
    assert (again.pages_fetched, again.pages_not_modified) == (0, 6)
    assert (again.faqs_added, again.faqs_updated, again.faqs_unchanged) == (0, 0, 0)
    assert len(page_requests) == 6
    assert all("if-none-match" in r.headers for r in page_requests)
    assert parsed == []
    assert set(Faq.objects.values_list("active", "missing_count")) == {(True, 0)}
    assert set(CrawledPage.objects.values_list("last_status", flat=True)) == {"not_modified"}


def test_changed_page_among_unchanged_is_refetched() -> None:
    site = FaqSite({"/": [("Home?", "Home.")], "/a": [("A?", "Old.")]})
    with site.serve() as server:
        source = make_source(server)
        sync.crawl_source(source.pk)
        site.pages["/a"] = [("A?", "New.")]
        run = sync.crawl_source(source.pk)
    assert (run.pages_fetched, run.pages_not_modified, run.faqs_updated) == (1, 1, 1)

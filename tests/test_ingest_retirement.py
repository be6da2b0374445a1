"""A FAQ is retired only after missing from N consecutive successful crawls; failed pages,
unreachable sites, crawls that break part-way and page limits never retire anything."""

from __future__ import annotations

import pytest

from faq_ingest import knowledge, sync
from faq_ingest.models import CrawlRun, Faq
from tests.services import free_port
from tests.test_ingest_fixture_site import FaqSite, faq, make_source

pytestmark = pytest.mark.django_db

KEEP = ("Do you ship abroad?", "Yes, to 40 countries.")
GOES = ("Can I pay by cheque?", "Yes, by post.")


@pytest.fixture(autouse=True)
def _retire_after_three(settings) -> None:
    settings.CRAWLER_RETIRE_AFTER_MISSES = 3


def state(question: str) -> tuple[bool, int]:
    f = faq(question)
    return f.active, f.missing_count


def test_retired_only_after_n_consecutive_misses_and_revived_in_place() -> None:
    site = FaqSite({"/": [KEEP, GOES]})
    with site.serve() as server:
        source = make_source(server)
        sync.crawl_source(source.pk)
        pk = faq(GOES[0]).pk
        site.pages["/"] = [KEEP]
        runs = [sync.crawl_source(source.pk) for _ in range(2)]
        assert state(GOES[0]) == (True, 2)
        assert [r.faqs_retired for r in runs] == [0, 0]
        third = sync.crawl_source(source.pk)
        assert third.status == CrawlRun.SUCCEEDED and third.faqs_retired == 1
        retired = faq(GOES[0])
        assert not retired.active and retired.retired_at is not None
        assert retired.revisions.first().changed_by == "crawler: retired"
        assert state(KEEP[0]) == (True, 0)

        site.pages["/"] = [KEEP, GOES]
        back = sync.crawl_source(source.pk)
    revived = Faq.objects.get(pk=pk)
    assert back.faqs_updated == 1 and revived.active and revived.retired_at is None
    assert revived.missing_count == 0


def test_misses_must_be_consecutive() -> None:
    site = FaqSite({"/": [KEEP, GOES]})
    with site.serve() as server:
        source = make_source(server)
        sync.crawl_source(source.pk)
        site.pages["/"] = [KEEP]
        sync.crawl_source(source.pk)
        sync.crawl_source(source.pk)
        site.pages["/"] = [KEEP, GOES]
        sync.crawl_source(source.pk)
        assert state(GOES[0]) == (True, 0)
        site.pages["/"] = [KEEP]
        sync.crawl_source(source.pk)
        sync.crawl_source(source.pk)
    assert state(GOES[0]) == (True, 2)


def test_a_failing_page_retires_nothing() -> None:
    site = FaqSite({"/": [KEEP, GOES], "/other": [("Where is my order?", "Track it.")]})
    with site.serve() as server:
        source = make_source(server)
        sync.crawl_source(source.pk)
        site.pages["/"] = [KEEP]  # GOES really left the site...
        site.broken["/other"] = 500  # ...but no crawl is a complete picture now
        runs = [sync.crawl_source(source.pk) for _ in range(4)]
    assert {r.status for r in runs} == {CrawlRun.PARTIAL}
    assert all(r.faqs_retired == 0 and r.pages_failed == 1 for r in runs)
    assert runs[0].failures[0]["code"] == "http_5xx"
    assert state(GOES[0]) == (True, 0)
    assert state("Where is my order?") == (True, 0)


def test_a_404_retires_nothing_and_a_page_that_comes_back_keeps_its_faqs() -> None:
    site = FaqSite({"/": [KEEP, GOES], "/other": [("Where is my order?", "Track it.")]})
    with site.serve() as server:
        source = make_source(server)
        sync.crawl_source(source.pk)
        site.pages["/"] = [KEEP]
        site.broken["/other"] = 404  # a botched deploy
        broken = sync.crawl_source(source.pk)
        assert broken.status == CrawlRun.PARTIAL and broken.faqs_retired == 0
        assert broken.failures[0]["code"] == "http_404"
        assert state(GOES[0]) == (True, 0) and state("Where is my order?") == (True, 0)
        del site.broken["/other"]  # fixed; "/" answers 304, so only the recheck finds it
        fixed = sync.crawl_source(source.pk)
    assert fixed.status == CrawlRun.SUCCEEDED
    assert state("Where is my order?") == (True, 0)
    assert state(GOES[0]) == (True, 1)


def test_unreachable_site_touches_nothing() -> None:
    site = FaqSite({"/": [KEEP, GOES]})
    with site.serve() as server:
        source = make_source(server)
        sync.crawl_source(source.pk)
    before = list(Faq.objects.values_list("pk", "question", "answer", "active", "missing_count"))
    # The site's port is closed now: every crawl is refused.
    runs = [sync.crawl_source(source.pk) for _ in range(4)]
    assert {r.status for r in runs} == {CrawlRun.FAILED}
    assert all("connection_refused" in r.error for r in runs)
    assert (
        list(Faq.objects.values_list("pk", "question", "answer", "active", "missing_count"))
        == before
    )


def test_refused_start_url_records_error() -> None:
    source = make_source_url(f"http://127.0.0.1:{free_port()}/help")
    run = sync.crawl_source(source.pk)
    assert run.status == CrawlRun.FAILED and run.error and run.finished_at


def make_source_url(url: str):
    from faq_ingest.models import FaqSource

    return FaqSource.objects.create(name="down", start_url=url)


def test_crawl_breaking_part_way_retires_nothing(monkeypatch) -> None:
    site = FaqSite({"/": [KEEP, GOES], "/b": [("Where is my order?", "Track it.")]})
    with site.serve() as server:
        source = make_source(server)
        sync.crawl_source(source.pk)
        for _ in range(2):  # GOES is two misses away from retirement
            site.pages["/"] = [KEEP]
            sync.crawl_source(source.pk)
        assert state(GOES[0]) == (True, 2)

        real = knowledge.apply_crawled
        site.pages["/b"] = [("Where is my order?", "Track it online.")]

        def explode(source, item, run):
            if item.question == "Where is my order?":
                raise RuntimeError("database went away")
            return real(source, item, run)

        monkeypatch.setattr(knowledge, "apply_crawled", explode)
        broken = sync.crawl_source(source.pk)
    assert broken.status == CrawlRun.FAILED and "database went away" in broken.error
    assert broken.faqs_retired == 0
    assert state(GOES[0]) == (True, 2)  # not even counted missing
    assert faq("Where is my order?").answer == "Track it."


def test_page_limit_does_not_count_unvisited_pages_missing() -> None:
    site = FaqSite(
        {"/": [KEEP], **{f"/p{i}": [(f"Question {i}?", f"Answer {i}.")] for i in range(3)}}
    )
    with site.serve() as server:
        source = make_source(server)
        sync.crawl_source(source.pk)
        runs = [sync.crawl_source(source.pk, max_pages=1) for _ in range(4)]
    assert all(r.status == CrawlRun.SUCCEEDED and r.faqs_retired == 0 for r in runs)
    assert set(Faq.objects.values_list("active", "missing_count")) == {(True, 0)}


def test_deleted_page_is_retired_after_n_successful_crawls() -> None:
    site = FaqSite({"/": [KEEP], "/old": [GOES]})
    with site.serve() as server:
        source = make_source(server)
        sync.crawl_source(source.pk)
        del site.pages["/old"]  # removed from the site and from the navigation
        gone = sync.crawl_source(source.pk)
        assert gone.status == CrawlRun.PARTIAL and gone.failures[0]["code"] == "http_404"
        assert state(GOES[0]) == (True, 0)
        later = [sync.crawl_source(source.pk) for _ in range(3)]
    # Once known to be gone the page is not re-checked, so later crawls can succeed.
    assert [r.status for r in later] == [CrawlRun.SUCCEEDED] * 3
    assert [r.faqs_retired for r in later] == [0, 0, 1]
    assert state(GOES[0]) == (False, 3)


def test_staff_edited_faq_is_never_retired() -> None:
    site = FaqSite({"/": [KEEP, GOES]})
    with site.serve() as server:
        source = make_source(server)
        sync.crawl_source(source.pk)
        edited = faq(GOES[0])
        edited.answer = "Yes, by post; allow 10 days."
        edited.save()
        knowledge.record_staff_edit(edited, "alice")
        site.pages["/"] = [KEEP]
        for _ in range(5):
            sync.crawl_source(source.pk)
    assert faq(GOES[0]).active

"""The mass-retirement guard: a crawl that looks like an outage is SUSPICIOUS and retires
nothing. Seen in the field: a help center answered 200 with "Down for maintenance" for
three crawls; each counted as a success, the third retired every FAQ, and the maintenance
page itself became an active passage."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from faq_ingest import sync
from faq_ingest.models import CrawledPage, CrawlRun, Faq
from tests.httpserver import RecordedRequest, Response, html
from tests.test_ingest_fixture_site import FaqSite, make_source

pytestmark = pytest.mark.django_db

MAINTENANCE = (
    "<!DOCTYPE html><html><head><title>Down for maintenance</title></head><body><main>"
    "<h1>Down for maintenance</h1><p>Our help center is being upgraded. We will be back "
    "shortly; thank you for your patience while we make things better.</p></main></body></html>"
)
ABOUT = (
    "<!DOCTYPE html><html><head><title>About us</title></head><body><main><h1>About us</h1>"
    "<p>Northwind has sold outdoor gear from its shop in Leeds since 1998, and ships to "
    "forty countries.</p></main></body></html>"
)


class OutageSite(FaqSite):
    """FaqSite plus a prose page, and a switch that answers every URL with a maintenance
    page and status 200, as a CDN in maintenance mode does."""

    def __init__(self, pages, prose: dict[str, str] | None = None) -> None:
        super().__init__(pages)
        self.prose: dict[str, str] = {}
        for path, text in (prose or {}).items():
            self.set_prose(path, text)
        self.maintenance = False

    def set_prose(self, path: str, text: str) -> None:
        self.prose[path] = text
        self.pages[path] = []  # listed in every page's navigation

    def body(self, path: str) -> bytes:
        if path in self.prose:
            return self.prose[path].encode()
        return super().body(path)

    def respond(self, req: RecordedRequest) -> Response:
        if self.maintenance:
            return html(MAINTENANCE)
        return super().respond(req)


def many(prefix: str, n: int) -> list[tuple[str, str]]:
    return [(f"{prefix} question number {i}?", f"{prefix} answer {i}.") for i in range(n)]


def snapshot_of_faqs() -> list[tuple]:
    return list(
        Faq.objects.order_by("pk").values_list("pk", "question", "answer", "active", "kind")
    )


def test_a_maintenance_page_for_four_crawls_retires_nothing_and_is_not_stored(settings) -> None:
    settings.CRAWLER_RETIRE_AFTER_MISSES = 3
    site = OutageSite(
        {"/": many("Home", 3), "/shipping": many("Shipping", 4)}, prose={"/about": ABOUT}
    )
    with site.serve() as server:
        source = make_source(server)
        first = sync.crawl_source(source.pk)
        assert first.status == CrawlRun.SUCCEEDED
        before = snapshot_of_faqs()
        assert [k for *_, k in before].count("passage") == 1  # /about
        pages_before = dict(CrawledPage.objects.values_list("url", "content_hash"))

        site.maintenance = True
        runs = [sync.crawl_source(source.pk) for _ in range(4)]

        assert [r.status for r in runs] == [CrawlRun.SUSPICIOUS] * 4
        assert all(r.faqs_retired == 0 for r in runs)
        reason = runs[-1].suspicious_reason
        assert reason.startswith("2 page(s) that held FAQs now hold none")
        assert "Down for maintenance" in reason and "nothing was retired" in reason
        assert snapshot_of_faqs() == before  # no FAQ retired, changed or added
        assert set(Faq.objects.values_list("missing_count", flat=True)) == {0}
        assert not Faq.objects.filter(question__icontains="maintenance").exists()
        assert not Faq.objects.filter(answer__icontains="maintenance").exists()
        # The pages' stored validators still describe the real content.
        assert dict(CrawledPage.objects.values_list("url", "content_hash")) == pages_before

        site.maintenance = False
        back = sync.crawl_source(source.pk)
    assert back.status == CrawlRun.SUCCEEDED and back.faqs_retired == 0
    assert snapshot_of_faqs() == before


def test_faqs_that_moved_to_another_page_are_no_outage() -> None:
    site = OutageSite({"/": many("Home", 2), "/old": many("Moved", 3)})
    with site.serve() as server:
        source = make_source(server)
        sync.crawl_source(source.pk)
        ids = set(Faq.objects.values_list("pk", flat=True))
        # The FAQs of /old now live on /new; /old says so in prose.
        site.pages["/new"] = site.pages.pop("/old")
        site.set_prose("/old", ABOUT.replace("About us", "We moved"))
        run = sync.crawl_source(source.pk)
    assert run.status == CrawlRun.SUCCEEDED and not run.suspicious_reason
    assert ids <= set(Faq.objects.filter(active=True).values_list("pk", flat=True))
    assert Faq.objects.filter(kind=Faq.KIND_PASSAGE, question__contains="We moved").exists()


def test_retiring_more_than_the_allowed_share_retires_nothing(settings) -> None:
    settings.CRAWLER_RETIRE_AFTER_MISSES = 2
    settings.CRAWLER_MAX_RETIRE_SHARE = 0.3
    site = OutageSite({"/": many("Kept", 6), "/more": many("Dropped", 4)})
    with site.serve() as server:
        source = make_source(server)
        sync.crawl_source(source.pk)
        site.pages["/more"] = many("Kept more", 1)  # 4 of 10 FAQs leave the site
        first_miss = sync.crawl_source(source.pk)
        assert first_miss.status == CrawlRun.SUCCEEDED and first_miss.faqs_retired == 0
        held = sync.crawl_source(source.pk)
        assert held.status == CrawlRun.SUSPICIOUS and held.faqs_retired == 0
        assert held.suspicious_reason.startswith(
            "this crawl would retire 4 of the source's 11 active FAQs (36%, more than the 30%"
        )
        assert Faq.objects.filter(question__startswith="Dropped", active=True).count() == 4
        # The misses still count: once staff allow a larger share, the next crawl retires.
        settings.CRAWLER_MAX_RETIRE_SHARE = 0.5
        allowed = sync.crawl_source(source.pk)
    assert allowed.status == CrawlRun.SUCCEEDED and allowed.faqs_retired == 4
    assert not Faq.objects.filter(question__startswith="Dropped", active=True).exists()


def test_retiring_a_few_faqs_of_a_small_source_is_routine(settings) -> None:
    settings.CRAWLER_RETIRE_AFTER_MISSES = 1
    site = OutageSite({"/": many("Small", 3)})
    with site.serve() as server:
        source = make_source(server)
        sync.crawl_source(source.pk)
        site.pages["/"] = many("Small", 1)  # 2 of 3 gone: 67%, but only two FAQs
        run = sync.crawl_source(source.pk)
    assert run.status == CrawlRun.SUCCEEDED and run.faqs_retired == 2


def test_crawl_command_and_admin_show_why(admin_client) -> None:
    site = OutageSite({"/": many("Home", 3)})
    with site.serve() as server:
        call_command("crawl", server.url("/"), stdout=io.StringIO(), stderr=io.StringIO())
        site.maintenance = True
        out, err = io.StringIO(), io.StringIO()
        with pytest.raises(CommandError, match="crawl suspicious, nothing retired"):
            call_command("crawl", server.url("/"), stdout=out, stderr=err)
    assert out.getvalue().startswith("suspicious: pages fetched 1,")
    assert "retired 0;" in out.getvalue()
    assert "suspicious: 1 page(s) that held FAQs now hold none" in err.getvalue()
    listing = admin_client.get("/admin/faq_ingest/crawlrun/").content.decode()
    assert "Suspicious (nothing retired)" in listing
    assert "1 page(s) that held FAQs now hold none" in listing

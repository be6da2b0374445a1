"""A crawl keeps every section of its pages: statement-titled entries become FAQs, page
text between entries becomes passages, and what is left out is counted with its reason on
the CrawlRun, in the `crawl` summary and on the run's admin page."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from django.core.management import call_command

from faq_ingest import sync
from faq_ingest.models import CrawledPage, CrawlRun, Faq, FaqSource
from tests.httpserver import LocalHTTPServer, RecordedRequest, Response, html

pytestmark = pytest.mark.django_db

HELP = """<!doctype html><html lang="en"><head><title>Help | Tidewell Goods</title></head><body>
<header><nav><a href="/">Help</a> <a href="/stores">Stores</a></nav></header>
<main><h1>Help</h1>
<p>Our team answers every message within one working day, Monday to Saturday.</p>
<h3>How can I change my delivery address?</h3><p>Reply to your confirmation email before 2pm.</p>
<h3>Order tracking</h3><p>Tracking links arrive by text message once the parcel leaves us.</p>
<h3>Returns policy</h3><p>Unused items can be returned within 60 days for a refund.</p>
<h3>Talk to our team</h3><p>Call 0800 000 111 or use the chat at the bottom of the page.</p>
<h3>I want to cancel my order</h3><p>Orders can be cancelled until they are packed.</p>
<h3>Find out which items are still in stock</h3><p>Each product page shows live stock levels.</p>
<h3>Gift cards &lt;b&gt;new&lt;/b&gt;</h3>
<div class="article-votes"><p>Was this article helpful?</p><p>14 out of 20 found this helpful</p></div>
<h2>Contact us</h2><p>Write to hello@tidewell.example, we read everything.</p>
</main></body></html>"""

STORES = """<!doctype html><html lang="en"><head><title>Stores | Tidewell Goods</title></head><body>
<main><h1>Help</h1>
<p>We have two shops, in Whitby and in Scarborough, open every day but Monday.</p>
<div class="article-votes"><p>Was this article helpful?</p><p>3 out of 4 found this helpful</p></div>
<h2>Contact us</h2><p>Each shop has its own phone line: Whitby 01947 000 000, Scarborough 01723 000 000.</p>
</main></body></html>"""


def _site(pages: dict[str, str]) -> LocalHTTPServer:
    def respond(req: RecordedRequest) -> Response:
        if req.path not in pages:
            return Response(404, b"not found", {"Content-Type": "text/plain"})
        body = pages[req.path].encode()
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if req.headers.get("if-none-match") == etag:
            return Response(304, headers={"ETag": etag})
        return html(body, headers={"ETag": etag})

    return LocalHTTPServer(default=respond)


@pytest.fixture
def site():
    with _site({"/": HELP, "/stores": STORES}) as server:
        yield server


def _crawl(server: LocalHTTPServer) -> CrawlRun:
    source = FaqSource.objects.filter(start_url=server.url("/")).first()
    if source is None:
        source = FaqSource.objects.create(name="Tidewell", start_url=server.url("/"))
        source.extra_urls = server.url("/stores")
        source.save()
    return sync.crawl_source(source.pk)


def test_statement_titled_entries_are_stored_as_faqs(site) -> None:
    run = _crawl(site)
    assert run.status == CrawlRun.SUCCEEDED
    faqs = set(Faq.objects.filter(kind=Faq.KIND_FAQ).values_list("question", flat=True))
    assert {
        "How can I change my delivery address?",
        "Order tracking",
        "Returns policy",
        "Talk to our team",
        "I want to cancel my order",
        "Find out which items are still in stock",
    } <= faqs
    tracking = Faq.objects.get(question="Order tracking")
    assert tracking.answer == "Tracking links arrive by text message once the parcel leaves us."


def test_text_around_the_entries_becomes_passages_and_shared_titles_all_stay(site) -> None:
    _crawl(site)
    passages = {
        (f.question, f.answer) for f in Faq.objects.filter(kind=Faq.KIND_PASSAGE, active=True)
    }
    # Both pages have an intro under "Help" and a "Contact us" section, with different
    # text: four passages, none lost to a shared title.
    assert passages == {
        ("Help", "Our team answers every message within one working day, Monday to Saturday."),
        ("Help › Contact us", "Write to hello@tidewell.example, we read everything."),
        ("Help", "We have two shops, in Whitby and in Scarborough, open every day but Monday."),
        (
            "Help › Contact us",
            "Each shop has its own phone line: Whitby 01947 000 000, Scarborough 01723 000 000.",
        ),
    }
    assert len(set(Faq.objects.values_list("question_key", flat=True))) == Faq.objects.count()


def test_the_run_counts_what_was_left_out_and_why(site) -> None:
    run = _crawl(site)
    assert run.skipped == 3
    assert run.skipped_by_reason == {"empty_answer": 1, "boilerplate": 2}
    listed = {(s["reason"], s["title"], s["url"]) for s in run.skipped_sections}
    assert ("empty_answer", "Gift cards <b>new</b>", site.url("/")) in listed
    assert ("boilerplate", "Was this article helpful?", site.url("/stores")) in listed
    assert all(set(s) == {"url", "title", "reason"} for s in run.skipped_sections)
    stored = CrawledPage.objects.get(url=site.url("/")).skipped_sections
    assert {"title": "Gift cards <b>new</b>", "reason": "empty_answer", "n": 1} in stored


def test_a_recrawl_of_unchanged_pages_still_counts_their_skips(site) -> None:
    first = _crawl(site)
    again = _crawl(site)
    assert (again.pages_fetched, again.pages_not_modified) == (0, 2)
    assert again.skipped == first.skipped
    assert again.skipped_by_reason == first.skipped_by_reason
    assert sorted(map(str, again.skipped_sections)) == sorted(map(str, first.skipped_sections))


def test_the_listed_skips_stay_bounded_and_varied() -> None:
    page = """<html><head><title>P</title></head><body><main><h1>Help {i}</h1>
    <h3>How do I do thing {i}?</h3><p>Like this, for thing {i}.</p>
    <h3>Thing {i} warranty</h3><p>Two years on thing {i}.</p>
    <p>Was this article helpful?</p><h3>Empty {i}</h3></main></body></html>"""
    pages = {"/": page.format(i=0)} | {f"/p{i}": page.format(i=i) for i in range(1, 8)}
    links = "".join(f'<a href="/p{i}">p{i}</a>' for i in range(1, 8))
    pages["/"] = pages["/"].replace("<body>", f"<body><nav>{links}</nav>")
    with _site(pages) as server:
        source = FaqSource.objects.create(name="Many pages", start_url=server.url("/"))
        run = sync.crawl_source(source.pk)
    assert run.pages_fetched == 8, run.failures
    assert run.skipped == 16  # a boilerplate line and an empty title on each page
    boilerplate = [s for s in run.skipped_sections if s["reason"] == "boilerplate"]
    assert len(boilerplate) == sync.MAX_SAME_SKIP  # the same line once per page would crowd
    assert len([s for s in run.skipped_sections if s["reason"] == "empty_answer"]) == 8
    assert Faq.objects.filter(question__endswith="warranty", kind=Faq.KIND_FAQ).count() == 8


def test_a_page_with_thousands_of_empty_titles_stays_bounded_but_counted() -> None:
    titles = "".join(f"<h2>Section {i}</h2>" for i in range(3000))
    page = f"<html><body><main><h1>Help</h1><p>One real paragraph of help text here.</p>{titles}</main></body></html>"
    with _site({"/": page}) as server:
        source = FaqSource.objects.create(name="Hostile", start_url=server.url("/"))
        first = sync.crawl_source(source.pk)
        again = sync.crawl_source(source.pk)  # 304: counted from what the page stored
    assert first.skipped == again.skipped == 3000
    assert first.skipped_by_reason == again.skipped_by_reason == {"empty_answer": 3000}
    assert len(first.skipped_sections) == CrawlRun.MAX_SKIPPED_SECTIONS
    stored = CrawledPage.objects.get(url=server.url("/")).skipped_sections
    assert len(stored) == sync.MAX_PAGE_SKIPS + 1
    assert stored[-1] == {"title": "", "reason": "empty_answer", "n": 3000 - sync.MAX_PAGE_SKIPS}


def test_a_long_section_split_into_passages_keeps_every_part() -> None:
    fixture = Path(__file__).parent / "fixtures" / "html" / "no_faq_passages.html"
    with _site({"/": fixture.read_text(encoding="utf-8")}) as server:
        source = FaqSource.objects.create(name="Policy", start_url=server.url("/"))
        sync.crawl_source(source.pk)
    # "International delivery" is longer than one passage: both parts are stored (the second
    # used to be dropped for repeating the first one's title).
    parts = Faq.objects.filter(question="Shipping policy › International delivery")
    assert parts.count() == 2
    assert "biosecurity" in " ".join(parts.values_list("answer", flat=True))
    assert "DHL Express" in " ".join(parts.values_list("answer", flat=True))


def test_crawl_command_reports_the_skips(site) -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command("crawl", site.url("/"), stdout=out, stderr=err)
    line = out.getvalue().strip()
    assert "; sections skipped 3 (boilerplate 2, title without an answer 1); errors 0" in line
    assert "  skipped (title without an answer): Gift cards <b>new</b> [" in err.getvalue()


def test_admin_run_page_lists_skipped_titles_with_reasons(site, admin_client) -> None:
    run = _crawl(site)
    page = admin_client.get(f"/admin/faq_ingest/crawlrun/{run.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "title without an answer" in text and "boilerplate: 2" in text
    # Titles come from crawled pages: shown as text, never as markup.
    assert "Gift cards &lt;b&gt;new&lt;/b&gt;" in text and "Gift cards <b>new</b>" not in text
    listing = admin_client.get("/admin/faq_ingest/crawlrun/")
    assert listing.status_code == 200 and "Skipped" in listing.content.decode()

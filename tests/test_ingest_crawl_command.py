"""`manage.py crawl URL [--max-pages N]` crawls now and prints a one-line summary."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command

from faq_ingest.models import CrawlRun, Faq
from tests.services import free_port
from tests.test_ingest_fixture_site import FaqSite

SUMMARY = re.compile(
    r"^(?P<status>\w+): pages fetched (?P<fetched>\d+), not modified (?P<nm>\d+), "
    r"failed (?P<failed>\d+); FAQs added (?P<added>\d+), updated (?P<updated>\d+), "
    r"unchanged (?P<unchanged>\d+), conflicts (?P<conflicts>\d+), retired (?P<retired>\d+); "
    r"sections skipped (?P<skipped>\d+)(?: \((?P<reasons>[^)]*)\))?; "
    r"errors (?P<errors>\d+)$"
)

pytestmark = pytest.mark.django_db


def crawl(*args: str) -> dict[str, str]:
    out = io.StringIO()
    call_command("crawl", *args, stdout=out, stderr=io.StringIO())
    lines = out.getvalue().splitlines()
    assert len(lines) == 1, lines
    match = SUMMARY.match(lines[0])
    assert match, lines[0]
    return match.groupdict()


def test_summary_counts_pages_and_faq_changes() -> None:
    site = FaqSite(
        {
            "/": [("How do I reset my password?", "Use the reset link.")],
            "/shipping": [
                ("How long is delivery?", "Three days."),
                ("Do you ship abroad?", "Yes."),
            ],
        }
    )
    with site.serve() as server:
        first = crawl(server.url("/"))
        site.pages["/shipping"][0] = ("How long is delivery?", "Two days now.")
        second = crawl(server.url("/"))
    assert first == {
        "status": "succeeded",
        "fetched": "2",
        "nm": "0",
        "failed": "0",
        "added": "3",
        "updated": "0",
        "unchanged": "0",
        "conflicts": "0",
        "retired": "0",
        "skipped": "0",
        "reasons": None,
        "errors": "0",
    }
    # "/" did not change (304); "/shipping" did: one FAQ updated, one unchanged.
    assert (second["fetched"], second["nm"]) == ("1", "1")
    assert (second["added"], second["updated"], second["unchanged"]) == ("0", "1", "1")
    assert Faq.objects.count() == 3


def test_max_pages_limits_the_crawl() -> None:
    site = FaqSite({f"/p{i}": [(f"Question number {i}?", f"Answer {i}.")] for i in range(5)})
    site.pages["/"] = [("Home question?", "Home answer.")]
    with site.serve() as server:
        result = crawl(server.url("/"), "--max-pages", "2")
    assert result["fetched"] == "2"
    assert Faq.objects.count() == 2


def test_unreachable_url_reports_the_error_and_touches_nothing() -> None:
    site = FaqSite({"/": [("Is this kept?", "Yes.")]})
    with site.serve() as server:
        url = server.url("/")
        crawl(url)
    # The server is gone: the same port now refuses connections.
    before = list(Faq.objects.values_list("pk", "answer", "active", "missing_count"))
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="crawl failed"):
        call_command("crawl", url, stdout=out, stderr=err)
    match = SUMMARY.match(out.getvalue().strip())
    assert match and match["status"] == "failed" and int(match["errors"]) >= 1
    run = CrawlRun.objects.order_by("-id").first()
    assert run.status == CrawlRun.FAILED and "connection_refused" in run.error
    assert list(Faq.objects.values_list("pk", "answer", "active", "missing_count")) == before


def test_rejects_non_http_urls() -> None:
    with pytest.raises(CommandError, match="not an http"):
        call_command("crawl", "ftp://example.com/", stdout=io.StringIO())
    with pytest.raises(CommandError, match="max-pages"):
        call_command("crawl", "http://127.0.0.1/", "--max-pages", "0", stdout=io.StringIO())


def test_refused_port_never_served() -> None:
    url = f"http://127.0.0.1:{free_port()}/"  # bound then closed: nothing listens there
    with pytest.raises(CommandError):
        call_command("crawl", url, stdout=io.StringIO(), stderr=io.StringIO())
    assert CrawlRun.objects.get().error

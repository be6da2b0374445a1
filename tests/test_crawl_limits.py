"""max_pages, max_depth and max_total_bytes stop the crawl."""

from __future__ import annotations

from faq_ingest.crawl import CrawlLimits, crawl_site
from faq_ingest.fetch import Fetcher
from tests.httpserver import LocalHTTPServer, html


def chain_site(length: int, page_bytes: int = 0) -> LocalHTTPServer:
    """/p0 -> /p1 -> ... : page n sits at depth n."""
    pad = "x" * page_bytes
    routes = {f"/p{i}": html(f'<a href="/p{i + 1}">next</a>{pad}') for i in range(length)}
    return LocalHTTPServer(routes)


def run(server: LocalHTTPServer, limits: CrawlLimits) -> list[tuple[str, int]]:
    with Fetcher(allowed_private_hosts=["127.0.0.1"], retries=0) as fetcher:
        outcomes = crawl_site([server.url("/p0")], fetcher, limits=limits, use_sitemap=False)
        return [(o.url.rsplit("/", 1)[1], o.depth) for o in outcomes]


def test_max_depth() -> None:
    with chain_site(10) as server:
        got = run(server, CrawlLimits(max_depth=2))
        assert server.hits("/p3") == 0
    assert got == [("p0", 0), ("p1", 1), ("p2", 2)]


def test_max_pages() -> None:
    with chain_site(10) as server:
        got = run(server, CrawlLimits(max_pages=4))
        assert server.hits("/p4") == 0
    assert [name for name, _ in got] == ["p0", "p1", "p2", "p3"]


def test_max_total_bytes() -> None:
    with chain_site(10, page_bytes=1000) as server:
        got = run(server, CrawlLimits(max_total_bytes=2500))
    # Stops once the running total has reached the budget: 3 pages of ~1 KB.
    assert [name for name, _ in got] == ["p0", "p1", "p2"]


def test_failed_page_does_not_stop_the_crawl() -> None:
    routes = {
        "/": html('<a href="/gone">gone</a> <a href="/ok">ok</a>'),
        "/ok": html("ok"),
    }
    with (
        LocalHTTPServer(routes) as server,
        Fetcher(allowed_private_hosts=["127.0.0.1"], retries=0) as fetcher,
    ):
        outcomes = {o.url: o for o in crawl_site([server.url("/")], fetcher)}
    gone = outcomes[server.url("/gone")]
    assert gone.status == "failed"
    assert gone.error is not None and gone.error.code == "http_404"
    assert outcomes[server.url("/ok")].status == "fetched"

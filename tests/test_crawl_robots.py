"""robots.txt: Disallow is honoured for our user agent, Crawl-delay reaches the sleep hook."""

from __future__ import annotations

from faq_ingest.crawl import CrawlLimits, crawl_site
from faq_ingest.fetch import Fetcher
from tests.httpserver import LocalHTTPServer, Response, html

TEXT = {"Content-Type": "text/plain"}
LINKS = '<a href="/faq">FAQ</a> <a href="/private/admin">admin</a> <a href="/bots-only">x</a>'


def site(robots: Response | None) -> LocalHTTPServer:
    routes = {
        "/": html(LINKS),
        "/faq": html("faq"),
        "/private/admin": html("admin"),
        "/bots-only": html("x"),
    }
    if robots is not None:
        routes["/robots.txt"] = robots
    return LocalHTTPServer(routes)


def run(server: LocalHTTPServer, **kw):
    with Fetcher(allowed_private_hosts=["127.0.0.1"], retries=0) as fetcher:
        return list(crawl_site([server.url("/")], fetcher, use_sitemap=False, **kw))


def test_disallow_is_honoured_for_our_agent() -> None:
    robots = Response(
        body=b"User-agent: *\nDisallow: /bots-only\n\n"
        b"User-agent: NorthwindFAQBot\nDisallow: /private/\n",
        headers=TEXT,
    )
    with site(robots) as server:
        outcomes = {o.url: o for o in run(server)}
        assert server.hits("/private/admin") == 0
    skipped = outcomes[server.url("/private/admin")]
    assert skipped.status == "skipped_robots"
    assert skipped.error is not None and skipped.error.code == "robots_disallowed"
    assert outcomes[server.url("/faq")].status == "fetched"
    # Our own group replaces "*", so /bots-only is allowed for us.
    assert outcomes[server.url("/bots-only")].status == "fetched"


def test_crawl_delay_is_passed_to_sleep() -> None:
    robots = Response(body=b"User-agent: *\nCrawl-delay: 2\n", headers=TEXT)
    sleeps: list[float] = []
    with site(robots) as server:
        outcomes = run(server, sleep=sleeps.append)
    # robots.txt, then 4 pages: every request after the first waits ~2 s on the same host.
    assert len(outcomes) == 4
    assert len(sleeps) == 4
    assert all(1.5 < s <= 2.0 for s in sleeps)


def test_crawl_delay_is_capped_and_politeness_floor_applies() -> None:
    robots = Response(body=b"User-agent: *\nCrawl-delay: 3600\n", headers=TEXT)
    sleeps: list[float] = []
    with site(robots) as server:
        run(server, sleep=sleeps.append)
    assert sleeps and all(9.0 < s <= 10.0 for s in sleeps)

    sleeps.clear()
    with site(None) as server:
        run(server, sleep=sleeps.append, limits=CrawlLimits(politeness_delay_s=0.7))
    assert len(sleeps) == 4 and all(0.5 < s <= 0.7 for s in sleeps)


def test_missing_robots_allows_everything() -> None:
    with site(None) as server:
        statuses = {o.status for o in run(server)}
    assert statuses == {"fetched"}


def test_robots_server_error_means_disallow_all() -> None:
    # RFC 9309 2.3.1.4: an unreachable robots.txt means the whole site is off limits.
    with site(Response(503, b"down")) as server:
        outcomes = run(server)
        assert server.paths() == ["/robots.txt"]
    assert [o.status for o in outcomes] == ["skipped_robots"]

"""Same-site scoping, link filtering and URL canonicalisation."""

from __future__ import annotations

import pytest

from faq_ingest.crawl import canonicalize_url, crawl_site, extract_links
from faq_ingest.fetch import Fetcher
from tests.httpserver import LocalHTTPServer, html, redirect


@pytest.fixture
def other_site():
    with LocalHTTPServer({"/": html("other")}) as server:
        yield server


def test_external_links_are_not_followed(other_site: LocalHTTPServer) -> None:
    page = f"""
      <a href="{other_site.url("/")}">same host, other port</a>
      <a href="/faq#returns">fragment</a>
      <a href="/faq">same page without fragment</a>
      <a href="mailto:help@example.com">mail</a>
      <a href="javascript:void(0)">js</a>
      <a href="tel:+123">phone</a>
      <a href="/manual.PDF">pdf</a>
      <a href="/logo.png">png</a>
      <a href="/search?q=refund">query kept</a>
    """
    routes = {"/": html(page), "/faq": html("faq"), "/search": html("results")}
    with LocalHTTPServer(routes) as server:
        with Fetcher(allowed_private_hosts=["127.0.0.1"], retries=0) as fetcher:
            outcomes = list(crawl_site([server.url("/")], fetcher, use_sitemap=False))
        assert server.paths().count("/faq") == 1
        assert "/manual.PDF" not in server.paths()
        assert "/logo.png" not in server.paths()
    assert other_site.hits("/") == 0
    assert [o.url for o in outcomes] == [
        server.url("/"),
        server.url("/faq"),
        server.url("/search?q=refund"),
    ]
    assert outcomes[0].links == [server.url("/faq"), server.url("/search?q=refund")]


def test_offsite_redirect_is_reported_not_crawled(other_site: LocalHTTPServer) -> None:
    routes = {"/": html('<a href="/out">out</a>'), "/out": redirect(other_site.url("/"))}
    with (
        LocalHTTPServer(routes) as server,
        Fetcher(allowed_private_hosts=["127.0.0.1"], retries=0) as fetcher,
    ):
        outcomes = {o.url: o for o in crawl_site([server.url("/")], fetcher)}
    out = outcomes[server.url("/out")]
    assert out.status == "failed"
    assert out.error is not None and out.error.code == "offsite_redirect"


def test_meta_robots_nofollow_stops_link_following() -> None:
    page = '<meta name="robots" content="noindex, nofollow"><a href="/next">n</a>'
    with LocalHTTPServer({"/": html(page), "/next": html("n")}) as server:
        with Fetcher(allowed_private_hosts=["127.0.0.1"], retries=0) as fetcher:
            list(crawl_site([server.url("/")], fetcher, use_sitemap=False))
        assert server.hits("/next") == 0


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTP://Help.Example.COM:80/a#x", "http://help.example.com/a"),
        ("https://help.example.com:443", "https://help.example.com/"),
        ("https://help.example.com:8443/a?b=1&c=2", "https://help.example.com:8443/a?b=1&c=2"),
        ("https://user:pw@help.example.com/", "https://help.example.com/"),
        (
            "https://help.example.com/常见问题",
            "https://help.example.com/%E5%B8%B8%E8%A7%81%E9%97%AE%E9%A2%98",
        ),
        ("https://help.example.com/%E5%B8%B8", "https://help.example.com/%E5%B8%B8"),
        ("mailto:a@b.c", None),
        ("ftp://help.example.com/", None),
        ("http://[::1]:80/x", "http://[::1]/x"),
    ],
)
def test_canonicalize_url(raw: str, expected: str | None) -> None:
    assert canonicalize_url(raw) == expected


def test_extract_links_honours_base_href() -> None:
    page = '<base href="https://h.example/docs/"><a href="faq.html">f</a><a href="#top">t</a>'
    links, follow = extract_links(page, "https://h.example/index.html")
    assert links == ["https://h.example/docs/faq.html"]
    assert follow

"""Sitemap discovery: robots.txt Sitemap: lines, sitemap indexes, /sitemap.xml fallback, gzip."""

from __future__ import annotations

import gzip

from faq_ingest.crawl import crawl_site, parse_sitemap
from faq_ingest.fetch import Fetcher
from tests.httpserver import LocalHTTPServer, Response, html

XML = {"Content-Type": "application/xml"}


def urlset(*urls: str) -> bytes:
    items = "".join(f"<url><loc>{u}</loc></url>" for u in urls)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</urlset>'
    ).encode()


def index(*urls: str) -> bytes:
    items = "".join(f"<sitemap><loc>{u}</loc></sitemap>" for u in urls)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</sitemapindex>'
    ).encode()


def crawl(server: LocalHTTPServer, **kw) -> dict[str, str]:
    with Fetcher(allowed_private_hosts=["127.0.0.1"], retries=0) as fetcher:
        return {o.url: o.status for o in crawl_site([server.url("/")], fetcher, **kw)}


def test_sitemap_index_from_robots_is_followed_recursively() -> None:
    server = LocalHTTPServer()
    u = server.url
    server.routes.update(
        {
            "/": html("<p>home, no links</p>"),
            "/robots.txt": Response(
                body=f"User-agent: *\nAllow: /\nSitemap: {u('/maps/index.xml')}\n".encode(),
                headers={"Content-Type": "text/plain"},
            ),
            "/maps/index.xml": Response(
                body=index(u("/maps/a.xml"), u("/maps/b.xml")), headers=XML
            ),
            "/maps/a.xml": Response(body=urlset(u("/faq/shipping")), headers=XML),
            "/maps/b.xml": Response(
                body=urlset(u("/faq/returns"), "http://elsewhere.example/x"), headers=XML
            ),
            "/faq/shipping": html("shipping"),
            "/faq/returns": html("returns"),
        }
    )
    with server:
        seen = crawl(server)
        assert server.hits("/sitemap.xml") == 0  # robots named the sitemap; no guessing
    assert seen == {
        u("/"): "fetched",
        u("/faq/shipping"): "fetched",
        u("/faq/returns"): "fetched",
    }


def test_root_sitemap_used_when_robots_names_none() -> None:
    server = LocalHTTPServer()
    server.routes.update(
        {
            "/": html("home"),
            "/sitemap.xml": Response(body=urlset(server.url("/help")), headers=XML),
            "/help": html("help"),
        }
    )
    with server:
        assert server.url("/help") in crawl(server)


def test_gzip_sitemap() -> None:
    server = LocalHTTPServer()
    gz = gzip.compress(urlset(server.url("/zipped")))
    server.routes.update(
        {
            "/": html("home"),
            "/robots.txt": Response(
                body=f"Sitemap: {server.url('/s.xml.gz')}".encode(),
                headers={"Content-Type": "text/plain"},
            ),
            "/s.xml.gz": Response(body=gz, headers={"Content-Type": "application/x-gzip"}),
            "/zipped": html("zipped"),
        }
    )
    with server:
        assert crawl(server).get(server.url("/zipped")) == "fetched"


def test_sitemap_ignored_when_disabled() -> None:
    server = LocalHTTPServer()
    server.routes.update(
        {
            "/": html("home"),
            "/sitemap.xml": Response(body=urlset(server.url("/help")), headers=XML),
            "/help": html("help"),
        }
    )
    with server:
        assert list(crawl(server, use_sitemap=False)) == [server.url("/")]
        assert server.hits("/sitemap.xml") == 0


def test_self_referencing_index_terminates() -> None:
    server = LocalHTTPServer()
    server.routes.update(
        {
            "/": html("home"),
            "/sitemap.xml": Response(body=index(server.url("/sitemap.xml")), headers=XML),
        }
    )
    with server:
        assert list(crawl(server)) == [server.url("/")]
        assert server.hits("/sitemap.xml") == 1


def test_parse_sitemap_refuses_external_entities() -> None:
    evil = (
        b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>http://a.example/&x;</loc></url></urlset>"
    )
    pages, children = parse_sitemap(evil)
    assert children == []
    assert all("root:" not in p for p in pages)


def test_parse_text_sitemap() -> None:
    assert parse_sitemap(b"http://a.example/1\n\nhttps://a.example/2\n") == (
        ["http://a.example/1", "https://a.example/2"],
        [],
    )

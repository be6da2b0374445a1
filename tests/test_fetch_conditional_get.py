"""Conditional GET: If-None-Match / If-Modified-Since are sent and a 304 is reported as such."""

from __future__ import annotations

from faq_ingest.fetch import Fetcher
from tests.httpserver import LocalHTTPServer, RecordedRequest, Response, html

ETAG = '"faq-v7"'
LAST_MODIFIED = "Wed, 21 Oct 2025 07:28:00 GMT"


def validating_route(req: RecordedRequest) -> Response:
    headers = {"ETag": ETAG, "Last-Modified": LAST_MODIFIED}
    if req.headers.get("if-none-match") == ETAG:
        return Response(304, headers=headers)
    if req.headers.get("if-modified-since") == LAST_MODIFIED:
        return Response(304, headers=headers)
    return html("<h1>FAQ</h1>", headers=headers)


def fetcher() -> Fetcher:
    return Fetcher(allowed_private_hosts=["127.0.0.1"])


def test_first_fetch_returns_validators() -> None:
    with LocalHTTPServer({"/faq": validating_route}) as server, fetcher() as f:
        result = f.fetch(server.url("/faq"))
    assert (result.status, result.not_modified) == (200, False)
    assert (result.etag, result.last_modified) == (ETAG, LAST_MODIFIED)


def test_etag_gives_304() -> None:
    with LocalHTTPServer({"/faq": validating_route}) as server, fetcher() as f:
        result = f.fetch(server.url("/faq"), etag=ETAG)
        sent = server.requests_for("/faq")[0].headers
    assert sent["if-none-match"] == ETAG
    assert "if-modified-since" not in sent
    assert (result.status, result.not_modified) == (304, True)
    assert (result.body, result.text, result.content_hash) == (b"", "", "")
    assert result.etag == ETAG


def test_last_modified_gives_304() -> None:
    with LocalHTTPServer({"/faq": validating_route}) as server, fetcher() as f:
        result = f.fetch(server.url("/faq"), last_modified=LAST_MODIFIED)
    assert result.not_modified
    assert result.last_modified == LAST_MODIFIED


def test_stale_etag_gets_full_body() -> None:
    with LocalHTTPServer({"/faq": validating_route}) as server, fetcher() as f:
        result = f.fetch(server.url("/faq"), etag='"faq-v6"')
    assert result.status == 200
    assert result.text == "<h1>FAQ</h1>"


def test_no_conditional_headers_without_validators() -> None:
    with LocalHTTPServer({"/faq": validating_route}) as server, fetcher() as f:
        f.fetch(server.url("/faq"))
        sent = server.requests_for("/faq")[0].headers
    assert "if-none-match" not in sent
    assert "if-modified-since" not in sent

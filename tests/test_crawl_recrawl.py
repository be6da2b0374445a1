"""Re-crawls use prior validators: 304 -> not_modified, same hash -> unchanged, gone -> failed."""

from __future__ import annotations

import hashlib

from faq_ingest.crawl import PriorPage, crawl_site
from faq_ingest.fetch import Fetcher
from tests.httpserver import LocalHTTPServer, RecordedRequest, Response, html

ETAG = '"home-v2"'


def home(req: RecordedRequest) -> Response:
    if req.headers.get("if-none-match") == ETAG:
        return Response(304, headers={"ETag": ETAG})
    return html('<a href="/faq">faq</a>', headers={"ETag": ETAG})


FAQ_BODY = b"<p>same as last time</p>"


def test_recrawl_statuses() -> None:
    routes = {
        "/": home,
        "/faq": html(FAQ_BODY),
        "/old-page": Response(410, b"gone", {"Content-Type": "text/plain"}),
    }
    with LocalHTTPServer(routes) as server:
        prior = {
            server.url("/"): PriorPage(etag=ETAG, last_modified=None, content_hash="x"),
            server.url("/faq"): PriorPage(
                etag=None, last_modified=None, content_hash=hashlib.sha256(FAQ_BODY).hexdigest()
            ),
            # Known from last time but linked from nowhere now (its parent answered 304).
            server.url("/old-page"): PriorPage(etag=None, last_modified=None, content_hash="y"),
        }
        with Fetcher(allowed_private_hosts=["127.0.0.1"], retries=0) as fetcher:
            outcomes = {o.url: o for o in crawl_site([server.url("/")], fetcher, prior=prior)}
    assert outcomes[server.url("/")].status == "not_modified"
    assert outcomes[server.url("/")].result.not_modified
    assert outcomes[server.url("/faq")].status == "unchanged"
    old = outcomes[server.url("/old-page")]
    assert old.status == "failed"
    assert old.error is not None and (old.error.code, old.error.permanent) == ("http_410", True)


def test_changed_page_is_fetched() -> None:
    with LocalHTTPServer({"/": html("new text")}) as server:
        prior = {server.url("/"): PriorPage(etag=None, last_modified=None, content_hash="old")}
        with Fetcher(allowed_private_hosts=["127.0.0.1"], retries=0) as fetcher:
            (outcome,) = crawl_site([server.url("/")], fetcher, prior=prior)
    assert outcome.status == "fetched"
    assert outcome.result is not None and outcome.result.text == "new text"

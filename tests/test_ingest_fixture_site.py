"""`FaqSite`: the editable help centre the ingestion tests crawl over real HTTP.

The helper lives in a test module because the tests own no shared module; the tests below
pin the two properties the others rely on (ETag revalidation and editable pages).
"""

from __future__ import annotations

import hashlib
import html as html_lib

import requests

from faq_ingest.models import Faq, FaqSource
from tests.httpserver import LocalHTTPServer, RecordedRequest, Response, html

Qa = tuple[str, str]


class FaqSite:
    """A small help centre: every page links to every other and lists its FAQs as
    <details> blocks. Tests change `pages` or `broken` between crawls; pages carry an
    ETag and answer 304 to a matching If-None-Match, like a real CMS."""

    def __init__(self, pages: dict[str, list[Qa]]) -> None:
        self.pages = {path: list(faqs) for path, faqs in pages.items()}
        self.broken: dict[str, int] = {}  # path -> HTTP status to answer instead

    def body(self, path: str) -> bytes:
        nav = "".join(f'<a href="{p}">{p}</a> ' for p in self.pages)
        items = "".join(
            f"<details><summary>{html_lib.escape(q)}</summary><p>{html_lib.escape(a)}</p></details>"
            for q, a in self.pages[path]
        )
        return (
            f"<!DOCTYPE html><html lang='en'><head><title>Help {path}</title></head>"
            f"<body><nav>{nav}</nav><main><h1>Frequently asked questions</h1>{items}</main>"
            "</body></html>"
        ).encode()

    def respond(self, req: RecordedRequest) -> Response:
        if req.path in self.broken:
            return Response(self.broken[req.path], b"broken", {"Content-Type": "text/plain"})
        if req.path not in self.pages:
            return Response(404, b"not found", {"Content-Type": "text/plain"})
        body = self.body(req.path)
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if req.headers.get("if-none-match") == etag:
            return Response(304, headers={"ETag": etag})
        return html(body, headers={"ETag": etag})

    def serve(self) -> LocalHTTPServer:
        return LocalHTTPServer(default=self.respond)


def make_source(server: LocalHTTPServer, **fields: object) -> FaqSource:
    return FaqSource.objects.create(**{"name": "Test help", "start_url": server.url("/"), **fields})


def faq(question: str) -> Faq:
    return Faq.objects.get(question=question)


def test_site_answers_304_to_its_own_etag() -> None:
    site = FaqSite({"/": [("Q?", "A.")]})
    with site.serve() as server:
        first = requests.get(server.url("/"), timeout=5)
        again = requests.get(
            server.url("/"), headers={"If-None-Match": first.headers["ETag"]}, timeout=5
        )
        site.pages["/"] = [("Q?", "Changed.")]
        changed = requests.get(
            server.url("/"), headers={"If-None-Match": first.headers["ETag"]}, timeout=5
        )
    assert first.status_code == 200 and "<summary>Q?</summary>" in first.text
    assert again.status_code == 304 and again.content == b""
    assert changed.status_code == 200 and "Changed." in changed.text


def test_site_can_break_a_page() -> None:
    site = FaqSite({"/": [("Q?", "A.")]})
    site.broken["/"] = 500
    with site.serve() as server:
        assert requests.get(server.url("/"), timeout=5).status_code == 500
        assert requests.get(server.url("/nope"), timeout=5).status_code == 404

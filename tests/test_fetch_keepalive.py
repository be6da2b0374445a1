"""Keep-alive: after 200s, 304s, redirects and refused answers the connection goes back to the
pool, so a crawl of one host reuses a single TCP connection; a cut-off body does not."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from faq_ingest.fetch import Fetcher, FetchError

PAGE = b"<html><body><h2>How?</h2><p>Like this.</p></body></html>"


class _Server:
    """HTTP/1.1 server that records which client connection served each request."""

    def __init__(self) -> None:
        self.connections: list[int] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - stdlib naming
                owner.connections.append(self.client_address[1])
                status, headers, body = owner.route(self.path)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if status != 304:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def route(self, path: str) -> tuple[int, dict[str, str], bytes]:
        html = {"Content-Type": "text/html; charset=utf-8"}
        if path == "/not-modified":
            return 304, {"ETag": '"v1"'}, b""
        if path == "/missing":
            return 404, html, b"<h1>Not found</h1>" * 100
        if path == "/moved":
            return 301, {"Location": "/page", **html}, b"<a href='/page'>moved</a>"
        if path == "/manual.pdf":
            return 200, {"Content-Type": "application/pdf"}, b"%PDF-1.4" * 100
        if path == "/huge":
            return 200, html, b"x" * 200_000
        return 200, html, PAGE

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server()
    yield srv
    srv.stop()


def fetch(fetcher: Fetcher, url: str, **kwargs: str) -> str:
    try:
        return str(fetcher.fetch(url, **kwargs).status)
    except FetchError as err:
        return err.code


def test_one_connection_serves_pages_304s_redirects_and_refusals(server: _Server) -> None:
    with Fetcher(allowed_private_hosts=["127.0.0.1"], retries=0) as fetcher:
        outcomes = [
            fetch(fetcher, server.url("/page")),
            fetch(fetcher, server.url("/not-modified"), etag='"v1"'),
            fetch(fetcher, server.url("/page")),
            fetch(fetcher, server.url("/missing")),
            fetch(fetcher, server.url("/moved")),
            fetch(fetcher, server.url("/manual.pdf")),
            fetch(fetcher, server.url("/page")),
        ]
    assert outcomes == ["200", "304", "200", "http_404", "200", "bad_content_type", "200"]
    assert len(server.connections) == 8  # the redirect costs one extra request
    assert len(set(server.connections)) == 1


def test_abandoned_oversized_body_is_not_reused(server: _Server) -> None:
    with Fetcher(allowed_private_hosts=["127.0.0.1"], retries=0, max_bytes=100_000) as fetcher:
        assert fetch(fetcher, server.url("/huge")) == "too_large"
        # The unread rest of that body must not be taken for the next response.
        result = fetcher.fetch(server.url("/page"))
    assert result.body == PAGE
    assert len(set(server.connections)) == 2

"""Timeouts, the byte cap (streamed, with and without Content-Length) and Content-Type checks."""

from __future__ import annotations

import time

import pytest

from faq_ingest.fetch import Fetcher, FetchError
from tests.httpserver import LocalHTTPServer, Response, stream_bytes

FIFTY_MB = 50_000_000
HTML = {"Content-Type": "text/html"}


def fetcher(**kw) -> Fetcher:
    kw.setdefault("retries", 0)
    return Fetcher(allowed_private_hosts=["127.0.0.1"], **kw)


def fetch_error(server: LocalHTTPServer, path: str, **kw) -> FetchError:
    with fetcher(**kw) as f, pytest.raises(FetchError) as info:
        f.fetch(server.url(path))
    return info.value


def test_slow_server_hits_read_timeout() -> None:
    routes = {"/slow": Response(body=b"late", headers=HTML, delay_s=3.0)}
    with LocalHTTPServer(routes) as server:
        started = time.monotonic()
        err = fetch_error(server, "/slow", read_timeout=0.5)
        assert time.monotonic() - started < 2.0
    assert err.code == "timeout"
    assert not err.permanent  # timeouts are transient and get retried


def test_trickling_body_hits_total_deadline() -> None:
    slow_body = Response(body=stream_bytes(100, chunk_size=1), headers=HTML, chunk_delay_s=0.05)
    with LocalHTTPServer({"/drip": slow_body}) as server:
        err = fetch_error(server, "/drip", read_timeout=1.0, total_timeout=0.5)
    assert err.code == "timeout"


@pytest.mark.parametrize("declare_length", [True, False])
def test_fifty_megabyte_body_is_cut_at_the_cap(declare_length: bool) -> None:
    body = Response(
        body=stream_bytes(FIFTY_MB),  # a generator: the server never holds 50 MB either
        headers=HTML,
        content_length=FIFTY_MB if declare_length else None,
    )
    with LocalHTTPServer({"/huge": body}) as server:
        started = time.monotonic()
        err = fetch_error(server, "/huge", max_bytes=1_000_000)
        elapsed = time.monotonic() - started
    assert err.code == "too_large"
    assert err.permanent
    assert elapsed < 3.0
    # With a declared length the fetcher refuses before reading any body.
    assert ("Content-Length" in str(err)) is declare_length


def test_body_exactly_at_cap_is_accepted() -> None:
    routes = {"/ok": Response(body=b"x" * 1000, headers=HTML)}
    with LocalHTTPServer(routes) as server, fetcher(max_bytes=1000) as f:
        assert len(f.fetch(server.url("/ok")).body) == 1000


@pytest.mark.parametrize("ctype", ["image/png", "application/pdf", "application/octet-stream", ""])
def test_binary_content_type_is_rejected_before_reading(ctype: str) -> None:
    headers = {"Content-Type": ctype} if ctype else {}
    routes = {"/img": Response(body=stream_bytes(FIFTY_MB, fill=b"\x89"), headers=headers)}
    with LocalHTTPServer(routes) as server:
        err = fetch_error(server, "/img", max_bytes=FIFTY_MB * 2)
    assert err.code == "bad_content_type"
    assert err.permanent


def test_result_fields_for_a_normal_page() -> None:
    headers = {"Content-Type": "text/html; charset=utf-8", "ETag": '"v1"', "Last-Modified": "x"}
    routes = {"/p": Response(body="<p>é</p>".encode(), headers=headers)}
    with LocalHTTPServer(routes) as server, fetcher() as f:
        result = f.fetch(server.url("/p"))
        sent = server.requests_for("/p")[0].headers
    assert result.content_type == "text/html"
    assert result.text == "<p>é</p>"
    assert (result.etag, result.last_modified) == ('"v1"', "x")
    assert len(result.content_hash) == 64
    assert not result.not_modified
    assert sent["user-agent"].startswith("NorthwindFAQBot/")

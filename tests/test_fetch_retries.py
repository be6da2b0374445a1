"""Transient failures are retried with backoff (or Retry-After); permanent ones never are."""

from __future__ import annotations

import socket

import pytest

from faq_ingest.fetch import Fetcher, FetchError
from tests.httpserver import LocalHTTPServer, RecordedRequest, Response, html


def flaky(*statuses: int, headers: dict[str, str] | None = None):
    """A route answering with `statuses` in turn, then 200."""
    remaining = list(statuses)

    def route(_req: RecordedRequest) -> Response:
        if remaining:
            return Response(remaining.pop(0), b"oops", headers or {"Content-Type": "text/plain"})
        return html("recovered")

    return route


class SleepRecorder:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def make_fetcher(sleep: SleepRecorder, **kw) -> Fetcher:
    return Fetcher(allowed_private_hosts=["127.0.0.1"], sleep=sleep, backoff_base=0.5, **kw)


def test_500_then_recovery() -> None:
    sleep = SleepRecorder()
    with LocalHTTPServer({"/p": flaky(500, 503)}) as server, make_fetcher(sleep) as f:
        result = f.fetch(server.url("/p"))
        assert server.hits("/p") == 3
    assert result.text == "recovered"
    # Equal-jitter exponential backoff: attempt n waits in [base*2^n/2, base*2^n].
    assert 0.25 <= sleep.calls[0] <= 0.5
    assert 0.5 <= sleep.calls[1] <= 1.0


def test_retries_are_capped() -> None:
    sleep = SleepRecorder()
    with LocalHTTPServer({"/p": flaky(500, 500, 500, 500)}) as server:
        with make_fetcher(sleep, retries=2) as f, pytest.raises(FetchError) as info:
            f.fetch(server.url("/p"))
        assert server.hits("/p") == 3
    assert info.value.code == "http_5xx"
    assert not info.value.permanent
    assert len(sleep.calls) == 2


def test_429_honours_retry_after() -> None:
    sleep = SleepRecorder()
    routes = {"/p": flaky(429, headers={"Retry-After": "2"})}
    with LocalHTTPServer(routes) as server, make_fetcher(sleep) as f:
        assert f.fetch(server.url("/p")).text == "recovered"
    assert sleep.calls == [2.0]


def test_long_retry_after_is_not_waited_for() -> None:
    sleep = SleepRecorder()
    routes = {"/p": flaky(503, headers={"Retry-After": "3600"})}
    with LocalHTTPServer(routes) as server, make_fetcher(sleep) as f:
        with pytest.raises(FetchError) as info:
            f.fetch(server.url("/p"))
        assert server.hits("/p") == 1
    assert info.value.code == "http_5xx"
    assert sleep.calls == []


@pytest.mark.parametrize(
    ("status", "code"), [(404, "http_404"), (410, "http_410"), (403, "http_403")]
)
def test_client_errors_are_permanent_and_not_retried(status: int, code: str) -> None:
    sleep = SleepRecorder()
    with LocalHTTPServer({"/p": flaky(status)}) as server, make_fetcher(sleep) as f:
        with pytest.raises(FetchError) as info:
            f.fetch(server.url("/p"))
        assert server.hits("/p") == 1
    assert (info.value.code, info.value.permanent) == (code, True)
    assert sleep.calls == []


def test_timeout_is_retried() -> None:
    sleep = SleepRecorder()
    calls = []

    def slow_once(_req: RecordedRequest) -> Response:
        calls.append(1)
        return html("ok", delay_s=1.5 if len(calls) == 1 else 0.0)

    with LocalHTTPServer({"/p": slow_once}) as server, make_fetcher(sleep, read_timeout=0.3) as f:
        assert f.fetch(server.url("/p")).text == "ok"
    assert len(sleep.calls) == 1


def test_refused_port_is_permanent_connection_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens on `port` now.
    sleep = SleepRecorder()
    with make_fetcher(sleep) as f, pytest.raises(FetchError) as info:
        f.fetch(f"http://127.0.0.1:{port}/")
    assert (info.value.code, info.value.permanent) == ("connection_refused", True)
    assert sleep.calls == []

"""Redirects are followed by hand so every hop is re-checked; loops and long chains stop."""

from __future__ import annotations

import pytest

import faq_ingest.fetch as fetch_module
from faq_ingest.fetch import Fetcher, FetchError
from tests.httpserver import LocalHTTPServer, html, redirect


@pytest.fixture
def second_loopback():
    """A real server on 127.0.0.2, so a refusal cannot be a mere connection error."""
    with LocalHTTPServer({"/x": html("internal")}, host="127.0.0.2") as server:
        yield server


def test_redirect_to_other_loopback_address_is_refused(second_loopback) -> None:
    target = second_loopback.url("/x")
    with (
        LocalHTTPServer({"/go": redirect(target)}) as server,
        Fetcher(allowed_private_hosts=["127.0.0.1"], retries=0) as fetcher,
        pytest.raises(FetchError) as info,
    ):
        fetcher.fetch(server.url("/go"))
    assert info.value.code == "blocked_address"
    assert info.value.permanent
    assert second_loopback.hits("/x") == 0


def test_same_redirect_works_when_target_is_allowlisted(second_loopback) -> None:
    with (
        LocalHTTPServer({"/go": redirect(second_loopback.url("/x"), 301)}) as server,
        Fetcher(allowed_private_hosts=["127.0.0.1", "127.0.0.2"]) as fetcher,
    ):
        result = fetcher.fetch(server.url("/go"))
    assert result.url == second_loopback.url("/x")
    assert result.text == "internal"


def test_relative_redirect_is_resolved_and_final_url_reported() -> None:
    routes = {"/old": redirect("/new#frag", 308), "/new": html("moved")}
    with LocalHTTPServer(routes) as server, Fetcher(allowed_private_hosts=["127.0.0.1"]) as f:
        result = f.fetch(server.url("/old"))
    assert (result.url, result.status, result.text) == (server.url("/new"), 200, "moved")


def test_redirect_loop_is_detected() -> None:
    routes = {"/a": redirect("/b"), "/b": redirect("/a")}
    with LocalHTTPServer(routes) as server, Fetcher(allowed_private_hosts=["127.0.0.1"]) as f:
        with pytest.raises(FetchError) as info:
            f.fetch(server.url("/a"))
        assert info.value.code == "redirect_loop"
        assert info.value.permanent
        assert server.hits("/a") == 1  # permanent: not retried


def test_too_many_redirects() -> None:
    routes = {f"/{i}": redirect(f"/{i + 1}") for i in range(10)}
    with (
        LocalHTTPServer(routes) as server,
        Fetcher(allowed_private_hosts=["127.0.0.1"], max_redirects=3) as f,
    ):
        with pytest.raises(FetchError) as info:
            f.fetch(server.url("/0"))
        assert info.value.code == "too_many_redirects"
        assert server.paths() == ["/0", "/1", "/2", "/3"]


def test_every_hop_is_checked_before_connecting(monkeypatch: pytest.MonkeyPatch) -> None:
    checked: list[str] = []
    real_check = fetch_module.check_url_allowed

    def spy(url: str, allowed=()) -> None:
        checked.append(url)
        real_check(url, allowed)

    monkeypatch.setattr(fetch_module, "check_url_allowed", spy)
    routes = {"/a": redirect("/b"), "/b": redirect("/c"), "/c": html("end")}
    with LocalHTTPServer(routes) as server, Fetcher(allowed_private_hosts=["127.0.0.1"]) as f:
        f.fetch(server.url("/a"))
    assert checked == [server.url("/a"), server.url("/b"), server.url("/c")]

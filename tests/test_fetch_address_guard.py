"""check_url_allowed and Fetcher refuse private/loopback/metadata targets unless allowlisted."""

from __future__ import annotations

import pytest

from faq_ingest.fetch import Fetcher, FetchError, allowed_private_hosts_from_env, check_url_allowed
from tests.httpserver import LocalHTTPServer, html


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://127.0.0.2:8080/faq",
        "http://10.0.0.1/",
        "http://192.168.1.10/",
        "http://172.16.0.1/",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata endpoint
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",  # IPv4-mapped IPv6 of loopback
        "http://[fe80::1]/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",  # multicast counts as "global" in ipaddress; must still be refused
        "http://100.64.0.1/",  # carrier-grade NAT
        "http://localhost/",
        "http://LOCALHOST./",
        "http://2130706433/",  # 127.0.0.1 as a decimal integer, resolved by getaddrinfo
    ],
)
def test_private_targets_are_blocked(url: str) -> None:
    with pytest.raises(FetchError) as info:
        check_url_allowed(url)
    assert info.value.code == "blocked_address"
    assert info.value.permanent


@pytest.mark.parametrize(
    "url", ["ftp://example.com/", "file:///etc/passwd", "http:///nohost", "http://h:99999/", "x"]
)
def test_non_http_or_malformed_urls_are_invalid(url: str) -> None:
    with pytest.raises(FetchError) as info:
        check_url_allowed(url)
    assert info.value.code == "invalid_url"
    assert info.value.permanent


def test_public_ip_literal_is_allowed() -> None:
    check_url_allowed("http://93.184.215.14/")  # no DNS needed for a literal
    check_url_allowed("https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/")


def test_allowlisted_ip_is_allowed_and_only_that_ip() -> None:
    check_url_allowed("http://127.0.0.1:8000/", ["127.0.0.1"])
    check_url_allowed("http://[0:0::1]/", ["::1"])  # allowlist compares normalised IPs
    with pytest.raises(FetchError):
        check_url_allowed("http://127.0.0.2:8000/", ["127.0.0.1"])


def test_fetcher_refuses_loopback_without_allowlist_before_connecting() -> None:
    with LocalHTTPServer({"/": html("hi")}) as server, Fetcher(retries=0) as fetcher:
        with pytest.raises(FetchError) as info:
            fetcher.fetch(server.url("/"))
        assert info.value.code == "blocked_address"
        assert server.hits("/") == 0


def test_fetcher_reaches_loopback_with_allowlist() -> None:
    with (
        LocalHTTPServer({"/": html("hi")}) as server,
        Fetcher(allowed_private_hosts=["127.0.0.1"]) as fetcher,
    ):
        assert fetcher.fetch(server.url("/")).text == "hi"


def test_peer_address_is_rechecked_at_connect_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # Simulates DNS rebinding: the pre-flight check passed, but the socket lands on loopback.
    monkeypatch.setattr("faq_ingest.fetch.check_url_allowed", lambda url, allowed=(): None)
    with LocalHTTPServer({"/": html("secret")}) as server, Fetcher(retries=0) as fetcher:
        with pytest.raises(FetchError) as info:
            fetcher.fetch(server.url("/"))
        assert info.value.code == "blocked_address"
        assert server.hits("/") == 0


def test_allowlist_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRAWLER_ALLOWED_PRIVATE_HOSTS", " 127.0.0.1, ,help.intranet ,")
    assert allowed_private_hosts_from_env() == ["127.0.0.1", "help.intranet"]
    monkeypatch.delenv("CRAWLER_ALLOWED_PRIVATE_HOSTS")
    assert allowed_private_hosts_from_env() == []

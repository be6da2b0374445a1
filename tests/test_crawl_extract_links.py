"""Link discovery reads <a href>, the first <base href> and robots <meta> in document order,
from any page lxml can make sense of (it no longer builds a BeautifulSoup tree for that)."""

from __future__ import annotations

import pytest

from faq_ingest.crawl import extract_links

PAGE_URL = "https://h.example/help/index.html"


def test_links_in_document_order_deduplicated_and_canonical() -> None:
    page = (
        "<nav><a href='/b'>b</a></nav><main><a href=' a.html '>a</a><a href='/b#x'>again</a>"
        "<a href='HTTPS://H.EXAMPLE:443/c?q=1'>c</a></main>"
    )
    links, follow = extract_links(page, PAGE_URL)
    assert links == [
        "https://h.example/b",
        "https://h.example/help/a.html",
        "https://h.example/c?q=1",
    ]
    assert follow


def test_non_page_schemes_fragments_and_empty_hrefs_are_skipped() -> None:
    page = (
        "<a href=''>e</a><a href='#top'>t</a><a href='mailto:x@h.example'>m</a>"
        "<a href='JavaScript:alert(1)'>j</a><a href='tel:123'>p</a><a>none</a><a href='/ok'>ok</a>"
    )
    assert extract_links(page, PAGE_URL) == (["https://h.example/ok"], True)


def test_first_base_href_wins_even_after_links() -> None:
    page = "<a href='x'>x</a><base href='/docs/'><base href='/other/'>"
    assert extract_links(page, PAGE_URL)[0] == ["https://h.example/docs/x"]


@pytest.mark.parametrize(
    ("meta", "follow"),
    [
        ("<meta name='robots' content='noindex, NOFOLLOW'>", False),
        ("<meta name='NorthwindFAQBot' content='none'>", False),
        ("<meta name='googlebot' content='nofollow'>", True),
        ("<meta name='robots' content='index, follow'>", True),
        ("<meta content='nofollow'>", True),
    ],
)
def test_robots_meta_controls_following(meta: str, follow: bool) -> None:
    links, allowed = extract_links(f"<head>{meta}</head><a href='/x'>x</a>", PAGE_URL)
    assert links == ["https://h.example/x"]
    assert allowed is follow


@pytest.mark.parametrize(
    "page", ["", "   ", "no markup at all", "<?xml version='1.0' encoding='utf-8'?><p>x</p>"]
)
def test_pages_without_links_yield_none(page: str) -> None:
    assert extract_links(page, PAGE_URL) == ([], True)

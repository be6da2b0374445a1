"""Crawl one help-centre site: robots.txt, sitemaps, then same-site links, breadth first.

The crawler knows nothing about Django or the database. It yields one `PageOutcome` per URL
it decided about, and the caller stores them; `prior` (what the last crawl saw) turns the
re-crawl into conditional GETs.

Requests to a host are made one at a time. That is deliberate: a support bot re-reads a few
hundred FAQ pages, so the crawl is bounded by the politeness delay, not by concurrency, and
a sequential loop makes the delay exact and the order reproducible.
`CrawlLimits.max_concurrency_per_host` is kept so a future parallel scheduler has its knob.
"""

from __future__ import annotations

import gzip
import io
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

from lxml import etree
from requests.utils import requote_uri

from faq_ingest.fetch import DEFAULT_CONTENT_TYPES, Fetcher, FetchError, FetchResult
from faq_ingest.robots import RobotsPolicy, fetch_robots

MAX_SITEMAP_DOCUMENTS = 20  # index files can nest; a hostile one could point at itself forever
MAX_SITEMAP_URLS = 50_000  # the sitemap protocol's own per-file limit
_SITEMAP_TYPES = DEFAULT_CONTENT_TYPES + (
    "application/gzip",
    "application/x-gzip",
    "application/octet-stream",  # many servers label .xml.gz this way
)
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_ROBOTS_METAS = ("robots", "northwindfaqbot")
_SKIP_SCHEMES = ("mailto:", "javascript:", "tel:", "data:", "ftp:", "sms:")
# Links that are obviously not pages; fetching them would only end in bad_content_type.
_SKIP_EXTENSIONS = frozenset(
    {
        ".pdf",
        ".zip",
        ".gz",
        ".tgz",
        ".tar",
        ".rar",
        ".7z",
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".webp",
        ".svg",
        ".ico",
        ".bmp",
        ".tif",
        ".tiff",
        ".css",
        ".js",
        ".mjs",
        ".map",
        ".json",
        ".woff",
        ".woff2",
        ".ttf",
        ".otf",
        ".eot",
        ".mp3",
        ".mp4",
        ".m4a",
        ".wav",
        ".ogg",
        ".webm",
        ".avi",
        ".mov",
        ".mkv",
        ".exe",
        ".dmg",
        ".msi",
        ".apk",
        ".iso",
        ".doc",
        ".docx",
        ".xls",
        ".xlsx",
        ".ppt",
        ".pptx",
        ".csv",
    }
)


@dataclass
class CrawlLimits:
    max_pages: int = 200
    max_depth: int = 5
    max_total_bytes: int = 50_000_000
    politeness_delay_s: float = 0.0  # between requests to one host; Crawl-delay raises it
    max_concurrency_per_host: int = 2  # unused yet: requests to a host are sequential


@dataclass
class PriorPage:
    etag: str | None
    last_modified: str | None
    content_hash: str


@dataclass
class PageOutcome:
    url: str  # canonical URL (fragment stripped); the final URL when redirected
    status: str  # "fetched" | "not_modified" | "unchanged" | "failed" | "skipped_robots"
    result: FetchResult | None
    error: FetchError | None
    depth: int
    links: list[str]  # canonical same-site links found on the page, in document order


# --------------------------------------------------------------------------------------------
# URLs
# --------------------------------------------------------------------------------------------


def canonicalize_url(url: str, base: str | None = None) -> str | None:
    """Lowercase scheme/host, drop the default port, userinfo and fragment, keep the query,
    percent-encode consistently. None for anything that is not an http(s) URL."""
    url = url.strip()
    if base is not None:
        url = urljoin(base, url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    # requote_uri makes "/常见问题" and "/%E5%B8%B8..." the same key without double-quoting.
    path = requote_uri(parts.path or "/")
    query = requote_uri(parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))


def url_origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _looks_like_page(url: str) -> bool:
    path = urlsplit(url).path.lower()
    dot = path.rfind(".")
    return dot <= path.rfind("/") or path[dot:] not in _SKIP_EXTENSIONS


def _link_elements(html_text: str) -> list[etree._Element]:
    """<a>, <base> and <meta> elements in document order, from lxml's own tree.

    Link discovery needs three tags and a few attributes; building a BeautifulSoup tree for
    that (even a strained one) cost as much as a page's FAQ extraction. The parser is the
    same libxml2 HTML parser bs4 drives, so the same elements come out.
    """
    parser = etree.HTMLParser(recover=True)
    try:
        parser.feed(html_text)
        root = parser.close()
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return []
    return [] if root is None else list(root.iter("a", "base", "meta"))


def extract_links(html_text: str, page_url: str) -> tuple[list[str], bool]:
    """Return (canonical links in document order, page allows following them).

    The flag is False when the page says <meta name="robots" content="nofollow">.
    """
    elements = _link_elements(html_text)
    follow = True
    base = page_url
    base_seen = False
    anchors: list[str] = []
    for element in elements:
        if element.tag == "a":
            href = element.get("href")
            if href is not None:
                anchors.append(href)
        elif element.tag == "base":
            href = element.get("href")
            if href is not None and not base_seen:
                base_seen = True  # the first <base href> wins, as in browsers
                base = urljoin(page_url, href)
        else:
            name, content = element.get("name"), element.get("content")
            if content is not None and name is not None and name.lower() in _ROBOTS_METAS:
                directives = {d.strip().lower() for d in content.split(",")}
                if directives & {"nofollow", "none"}:
                    follow = False
    links: list[str] = []
    seen: set[str] = set()
    for raw in anchors:
        href = raw.strip()
        if not href or href.startswith("#") or href.lower().startswith(_SKIP_SCHEMES):
            continue
        link = canonicalize_url(href, base)
        if link and link not in seen:
            seen.add(link)
            links.append(link)
    return links, follow


# --------------------------------------------------------------------------------------------
# Sitemaps
# --------------------------------------------------------------------------------------------


def _maybe_gunzip(body: bytes, max_bytes: int) -> bytes:
    if not body.startswith(b"\x1f\x8b"):
        return body
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(body)) as stream:
            data = stream.read(max_bytes + 1)
    except (OSError, EOFError):
        return b""
    # A gzip bomb is cut off at the fetcher's byte cap rather than inflated in full.
    return data[:max_bytes]


def parse_sitemap(body: bytes) -> tuple[list[str], list[str]]:
    """Return (page URLs, child sitemap URLs) from a sitemap, sitemap index or text sitemap."""
    # No DTDs, entities or network: a sitemap is untrusted input (XXE, billion laughs).
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, recover=True, huge_tree=False
    )
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError:
        root = None
    if root is None:
        text = body.decode("utf-8", errors="replace")
        lines = [line.strip() for line in text.splitlines()]
        return [line for line in lines if line.startswith(("http://", "https://"))], []
    locs = [
        (loc.text or "").strip()
        for loc in root.iter("{*}loc")
        if isinstance(loc.tag, str) and (loc.text or "").strip()
    ][:MAX_SITEMAP_URLS]
    if etree.QName(root).localname == "sitemapindex":
        return [], locs
    return locs, []


# --------------------------------------------------------------------------------------------
# Crawl
# --------------------------------------------------------------------------------------------


@dataclass
class _Host:
    robots: RobotsPolicy
    delay_s: float
    last_request: float | None = None


class _Session:
    """Per-crawl state shared by the page loop and sitemap discovery."""

    def __init__(
        self, fetcher: Fetcher, limits: CrawlLimits, sleep: Callable[[float], None]
    ) -> None:
        self.fetcher = fetcher
        self.limits = limits
        self.sleep = sleep
        self.hosts: dict[str, _Host] = {}

    def host(self, origin: str) -> _Host:
        host = self.hosts.get(origin)
        if host is None:
            # Politeness state exists before robots.txt is read so that fetch is counted too.
            host = _Host(robots=RobotsPolicy(parser=None), delay_s=self.limits.politeness_delay_s)
            self.hosts[origin] = host
            host.robots = self._polite(host, lambda: fetch_robots(origin, self.fetcher))
            crawl_delay = host.robots.crawl_delay(self.fetcher.user_agent)
            if crawl_delay is not None:
                host.delay_s = max(host.delay_s, crawl_delay)
        return host

    def fetch(self, url: str, **kwargs) -> FetchResult:  # type: ignore[no-untyped-def]
        host = self.host(url_origin(url))
        return self._polite(host, lambda: self.fetcher.fetch(url, **kwargs))

    def _polite(self, host: _Host, call):  # type: ignore[no-untyped-def]
        if host.last_request is not None and host.delay_s > 0:
            wait = host.delay_s - (time.monotonic() - host.last_request)
            if wait > 0:
                self.sleep(wait)
        try:
            return call()
        finally:
            host.last_request = time.monotonic()


def _sitemap_page_urls(
    session: _Session, origin: str, in_scope: Callable[[str], bool]
) -> list[str]:
    robots = session.host(origin).robots
    pending = deque(robots.sitemaps or [origin + "/sitemap.xml"])
    visited: set[str] = set()
    pages: list[str] = []
    while pending and len(visited) < MAX_SITEMAP_DOCUMENTS:
        sitemap_url = canonicalize_url(pending.popleft())
        # Sitemaps on other hosts are skipped: we would owe those hosts robots and delays too.
        if sitemap_url is None or sitemap_url in visited or not in_scope(sitemap_url):
            continue
        visited.add(sitemap_url)
        try:
            result = session.fetch(sitemap_url, allowed_content_types=_SITEMAP_TYPES)
        except FetchError:
            continue  # no sitemap is normal; links still get crawled
        body = _maybe_gunzip(result.body, session.fetcher.max_bytes)
        page_urls, child_sitemaps = parse_sitemap(body)
        pending.extend(child_sitemaps)
        pages.extend(page_urls)
    return pages


def crawl_site(
    start_urls: Sequence[str],
    fetcher: Fetcher,
    *,
    limits: CrawlLimits | None = None,
    prior: Mapping[str, PriorPage] | None = None,
    use_sitemap: bool = True,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[PageOutcome]:
    """Crawl the sites of `start_urls` (same scheme+host+port only), breadth first.

    Seeds are the start URLs, then sitemap URLs (depth 0), then links (depth + 1). Known
    URLs from `prior` that nothing linked to this time are re-checked last, at max depth,
    so pages that vanished are reported (404/410) and 304 pages, whose links we cannot see,
    do not hide the pages below them.
    """
    limits = limits or CrawlLimits()
    session = _Session(fetcher, limits, sleep)
    user_agent = fetcher.user_agent
    prior_pages = {canonicalize_url(k) or k: v for k, v in (prior or {}).items()}

    seeds = [u for u in (canonicalize_url(s) for s in start_urls) if u]
    origins = list(dict.fromkeys(url_origin(u) for u in seeds))
    origin_set = frozenset(origins)

    def in_scope(url: str) -> bool:
        return url_origin(url) in origin_set

    queue: deque[tuple[str, int]] = deque()
    queued: set[str] = set()

    def enqueue(url: str | None, depth: int) -> None:
        if url and url not in queued and in_scope(url) and _looks_like_page(url):
            queued.add(url)
            queue.append((url, depth))

    for url in seeds:
        enqueue(url, 0)
    if use_sitemap:
        for origin in origins:
            for url in _sitemap_page_urls(session, origin, in_scope):
                enqueue(canonicalize_url(url), 0)

    done: set[str] = set()
    pages = 0
    total_bytes = 0
    prior_revisited = False
    while True:
        if not queue and not prior_revisited:
            prior_revisited = True
            for url in prior_pages:
                if url not in done:
                    enqueue(url, limits.max_depth)
        if not queue:
            return
        url, depth = queue.popleft()
        if url in done:
            continue
        host = session.host(url_origin(url))
        if not host.robots.can_fetch(url, user_agent):
            done.add(url)
            error = FetchError("robots_disallowed", url)
            yield PageOutcome(url, "skipped_robots", None, error, depth, [])
            continue
        if pages >= limits.max_pages or total_bytes >= limits.max_total_bytes:
            return
        pages += 1
        done.add(url)
        known = prior_pages.get(url)
        try:
            result = session.fetch(
                url,
                etag=known.etag if known else None,
                last_modified=known.last_modified if known else None,
            )
        except FetchError as err:
            yield PageOutcome(url, "failed", None, err, depth, [])
            continue

        final_url = canonicalize_url(result.url) or url
        if not in_scope(final_url):
            error = FetchError("offsite_redirect", url, f"redirected to {result.url}")
            yield PageOutcome(url, "failed", None, error, depth, [])
            continue
        if final_url != url:
            if final_url in done:
                continue  # two URLs redirecting to one page: report the page once
            done.add(final_url)
            known = prior_pages.get(final_url, known)
        total_bytes += len(result.body)

        links: list[str] = []
        if result.not_modified:
            status = "not_modified"
        else:
            status = (
                "unchanged" if known and known.content_hash == result.content_hash else "fetched"
            )
            if result.content_type in _HTML_TYPES:
                found, follow = extract_links(result.text, result.url)
                links = [link for link in found if in_scope(link) and _looks_like_page(link)]
                if follow and depth < limits.max_depth:
                    for link in links:
                        enqueue(link, depth + 1)
        yield PageOutcome(final_url, status, result, None, depth, links)

"""The one outbound HTTP session of the project.

Every page the bot reads comes through `Fetcher.fetch`, so this is where the server is
protected from the pages it is pointed at:

* SSRF: a URL is only fetched if its host resolves to public addresses (or is explicitly
  allowlisted). Redirects are followed here, not by `requests`, so every hop is re-checked,
  and the socket's actual peer address is checked again at connect time, which closes the
  gap between our DNS lookup and the one urllib3 does (DNS rebinding).
* Resource limits: (connect, read) timeouts, an overall deadline per attempt (a server that
  trickles one byte per read-timeout would otherwise hold a worker forever), a byte cap
  enforced while streaming, and a Content-Type check before any body is read.
* Politeness and robustness: bounded retries with exponential backoff and jitter for
  transient failures only, honouring a short Retry-After; conditional GETs.

Nothing here touches Django, so it can run in a Celery worker, a script or a test.
"""

from __future__ import annotations

import codecs
import contextlib
import email.message
import email.utils
import hashlib
import http.client
import ipaddress
import os
import random
import re
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import charset_normalizer
import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

DEFAULT_USER_AGENT = "NorthwindFAQBot/0.1 (+self-hosted support bot)"
DEFAULT_CONTENT_TYPES = (
    "text/html",
    "application/xhtml+xml",
    "text/plain",
    "application/xml",
    "text/xml",
)
# A server asking us to come back in an hour is not a transient error worth blocking a
# worker for; above this we give up on the URL for this run instead of sleeping.
MAX_RETRY_AFTER_S = 10.0
_CHUNK_SIZE = 64 * 1024
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

# Codes whose failure will not change if we ask again soon.
PERMANENT_CODES = frozenset(
    {
        "blocked_address",
        "invalid_url",
        "bad_content_type",
        "too_large",
        "redirect_loop",
        "too_many_redirects",
        "http_404",
        "http_410",
        "connection_refused",
        "dns_error",
        "robots_disallowed",
        "offsite_redirect",
    }
)


class FetchError(Exception):
    """A fetch that did not produce a page. `code` is short and stable for storage/metrics."""

    def __init__(
        self,
        code: str,
        url: str,
        message: str = "",
        *,
        permanent: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{code}: {url}" + (f" ({message})" if message else ""))
        self.code = code
        self.url = url
        self.permanent = code in PERMANENT_CODES if permanent is None else permanent
        # Seconds the server asked us to wait (429/503), already parsed; None if not given.
        self.retry_after = retry_after


@dataclass
class FetchResult:
    url: str  # final URL after redirects
    status: int  # 2xx or 304
    not_modified: bool
    body: bytes
    text: str
    content_type: str  # media type only, lowercased, e.g. "text/html"
    etag: str | None
    last_modified: str | None
    content_hash: str  # sha256 hex of body, "" on 304
    elapsed_s: float


# --------------------------------------------------------------------------------------------
# Address guard
# --------------------------------------------------------------------------------------------


def _normalise_host(host: str) -> str:
    host = host.strip().lower().strip("[]").rstrip(".")
    try:
        return str(ipaddress.ip_address(host))  # "0:0::1" and "::1" must compare equal
    except ValueError:
        return host


def _normalise_allowlist(hosts: Iterable[str]) -> frozenset[str]:
    return frozenset(_normalise_host(h) for h in hosts if h and h.strip())


def _is_public_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback, not "global IPv6"
    # is_global alone is not enough: IPv4 multicast counts as global in `ipaddress`.
    return ip.is_global and not (
        ip.is_multicast
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_unspecified
    )


def _address_allowed(address: str, allowed: frozenset[str]) -> bool:
    address = address.split("%", 1)[0]  # drop an IPv6 zone id ("fe80::1%eth0")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if str(ip) in allowed:
        return True
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    if mapped is not None and str(mapped) in allowed:
        return True
    return _is_public_ip(ip)


def check_url_allowed(url: str, allowed_private_hosts: Iterable[str] = ()) -> None:
    """Raise FetchError(code="blocked_address"/"invalid_url") unless the URL is http(s) and
    every address its host resolves to is public (or the host/IP is in allowed_private_hosts).

    An allowlisted *name* trusts whatever it resolves to (that is the operator's intent for
    an intranet help centre); an allowlisted *IP* only permits that exact address.
    """
    allowed = (
        allowed_private_hosts
        if isinstance(allowed_private_hosts, frozenset)
        else _normalise_allowlist(allowed_private_hosts)
    )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchError("invalid_url", url, str(exc)) from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise FetchError("invalid_url", url, f"scheme {parts.scheme!r} is not http(s)")
    if not parts.hostname:
        raise FetchError("invalid_url", url, "no host")
    host = _normalise_host(parts.hostname)
    if host in allowed:
        return
    if port is None:
        port = 443 if parts.scheme.lower() == "https" else 80
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        # EAI_AGAIN is a resolver hiccup worth retrying; NXDOMAIN and friends are not.
        transient = exc.errno == socket.EAI_AGAIN
        raise FetchError("dns_error", url, str(exc), permanent=not transient) from exc
    except UnicodeError as exc:
        raise FetchError("invalid_url", url, f"bad host name: {exc}") from exc
    if not infos:
        raise FetchError("dns_error", url, "host resolved to no address")
    for info in infos:
        address = str(info[4][0])
        if not _address_allowed(address, allowed):
            raise FetchError("blocked_address", url, f"{host} resolves to {address}")


def allowed_private_hosts_from_env() -> list[str]:
    """CRAWLER_ALLOWED_PRIVATE_HOSTS: comma-separated host names or IPs the crawler may reach
    even though they are private (an intranet help centre, or 127.0.0.1 for the demo)."""
    raw = os.environ.get("CRAWLER_ALLOWED_PRIVATE_HOSTS", "")
    return [item.strip() for item in raw.split(",") if item.strip()]


class _BlockedPeer(Exception):
    """Raised from inside urllib3 when a socket connected to a forbidden address.

    Deliberately not an OSError, so urllib3/requests do not wrap or retry it.
    """

    def __init__(self, host: str, address: str) -> None:
        super().__init__(f"{host} connected to forbidden address {address}")
        self.address = address


def _guarded(connection_cls: type[HTTPConnection], allowed: frozenset[str]) -> type:
    class Guarded(connection_cls):  # type: ignore[misc,valid-type]
        def _new_conn(self):  # type: ignore[no-untyped-def]
            sock = super()._new_conn()
            # Re-check the address we really connected to: the name may have resolved
            # differently for urllib3 than for check_url_allowed a moment earlier.
            if _normalise_host(self.host) not in allowed:
                address = str(sock.getpeername()[0])
                if not _address_allowed(address, allowed):
                    sock.close()
                    raise _BlockedPeer(self.host, address)
            return sock

    return Guarded


class _GuardedAdapter(HTTPAdapter):
    def __init__(self, allowed: frozenset[str]) -> None:
        self._allowed = allowed
        super().__init__(max_retries=0)  # retries are ours, with backoff and classification

    def init_poolmanager(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().init_poolmanager(*args, **kwargs)
        http_pool = type(
            "GuardedHTTPPool",
            (HTTPConnectionPool,),
            {"ConnectionCls": _guarded(HTTPConnection, self._allowed)},
        )
        https_pool = type(
            "GuardedHTTPSPool",
            (HTTPSConnectionPool,),
            {"ConnectionCls": _guarded(HTTPSConnection, self._allowed)},
        )
        self.poolmanager.pool_classes_by_scheme = {"http": http_pool, "https": https_pool}

    def __getstate__(self):  # type: ignore[no-untyped-def]
        state = super().__getstate__()
        state["_allowed"] = self._allowed
        return state


# --------------------------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------------------------

# WHATWG maps these labels to supersets; decoding GBK pages as GBK loses characters that
# real "GBK" pages contain (they are usually GB18030 or CP936 extensions), likewise Big5.
_LABEL_OVERRIDES = {
    "gbk": "gb18030",
    "gb2312": "gb18030",
    "gb_2312": "gb18030",
    "gb_2312-80": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "ms936": "gb18030",
    "windows-936": "gb18030",
    "csgb2312": "gb18030",
    "chinese": "gb18030",
    "iso-ir-58": "gb18030",
    "big5": "big5hkscs",
    "big5-hkscs": "big5hkscs",
    "cn-big5": "big5hkscs",
    "csbig5": "big5hkscs",
    "x-x-big5": "big5hkscs",
    "cp950": "big5hkscs",
    # WHATWG: "latin1"/"ascii" labels mean windows-1252 on the web.
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "ascii": "cp1252",
    "us-ascii": "cp1252",
    "x-user-defined": "cp1252",
}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_META_SCAN_BYTES = 4096  # WHATWG says 1024; real CMS heads often put the meta later
_META_CHARSET = re.compile(rb"<meta[^>]+?charset\s*=\s*[\"']?\s*([A-Za-z0-9._:\-]+)", re.I)
_XML_ENCODING = re.compile(rb"^\s*<\?xml[^>]+encoding\s*=\s*[\"']([A-Za-z0-9._\-]+)", re.I)
_SINGLE_BYTE = frozenset({"cp1252", "latin_1", "iso8859_15", "cp1251", "koi8_r"})


def _python_codec(label: str | None) -> str | None:
    """Map a web charset label to a Python codec name, or None if unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _LABEL_OVERRIDES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _header_charset(content_type_header: str | None) -> str | None:
    if not content_type_header:
        return None
    msg = email.message.Message()
    msg["content-type"] = content_type_header
    return msg.get_param("charset")  # type: ignore[return-value]


def _decodes_cleanly(body: bytes, codec: str) -> bool:
    try:
        body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def decode_html(body: bytes, content_type_header: str | None) -> str:
    """Decode a page following the WHATWG order: BOM, then HTTP header charset, then
    <meta charset>/<meta http-equiv> (or an XML declaration), then detection.

    GBK/GB2312 decode as GB18030 and Big5 as Big5-HKSCS (supersets). One deviation from
    browsers: a declared *multi-byte* charset that the bytes are not valid in is treated
    as a lie and we move on to the next source, because help centres that mislabel GBK
    pages as UTF-8 are common and replacement characters would ruin the index. Never raises.
    """
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body.decode(codec, errors="replace")

    head = body[:_META_SCAN_BYTES]
    meta = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    meta_codec = _python_codec(meta.group(1).decode("ascii", "replace")) if meta else None
    # WHATWG: a meta claiming UTF-16 on a byte-oriented page means UTF-8.
    if meta_codec and meta_codec.startswith("utf-16"):
        meta_codec = "utf-8"

    for codec in (_python_codec(_header_charset(content_type_header)), meta_codec):
        if codec is None:
            continue
        if codec in _SINGLE_BYTE or _decodes_cleanly(body, codec):
            return body.decode(codec, errors="replace")

    if _decodes_cleanly(body, "utf-8"):
        return body.decode("utf-8")
    best = charset_normalizer.from_bytes(body).best()
    codec = _python_codec(best.encoding) if best is not None else None
    return body.decode(codec or "utf-8", errors="replace")


# --------------------------------------------------------------------------------------------
# Fetcher
# --------------------------------------------------------------------------------------------


def _media_type(content_type_header: str | None) -> str:
    return (content_type_header or "").split(";", 1)[0].strip().lower()


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def _exception_chain(exc: BaseException) -> list[BaseException]:
    """Every exception wrapped inside `exc` (args, .reason, __cause__, __context__)."""
    found: list[BaseException] = []
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop(0)
        if any(current is seen for seen in found):
            continue
        found.append(current)
        pending.extend(a for a in getattr(current, "args", ()) if isinstance(a, BaseException))
        for nested in (getattr(current, "reason", None), current.__cause__, current.__context__):
            if isinstance(nested, BaseException):
                pending.append(nested)
    return found


def _classify_transport_error(exc: BaseException, url: str) -> FetchError:
    """Turn the layered requests/urllib3/socket exceptions into one FetchError code."""
    chain = list(_exception_chain(exc))
    if any(isinstance(e, _BlockedPeer) for e in chain):
        return FetchError("blocked_address", url, str(exc))
    # Before the timeout check: urllib3's NewConnectionError subclasses ConnectTimeoutError.
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return FetchError("connection_refused", url, str(exc))
    if any(isinstance(e, urllib3.exceptions.NameResolutionError | socket.gaierror) for e in chain):
        return FetchError("dns_error", url, str(exc))
    timeouts = (requests.exceptions.Timeout, urllib3.exceptions.TimeoutError, TimeoutError)
    if any(
        isinstance(e, timeouts) and not isinstance(e, urllib3.exceptions.NewConnectionError)
        for e in chain
    ):
        return FetchError("timeout", url, str(exc), permanent=False)
    if any(isinstance(e, requests.exceptions.SSLError) for e in chain):
        return FetchError("tls_error", url, str(exc), permanent=True)
    if any(isinstance(e, requests.exceptions.InvalidURL | ValueError) for e in chain):
        return FetchError("invalid_url", url, str(exc))
    # Resets, truncated bodies, protocol hiccups: worth another try.
    return FetchError("connection_error", url, str(exc), permanent=False)


# Unread body we will still read to keep a connection alive (a 404 page, a redirect's stub);
# beyond this, opening a new connection later is cheaper than downloading the rest now.
_DRAIN_LIMIT = 64 * 1024


def _finish(response: requests.Response, reusable: bool) -> None:
    """Return the connection to the pool when the response ended cleanly, else close it.

    `response.close()` alone closes the socket whenever the body was not consumed through
    requests (our streamed reads, 304s, redirects, error statuses), so every request used to
    open a new TCP (and TLS) connection. urllib3 puts the connection back in the pool by
    itself once the body has been read to its end, so reading a small remainder is enough.
    Pooled connections stay per host and were peer-checked when they were opened.
    """
    raw = response.raw
    remaining = getattr(raw, "length_remaining", None)
    if reusable and remaining is not None and remaining <= _DRAIN_LIMIT:
        # read() without a size reads exactly the remaining Content-Length (0 for 304s),
        # which marks the response complete and releases the connection. On failure the
        # close below discards the connection.
        with contextlib.suppress(urllib3.exceptions.HTTPError, OSError, http.client.HTTPException):
            raw.read(decode_content=False)
    response.close()  # closes the socket only if the pool did not get it back


class Fetcher:
    """One `requests.Session`, guarded against SSRF, with limits and retries.

    Not thread-safe in the sense of sharing one instance across threads mid-fetch; give
    each worker thread its own Fetcher (they are cheap).
    """

    def __init__(
        self,
        *,
        allowed_private_hosts: Iterable[str] = (),
        user_agent: str = DEFAULT_USER_AGENT,
        connect_timeout: float = 5.0,
        read_timeout: float = 15.0,
        max_bytes: int = 5_000_000,
        max_redirects: int = 5,
        retries: int = 2,
        backoff_base: float = 0.5,
        allowed_content_types: tuple[str, ...] = DEFAULT_CONTENT_TYPES,
        total_timeout: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.allowed_private_hosts = _normalise_allowlist(allowed_private_hosts)
        self.user_agent = user_agent
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.retries = retries
        self.backoff_base = backoff_base
        self.allowed_content_types = tuple(t.lower() for t in allowed_content_types)
        self.total_timeout = total_timeout
        self._sleep = sleep
        self.session = requests.Session()
        # No proxies or .netrc from the environment: a proxy would make the peer-address
        # check meaningless, and credentials must never leak to crawled sites.
        self.session.trust_env = False
        self.session.headers.update(
            {
                "User-Agent": user_agent,
                "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,"
                "text/plain;q=0.8,*/*;q=0.1",
            }
        )
        adapter = _GuardedAdapter(self.allowed_private_hosts)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def backoff_delay(self, attempt: int) -> float:
        """Exponential backoff with "equal jitter": half fixed, half random, so workers
        that failed together do not retry together."""
        delay = self.backoff_base * (2**attempt)
        return delay / 2 + random.uniform(0, delay / 2)

    def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        allowed_content_types: tuple[str, ...] | None = None,
    ) -> FetchResult:
        """Fetch `url`, raising FetchError on anything but a usable 2xx or a 304.

        `allowed_content_types` overrides the instance's list for this call (the crawler
        uses it to accept gzip sitemaps).
        """
        started = time.monotonic()
        types = (
            tuple(t.lower() for t in allowed_content_types)
            if allowed_content_types is not None
            else self.allowed_content_types
        )
        attempt = 0
        while True:
            try:
                return self._fetch_chain(url, etag, last_modified, types, started)
            except FetchError as err:
                if err.permanent or attempt >= self.retries:
                    raise
                if err.retry_after is not None:
                    if err.retry_after > MAX_RETRY_AFTER_S:
                        raise
                    delay = err.retry_after
                else:
                    delay = self.backoff_delay(attempt)
                self._sleep(delay)
                attempt += 1

    def _fetch_chain(
        self,
        url: str,
        etag: str | None,
        last_modified: str | None,
        types: tuple[str, ...],
        started: float,
    ) -> FetchResult:
        deadline = time.monotonic() + self.total_timeout  # per attempt, not per fetch()
        seen: set[str] = set()
        current = url
        for _hop in range(self.max_redirects + 1):
            current = current.split("#", 1)[0]
            if current in seen:
                raise FetchError("redirect_loop", url, f"{current} visited twice")
            seen.add(current)
            check_url_allowed(current, self.allowed_private_hosts)
            headers = {}
            if etag:
                headers["If-None-Match"] = etag
            if last_modified:
                headers["If-Modified-Since"] = last_modified
            try:
                response = self.session.get(
                    current,
                    headers=headers,
                    allow_redirects=False,
                    stream=True,
                    timeout=(self.connect_timeout, self.read_timeout),
                )
            except (requests.RequestException, _BlockedPeer, OSError, ValueError) as exc:
                raise _classify_transport_error(exc, current) from exc
            reusable = False
            try:
                location = response.headers.get("Location")
                if response.status_code in _REDIRECT_STATUSES and location:
                    current = urljoin(current, location)
                    reusable = True
                    continue
                result = self._read_response(
                    response, current, types, started, deadline, etag, last_modified
                )
                reusable = True
                return result
            except FetchError as err:
                # An answer we refused (404, 5xx, wrong type) left the connection healthy;
                # a cut-off body (too large, timed out, reset) did not.
                reusable = err.code.startswith("http_") or err.code == "bad_content_type"
                raise
            finally:
                _finish(response, reusable and time.monotonic() < deadline)
        raise FetchError("too_many_redirects", url, f"more than {self.max_redirects} redirects")

    def _read_response(
        self,
        response: requests.Response,
        url: str,
        types: tuple[str, ...],
        started: float,
        deadline: float,
        etag: str | None,
        last_modified: str | None,
    ) -> FetchResult:
        status = response.status_code
        header_ctype = response.headers.get("Content-Type")
        media_type = _media_type(header_ctype)
        if status == 304:
            return FetchResult(
                url=url,
                status=304,
                not_modified=True,
                body=b"",
                text="",
                content_type=media_type,
                etag=response.headers.get("ETag") or etag,
                last_modified=response.headers.get("Last-Modified") or last_modified,
                content_hash="",
                elapsed_s=time.monotonic() - started,
            )
        if status in (404, 410):
            raise FetchError(f"http_{status}", url)
        if status == 429 or status >= 500:
            code = "http_429" if status == 429 else "http_5xx"
            retry_after = _parse_retry_after(response.headers.get("Retry-After"))
            raise FetchError(
                code, url, f"status {status}", permanent=False, retry_after=retry_after
            )
        if not 200 <= status < 300:
            raise FetchError(f"http_{status}", url, permanent=True)
        if media_type not in types:
            raise FetchError("bad_content_type", url, media_type or "no Content-Type")
        declared = response.headers.get("Content-Length", "")
        if declared.strip().isdigit() and int(declared) > self.max_bytes:
            raise FetchError("too_large", url, f"Content-Length {declared} > {self.max_bytes}")

        chunks: list[bytes] = []
        total = 0
        try:
            # read1 returns after each recv (iter_content blocks until a full chunk), so the
            # deadline check below also catches servers that trickle a byte at a time.
            while chunk := response.raw.read1(_CHUNK_SIZE, decode_content=True):
                total += len(chunk)
                if total > self.max_bytes:
                    raise FetchError("too_large", url, f"body exceeds {self.max_bytes} bytes")
                if time.monotonic() > deadline:
                    raise FetchError("timeout", url, "total deadline exceeded", permanent=False)
                chunks.append(chunk)
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise _classify_transport_error(exc, url) from exc
        body = b"".join(chunks)
        textual = media_type.startswith("text/") or media_type.endswith("xml")
        return FetchResult(
            url=url,
            status=status,
            not_modified=False,
            body=body,
            text=decode_html(body, header_ctype) if textual else "",
            content_type=media_type,
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
            content_hash=hashlib.sha256(body).hexdigest(),
            elapsed_s=time.monotonic() - started,
        )

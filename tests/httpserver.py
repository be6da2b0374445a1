"""A real, threaded HTTP server on 127.0.0.x for tests that need actual sockets.

Tests of the fetcher and crawler must exercise the real network path (timeouts, streaming,
redirect re-checks, refused ports), which mocks of `requests` would hide. This helper keeps
that cheap: each server binds an ephemeral port, runs in a daemon thread, and serves either
a dict of routes or a directory.

Typical use::

    routes = {
        "/": Response(body=b"<a href='/faq'>FAQ</a>", headers={"Content-Type": "text/html"}),
        "/old": redirect("/faq"),
        "/slow": Response(body=b"late", delay_s=2.0),
        "/dynamic": lambda req: Response(body=req.path.encode()),
    }
    with LocalHTTPServer(routes) as server:
        requests.get(server.url("/"))
        assert server.hits("/") == 1

A route is a `Response`, or a callable taking the `RecordedRequest` and returning one (use
that for conditional GETs, fail-then-recover, etc.). Unknown paths get 404.
"""

from __future__ import annotations

import contextlib
import mimetypes
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

__all__ = [
    "LocalHTTPServer",
    "RecordedRequest",
    "Response",
    "Route",
    "html",
    "redirect",
    "stream_bytes",
]


@dataclass
class RecordedRequest:
    method: str
    path: str  # path without the query string
    query: str
    headers: dict[str, str]  # header names lowercased
    time: float  # time.monotonic() when the request line was read
    body: bytes = b""  # POST bodies


@dataclass
class Response:
    status: int = 200
    # bytes, or an iterable of chunks (a generator lets a test send 50 MB without holding it)
    body: bytes | Iterable[bytes] = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # sleep before sending the status line (read-timeout tests)
    # None: send Content-Length when the body is bytes, omit it for iterables.
    # An int overrides (lets a test lie about the length); False never sends it.
    content_length: int | bool | None = None
    chunk_delay_s: float = 0.0  # sleep between body chunks (trickling servers)


Route = Response | Callable[[RecordedRequest], Response]


def html(body: str | bytes, status: int = 200, charset: str | None = "utf-8", **kw) -> Response:
    """An HTML response; `charset=None` leaves the charset out of the Content-Type."""
    data = body.encode(charset or "utf-8") if isinstance(body, str) else body
    ctype = "text/html" + (f"; charset={charset}" if charset else "")
    headers = {"Content-Type": ctype, **kw.pop("headers", {})}
    return Response(status=status, body=data, headers=headers, **kw)


def redirect(location: str, status: int = 302) -> Response:
    return Response(status=status, headers={"Location": location})


def stream_bytes(total: int, chunk_size: int = 64 * 1024, fill: bytes = b"a") -> Iterator[bytes]:
    """Yield `total` bytes in chunks without ever materialising them all."""
    chunk = fill * chunk_size
    sent = 0
    while sent < total:
        n = min(chunk_size, total - sent)
        yield chunk[:n]
        sent += n


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.0 closes the connection after each response, so bodies without a
    # Content-Length are delimited by the close, exactly like a real streaming server.
    protocol_version = "HTTP/1.0"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass  # keep pytest output clean

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._serve(send_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(send_body=False)

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        self._serve(send_body=True, body=self.rfile.read(length))

    def _serve(self, *, send_body: bool, body: bytes = b"") -> None:
        parts = urlsplit(self.path)
        request = RecordedRequest(
            method=self.command,
            path=parts.path,
            query=parts.query,
            headers={k.lower(): v for k, v in self.headers.items()},
            time=time.monotonic(),
            body=body,
        )
        owner = self.server.owner
        with owner.lock:
            owner.requests.append(request)
        response = owner.resolve(request)
        # The client giving up mid-response (size cap, timeout) is the point of those tests.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self._write(response, send_body=send_body)

    def _write(self, response: Response, *, send_body: bool) -> None:
        if response.delay_s:
            time.sleep(response.delay_s)
        self.send_response(response.status)
        sent_names = set()
        for name, value in response.headers.items():
            self.send_header(name, value)
            sent_names.add(name.lower())
        body = response.body
        if "content-length" not in sent_names:
            length = response.content_length
            if length is None and isinstance(body, bytes):
                length = len(body)
            if length is not None and not isinstance(length, bool):
                self.send_header("Content-Length", str(length))
        self.end_headers()
        if not send_body:
            return
        chunks = [body] if isinstance(body, bytes) else body
        for chunk in chunks:
            if response.chunk_delay_s:
                time.sleep(response.chunk_delay_s)
            self.wfile.write(chunk)


class _Server(ThreadingHTTPServer):
    # Daemon threads: a handler stuck sleeping for a timeout test must not block shutdown.
    daemon_threads = True
    block_on_close = False
    owner: LocalHTTPServer


class LocalHTTPServer:
    """A threaded HTTP server bound to `host` on an ephemeral port (or `port`)."""

    def __init__(
        self,
        routes: Mapping[str, Route] | None = None,
        *,
        directory: str | Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        default: Route | None = None,
    ) -> None:
        self.routes: dict[str, Route] = dict(routes or {})
        self.directory = Path(directory) if directory is not None else None
        self.default = default
        self.requests: list[RecordedRequest] = []
        self.lock = threading.Lock()
        self._httpd = _Server((host, port), _Handler)
        self._httpd.owner = self
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> LocalHTTPServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> LocalHTTPServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addressing --------------------------------------------------------------------------
    @property
    def host(self) -> str:
        return self._httpd.server_address[0]

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    # -- routes and inspection ---------------------------------------------------------------
    def route(self, path: str, response: Route) -> None:
        self.routes[path] = response

    def hits(self, path: str) -> int:
        with self.lock:
            return sum(1 for r in self.requests if r.path == path)

    def requests_for(self, path: str) -> list[RecordedRequest]:
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def paths(self) -> list[str]:
        with self.lock:
            return [r.path for r in self.requests]

    def resolve(self, request: RecordedRequest) -> Response:
        route = self.routes.get(request.path)
        if route is None and self.directory is not None:
            route = self._from_directory(request.path)
        if route is None:
            route = self.default
        if route is None:
            return Response(404, b"not found", {"Content-Type": "text/plain"})
        return route(request) if callable(route) else route

    def _from_directory(self, path: str) -> Response | None:
        assert self.directory is not None
        root = self.directory.resolve()
        target = (root / path.lstrip("/")).resolve()
        if target.is_dir():
            target = target / "index.html"
        # Refuse ../ escapes: test fixtures should never leak files outside their folder.
        if root not in target.parents or not target.is_file():
            return None
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return Response(body=target.read_bytes(), headers={"Content-Type": ctype})

"""Ingestion benchmark: extraction speed, first crawl, conditional re-crawl, fixture recall.

Run with the project's virtualenv, no network needed:

    .venv/bin/python bench/ingest.py [--pages 500] [--baseline /tmp/main-checkout]

It builds a help centre of N pages from the bundled demo pages (each topic page uses a
different FAQ markup: JSON-LD + <details>, <dl>, question headings, Bootstrap accordion,
ARIA disclosure, .faq-question/.faq-answer, a Chinese 问/答 page), with questions made
unique per page, and serves it from a threaded local HTTP server that honours
ETag/If-None-Match and Last-Modified/If-Modified-Since. The crawls go through
`faq_ingest.sync` into a throwaway SQLite database (test settings: hashing embedder).
"""

from __future__ import annotations

import argparse
import email.utils
import hashlib
import html
import json
import logging
import os
import platform
import re
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "faq_ingest" / "demo_site"
FIXTURES = ROOT / "tests" / "fixtures" / "html"
TEMPLATES = [
    "returns.html",
    "orders.html",
    "shipping.html",
    "care.html",
    "account.html",
    "rewards.html",
    "about.html",
    "index.html",
    "zh/faq.html",
]
# Links between demo pages are replaced by the generated site's own navigation.
_PAGE_LINK = re.compile(r'href="(?:\.\./)?(?:[\w-]+/)*[\w-]+\.html(?:#[^"]*)?"')
EXTRACTION_TARGET = 100.0  # pages/s on one core
SPEEDUP_TARGET = 5.0

sys.path.insert(0, str(ROOT))


# -------------------------------------------------------------------------------------------
# The site
# -------------------------------------------------------------------------------------------


def _variants(question: str, n: int) -> str:
    # Keep the question mark (and the 问 prefix style) so extractors still see a question.
    if question.endswith(("?", "？")):
        return f"{question[:-1]} (item {n}){question[-1]}"
    return f"{question} (item {n})"


def build_site(n_pages: int) -> dict[str, bytes]:
    from faq_ingest.extract import extract_faqs

    templates = []
    for name in TEMPLATES:
        text = (DEMO / name).read_text(encoding="utf-8")
        questions = [
            f.question for f in extract_faqs(text, f"http://demo/{name}") if f.kind == "faq"
        ]
        templates.append((_PAGE_LINK.sub('href="#"', text), questions))

    paths = ["/"] + [f"/help/p{i:04d}.html" for i in range(1, n_pages)]
    pages: dict[str, bytes] = {}
    for i, path in enumerate(paths):
        text, questions = templates[i % len(templates)]
        for q in questions:
            new = _variants(q, i)
            for old, rep in (
                (html.escape(q, quote=False), html.escape(new, quote=False)),
                (json.dumps(q)[1:-1], json.dumps(new)[1:-1]),
            ):
                text = text.replace(old, rep)
        # Each page links to a few neighbours, the home page to every page: depth <= 1.
        links = paths if i == 0 else [paths[(i + k) % len(paths)] for k in (1, 2, 3)]
        nav = "".join(f'<li><a href="{p}">Help page {p}</a></li>' for p in links)
        text = text.replace("</body>", f'<nav class="site-index"><ul>{nav}</ul></nav></body>')
        pages[path] = text.encode("utf-8")
    return pages


class SiteServer:
    """Threaded static server for in-memory pages, with ETag and Last-Modified."""

    def __init__(self, pages: dict[str, bytes]) -> None:
        stamp = email.utils.formatdate(time.time() - 3600, usegmt=True)
        self.pages = {
            path: (body, '"' + hashlib.sha256(body).hexdigest()[:20] + '"', stamp)
            for path, body in pages.items()
        }
        self.counts = {"200": 0, "304": 0, "404": 0}
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - stdlib naming
                entry = owner.pages.get(self.path.split("?", 1)[0])
                if entry is None:
                    owner.count("404")
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body, etag, modified = entry
                inm = self.headers.get("If-None-Match")
                ims = self.headers.get("If-Modified-Since")
                if (inm == etag) or (inm is None and ims == modified):
                    owner.count("304")
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Last-Modified", modified)
                    self.end_headers()
                    return
                owner.count("200")
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", modified)
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def count(self, key: str) -> None:
        with self.lock:
            self.counts[key] += 1

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def take_counts(self) -> dict[str, int]:
        with self.lock:
            counts, self.counts = self.counts, dict.fromkeys(self.counts, 0)
        return counts

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# -------------------------------------------------------------------------------------------
# Measurements
# -------------------------------------------------------------------------------------------


def measure_extraction(pages: dict[str, bytes]) -> tuple[float, int, float]:
    from faq_ingest.extract import extract_faqs

    texts = [(body.decode("utf-8"), path) for path, body in pages.items()]
    extract_faqs(texts[0][0], "http://bench" + texts[0][1])  # warm-up (imports, caches)
    started = time.perf_counter()
    cpu = time.process_time()
    found = sum(len(extract_faqs(text, "http://bench" + path)) for text, path in texts)
    wall = time.perf_counter() - started
    return len(texts) / wall, found, time.process_time() - cpu


def measure_recall() -> tuple[int, int, int, list[str]]:
    """(files, expected questions, found, per-file misses) over the fixture corpus."""
    from faq_ingest.extract import extract_faqs, normalise_question

    files = sorted(FIXTURES.glob("*.expected.json")) if FIXTURES.is_dir() else []
    expected_total = found_total = 0
    misses: list[str] = []
    for spec_path in files:
        spec = json.loads(spec_path.read_text(encoding="utf-8"))
        page = spec_path.with_name(spec_path.name.removesuffix(".expected.json") + ".html")
        if not page.exists():
            continue
        text = page.read_bytes().decode(spec.get("encoding", "utf-8"), errors="replace")
        got = {normalise_question(f.question) for f in extract_faqs(text, spec["url"])}
        want = [normalise_question(q) for q in spec.get("questions", [])]
        hit = sum(1 for q in want if q in got)
        expected_total += len(want)
        found_total += hit
        if hit < len(want):
            misses.append(f"{page.stem}: {hit}/{len(want)}")
    return len(files), expected_total, found_total, misses


def setup_django(data_dir: str) -> None:
    os.environ["DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    os.environ.setdefault("CRAWLER_ALLOWED_PRIVATE_HOSTS", "127.0.0.1")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    logging.disable(logging.WARNING)  # task traces would drown the table


def timed_crawl(source_id: int):  # type: ignore[no-untyped-def]
    from faq_ingest import sync

    started = time.perf_counter()
    run = sync.crawl_source(source_id)
    return run, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="another checkout (e.g. of main): also report extraction speed relative to it",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="faqbot-bench-") as data_dir:
        setup_django(data_dir)
        from faq_ingest.models import Faq, FaqSource, IndexSnapshot

        pages = build_site(args.pages)
        rate, extracted, cpu_s = measure_extraction(pages)
        files, expected, found, misses = measure_recall()

        server = SiteServer(pages)
        try:
            source = FaqSource.objects.create(
                name="bench", start_url=server.url("/"), max_pages=args.pages + 50, max_depth=3
            )
            first, first_s = timed_crawl(source.pk)
            first_http = server.take_counts()
            faq_count = Faq.objects.filter(source=source, active=True).count()
            snap = IndexSnapshot.objects.filter(status=IndexSnapshot.READY).order_by("-id").first()
            index_s = snap.build_seconds if snap else 0.0
            again, again_s = timed_crawl(source.pk)
            again_http = server.take_counts()
        finally:
            server.stop()

    first_pages = first.pages_fetched + first.pages_not_modified
    again_pages = again.pages_fetched + again.pages_not_modified
    speedup = first_s / again_s if again_s else float("inf")
    rows = [
        (
            "machine",
            f"{platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}, {platform.system()}",
        ),
        (
            "site",
            f"{len(pages)} pages, {sum(map(len, pages.values())) / 1e6:.1f} MB, "
            f"{len(TEMPLATES)} markups from faq_ingest/demo_site",
        ),
        (
            "extraction (1 core, in-process)",
            f"{rate:.0f} pages/s wall, {len(pages) / cpu_s:.0f} per CPU-second ({extracted} "
            f"records, {cpu_s:.2f} s CPU) "
            # Judged per CPU-second: on a shared machine wall time mostly measures the others.
            f"[target >= {EXTRACTION_TARGET:.0f}/CPU-s: "
            f"{'OK' if len(pages) / cpu_s >= EXTRACTION_TARGET else 'MISS'}]",
        ),
        (
            "first crawl (sync -> SQLite, incl. index build)",
            f"{first_s:.2f} s, {first_pages / first_s:.0f} pages/s; {first.status}, "
            f"fetched {first.pages_fetched}, failed {first.pages_failed}, FAQs added "
            f"{first.faqs_added} ({faq_count} active); HTTP {first_http}",
        ),
        (
            "  of which index snapshot build (embedding)",
            f"{index_s:.2f} s (in-process at commit: embedded mode)",
        ),
        (
            "re-crawl, site unchanged",
            f"{again_s:.2f} s, {again_pages / again_s:.0f} pages/s; {again.status}, not "
            f"modified {again.pages_not_modified}, fetched {again.pages_fetched}, FAQs "
            f"changed {again.faqs_added + again.faqs_updated}; HTTP {again_http}",
        ),
        (
            "re-crawl speed-up",
            f"{speedup:.1f}x [target >= {SPEEDUP_TARGET:.0f}: "
            f"{'OK' if speedup >= SPEEDUP_TARGET else 'MISS'}]",
        ),
        (
            "fixture recall",
            "no fixtures in tests/fixtures/html"
            if not files
            else f"{found}/{expected} = {found / max(expected, 1):.1%} of expected questions "
            f"({files} files)" + (f"; misses: {', '.join(misses)}" if misses else ""),
        ),
    ]
    if args.baseline is not None:
        from bench.extraction import compare_speed

        # Alternating fresh processes on the same pages, so shared-machine load hits both.
        base, new = compare_speed(args.baseline, args.pages, rounds=3)["help site"]
        rows.append(
            (
                "extraction vs baseline (per CPU-second)",
                f"{new:.0f} vs {base:.0f} pages/CPU-s = {new / base:.2f}x ({args.baseline})",
            )
        )
    width = max(len(name) for name, _ in rows)
    print(f"{'measure'.ljust(width)} | result")
    print(f"{'-' * width}-+-{'-' * 60}")
    for name, value in rows:
        print(f"{name.ljust(width)} | {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

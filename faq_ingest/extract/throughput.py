"""Hand-run throughput check (not a test): pages/s of extract_faqs on one core.

    python -m faq_ingest.extract.throughput [--rounds N]

Measures the fixture corpus (small pages) and synthetic 20-100 KB help pages with a heavy
mega-menu, JSON-LD and an accordion, which is what a typical help centre page weighs.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from bs4 import BeautifulSoup

from faq_ingest.extract import extract_faqs

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "html"


def fixture_pages() -> list[tuple[str, str]]:
    pages = []
    for expected_path in sorted(FIXTURES.glob("*.expected.json")):
        expected = json.loads(expected_path.read_text(encoding="utf-8"))
        html_path = expected_path.with_name(expected_path.name.replace(".expected.json", ".html"))
        html = html_path.read_bytes().decode(expected.get("encoding", "utf-8"))
        pages.append((html, expected["url"]))
    return pages


def synthetic_page(n_faqs: int, n_menu_links: int) -> str:
    menu = "".join(
        f'<li><a href="/c/{i}">Category {i}</a><ul><li><a href="/c/{i}/a">Sub {i}</a></li></ul></li>'
        for i in range(n_menu_links)
    )
    items = []
    entities = []
    for i in range(n_faqs):
        question = f"How do I configure option number {i} for my account?"
        answer = (
            f"<p>Open <a href='/settings/{i}'>settings</a> and choose <strong>option {i}</strong>."
            " Changes apply to every device signed in to your account within a few minutes.</p>"
            "<ul><li>Save your work first</li><li>Sign out and in again if it does not apply</li>"
            "</ul><p>Contact support if the problem persists after twenty-four hours.</p>"
        )
        items.append(
            f'<div class="accordion-item"><h2 class="accordion-header"><button '
            f'class="accordion-button" data-bs-target="#c{i}" aria-controls="c{i}">{question}'
            f'</button></h2><div id="c{i}" class="accordion-collapse collapse">'
            f'<div class="accordion-body">{answer}</div></div></div>'
        )
        entities.append({"@type": "Question", "name": question, "acceptedAnswer": {"text": answer}})
    jsonld = json.dumps(
        {"@context": "https://schema.org", "@type": "FAQPage", "mainEntity": entities}
    )
    return (
        "<!doctype html><html lang='en'><head><title>Help centre</title>"
        f"<script type='application/ld+json'>{jsonld}</script>"
        "<script>window.__STATE__ = {};</script></head><body>"
        "<div class='cookie-banner'>We use cookies. <button>OK</button></div>"
        f"<header><nav class='mega-menu'><ul>{menu}</ul></nav></header>"
        f"<main><h1>Help centre</h1><div class='accordion'>{''.join(items)}</div></main>"
        f"<footer><ul>{menu[: len(menu) // 3]}</ul></footer></body></html>"
    )


def measure(label: str, pages: list[tuple[str, str]], rounds: int) -> None:
    extract_faqs(pages[0][0], pages[0][1])  # warm langdetect profiles and caches
    size = sum(len(html.encode()) for html, _ in pages) / len(pages) / 1024
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(rounds):
        for html, url in pages:
            extract_faqs(html, url)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    parse = time.process_time()
    for _ in range(rounds):
        for html, _url in pages:
            BeautifulSoup(html, "lxml")
    parse = time.process_time() - parse
    n = rounds * len(pages)
    # CPU time is what "pages/s on one core" means; wall time also counts other processes.
    print(
        f"{label:<22} {size:6.1f} KB  {n / cpu:7.1f} pages/CPU-s  {n / wall:7.1f} pages/wall-s"
        f"  (bs4+lxml parse alone: {n / parse:7.1f} pages/CPU-s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    measure("fixtures", fixture_pages(), args.rounds)
    for n_faqs, n_links in ((10, 100), (25, 250), (50, 400)):
        page = synthetic_page(n_faqs, n_links)
        measure(f"synthetic {n_faqs} FAQs", [(page, "https://help.example/faq")], args.rounds)


if __name__ == "__main__":
    main()

"""Extraction benchmark against a baseline checkout: speed and what each page yields.

    .venv/bin/python bench/extraction.py --baseline /tmp/main-checkout [--pages 500] [--rounds 3]

Both implementations run on the same pages, each in its own fresh subprocess, alternating
(baseline, this checkout, baseline, …) so that load on a shared machine hits both alike;
the table gives the median of the rounds. Speed is pages per CPU-second of the process
(time.process_time), which other processes on the machine do not inflate the way they do
wall time. The pages:
- "help site": the bench/ingest.py help centre built from the demo pages (--pages of them);
- "fixtures": every tests/fixtures/html page;
- "synthetic": 20-100 KB pages with a mega-menu, JSON-LD and an accordion
  (faq_ingest/extract/throughput.py).
Then, per fixture and demo page, the FAQs and passages each implementation extracts.

The baseline is any checkout of this project, e.g. `git worktree add /tmp/base main` or
`git archive main | tar -x -C /tmp/base`; only its faq_ingest/extract is imported.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "html"
DEMO = ROOT / "faq_ingest" / "demo_site"
TARGET = 100.0  # pages per CPU-second on one core

sys.path.insert(0, str(ROOT))

# Runs in a fresh interpreter with the code under test first on sys.path. It imports only
# faq_ingest.extract (no Django), so any checkout of the project can be measured.
_WORKER = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from faq_ingest.extract import extract_faqs
from faq_ingest.extract.language import detect_language
# langdetect loads ~90,000 small objects on first use, which every later full garbage
# collection then walks. A crawl meets some page that needs it sooner or later; load it in
# both processes so that neither pays or saves that only by which pages it saw first.
detect_language("Ceci est une phrase en français, pour charger les profils de langue.")
mode, data = sys.argv[2], json.load(open(sys.argv[3], encoding="utf-8"))
if mode == "speed":
    out = {}
    for corpus, pages in data.items():
        extract_faqs(pages[0][1], pages[0][2])  # warm imports and caches
        reps = max(1, 300 // len(pages))  # small corpora: enough CPU time to measure
        cpu = time.process_time()
        for _ in range(reps):
            for _name, html, url in pages:
                extract_faqs(html, url)
        out[corpus] = reps * len(pages) / max(time.process_time() - cpu, 1e-9)
else:
    out = {}
    for name, html, url in data:
        records = extract_faqs(html, url)
        out[name] = [sum(r.kind == "faq" for r in records), sum(r.kind == "passage" for r in records)]
print(json.dumps(out))
"""


def corpora(n_pages: int) -> dict[str, list[tuple[str, str, str]]]:
    from bench.ingest import build_site  # noqa: PLC0415 - bench scripts are not a package
    from faq_ingest.extract.throughput import fixture_pages, synthetic_page

    site = build_site(n_pages)
    synthetic = [
        (f"synthetic-{n}", synthetic_page(n, links), "https://help.example/faq")
        for n, links in ((10, 100), (25, 250), (50, 400))
    ]
    return {
        "help site": [(p, b.decode("utf-8"), f"http://bench{p}") for p, b in site.items()],
        "fixtures": [(url, html, url) for html, url in fixture_pages()],
        "synthetic": synthetic,
    }


def count_pages() -> list[tuple[str, str, str]]:
    pages = []
    for spec in sorted(FIXTURES.glob("*.expected.json")):
        expected = json.loads(spec.read_text(encoding="utf-8"))
        name = spec.name.removesuffix(".expected.json")
        raw = (FIXTURES / f"{name}.html").read_bytes()
        pages.append(
            (f"fixture {name}", raw.decode(expected.get("encoding", "utf-8")), expected["url"])
        )
    for path in sorted(DEMO.rglob("*.html")):
        rel = path.relative_to(DEMO).as_posix()
        pages.append((f"demo {rel}", path.read_text(encoding="utf-8"), f"http://demo/{rel}"))
    return pages


def run_worker(root: Path, mode: str, data_file: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _WORKER, str(root), mode, data_file],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare_speed(baseline: Path, n_pages: int, rounds: int) -> dict[str, tuple[float, float]]:
    """{corpus: (baseline median pages/CPU-s, this checkout's)}."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as fh:
        json.dump(corpora(n_pages), fh)
    try:
        runs: dict[str, list[dict]] = {"base": [], "new": []}
        for _ in range(rounds):
            runs["base"].append(run_worker(baseline, "speed", fh.name))
            runs["new"].append(run_worker(ROOT, "speed", fh.name))
    finally:
        os.unlink(fh.name)
    return {
        corpus: (
            statistics.median(r[corpus] for r in runs["base"]),
            statistics.median(r[corpus] for r in runs["new"]),
        )
        for corpus in runs["new"][0]
    }


def compare_counts(baseline: Path) -> dict[str, tuple[list[int], list[int]]]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as fh:
        json.dump(count_pages(), fh)
    try:
        base, new = run_worker(baseline, "counts", fh.name), run_worker(ROOT, "counts", fh.name)
    finally:
        os.unlink(fh.name)
    return {name: (base[name], new[name]) for name in new}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="a checkout to compare with")
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if not (args.baseline / "faq_ingest" / "extract").is_dir():
        parser.error(f"{args.baseline} is not a checkout of this project")

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f} at start"
    )
    print(f"\nspeed, pages per CPU-second (median of {args.rounds} alternating rounds)")
    print(f"{'corpus':<12} | {'baseline':>9} | {'this':>9} | ratio | target >= {TARGET:.0f}")
    for corpus, (base, new) in compare_speed(args.baseline, args.pages, args.rounds).items():
        verdict = "OK" if new >= TARGET else "MISS"
        print(f"{corpus:<12} | {base:9.1f} | {new:9.1f} | {new / base:5.2f} | {verdict}")

    counts = compare_counts(args.baseline)
    print("\nrecords per page: FAQs / passages")
    print(f"{'page':<40} | {'baseline':>9} | {'this':>9}")
    totals = [[0, 0], [0, 0]]
    for name, (base, new) in counts.items():
        for total, row in zip(totals, (base, new), strict=True):
            total[0], total[1] = total[0] + row[0], total[1] + row[1]
        mark = "" if base == new else "  *"
        print(f"{name:<40} | {base[0]:4d} / {base[1]:2d} | {new[0]:4d} / {new[1]:2d}{mark}")
    (bf, bp), (nf, np_) = totals
    print(f"{'total':<40} | {bf:4d} / {bp:2d} | {nf:4d} / {np_:2d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

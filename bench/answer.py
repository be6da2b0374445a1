"""Answer latency on this machine: time to first token and total answer time for five
demo questions, through the real pipeline (retrieval + generation + grounding).

Baseline in the same run: the `extractive` backend (retrieval and grounding only, no
model), so the generator's cost shows as a ratio. `--transformers` adds the same SmolLM2
weights run by transformers (fp32, torch) for comparison with llama.cpp.

    .venv/bin/python bench/answer.py [--transformers]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
QUESTIONS = [
    "How long do I have to return something?",
    "do you ship to canada?",
    "how do i reset my password",
    "Can I pick up my order in a store?",
    "what does the warranty cover",
]


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transformers", action="store_true")
    args = parser.parse_args()
    os.environ["DATA_DIR"] = tempfile.mkdtemp(prefix="bench-answer-")
    os.environ["CRAWLER_ALLOWED_PRIVATE_HOSTS"] = "127.0.0.1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatbot.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    handler = partial(_QuietHandler, directory=str(ROOT / "faq_ingest/demo_site"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    call_command("crawl", f"http://127.0.0.1:{server.server_port}/index.html")

    from chatbot.answering import answer_question
    from chatbot.generation import get_generator

    backends = ["extractive", "llamacpp"] + (["transformers"] if args.transformers else [])
    results: dict[str, list[tuple[float, float, int, bool]]] = {}
    for backend in backends:
        from django.conf import settings

        settings.GENERATOR_BACKEND = backend
        t0 = time.perf_counter()
        get_generator(backend)
        load_s = time.perf_counter() - t0
        answer_question("warm up")  # embedder and generator warm, as in a running worker
        rows = []
        for q in QUESTIONS:
            pieces: list[float] = []
            start = time.perf_counter()
            ans = answer_question(
                q, on_token=lambda _p, pieces=pieces: pieces.append(time.perf_counter())
            )
            total = time.perf_counter() - start
            ttft = (pieces[0] - start) if pieces else total
            rows.append((ttft, total, len(pieces), ans.escalate))
        results[backend] = rows
        print(f"{backend}: model load {load_s:.2f}s")

    print(
        f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, CPU only, "
        f"Python {platform.python_version()}"
    )
    print(f"{'backend':<13}{'question':<44}{'TTFT s':>8}{'total s':>9}{'pieces':>8}{'esc':>5}")
    for backend, rows in results.items():
        for q, (ttft, total, n, esc) in zip(QUESTIONS, rows, strict=True):
            print(f"{backend:<13}{q[:42]:<44}{ttft:>8.3f}{total:>9.3f}{n:>8}{esc!s:>5}")
    base = results["extractive"]
    print(
        f"\n{'backend':<13}{'median TTFT s':>15}{'median total s':>16}{'total vs extractive':>21}"
    )
    for backend, rows in results.items():
        ttft = statistics.median(r[0] for r in rows)
        total = statistics.median(r[1] for r in rows)
        ratio = total / statistics.median(r[1] for r in base)
        print(f"{backend:<13}{ttft:>15.3f}{total:>16.3f}{ratio:>20.1f}x")
    server.shutdown()


if __name__ == "__main__":
    main()

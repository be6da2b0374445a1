"""Model-pool throughput: answers per second with 1, 4 and 16 concurrent customers, through
the real stack (daphne + websockets; in the scaled shape PostgreSQL, Redis and Celery
inference workers), for the `extractive` and `llamacpp` backends. Optionally
(`--batching`) tokens/s of the transformers backend's dynamic batching at 1/4/16 streams.

Each level sends the same number of questions (`--answers`, default 16): one customer asks
them one after another, 4 customers ask a quarter each at once, 16 customers one each. A
customer waits for the final `bot_message` before asking again. Reported per level:
answers/s, its ratio to the 1-customer level of the same shape and backend (the baseline
measured in the same run), and p50/p95 time from sending to the final answer.

    .venv/bin/python bench/pool.py [--backends extractive,llamacpp] [--shapes embedded,scaled]
                                   [--workers 2] [--answers 16] [--batching]

The scaled shape needs PostgreSQL and Redis (TEST_DATABASE_URL / TEST_REDIS_URL, as the
tests use). On one small CPU box the scaled shape's workers share the same cores as the
web process, so it shows the pool's overhead and fault handling, not a speed-up; that needs
more machines or GPUs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import signal
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.services import (  # noqa: E402  (the repository root is on the path only now)
    app_env,
    free_port,
    fresh_postgres_database,
    fresh_redis_db,
    manage,
    start_celery_worker,
    start_daphne,
)

QUESTIONS = [
    "How long do I have to return something?",
    "do you ship to canada?",
    "how do i reset my password",
    "Can I pick up my order in a store?",
    "what does the warranty cover",
    "How much is shipping?",
    "Can I change my order after placing it?",
    "Do you offer gift cards?",
]
LEVELS = (1, 4, 16)
BUILD_INDEX = "from faq_ingest.index import build_snapshot; build_snapshot(force=True)"


def ask_in_turn(ws_url: str, origin: str, questions: list[str]) -> list[float]:
    """One customer: each question, then wait for its final answer. Seconds per answer."""
    from websockets.sync.client import connect

    took = []
    with connect(ws_url, origin=origin, open_timeout=30) as ws:
        json.loads(ws.recv(timeout=30))
        for question in questions:
            start = time.perf_counter()
            ws.send(json.dumps({"type": "customer_message", "text": question}))
            while True:
                # Long: at 16 customers on one slow CPU the last answer waits for 15 others.
                frame = json.loads(ws.recv(timeout=3600))
                if frame["type"] == "bot_message":
                    break
                if frame["type"] == "error":
                    raise RuntimeError(f"error frame: {frame}")
            took.append(time.perf_counter() - start)
    return took


def run_level(ws_url: str, origin: str, customers: int, answers: int) -> dict:
    per_customer = math.ceil(answers / customers)
    plans = [
        [QUESTIONS[(c * per_customer + i) % len(QUESTIONS)] for i in range(per_customer)]
        for c in range(customers)
    ]
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=customers) as pool:
        latencies = [
            t for ts in pool.map(lambda p: ask_in_turn(ws_url, origin, p), plans) for t in ts
        ]
    wall = time.perf_counter() - start
    latencies.sort()
    return {
        "answers": len(latencies),
        "wall_s": wall,
        "per_s": len(latencies) / wall,
        "p50_s": statistics.median(latencies),
        "p95_s": latencies[min(len(latencies) - 1, math.ceil(0.95 * len(latencies)) - 1)],
    }


@contextlib.contextmanager
def stack(shape: str, backend: str, workers: int, log_dir: Path):
    """daphne (+ inference workers in the scaled shape) with the demo help center indexed."""
    common = dict(
        DATA_DIR=str(log_dir),
        CHATBOT_GENERATOR=backend,
        CHATBOT_INDEX_RELOAD_CHECK_S="0",
        CHATBOT_MESSAGES_PER_MINUTE="1000",
        CHATBOT_QUEUE_MAX_DEPTH="1000",
        CHATBOT_QUEUE_WARN_DEPTH="1000",
        LOG_LEVEL="WARNING",
    )
    with contextlib.ExitStack() as stack:
        if shape == "scaled":
            db = stack.enter_context(fresh_postgres_database())
            redis = stack.enter_context(fresh_redis_db())
            # Workers share this box's cores: one llama.cpp thread pool per worker.
            threads = str(max(1, (os.cpu_count() or 1) // workers))
            env = app_env(DATABASE_URL=db, REDIS_URL=redis, CHATBOT_THREADS=threads, **common)
            env.pop("INFERENCE_MODE", None)
        else:
            env = app_env(INFERENCE_MODE="inline", **common)
            for var in ("DATABASE_URL", "REDIS_URL"):
                env.pop(var, None)
        result = manage(env, "migrate", "--noinput", timeout=300)
        assert result.returncode == 0, result.stderr
        port = free_port()
        procs = [start_daphne(env, port, log_dir)]
        stack.callback(procs[0].stop)
        if shape == "scaled":
            for n in range(workers):
                proc = start_celery_worker(env, "inference", log_dir, label=f"-{n}")
                stack.callback(proc.stop)
        base = f"http://127.0.0.1:{port}"
        crawl = manage(env, "crawl", f"{base}/demo-help/index.html", timeout=300)
        assert crawl.stdout.startswith("succeeded"), crawl.stdout + crawl.stderr
        if shape == "scaled":
            built = manage(env, "shell", "-c", BUILD_INDEX, timeout=300)
            assert built.returncode == 0, built.stderr
        # The model is loaded and warm before the clock starts.
        ask_in_turn(base.replace("http://", "ws://") + "/ws/chat/", base, QUESTIONS[:1])
        yield base


def bench_stack(args) -> list[tuple]:
    rows = []
    for backend in args.backends.split(","):
        for shape in args.shapes.split(","):
            label = f"{shape} ({args.workers} workers)" if shape == "scaled" else shape
            with tempfile.TemporaryDirectory(prefix="bench-pool-") as tmp:
                try:
                    with stack(shape, backend, args.workers, Path(tmp)) as base:
                        ws_url = base.replace("http://", "ws://") + "/ws/chat/"
                        baseline = None
                        for c in LEVELS:  # each level printed as soon as it is measured
                            r = run_level(ws_url, base, c, args.answers)
                            baseline = baseline or r["per_s"]
                            rows.append((backend, label, c, r, r["per_s"] / baseline))
                            print(
                                f"{backend:<11}{label:<22}{c:>4} customers  "
                                f"{r['per_s']:7.2f} answers/s ({r['per_s'] / baseline:4.1f}x)  "
                                f"p50 {r['p50_s']:6.2f}s  p95 {r['p95_s']:6.2f}s",
                                flush=True,
                            )
                except Exception as exc:  # e.g. no PostgreSQL/Redis here: say so, go on
                    print(f"{backend} / {label}: stopped: {exc}", file=sys.stderr)
    return rows


def bench_batching(device: str) -> None:
    """tokens/s of the transformers backend at 1, 4, 16 concurrent streams on one device."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatbot.settings")
    os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="bench-pool-"))
    os.environ["CHATBOT_DEVICE"] = device
    os.environ["CHATBOT_MAX_BATCH"] = str(max(LEVELS))
    import django

    django.setup()
    import torch

    from chatbot.generation.transformers_backend import TransformersGenerator

    if not torch.cuda.is_available():
        print("\nNo GPU in this session: tokens/s per GPU not measured. On a GPU box run")
        print("  CUDA_VISIBLE_DEVICES=0 .venv/bin/python bench/pool.py --batching --device cuda")
        print("and set CHATBOT_MODEL to the model you serve. CPU figures follow (indicative).")
    gen = TransformersGenerator()
    print(f"\ntransformers batching on {gen.device} ({gen.name}), 32 new tokens per stream")
    prompts = [[{"role": "user", "content": q}] for q in QUESTIONS]
    "".join(gen.stream(prompts[0], max_tokens=4))  # warm
    base = None
    for n in LEVELS:
        counts = [0] * n

        def run(i: int, counts=counts) -> None:
            for _ in gen.stream(prompts[i % len(prompts)], max_tokens=32):
                counts[i] += 1

        threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
        rate = sum(counts) / wall
        base = base or rate
        print(
            f"{n:>3} streams: {rate:8.1f} tokens/s ({rate / base:4.1f}x), "
            f"largest batch {gen.scheduler.stats.largest_batch}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="extractive,llamacpp")
    parser.add_argument("--shapes", default="embedded,scaled")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--answers", type=int, default=16)
    parser.add_argument("--batching", action="store_true", help="also transformers tokens/s")
    parser.add_argument("--batching-only", action="store_true")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    # Stopped by `timeout` or Ctrl-C: unwind, so the daphne and worker processes (their own
    # sessions) and the throwaway database are cleaned up, not orphaned.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; load average {os.getloadavg()[0]:.1f} at start"
    )
    if not args.batching_only:
        print(f"{args.answers} answers per level; ratio vs 1 customer, same shape and backend")
        bench_stack(args)
    if args.batching or args.batching_only:
        bench_batching(args.device)


if __name__ == "__main__":
    main()

"""Inside each inference process (a Celery inference worker, or the embedded web process):
load and warm the models before taking work, report health, and take over the replies of
workers that died.

One thread per process does both, every WATCHDOG tick: it refreshes this worker's row in
the registry (chatbot/pool.py) and hands replies whose worker stopped beating back to the
queue (chatbot/replies.requeue_stale). Every inference worker runs one, so a reply is
recovered as long as any worker lives, with no extra process to deploy.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading

from django.conf import settings
from django.db import connection

from chatbot import inference, pool, replies

log = logging.getLogger(__name__)

_started: set[str] = set()
_start_lock = threading.Lock()


def tick_seconds() -> float:
    # Often enough that a dead worker's reply moves within a few seconds of going stale.
    return max(0.2, min(2.0, settings.REPLY_STALE_S / 4))


def load_models() -> dict:
    """Load and warm the embedder and the generator; what the worker reports about itself."""
    from chatbot.generation import get_generator
    from faq_ingest.retrieval.embedders import get_embedder

    get_embedder()
    return get_generator().describe()


def worker_name(hostname: str | None) -> str:
    return pool.worker_name(hostname)


def start(name: str, info: dict) -> threading.Thread | None:
    """Register this worker and start its heartbeat-and-recovery thread (once per name)."""
    with _start_lock:
        if name in _started:
            return None
        _started.add(name)
    pool.register_worker(name, info)
    atexit.register(_unregister, name)
    thread = threading.Thread(target=_loop, args=(name,), name="pool-watchdog", daemon=True)
    thread.start()
    return thread


def _unregister(name: str) -> None:
    # Shutting down: if the database is already gone, the row ages out of the live set.
    with contextlib.suppress(Exception):
        pool.unregister_worker(name)


def _loop(name: str) -> None:
    stop = threading.Event()
    while not stop.wait(tick_seconds()):
        try:
            pool.beat_worker(name, busy=replies.busy())
            for customer_message_id in replies.requeue_stale():
                inference.submit_reply(customer_message_id)
        except Exception:
            log.exception("pool watchdog tick failed")
            connection.close()  # a broken connection is reopened on the next tick


def start_inference_worker(hostname: str | None, *, concurrency: int = 1) -> None:
    """Celery inference worker start-up: blocks until the models are loaded and warm, so the
    worker consumes its first task only when it can answer it."""
    name = worker_name(hostname)
    with _start_lock:
        if name in _started:
            return
    info = load_models()
    # A batching backend serves at most as many replies as the worker runs tasks at once.
    info["slots"] = min(int(info.get("slots", 1)), concurrency)
    start(name, info)
    connection.close()
    log.info("inference worker %s ready: %s", name, info)


def start_embedded_in_background() -> threading.Thread:
    """Embedded mode, at start-up: load the models in the background (requests that arrive
    sooner wait on the same loading lock), then, with RECOVER_ON_START, answer the replies a
    previous run accepted but never finished, and report health."""

    def run() -> None:
        try:
            info = load_models()
        except Exception:
            log.exception("model warm-up failed; the first answer will retry loading")
            return
        if not settings.RECOVER_ON_START:
            return
        try:
            recovered = replies.recover_after_restart()
            if recovered:
                log.warning("answering %d replies pending before the restart", len(recovered))
            for customer_message_id in recovered:
                inference.submit_reply(customer_message_id)
            start(worker_name("embedded"), info)
        except Exception:
            log.exception("could not recover replies pending before the restart")
        finally:
            connection.close()

    thread = threading.Thread(target=run, name="model-warmup", daemon=True)
    thread.start()
    return thread

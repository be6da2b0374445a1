from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_init, worker_process_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatbot.settings")

app = Celery("chatbot")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["chatbot", "faq_ingest", "agents"])


def _start_inference(hostname: str | None, concurrency: int) -> None:
    """Inference workers load and warm the models once, before taking work, then report
    health and watch for replies of dead workers (chatbot/watchdog.py)."""
    if "inference" in os.environ.get("CHATBOT_WORKER_QUEUES", "").split(","):
        # Imported here: this module is imported while Django's app registry is loading.
        from chatbot.watchdog import start_inference_worker

        start_inference_worker(hostname, concurrency=concurrency)


@worker_init.connect
def _warm_up_worker(sender=None, **_kwargs) -> None:
    # Sent in the worker's main process before the pool starts: for `-P threads` and
    # `-P solo` that is the process that runs the tasks. A prefork parent is not; its
    # children warm up on worker_process_init (prefork is not recommended for inference:
    # every child loads its own model).
    if "prefork" in str(getattr(sender, "pool_cls", "")).lower():
        return
    _start_inference(getattr(sender, "hostname", None), getattr(sender, "concurrency", 1) or 1)


@worker_process_init.connect
def _warm_up_process(sender=None, **_kwargs) -> None:
    # A prefork child, or the solo pool (which sends it too; then it is a no-op).
    _start_inference(sender if isinstance(sender, str) else None, 1)


@worker_ready.connect
def _check_index_on_start(sender=None, **_kwargs) -> None:
    """Every worker that starts asks the `ingest` queue for the start-up check: close the
    crawls and builds a killed worker left behind, and rebuild a missing or stale index.
    Sent by name: this module is loaded before Django's apps are."""
    # Expires: with no ingest worker up, the checks of restarted workers must not pile up.
    app.send_task("faq_ingest.tasks.heal", queue="ingest", expires=600)

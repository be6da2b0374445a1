from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_process_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatbot.settings")

app = Celery("chatbot")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["chatbot", "faq_ingest", "agents"])


@worker_process_init.connect
def _warm_up(**_kwargs) -> None:
    """Inference workers load and warm the models once, before taking work."""
    queues = os.environ.get("CHATBOT_WORKER_QUEUES", "")
    if "inference" in queues.split(","):
        from chatbot.generation import get_generator
        from faq_ingest.retrieval.embedders import get_embedder

        get_embedder()
        get_generator()


@worker_ready.connect
def _check_index_on_start(sender=None, **_kwargs) -> None:
    """Every worker that starts asks the `ingest` queue for the start-up check: close the
    crawls and builds a killed worker left behind, and rebuild a missing or stale index.
    Sent by name: this module is loaded before Django's apps are."""
    # Expires: with no ingest worker up, the checks of restarted workers must not pile up.
    app.send_task("faq_ingest.tasks.heal", queue="ingest", expires=600)

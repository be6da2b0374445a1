from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_process_init

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

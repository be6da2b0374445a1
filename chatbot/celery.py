from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_init, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatbot.settings")

app = Celery("chatbot")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["chatbot", "faq_ingest"])


@worker_init.connect
@worker_process_init.connect
def _warm_up(sender=None, **_kwargs) -> None:
    """Inference workers load and warm the models once, before taking work, then report
    health and watch for replies of dead workers (chatbot/watchdog.py). Both signals:
    `worker_init` is the one a `-P threads` pool sends, `worker_process_init` a `-P solo`
    one; the second call is a no-op. (Inference workers are not run with prefork: the
    model would load in the parent and be forked.)"""
    queues = os.environ.get("CHATBOT_WORKER_QUEUES", "")
    if "inference" in queues.split(","):
        # Imported here: this module is imported while Django's app registry is loading.
        from chatbot.watchdog import start_inference_worker

        hostname = getattr(sender, "hostname", sender)
        start_inference_worker(
            hostname if isinstance(hostname, str) else None,
            concurrency=getattr(sender, "concurrency", None) or 1,
        )

"""Keeps each source's periodic crawl (django-celery-beat) in step with its settings."""

from __future__ import annotations

import json

from faq_ingest.models import FaqSource


def sync_schedule(source: FaqSource) -> None:
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    name = f"crawl source {source.pk}"
    if not source.enabled or not source.crawl_every_hours:
        PeriodicTask.objects.filter(name=name).delete()
        return
    interval, _ = IntervalSchedule.objects.get_or_create(
        every=source.crawl_every_hours, period=IntervalSchedule.HOURS)
    PeriodicTask.objects.update_or_create(name=name, defaults={
        "interval": interval, "task": "faq_ingest.tasks.crawl_source",
        "args": json.dumps([source.pk]), "queue": "ingest", "enabled": True,
    })

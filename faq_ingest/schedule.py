"""Keeps each source's periodic crawl (django-celery-beat) in step with its settings."""

from __future__ import annotations

import json

from faq_ingest.models import FaqSource


def schedule_name(source_id: int) -> str:
    return f"crawl source {source_id}"


def sync_schedule(source: FaqSource) -> None:
    """Create, update or remove the source's PeriodicTask to match its settings."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    name = schedule_name(source.pk)
    if not source.enabled or not source.crawl_every_hours:
        PeriodicTask.objects.filter(name=name).delete()
        return
    # Not get_or_create: beat does not make intervals unique, and a duplicate row (made by
    # hand in the admin) must not break saving a source.
    interval = (
        IntervalSchedule.objects.filter(
            every=source.crawl_every_hours, period=IntervalSchedule.HOURS
        )
        .order_by("pk")
        .first()
    )
    if interval is None:
        interval = IntervalSchedule.objects.create(
            every=source.crawl_every_hours, period=IntervalSchedule.HOURS
        )
    PeriodicTask.objects.update_or_create(
        name=name,
        defaults={
            "interval": interval,
            "task": "faq_ingest.tasks.crawl_source",
            "args": json.dumps([source.pk]),
            "queue": "ingest",
            "enabled": True,
        },
    )


def remove_schedule(source_id: int) -> None:
    """Drop the periodic crawl of a deleted source."""
    from django_celery_beat.models import PeriodicTask

    PeriodicTask.objects.filter(name=schedule_name(source_id)).delete()

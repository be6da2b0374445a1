"""Per-source schedule via django-celery-beat: a PeriodicTask exists exactly while the
source is enabled with crawl_every_hours set."""

from __future__ import annotations

import json

import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from faq_ingest.models import FaqSource
from faq_ingest.schedule import schedule_name, sync_schedule

pytestmark = pytest.mark.django_db


def task_for(source: FaqSource) -> PeriodicTask | None:
    return PeriodicTask.objects.filter(name=schedule_name(source.pk)).first()


def test_sync_schedule_creates_updates_and_removes() -> None:
    source = FaqSource.objects.create(
        name="s", start_url="https://help.example.com/", crawl_every_hours=6
    )
    sync_schedule(source)
    task = task_for(source)
    assert task.task == "faq_ingest.tasks.crawl_source" and task.queue == "ingest"
    assert json.loads(task.args) == [source.pk] and task.enabled
    assert (task.interval.every, task.interval.period) == (6, IntervalSchedule.HOURS)

    source.crawl_every_hours = 24
    sync_schedule(source)
    assert PeriodicTask.objects.count() == 1 and task_for(source).interval.every == 24

    source.enabled = False
    sync_schedule(source)
    assert task_for(source) is None

    source.enabled, source.crawl_every_hours = True, 3
    sync_schedule(source)
    source.crawl_every_hours = 0
    sync_schedule(source)
    assert task_for(source) is None


def test_duplicate_interval_rows_do_not_break_it() -> None:
    IntervalSchedule.objects.create(every=12, period=IntervalSchedule.HOURS)
    IntervalSchedule.objects.create(every=12, period=IntervalSchedule.HOURS)
    source = FaqSource.objects.create(
        name="s", start_url="https://help.example.com/", crawl_every_hours=12
    )
    sync_schedule(source)
    assert task_for(source).interval.every == 12


def test_admin_save_and_delete_keep_the_schedule_in_step(admin_client) -> None:
    resp = admin_client.post(
        "/admin/faq_ingest/faqsource/add/",
        {
            "name": "Help",
            "start_url": "https://help.example.com/",
            "extra_urls": "",
            "enabled": "on",
            "max_pages": 200,
            "max_depth": 5,
            "crawl_every_hours": 8,
        },
    )
    assert resp.status_code == 302
    source = FaqSource.objects.get()
    assert task_for(source).interval.every == 8
    admin_client.post(f"/admin/faq_ingest/faqsource/{source.pk}/delete/", {"post": "yes"})
    assert not FaqSource.objects.exists() and PeriodicTask.objects.count() == 0

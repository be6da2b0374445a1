"""One crawl at a time per source: the RUNNING CrawlRun is the lock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from faq_ingest import sync
from faq_ingest.models import CrawlRun, FaqSource

pytestmark = pytest.mark.django_db


@pytest.fixture
def source() -> FaqSource:
    return FaqSource.objects.create(name="s", start_url="http://127.0.0.1:9/")


def test_second_start_while_running_is_refused(source) -> None:
    first = sync.start_run(source.pk)
    assert first is not None and first.status == CrawlRun.RUNNING
    assert sync.start_run(source.pk) is None
    assert sync.crawl_source(source.pk) is None
    assert CrawlRun.objects.count() == 1
    other = FaqSource.objects.create(name="t", start_url="http://127.0.0.1:9/")
    assert sync.start_run(other.pk) is not None  # the lock is per source


def test_lock_is_released_when_the_run_finishes(source) -> None:
    run = sync.crawl_source(source.pk)  # nothing listens on port 9: a quick failed run
    assert run is not None and run.status == CrawlRun.FAILED
    assert sync.start_run(source.pk) is not None


def test_stale_running_row_of_a_dead_worker_stops_blocking(source) -> None:
    dead = sync.start_run(source.pk)
    CrawlRun.objects.filter(pk=dead.pk).update(
        started_at=dead.started_at - sync.STALE_RUN - timedelta(minutes=1)
    )
    assert sync.start_run(source.pk) is not None
    dead.refresh_from_db()
    assert dead.status == CrawlRun.FAILED and "stale" in dead.error


def test_disabled_or_missing_source_is_not_crawled(source) -> None:
    source.enabled = False
    source.save()
    assert sync.start_run(source.pk) is None
    assert sync.start_run(source.pk + 1000) is None

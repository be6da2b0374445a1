"""Ingest-queue entry points. Thin: each takes ids and calls one function."""

from __future__ import annotations

import logging

from celery import shared_task

log = logging.getLogger(__name__)


@shared_task(name="faq_ingest.tasks.crawl_source", acks_late=True)
def crawl_source(source_id: int, max_pages: int | None = None) -> dict | None:
    from faq_ingest.sync import crawl_source as run

    crawl = run(source_id, max_pages=max_pages)
    return None if crawl is None else {"crawl_run_id": crawl.pk, "status": crawl.status}


@shared_task(name="faq_ingest.tasks.crawl_all")
def crawl_all() -> int:
    from faq_ingest.models import FaqSource

    ids = list(FaqSource.objects.filter(enabled=True).values_list("id", flat=True))
    for source_id in ids:
        crawl_source.delay(source_id)
    return len(ids)


@shared_task(name="faq_ingest.tasks.rebuild_index", acks_late=True)
def rebuild_index(force: bool = False) -> int | None:
    from faq_ingest.index import build_snapshot, clear_rebuild_request

    clear_rebuild_request()
    snap = build_snapshot(force=force)
    return None if snap is None else snap.pk

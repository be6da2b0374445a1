"""Ingest-queue entry points. Thin: each takes ids and calls one function.

Crawls and builds are acks_late: a worker killed mid-task leaves its message to be
delivered again. `retry_on_worker_lost` re-sends it at once when only a pool process died
(the parent survives), at most `max_retries` times, so a page that kills the worker every
time cannot loop forever; when the whole worker died, the broker re-delivers it after
CELERY_VISIBILITY_TIMEOUT_S. Either way the lease tells the new delivery what happened.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import Ignore

from faq_ingest.errors import CrawlNotStarted, DuplicateDelivery

log = logging.getLogger(__name__)


@shared_task(
    bind=True,
    name="faq_ingest.tasks.crawl_source",
    acks_late=True,
    retry_on_worker_lost=True,
    max_retries=3,
    default_retry_delay=2,
    # A refused crawl is a FAILURE with its reason, logged without a traceback.
    throws=(CrawlNotStarted,),
)
def crawl_source(self, source_id: int, max_pages: int | None = None) -> dict:
    from faq_ingest.sync import crawl_source as run

    try:
        crawl = run(source_id, max_pages=max_pages, task_id=self.request.id or "")
    except DuplicateDelivery as exc:
        # The broker handed out this task again while its first delivery still crawls;
        # that one reports the result.
        log.info("crawl_source[%s]: %s", self.request.id, exc)
        raise Ignore() from exc
    return {"crawl_run_id": crawl.pk, "status": crawl.status}


@shared_task(name="faq_ingest.tasks.crawl_all")
def crawl_all() -> int:
    from faq_ingest.models import FaqSource

    ids = list(FaqSource.objects.filter(enabled=True).values_list("id", flat=True))
    for source_id in ids:
        try:
            crawl_source.delay(source_id)
        except CrawlNotStarted as exc:
            # Only in the embedded shape, where tasks run inline and raise here: one busy
            # source must not stop the others. The refusal is recorded on a REFUSED run.
            log.warning("crawl of source %s not started: %s", source_id, exc)
    return len(ids)


@shared_task(
    name="faq_ingest.tasks.rebuild_index",
    acks_late=True,
    retry_on_worker_lost=True,
    max_retries=2,
    default_retry_delay=2,
)
def rebuild_index(force: bool = False) -> int | None:
    from faq_ingest.index import build_snapshot, clear_rebuild_request

    clear_rebuild_request()
    snap = build_snapshot(force=force)
    return None if snap is None else snap.pk


@shared_task(name="faq_ingest.tasks.heal", acks_late=True)
def heal() -> dict:
    """Start-up check: close abandoned crawls/builds, rebuild a missing or stale index."""
    from faq_ingest.recovery import heal as run

    return run()


@shared_task(name="faq_ingest.tasks.reap_leases")
def reap_leases() -> dict:
    """Periodic (beat): close crawls and builds whose worker stopped responding."""
    from faq_ingest.recovery import reap_abandoned

    return reap_abandoned()

"""One crawl of one source: fetch pages, extract FAQs, apply them without losing data.

Rules that keep the knowledge base safe:
- only one crawl per source runs at a time (a RUNNING CrawlRun row is the lock);
- a page that fails, answers 304 or did not change still "sees" the FAQs it produced
  last time, so they are never counted missing;
- FAQs are counted missing, and eventually retired, only after a crawl in which every
  page succeeded.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from faq_ingest import knowledge
from faq_ingest.crawl import CrawlLimits, PageOutcome, PriorPage, crawl_site
from faq_ingest.extract import extract_faqs, normalise_question
from faq_ingest.fetch import Fetcher
from faq_ingest.models import CrawledPage, CrawlRun, FaqSource

log = logging.getLogger(__name__)

# A RUNNING row older than this belongs to a worker that died; it no longer blocks.
STALE_RUN = timedelta(hours=2)


def start_run(source_id: int) -> CrawlRun | None:
    """Claim the source for one crawl; None if it is gone, disabled or already crawling."""
    with transaction.atomic():
        source = FaqSource.objects.select_for_update().filter(pk=source_id).first()
        if source is None or not source.enabled:
            return None
        stale_before = timezone.now() - STALE_RUN
        CrawlRun.objects.filter(source=source, status=CrawlRun.RUNNING,
                                started_at__lt=stale_before).update(
            status=CrawlRun.FAILED, finished_at=timezone.now(), error="abandoned (stale)")
        if CrawlRun.objects.filter(source=source, status=CrawlRun.RUNNING).exists():
            return None
        return CrawlRun.objects.create(source=source)


def crawl_source(source_id: int, *, max_pages: int | None = None,
                 max_depth: int | None = None) -> CrawlRun | None:
    run = start_run(source_id)
    if run is None:
        return None
    source = run.source
    try:
        _crawl(run, source, max_pages=max_pages, max_depth=max_depth)
    except Exception as exc:
        log.exception("crawl of %s failed", source)
        run.status, run.error = CrawlRun.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
    run.finished_at = timezone.now()
    run.save()
    FaqSource.objects.filter(pk=source.pk).update(last_crawled_at=run.finished_at)
    return run


def _crawl(run: CrawlRun, source: FaqSource, *, max_pages: int | None,
           max_depth: int | None) -> None:
    pages = {p.url: p for p in CrawledPage.objects.filter(source=source)}
    prior = {
        url: PriorPage(etag=p.etag or None, last_modified=p.last_modified or None,
                       content_hash=p.content_hash)
        for url, p in pages.items()
    }
    limits = CrawlLimits(
        max_pages=max_pages or source.max_pages or settings.CRAWLER_MAX_PAGES,
        max_depth=source.max_depth if max_depth is None else max_depth,
        politeness_delay_s=settings.CRAWLER_POLITENESS_DELAY_S,
    )
    fetcher = Fetcher(allowed_private_hosts=settings.CRAWLER_ALLOWED_PRIVATE_HOSTS)
    seen: set[int] = set()
    keys_this_run: set[str] = set()
    changed = False
    try:
        for outcome in crawl_site(source.start_urls(), fetcher, limits=limits, prior=prior):
            changed |= _apply_page(run, source, outcome, pages, seen, keys_this_run)
    finally:
        fetcher.close()

    with transaction.atomic():
        knowledge.mark_seen(seen)
        if run.pages_failed == 0 and (run.pages_fetched or run.pages_not_modified):
            run.status = CrawlRun.SUCCEEDED
            run.faqs_retired = knowledge.retire_missing(
                source, seen, settings.CRAWLER_RETIRE_AFTER_MISSES, run)
        elif run.pages_fetched or run.pages_not_modified:
            run.status = CrawlRun.PARTIAL
        else:
            run.status = CrawlRun.FAILED
            run.error = run.error or "no page could be fetched"
        if changed or run.faqs_retired:
            knowledge.request_index_rebuild()


def _apply_page(run: CrawlRun, source: FaqSource, outcome: PageOutcome,
                pages: dict[str, CrawledPage], seen: set[int], keys_this_run: set[str]) -> bool:
    known = pages.get(outcome.url)
    if outcome.status == "failed":
        run.pages_failed += 1
        err = outcome.error
        run.failures.append({"url": outcome.url, "code": getattr(err, "code", "error"),
                             "detail": str(err)[:500]})
        if known:
            seen.update(known.faq_ids)
        return False
    if outcome.status in ("not_modified", "unchanged"):
        run.pages_not_modified += 1
        if known:
            seen.update(known.faq_ids)
            known.last_status, known.last_fetched_at = outcome.status, timezone.now()
            known.save(update_fields=["last_status", "last_fetched_at"])
        return False
    if outcome.status != "fetched" or outcome.result is None:
        return False

    run.pages_fetched += 1
    result = outcome.result
    changed = False
    page_faq_ids: list[int] = []
    with transaction.atomic():
        for item in extract_faqs(result.text, result.url):
            key = normalise_question(item.question)[:500]
            if not key or key in keys_this_run:
                continue  # the same question on two pages: the first page owns it
            keys_this_run.add(key)
            url = f"{result.url}#{item.anchor}" if item.anchor else result.url
            faq, what = knowledge.apply_crawled(source, knowledge.CrawledFaq(
                question=item.question[:5000], question_key=key, answer=item.answer,
                source_url=url[:2000], language=item.language[:16],
                extractor=item.extractor[:40], kind=item.kind,
            ), run)
            page_faq_ids.append(faq.pk)
            seen.add(faq.pk)
            if what == knowledge.ADDED:
                run.faqs_added += 1
                changed = True
            elif what == knowledge.UPDATED:
                run.faqs_updated += 1
                changed = True
            else:
                run.faqs_unchanged += 1
        CrawledPage.objects.update_or_create(
            source=source, url=outcome.url,
            defaults={"etag": result.etag or "", "last_modified": result.last_modified or "",
                      "content_hash": result.content_hash, "faq_ids": page_faq_ids,
                      "last_status": "fetched", "last_fetched_at": timezone.now()},
        )
    return changed

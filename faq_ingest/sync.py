"""One crawl of one source: fetch pages, extract FAQs, apply them without losing data.

Rules that keep the knowledge base safe:
- only one crawl per source runs at a time (a RUNNING CrawlRun row is the lock);
- a page that fails, answers 304, did not change, or was not reached this time (page
  limit) still "sees" the FAQs it produced last time, so they are never counted missing;
- FAQs are counted missing, and eventually retired, only after a crawl in which every
  page succeeded;
- a page that answers 404/410 fails that crawl (nothing retired) and is remembered as
  gone; if it is still gone next time that is no failure, and only from then on do its
  FAQs count misses. A page that comes back is simply fetched again.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from faq_ingest import knowledge
from faq_ingest.crawl import CrawlLimits, PageOutcome, PriorPage, crawl_site, url_origin
from faq_ingest.extract import ExtractedFaq, extract_page, normalise_question
from faq_ingest.extract.records import MAX_SKIP_TITLE_CHARS, SKIP_DUPLICATE
from faq_ingest.fetch import Fetcher
from faq_ingest.models import CrawledPage, CrawlRun, Faq, FaqSource
from faq_ingest.robots import fetch_robots

log = logging.getLogger(__name__)

# A RUNNING row older than this belongs to a worker that died; it no longer blocks.
STALE_RUN = timedelta(hours=2)
# A page's own list of what it left out keeps this many distinct (title, reason) pairs;
# the rest is kept as a count per reason.
MAX_PAGE_SKIPS = 100
# One (title, reason) is listed on a run at most this often: "Was this article helpful?"
# on 500 pages is one finding, not 500.
MAX_SAME_SKIP = 3
# Fetch errors that mean "this page no longer exists", as opposed to "try again later".
GONE_CODES = frozenset({"http_404", "http_410"})
PAGE_GONE = "gone"


@dataclass
class _RunState:
    """What one crawl has learned so far; only `run` is persisted."""

    pages: dict[str, CrawledPage]  # what earlier crawls stored, by canonical URL
    seen: set[int] = field(default_factory=set)  # FAQ ids still on the site
    # Question key -> FAQ id applied this run. A page repeating another page's question
    # still lists that FAQ, so it stays seen while either page has it.
    keys: dict[str, int] = field(default_factory=dict)
    visited: set[str] = field(default_factory=set)
    touched: list[CrawledPage] = field(default_factory=list)  # 304/unchanged, saved in bulk
    changed: bool = False  # any FAQ added or updated
    # Question key -> (page URL, answer digest) of the record that took it this run.
    owners: dict[str, tuple[str, str]] = field(default_factory=dict)
    listed_skips: Counter[tuple[str, str]] = field(default_factory=Counter)


def start_run(source_id: int) -> CrawlRun | None:
    """Claim the source for one crawl; None if it is gone, disabled or already crawling."""
    with transaction.atomic():
        source = FaqSource.objects.select_for_update().filter(pk=source_id).first()
        if source is None or not source.enabled:
            return None
        stale_before = timezone.now() - STALE_RUN
        CrawlRun.objects.filter(
            source=source, status=CrawlRun.RUNNING, started_at__lt=stale_before
        ).update(status=CrawlRun.FAILED, finished_at=timezone.now(), error="abandoned (stale)")
        if CrawlRun.objects.filter(source=source, status=CrawlRun.RUNNING).exists():
            return None
        return CrawlRun.objects.create(source=source)


def crawl_source(
    source_id: int, *, max_pages: int | None = None, max_depth: int | None = None
) -> CrawlRun | None:
    """Crawl one source now and apply what it finds; None if it could not be claimed."""
    run = start_run(source_id)
    if run is None:
        return None
    source = run.source
    state = _RunState(pages={p.url: p for p in CrawledPage.objects.filter(source=source)})
    try:
        _crawl(run, source, state, max_pages=max_pages, max_depth=max_depth)
    except Exception as exc:
        log.exception("crawl of %s failed", source)
        run.status, run.error = CrawlRun.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
        if state.changed:
            # Pages applied before the failure are committed; the index must show them.
            knowledge.request_index_rebuild()
    run.finished_at = timezone.now()
    run.save()
    FaqSource.objects.filter(pk=source.pk).update(last_crawled_at=run.finished_at)
    return run


def _crawl(
    run: CrawlRun,
    source: FaqSource,
    state: _RunState,
    *,
    max_pages: int | None,
    max_depth: int | None,
) -> None:
    prior = {
        url: PriorPage(
            etag=p.etag or None, last_modified=p.last_modified or None, content_hash=p.content_hash
        )
        for url, p in state.pages.items()
    }
    limits = CrawlLimits(
        max_pages=max_pages or source.max_pages or settings.CRAWLER_MAX_PAGES,
        max_depth=source.max_depth if max_depth is None else max_depth,
        politeness_delay_s=settings.CRAWLER_POLITENESS_DELAY_S,
    )
    fetcher = Fetcher(allowed_private_hosts=settings.CRAWLER_ALLOWED_PRIVATE_HOSTS)
    robots_skipped = 0
    try:
        for outcome in crawl_site(source.start_urls(), fetcher, limits=limits, prior=prior):
            state.visited.add(outcome.url)
            if outcome.status == "skipped_robots":
                robots_skipped += 1
            _apply_page(run, source, outcome, state)
        reached = run.pages_fetched or run.pages_not_modified
        if not reached and not run.pages_failed and robots_skipped:
            run.error = _robots_blocked_reason(source, fetcher, robots_skipped)
    finally:
        fetcher.close()

    # A page limit (or a shorter --max-pages) leaves known pages unvisited; not reaching a
    # page says nothing about whether its FAQs are still there.
    for url, page in state.pages.items():
        if url not in state.visited:
            state.seen.update(page.faq_ids)

    with transaction.atomic():
        if state.touched:
            CrawledPage.objects.bulk_update(
                state.touched, ["last_status", "last_fetched_at"], batch_size=500
            )
        knowledge.mark_seen(state.seen)
        if run.pages_failed == 0 and reached:
            run.status = CrawlRun.SUCCEEDED
            run.faqs_retired = knowledge.retire_missing(
                source, state.seen, settings.CRAWLER_RETIRE_AFTER_MISSES, run
            )
        elif reached:
            run.status = CrawlRun.PARTIAL
        else:
            run.status = CrawlRun.FAILED
            run.error = run.error or "no page could be fetched"
        if state.changed or run.faqs_retired:
            knowledge.request_index_rebuild()


def _robots_blocked_reason(source: FaqSource, fetcher: Fetcher, skipped: int) -> str:
    # The crawler reports "disallowed" for an unreachable robots.txt too (RFC 9309);
    # staff need the real cause (refused, DNS, 5xx), so ask once more for it.
    policy = fetch_robots(url_origin(source.start_url), fetcher)
    if policy.error is not None:
        return f"site unreachable: {policy.error.code} for {policy.error.url}"[:2000]
    return f"robots.txt disallows all {skipped} start page(s)"


def _record_failure(run: CrawlRun, url: str, code: str, detail: str) -> None:
    run.pages_failed += 1
    run.failures.append({"url": url, "code": code, "detail": detail[:500]})


def _apply_page(run: CrawlRun, source: FaqSource, outcome: PageOutcome, state: _RunState) -> None:
    known = state.pages.get(outcome.url)
    if outcome.status == "failed":
        err = outcome.error
        code = getattr(err, "code", "error")
        if known and known.last_status == PAGE_GONE and code in GONE_CODES:
            # Still gone, as the last crawl found: expected, not a failure. Its FAQs were
            # unlisted then, so they now count misses like any FAQ that left the site.
            known.last_fetched_at = timezone.now()
            state.touched.append(known)
            return
        _record_failure(run, outcome.url, code, str(err))
        if known:
            state.seen.update(known.faq_ids)
            if code in GONE_CODES:
                _forget_page(known)
        return
    if outcome.status in ("not_modified", "unchanged"):
        run.pages_not_modified += 1
        if known:
            state.seen.update(known.faq_ids)
            _count_skips(run, state, known.url, known.skipped_sections)
            known.last_status, known.last_fetched_at = outcome.status, timezone.now()
            state.touched.append(known)
        return
    if outcome.status != "fetched" or outcome.result is None:
        return

    result = outcome.result
    try:
        extraction = extract_page(result.text, result.url)
    except Exception as exc:  # one page the extractor cannot handle must not stop the crawl
        log.exception("extraction failed for %s", outcome.url)
        _record_failure(run, outcome.url, "extract_error", f"{type(exc).__name__}: {exc}")
        if known:
            state.seen.update(known.faq_ids)
        return

    run.pages_fetched += 1
    page_faq_ids: list[int] = []
    skips = [{"title": s.title, "reason": s.reason} for s in extraction.skipped]
    with transaction.atomic():
        for item in extraction.records:
            key = _identity(item, result.url, state)
            if not key:
                continue
            if key in state.keys:  # the same question on two pages: the first page owns it
                if state.keys[key] not in page_faq_ids:
                    page_faq_ids.append(state.keys[key])
                if state.owners[key][1] != _digest(item.answer):
                    # Its answer here differs from the one kept: staff should know.
                    skips.append(
                        {"title": item.question[:MAX_SKIP_TITLE_CHARS], "reason": SKIP_DUPLICATE}
                    )
                continue
            state.owners[key] = (result.url, _digest(item.answer))
            url = f"{result.url}#{item.anchor}" if item.anchor else result.url
            crawled = knowledge.CrawledFaq(
                question=item.question[:5000],
                question_key=key,
                answer=item.answer,
                source_url=url[:2000],
                language=item.language[:16],
                extractor=item.extractor[:40],
                kind=item.kind,
            )
            faq, what = knowledge.apply_crawled(source, crawled, run)
            state.keys[key] = faq.pk
            page_faq_ids.append(faq.pk)
            state.seen.add(faq.pk)
            if what == knowledge.ADDED:
                run.faqs_added += 1
                state.changed = True
            elif what == knowledge.UPDATED:
                run.faqs_updated += 1
                state.changed = True
            elif what == knowledge.CONFLICT:
                # Counted whenever the FAQ is left in conflict, not only when this crawl
                # raised it: like the other counts it describes the pages this crawl read,
                # so a run keeps showing an open conflict until staff resolve it. Every FAQ
                # read lands in exactly one of added/updated/unchanged/conflicts. Not
                # `changed`: the text served stays the staff's, so no index rebuild.
                run.conflicts += 1
            else:
                run.faqs_unchanged += 1
        state.pages[outcome.url], _ = CrawledPage.objects.update_or_create(
            source=source,
            url=outcome.url,
            defaults={
                "etag": result.etag or "",
                "last_modified": result.last_modified or "",
                "content_hash": result.content_hash,
                "faq_ids": page_faq_ids,
                "skipped_sections": _page_skips(skips),
                "last_status": "fetched",
                "last_fetched_at": timezone.now(),
            },
        )

    _count_skips(run, state, outcome.url, skips)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _identity(item: ExtractedFaq, url: str, state: _RunState) -> str:
    """The question key a record is stored under.

    A FAQ is its normalised question, so the same question on two pages is one FAQ. A
    passage is titled by its headings, which need not be unique: a long section splits
    into several passages, and two pages can share a heading ("Contact us"). Each passage
    keeps its own key; the first one with a title keeps the plain key, which is the key
    passages had before titles were disambiguated, so re-crawls update them in place.
    """
    key = normalise_question(item.question)[:500]
    if item.kind != Faq.KIND_PASSAGE or not key or key not in state.owners:
        return key
    owner_url, owner_answer = state.owners[key]
    if owner_url != url:
        if owner_answer == _digest(item.answer):
            return key  # the same text on another page: a duplicate, kept once
        key = f"{key[:480]}@{hashlib.sha256(url.encode()).hexdigest()[:10]}"
    base, n = key, 2
    while key in state.owners and state.owners[key][0] == url:
        key, n = f"{base[:490]}#{n}", n + 1
    return key


def _page_skips(skips: list[dict[str, str]]) -> list[dict[str, object]]:
    """What a page left out, as stored on its CrawledPage: [{"title", "reason", "n"}], one
    row per (title, reason); past MAX_PAGE_SKIPS rows, one untitled row per reason."""
    counts = Counter((s["title"], s["reason"]) for s in skips)
    rows: list[dict[str, object]] = []
    overflow: Counter[str] = Counter()
    for (title, reason), n in counts.items():
        if len(rows) < MAX_PAGE_SKIPS:
            rows.append({"title": title, "reason": reason, "n": n})
        else:
            overflow[reason] += n
    rows.extend({"title": "", "reason": reason, "n": n} for reason, n in overflow.items())
    return rows


def _count_skips(run: CrawlRun, state: _RunState, url: str, skips: list[dict]) -> None:
    """Add a page's skips to the run: all to the counts, a bounded, varied few to the list."""
    listed = run.skipped_sections
    for skip in skips:
        n = int(skip.get("n", 1))
        reason = str(skip.get("reason", ""))
        run.skipped += n
        run.skipped_by_reason[reason] = run.skipped_by_reason.get(reason, 0) + n
        seen = (str(skip.get("title", "")), reason)
        if not seen[0] or len(listed) >= CrawlRun.MAX_SKIPPED_SECTIONS:
            continue
        if state.listed_skips[seen] >= MAX_SAME_SKIP:
            continue
        state.listed_skips[seen] += 1
        listed.append({"url": url[:2000], "title": seen[0], "reason": reason})


def _forget_page(page: CrawledPage) -> None:
    page.etag, page.last_modified, page.content_hash = "", "", ""
    page.faq_ids, page.last_status, page.last_fetched_at = [], PAGE_GONE, timezone.now()
    page.save()

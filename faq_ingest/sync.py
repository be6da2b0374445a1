"""One crawl of one source: fetch pages, extract FAQs, apply them without losing data.

Rules that keep the knowledge base safe:
- only one crawl per source runs at a time (a RUNNING CrawlRun row is the lock);
- a page that fails, answers 304, did not change, or was not reached this time (page
  limit) still "sees" the FAQs it produced last time, so they are never counted missing;
- FAQs are counted missing, and eventually retired, only after a crawl in which every
  page succeeded;
- a page that answers 404/410 fails that crawl (nothing retired) and is remembered as
  gone; if it is still gone next time that is no failure, and only from then on do its
  FAQs count misses. A page that comes back is simply fetched again;
- a crawl that looks like an outage is SUSPICIOUS and retires nothing: pages that held
  FAQs now hold none (a "Down for maintenance" page answered 200), or it would retire
  more than CRAWLER_MAX_RETIRE_SHARE of the source. The FAQ-less pages of such a crawl
  are not stored, so an outage page never becomes a passage.

The RUNNING row is a lease (see leases.py): a crawl whose worker died is closed as FAILED
once its lease runs out (at once, when its process is known to be gone), and the FAQs it
had already saved are indexed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from faq_ingest import knowledge, leases
from faq_ingest.crawl import CrawlLimits, PageOutcome, PriorPage, crawl_site, url_origin
from faq_ingest.errors import CrawlNotStarted, DuplicateDelivery
from faq_ingest.extract import ExtractedFaq, PageExtraction, extract_page, normalise_question
from faq_ingest.extract.records import MAX_SKIP_TITLE_CHARS, SKIP_DUPLICATE
from faq_ingest.fetch import Fetcher
from faq_ingest.models import CrawledPage, CrawlRun, Faq, FaqRevision, FaqSource
from faq_ingest.robots import fetch_robots

log = logging.getLogger(__name__)

# Retiring one or two FAQs of a small source is routine, whatever share of it they are;
# the share check starts at this many.
MASS_RETIREMENT_MIN = 3
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
    # Fetched pages with no FAQ on them, applied at the end unless the crawl is suspicious.
    deferred: list[tuple[PageOutcome, PageExtraction]] = field(default_factory=list)
    lease: leases.Heartbeat | None = None
    # Question key -> (page URL, answer digest) of the record that took it this run.
    owners: dict[str, tuple[str, str]] = field(default_factory=dict)
    listed_skips: Counter[tuple[str, str]] = field(default_factory=Counter)


# --------------------------------------------------------------------------------------------
# Claiming a source: the lease
# --------------------------------------------------------------------------------------------


def reap_crawls(source_id: int | None = None) -> list[tuple[int, str]]:
    """Close the crawls (of one source, or all) whose worker died; index what they saved."""
    runs = (
        CrawlRun.objects.all()
        if source_id is None
        else CrawlRun.objects.filter(source_id=source_id)
    )
    closed = leases.reap(
        runs,
        running_status=CrawlRun.RUNNING,
        failed_status=CrawlRun.FAILED,
        started_field="started_at",
        extra={"finished_at": timezone.now()},
    )
    ids = [pk for pk, _ in closed]
    if ids and FaqRevision.objects.filter(crawl_run_id__in=ids).exists():
        # The dead crawl committed FAQ changes page by page, but never reached the
        # rebuild at its end.
        knowledge.request_index_rebuild()
    return closed


def running_crawl(source_id: int) -> CrawlRun | None:
    """The live crawl of the source, if one holds its lease (abandoned ones are closed)."""
    reap_crawls(source_id)
    return CrawlRun.objects.filter(source_id=source_id, status=CrawlRun.RUNNING).first()


def busy_message(holder: CrawlRun) -> str:
    return (
        f"crawl #{holder.pk} of “{holder.source}” is still running (started "
        f"{holder.started_at:%Y-%m-%d %H:%M:%S} UTC, "
        f"{leases.holder_summary(holder.lease_owner, holder.heartbeat_at)}); "
        "try again when it has finished"
    )


def start_run(source_id: int, *, task_id: str = "") -> CrawlRun:
    """Claim the source for one crawl and return the new RUNNING run.

    `task_id` is the Celery task's id. When the broker delivers a task again (its worker
    died, acks_late), the earlier attempt's run is found by it: if that run finished, it is
    returned as is (not RUNNING: nothing to do); if it is still alive, DuplicateDelivery
    is raised; if its worker died, it is closed and the crawl starts over.

    Raises CrawlNotStarted when the source is gone or disabled, or another live crawl
    holds it; that refusal is recorded as a REFUSED run so staff see it.
    """
    reap_crawls(source_id)
    with transaction.atomic():
        source = FaqSource.objects.select_for_update().filter(pk=source_id).first()
        if source is None:
            raise CrawlNotStarted(f"source {source_id} does not exist")
        if not source.enabled:
            raise CrawlNotStarted(f"source “{source}” is disabled")
        if task_id:
            done = (
                CrawlRun.objects.filter(source=source, task_id=task_id)
                .exclude(status__in=[CrawlRun.RUNNING, CrawlRun.FAILED, CrawlRun.REFUSED])
                .first()
            )
            if done is not None:
                return done
        holder = CrawlRun.objects.filter(source=source, status=CrawlRun.RUNNING).first()
        if holder is None:
            return CrawlRun.objects.create(source=source, task_id=task_id, **leases.lease_fields())
        if task_id and holder.task_id == task_id:
            raise DuplicateDelivery(f"crawl #{holder.pk} of this task is still running")
        message = busy_message(holder)
        refused = CrawlRun.objects.create(
            source=source,
            task_id=task_id,
            status=CrawlRun.REFUSED,
            finished_at=timezone.now(),
            error=f"not started: {message}",
        )
    # Raised after the block so that the REFUSED row is committed.
    raise CrawlNotStarted(message, refused_run_id=refused.pk)


def _finish(run: CrawlRun) -> bool:
    """Save the finished run if this process still holds its lease; False if it lost it."""
    with transaction.atomic():
        held = (
            CrawlRun.objects.select_for_update()
            .filter(pk=run.pk, status=CrawlRun.RUNNING, lease_owner=run.lease_owner)
            .exists()
        )
        if not held:
            return False
        run.lease_expires_at = None
        run.save()
    return True


def _assert_lease(run: CrawlRun) -> None:
    """Inside a transaction: lock the run row, or raise LeaseLost if it is not ours now."""
    held = (
        CrawlRun.objects.select_for_update()
        .filter(pk=run.pk, status=CrawlRun.RUNNING, lease_owner=run.lease_owner)
        .exists()
    )
    if not held:
        raise leases.LeaseLost(f"crawl #{run.pk} was closed by recovery")


# --------------------------------------------------------------------------------------------
# One crawl
# --------------------------------------------------------------------------------------------


def crawl_source(
    source_id: int,
    *,
    max_pages: int | None = None,
    max_depth: int | None = None,
    task_id: str = "",
) -> CrawlRun:
    """Crawl one source now and apply what it finds.

    Raises CrawlNotStarted (see start_run). A run that lost its lease part-way (its
    process stalled past the lease) stops and is returned as recovery closed it.
    """
    run = start_run(source_id, task_id=task_id)
    if run.status != CrawlRun.RUNNING:
        return run  # a redelivered task whose first delivery finished the crawl
    source = run.source
    state = _RunState(pages={p.url: p for p in CrawledPage.objects.filter(source=source)})
    state.lease = leases.Heartbeat(CrawlRun, run.pk, run.lease_owner, CrawlRun.RUNNING).start()
    try:
        _crawl(run, source, state, max_pages=max_pages, max_depth=max_depth)
    except leases.LeaseLost:
        log.warning("crawl #%s of %s stopped: its lease was taken over", run.pk, source)
        run.refresh_from_db()
        return run
    except Exception as exc:
        log.exception("crawl of %s failed", source)
        run.status, run.error = CrawlRun.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
    finally:
        state.lease.stop()
    run.finished_at = timezone.now()
    if not _finish(run):
        log.warning("crawl #%s of %s finished after recovery closed it", run.pk, source)
        run.refresh_from_db()
        return run
    FaqSource.objects.filter(pk=source.pk).update(last_crawled_at=run.finished_at)
    if state.changed or run.faqs_retired:
        # After the run is saved: in the embedded shape the build runs right here, and a
        # process killed in it must not leave a finished crawl looking abandoned. Pages
        # applied before a failure are committed too; the index must show them.
        knowledge.request_index_rebuild()
    return run


def _crawl(
    run: CrawlRun,
    source: FaqSource,
    state: _RunState,
    *,
    max_pages: int | None,
    max_depth: int | None,
) -> None:
    conditional = _previous_crawl_completed(run)
    prior = {
        url: PriorPage(
            etag=(p.etag or None) if conditional else None,
            last_modified=(p.last_modified or None) if conditional else None,
            content_hash=p.content_hash,
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
            if state.lease is not None:
                state.lease.check()
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

    emptied = _emptied_pages(state)
    if emptied:
        _hold_back(run, state, emptied)
    else:
        for outcome, extraction in state.deferred:
            _apply_items(run, source, outcome, extraction, state)

    with transaction.atomic():
        _assert_lease(run)
        if state.touched:
            CrawledPage.objects.bulk_update(
                state.touched, ["last_status", "last_fetched_at"], batch_size=500
            )
        knowledge.mark_seen(state.seen)
        retire_after = settings.CRAWLER_RETIRE_AFTER_MISSES
        if run.suspicious_reason:
            run.status = CrawlRun.SUSPICIOUS  # like a partial crawl: nothing counted missing
        elif run.pages_failed == 0 and reached:
            would, active = knowledge.count_retirements(source, state.seen, retire_after)
            if would >= MASS_RETIREMENT_MIN and would > settings.CRAWLER_MAX_RETIRE_SHARE * active:
                run.status = CrawlRun.SUSPICIOUS
                run.suspicious_reason = _mass_retirement_reason(would, active)
                # The misses are real observations and still count; only retiring waits
                # for staff (or for a crawl that retires a plausible share).
                knowledge.retire_missing(source, state.seen, retire_after, run, retire=False)
            else:
                run.status = CrawlRun.SUCCEEDED
                run.faqs_retired = knowledge.retire_missing(source, state.seen, retire_after, run)
        elif reached:
            run.status = CrawlRun.PARTIAL
        else:
            run.status = CrawlRun.FAILED
            run.error = run.error or "no page could be fetched"


def _emptied_pages(state: _RunState) -> list[tuple[PageOutcome, PageExtraction, int]]:
    """Deferred pages that used to hold FAQs which this crawl found nowhere on the site.

    A page whose FAQs moved to another page is not emptied: they were seen there.
    Returns (outcome, extraction, number of FAQs lost) per page.
    """
    candidates = {
        outcome.url: [i for i in state.pages[outcome.url].faq_ids if i not in state.seen]
        for outcome, _ in state.deferred
        if outcome.url in state.pages and state.pages[outcome.url].faq_ids
    }
    wanted = {i for ids in candidates.values() for i in ids}
    if not wanted:
        return []
    live = set(
        Faq.objects.filter(pk__in=wanted, active=True, kind=Faq.KIND_FAQ).values_list(
            "pk", flat=True
        )
    )
    emptied = []
    for outcome, extraction in state.deferred:
        lost = [i for i in candidates.get(outcome.url, []) if i in live]
        if lost:
            emptied.append((outcome, extraction, len(lost)))
    return emptied


def _hold_back(
    run: CrawlRun, state: _RunState, emptied: list[tuple[PageOutcome, PageExtraction, int]]
) -> None:
    """A suspicious crawl stores none of its FAQ-less pages; what they held stays."""
    for outcome, _extraction in state.deferred:
        known = state.pages.get(outcome.url)
        if known:
            state.seen.update(known.faq_ids)
    examples = []
    for outcome, extraction, lost in emptied[:3]:
        title = next((i.question for i in extraction.records if i.question), "")
        title = title or "no readable content"
        examples.append(f"{outcome.url} (“{title[:80]}”, {lost} FAQ(s) gone)")
    run.suspicious_reason = (
        f"{len(emptied)} page(s) that held FAQs now hold none: {'; '.join(examples)}. "
        "This looks like an outage or maintenance page, so nothing was retired and the "
        f"{len(state.deferred)} page(s) without FAQs were not stored. If those FAQs really "
        "left the site, deactivate them in the FAQ admin."
    )[:4000]


def _mass_retirement_reason(would: int, active: int) -> str:
    share = settings.CRAWLER_MAX_RETIRE_SHARE
    return (
        f"this crawl would retire {would} of the source's {active} active FAQs "
        f"({would / max(active, 1):.0%}, more than the {share:.0%} allowed by "
        "CRAWLER_MAX_RETIRE_SHARE), so nothing was retired. If they really left the site, "
        "deactivate them in the FAQ admin (filter on the source) or raise the limit."
    )


def _previous_crawl_completed(run: CrawlRun) -> bool:
    """Whether the source's previous crawl walked the whole site.

    One that failed or died part-way stored validators for the pages it reached but never
    followed their links; a 304 for those now would hide the pages below them (a 304 has
    no links to read). So after such a crawl every page is fetched in full once; pages
    whose content did not change are still recognised by their hash and not re-applied.
    """
    previous = (
        CrawlRun.objects.filter(source_id=run.source_id, pk__lt=run.pk)
        .exclude(status=CrawlRun.REFUSED)
        .order_by("-pk")
        .first()
    )
    return previous is None or previous.status != CrawlRun.FAILED


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
    if not any(item.kind == Faq.KIND_FAQ for item in extraction.records):
        # Could be an outage page standing in for real FAQs: decided once the whole crawl
        # has been seen (FAQs may have moved to another page). The body is dropped: only
        # the extracted items and the page's validators are needed later.
        slim = dataclasses.replace(result, body=b"", text="")
        state.deferred.append((dataclasses.replace(outcome, result=slim), extraction))
        return
    _apply_items(run, source, outcome, extraction, state)


def _apply_items(
    run: CrawlRun,
    source: FaqSource,
    outcome: PageOutcome,
    extraction: PageExtraction,
    state: _RunState,
) -> None:
    result = outcome.result
    assert result is not None
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

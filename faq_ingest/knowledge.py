"""Every write to the FAQ table goes through here, so that each change leaves a revision,
staff edits are never overwritten by a crawl, and the index is rebuilt after commit.

Ownership: a FAQ belongs to the crawler until staff edit it (`edited_by_staff`). For every
crawled FAQ, `crawled_question`/`crawled_answer` hold what its page said the last time a
crawl read it; a staff-owned FAQ is then only flagged (`crawl_conflict`) when the page
says something new after the staff edit, never rewritten.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from faq_ingest.extract.text import normalise_question
from faq_ingest.models import CrawlRun, Faq, FaqRevision, FaqSource

ADDED, UPDATED, UNCHANGED, CONFLICT = "added", "updated", "unchanged", "conflict"
CRAWLER = "crawler"


def content_hash(question: str, answer: str) -> str:
    return hashlib.sha256(f"{question}\x00{answer}".encode()).hexdigest()


@dataclass(frozen=True)
class CrawledFaq:
    question: str
    question_key: str
    answer: str
    source_url: str
    language: str
    extractor: str
    kind: str = Faq.KIND_FAQ


def _revision(faq: Faq, changed_by: str, run: CrawlRun | None = None) -> FaqRevision:
    return FaqRevision.objects.create(
        faq=faq,
        question=faq.question,
        answer=faq.answer,
        active=faq.active,
        changed_by=changed_by[:200],
        crawl_run=run,
    )


def apply_crawled(source: FaqSource, item: CrawledFaq, run: CrawlRun | None) -> tuple[Faq, str]:
    """Insert or update one FAQ seen by a crawl. An answer change is an update, never a
    delete + insert; a staff-edited FAQ only records what the page says now."""
    new_hash = content_hash(item.question, item.answer)
    faq = (
        Faq.objects.select_for_update()
        .filter(source=source, question_key=item.question_key)
        .first()
    )
    if faq is None:
        faq = Faq.objects.create(
            source=source,
            question=item.question,
            question_key=item.question_key,
            answer=item.answer,
            source_url=item.source_url,
            language=item.language,
            extractor=item.extractor,
            kind=item.kind,
            content_hash=new_hash,
            crawled_question=item.question,
            crawled_answer=item.answer,
        )
        _revision(faq, CRAWLER, run)
        return faq, ADDED

    if faq.edited_by_staff:
        page_changed = content_hash(faq.crawled_question, faq.crawled_answer) != new_hash
        if page_changed:
            faq.crawled_question, faq.crawled_answer = item.question, item.answer
            # Only a page that now differs from what staff wrote is a conflict to resolve.
            faq.crawl_conflict = content_hash(faq.question, faq.answer) != new_hash
            faq.missing_count = 0
            faq.save(
                update_fields=[
                    "crawled_question",
                    "crawled_answer",
                    "crawl_conflict",
                    "missing_count",
                    "updated_at",
                ]
            )
        elif faq.missing_count:
            Faq.objects.filter(pk=faq.pk).update(missing_count=0)
        return faq, CONFLICT if faq.crawl_conflict else UNCHANGED

    if faq.content_hash == new_hash and faq.active:
        stale = {
            "missing_count": 0,
            "source_url": item.source_url,
            "crawled_question": item.question,
            "crawled_answer": item.answer,
        }
        if any(getattr(faq, name) != value for name, value in stale.items()):
            # No revision: neither the text nor the state staff see has changed.
            Faq.objects.filter(pk=faq.pk).update(**stale)
        return faq, UNCHANGED

    faq.question, faq.answer = item.question, item.answer
    faq.crawled_question, faq.crawled_answer = item.question, item.answer
    faq.source_url, faq.language = item.source_url, item.language
    faq.extractor, faq.kind, faq.content_hash = item.extractor, item.kind, new_hash
    faq.active, faq.retired_at, faq.missing_count = True, None, 0
    faq.save()
    _revision(faq, CRAWLER, run)
    return faq, UPDATED


def mark_seen(faq_ids: set[int]) -> None:
    Faq.objects.filter(pk__in=faq_ids, missing_count__gt=0).update(missing_count=0)


def count_retirements(source: FaqSource, seen_ids: set[int], retire_after: int) -> tuple[int, int]:
    """(FAQs `retire_missing` would retire now, active FAQs of the source)."""
    active = Faq.objects.filter(source=source, active=True)
    would = (
        active.exclude(pk__in=seen_ids)
        .filter(missing_count__gte=retire_after - 1, edited_by_staff=False)
        .count()
    )
    return would, active.count()


def retire_missing(
    source: FaqSource,
    seen_ids: set[int],
    retire_after: int,
    run: CrawlRun | None,
    *,
    retire: bool = True,
) -> int:
    """Count one more miss for every active FAQ of `source` not seen by a successful crawl,
    and retire those missing `retire_after` times in a row. Returns how many retired.
    `retire=False` counts the misses only (a crawl held back by the mass-retirement guard)."""
    retired = 0
    missing = (
        Faq.objects.select_for_update().filter(source=source, active=True).exclude(pk__in=seen_ids)
    )
    for faq in missing:
        faq.missing_count += 1
        if retire and faq.missing_count >= retire_after and not faq.edited_by_staff:
            faq.active, faq.retired_at = False, timezone.now()
            faq.save(update_fields=["missing_count", "active", "retired_at", "updated_at"])
            _revision(faq, "crawler: retired", run)
            retired += 1
        else:
            faq.save(update_fields=["missing_count", "updated_at"])
    return retired


def record_staff_edit(faq: Faq, username: str) -> None:
    """Called after staff saved a FAQ (admin form or action): staff now own it.

    A staff edit is newer than anything the page said so far, so it also settles any open
    conflict; the next conflict is raised only if the page changes again.
    """
    with transaction.atomic():
        faq.edited_by_staff = True
        faq.content_hash = content_hash(faq.question, faq.answer)
        faq.crawl_conflict = False
        faq.save(update_fields=["edited_by_staff", "content_hash", "crawl_conflict", "updated_at"])
        _revision(faq, f"staff:{username}")
        request_index_rebuild()


def revert_to(revision: FaqRevision, username: str) -> Faq:
    """Restore a FAQ to one of its revisions (a staff decision, so staff own it after)."""
    with transaction.atomic():
        faq = Faq.objects.select_for_update().get(pk=revision.faq_id)
        faq.question, faq.answer, faq.active = revision.question, revision.answer, revision.active
        faq.content_hash = content_hash(faq.question, faq.answer)
        faq.edited_by_staff = True
        faq.crawl_conflict = False
        faq.retired_at = None if faq.active else (faq.retired_at or timezone.now())
        faq.missing_count = 0
        faq.save()
        _revision(faq, f"revert by staff:{username} to revision {revision.pk}")
        request_index_rebuild()
    return faq


def accept_crawled_version(faq: Faq, username: str) -> Faq:
    """Resolve a conflict in favour of the page: the crawler owns the FAQ again."""
    with transaction.atomic():
        faq = Faq.objects.select_for_update().get(pk=faq.pk)
        if faq.crawled_question or faq.crawled_answer:
            faq.question = faq.crawled_question or faq.question
            faq.answer = faq.crawled_answer or faq.answer
        faq.content_hash = content_hash(faq.question, faq.answer)
        faq.edited_by_staff = False
        faq.crawl_conflict = False
        faq.save()
        _revision(faq, f"staff:{username} accepted crawled version")
        request_index_rebuild()
    return faq


def keep_staff_version(faq: Faq, username: str) -> None:
    """Resolve a conflict in favour of staff: the FAQ keeps its text, the flag goes away
    until the page changes again (`crawled_*` keeps what the page says now)."""
    Faq.objects.filter(pk=faq.pk, edited_by_staff=True).update(
        crawl_conflict=False, updated_at=timezone.now()
    )


def request_index_rebuild() -> None:
    from faq_ingest.index import request_rebuild

    request_rebuild()


def create_draft(question: str, answer: str, *, language: str, created_by: str) -> Faq:
    """A FAQ written outside any crawl (an agent's answer promoted from a chat), inactive
    until staff review and activate it; staff own it, so no crawl ever rewrites it. It
    joins the index through the same rebuild as any staff edit once activated."""
    faq = Faq.objects.create(
        source=None,
        question=question,
        question_key=normalise_question(question)[:500],
        answer=answer,
        language=language,
        kind=Faq.KIND_FAQ,
        extractor="agent",
        content_hash=content_hash(question, answer),
        active=False,
        edited_by_staff=True,
    )
    _revision(faq, created_by)
    return faq

"""Any FAQ change asks for a debounced index rebuild: a crawl that changes FAQs produces a
new READY snapshot, an unchanged re-crawl does not."""

from __future__ import annotations

import pytest

from faq_ingest import knowledge, sync, tasks
from faq_ingest.models import IndexSnapshot
from tests.test_ingest_fixture_site import FaqSite, faq, make_source

pytestmark = pytest.mark.django_db


def ready_ids() -> list[int]:
    return list(
        IndexSnapshot.objects.filter(status=IndexSnapshot.READY)
        .order_by("id")
        .values_list("id", flat=True)
    )


def test_changes_rebuild_the_index_and_unchanged_recrawl_does_not(
    django_capture_on_commit_callbacks,
) -> None:
    site = FaqSite({"/": [("Do you price match?", "No.")]})
    with site.serve() as server:
        source = make_source(server)
        with django_capture_on_commit_callbacks(execute=True):
            sync.crawl_source(source.pk)
        first = ready_ids()
        assert len(first) == 1
        assert IndexSnapshot.objects.get(pk=first[0]).faq_count == 1

        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            sync.crawl_source(source.pk)
        assert ready_ids() == first and callbacks == []  # nothing changed: no rebuild asked

        site.pages["/"].append(("Do you gift wrap?", "Yes, for $5."))
        with django_capture_on_commit_callbacks(execute=True):
            sync.crawl_source(source.pk)
    after = ready_ids()
    assert len(after) == 2 and after[-1] > first[-1]
    assert IndexSnapshot.objects.get(pk=after[-1]).faq_count == 2


def test_staff_edit_rebuilds_the_index(django_capture_on_commit_callbacks) -> None:
    site = FaqSite({"/": [("Do you price match?", "No.")]})
    with site.serve() as server:
        source = make_source(server)
        with django_capture_on_commit_callbacks(execute=True):
            sync.crawl_source(source.pk)
    before = ready_ids()
    f = faq("Do you price match?")
    f.answer = "Yes, within 14 days."
    f.save()
    with django_capture_on_commit_callbacks(execute=True):
        knowledge.record_staff_edit(f, "alice")
    assert len(ready_ids()) == len(before) + 1


def test_scaled_mode_enqueues_with_debounce_countdown(
    settings, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.INDEX_REBUILD_DEBOUNCE_S = 7.0
    calls = []
    monkeypatch.setattr(tasks.rebuild_index, "apply_async", lambda *a, **kw: calls.append(kw))
    site = FaqSite({"/": [("Do you price match?", "No.")]})
    with site.serve() as server:
        source = make_source(server)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            sync.crawl_source(source.pk)
        assert calls == []  # nothing is enqueued before the transaction commits
        for callback in callbacks:
            callback()
    assert calls == [{"countdown": 7.0}]

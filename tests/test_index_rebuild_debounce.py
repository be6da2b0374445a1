"""A burst of FAQ changes queues one index rebuild, not one per change."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import transaction

from faq_ingest import index, tasks


@pytest.fixture
def queued(monkeypatch, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.INDEX_REBUILD_DEBOUNCE_S = 5
    cache.delete(index.REBUILD_PENDING_KEY)
    calls = []
    monkeypatch.setattr(tasks.rebuild_index, "apply_async", lambda *a, **kw: calls.append(kw))
    yield calls
    cache.delete(index.REBUILD_PENDING_KEY)


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_changes_queues_one_delayed_rebuild(queued):
    for _ in range(5):
        with transaction.atomic():
            index.request_rebuild()
    assert queued == [{"countdown": 5}]


@pytest.mark.django_db(transaction=True)
def test_a_change_after_the_rebuild_started_queues_another(queued, monkeypatch):
    with transaction.atomic():
        index.request_rebuild()
    monkeypatch.setattr(index, "build_snapshot", lambda force=False: None)
    tasks.rebuild_index.run()  # the worker clears the flag before building
    with transaction.atomic():
        index.request_rebuild()
    assert len(queued) == 2


@pytest.mark.django_db(transaction=True)
def test_nothing_is_queued_when_the_transaction_rolls_back(queued):
    with pytest.raises(RuntimeError), transaction.atomic():
        index.request_rebuild()
        raise RuntimeError("rolled back")
    assert queued == []

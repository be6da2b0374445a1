"""Index builds hold a lease too: a build whose process died is closed as FAILED and a new
one starts at once; a build that lost its lease never publishes; heal() brings a missing or
stale index up to date."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from faq_ingest import index, recovery
from faq_ingest.index import build_snapshot, search
from faq_ingest.models import Faq, IndexSnapshot
from faq_ingest.retrieval.embedders import HashingEmbedder
from tests.services import ROOT, app_env

pytestmark = pytest.mark.django_db


def add_faq(question: str, answer: str) -> Faq:
    return Faq.objects.create(question=question, question_key=question.lower(), answer=answer)


def building_row(fp: str = "", **lease) -> IndexSnapshot:
    return IndexSnapshot.objects.create(
        status=IndexSnapshot.BUILDING,
        embedder=HashingEmbedder().name,
        fingerprint=fp,
        **lease,
    )


def current_fingerprint() -> str:
    docs = [index.faq_to_doc(f) for f in Faq.objects.filter(active=True).order_by("id")]
    return index.fingerprint(docs, HashingEmbedder().name)


def test_an_expired_build_is_closed_and_a_new_one_publishes() -> None:
    add_faq("How do I return an item?", "Use the returns form.")
    past = timezone.now() - timedelta(seconds=5)
    stuck = building_row(
        current_fingerprint(), lease_owner="elsewhere:1:2:3.4", lease_expires_at=past
    )
    snap = build_snapshot()
    stuck.refresh_from_db()
    assert stuck.status == IndexSnapshot.FAILED
    assert stuck.error.startswith("worker stopped responding: no heartbeat from process 1")
    assert snap is not None and snap.status == IndexSnapshot.READY
    assert snap.lease_expires_at is None
    assert search("return an item", mode="bm25").hits


def test_a_build_of_a_dead_process_on_this_machine_is_closed_at_once() -> None:
    code = "from faq_ingest.leases import owner_id; print(owner_id())"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=app_env(), capture_output=True, text=True
    )
    add_faq("How do I return an item?", "Use the returns form.")
    future = timezone.now() + timedelta(minutes=5)
    stuck = building_row(
        current_fingerprint(), lease_owner=done.stdout.strip(), lease_expires_at=future
    )
    assert build_snapshot() is not None
    stuck.refresh_from_db()
    assert stuck.status == IndexSnapshot.FAILED and "is gone" in stuck.error


def test_a_live_build_of_the_same_content_is_not_duplicated() -> None:
    add_faq("How do I return an item?", "Use the returns form.")
    from faq_ingest import leases

    live = building_row(current_fingerprint(), **leases.lease_fields())
    assert build_snapshot() is None
    assert list(IndexSnapshot.objects.values_list("pk", flat=True)) == [live.pk]
    add_faq("Do you sell gift cards?", "Yes.")  # other content: build it
    assert build_snapshot() is not None


def test_a_build_that_lost_its_lease_does_not_publish(monkeypatch) -> None:
    add_faq("How do I return an item?", "Use the returns form.")
    good = build_snapshot()
    add_faq("Do you sell gift cards?", "Yes.")

    class Stalling(HashingEmbedder):
        def encode(self, texts, *, batch_size=64):
            # While this process "stalled", recovery presumed it dead and closed the row.
            IndexSnapshot.objects.filter(status=IndexSnapshot.BUILDING).update(
                status=IndexSnapshot.FAILED, error="worker stopped responding: test"
            )
            return super().encode(texts, batch_size=batch_size)

    monkeypatch.setattr(index, "get_embedder", lambda: Stalling())
    assert build_snapshot() is None
    closed = IndexSnapshot.objects.exclude(pk=good.pk).get()
    assert closed.status == IndexSnapshot.FAILED and closed.payload in (b"", memoryview(b""))
    assert index.live_index.get() is not None and index.live_index.snapshot_id == good.pk


def test_heal_builds_a_missing_index_and_rebuilds_a_stale_one() -> None:
    faq = add_faq("How do I return an item?", "Use the returns form.")
    assert not IndexSnapshot.objects.exists()
    first = recovery.heal()
    assert first["rebuilt_snapshot"] is not None
    assert recovery.heal()["rebuilt_snapshot"] is None  # current: nothing to do
    # A crawl saved this, then died before its rebuild:
    Faq.objects.filter(pk=faq.pk).update(answer="Use the returns form within 30 days.")
    assert not index.index_is_current()
    healed = recovery.heal()
    assert healed["rebuilt_snapshot"] not in (None, first["rebuilt_snapshot"])
    assert index.index_is_current()
    top = search("returns form 30 days", mode="bm25").hits[0]
    assert "30 days" in top.doc.answer


def test_ensure_current_waits_for_a_build_elsewhere(monkeypatch) -> None:
    add_faq("How do I return an item?", "Use the returns form.")
    from faq_ingest import leases

    live = building_row(current_fingerprint(), **leases.lease_fields())
    assert index.ensure_current(wait_s=0) is False  # someone else is building it
    calls = []

    def finish_elsewhere(seconds: float) -> None:
        calls.append(seconds)
        IndexSnapshot.objects.filter(pk=live.pk).delete()  # that builder gave up

    monkeypatch.setattr(index.time, "sleep", finish_elsewhere)
    assert index.ensure_current(wait_s=30) is True and calls
    assert index.index_is_current()

"""Index snapshots: built from the active FAQs, skipped when unchanged, reused, swapped live."""

from __future__ import annotations

import io
import pickle
from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from faq_ingest import index
from faq_ingest.index import (
    KEEP_SNAPSHOTS,
    build_snapshot,
    decode_payload,
    encode_payload,
    live_index,
    search,
)
from faq_ingest.models import Faq, IndexSnapshot
from faq_ingest.retrieval.embedders import HashingEmbedder
from faq_ingest.retrieval.searcher import IndexDoc

pytestmark = pytest.mark.django_db


class CountingEmbedder(HashingEmbedder):
    """The test embedder, recording every text it is asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.encoded: list[str] = []

    def encode(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        self.encoded.extend(texts)
        return super().encode(texts, batch_size=batch_size)


class BrokenEmbedder(HashingEmbedder):
    def encode(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        raise RuntimeError("model crashed")


@pytest.fixture
def embedder(monkeypatch: pytest.MonkeyPatch) -> CountingEmbedder:
    counting = CountingEmbedder()
    monkeypatch.setattr(index, "get_embedder", lambda: counting)
    return counting


def add_faq(question: str, answer: str, *, active: bool = True, **extra) -> Faq:
    return Faq.objects.create(
        question=question, question_key=question.lower(), answer=answer, active=active, **extra
    )


def top_id(query: str, mode: str = "bm25") -> str | None:
    hits = search(query, k=1, mode=mode).hits
    return hits[0].doc.id if hits else None


def ready_ids() -> list[int]:
    return list(
        IndexSnapshot.objects.filter(status=IndexSnapshot.READY)
        .order_by("id")
        .values_list("id", flat=True)
    )


def test_build_indexes_the_active_faqs_only(embedder: CountingEmbedder) -> None:
    returns = add_faq("How do I return an item?", "Use the returns form within 30 days.")
    shipping = add_faq(
        "How long does shipping take?",
        "Three to five business days.",
        alternates=["When will my parcel arrive?"],
    )
    add_faq("Do you sell gift cards?", "Not any more.", active=False)

    snap = build_snapshot()

    assert snap is not None
    assert snap.status == IndexSnapshot.READY
    assert snap.faq_count == 2
    assert snap.embedder == embedder.name
    assert snap.ready_at is not None
    docs, vectors, owners, _ = decode_payload(snap.payload)
    assert [d.id for d in docs] == [str(returns.pk), str(shipping.pk)]
    assert docs[1].alternates == ("When will my parcel arrive?",)
    assert len(vectors) == len(owners) == 2 + 3  # question (+ alternates) + question/answer
    assert top_id("return an item") == str(returns.pk)
    assert top_id("gift cards") is None


def test_unchanged_rebuild_is_skipped(embedder: CountingEmbedder) -> None:
    add_faq("How do I return an item?", "Use the returns form.")
    first = build_snapshot()
    embedder.encoded.clear()

    assert build_snapshot() is None
    assert embedder.encoded == []
    assert ready_ids() == [first.pk]
    forced = build_snapshot(force=True)
    assert forced is not None and forced.pk > first.pk


def test_search_sees_changes_without_restart(embedder: CountingEmbedder) -> None:
    add_faq("How do I return an item?", "Use the returns form.")
    build_snapshot()
    assert top_id("gift card balance") is None

    gift = add_faq("How do I check my gift card balance?", "See the gift card page.")
    assert top_id("gift card balance") is None  # not indexed until a rebuild
    build_snapshot()
    assert top_id("gift card balance") == str(gift.pk)

    gift.question = "How do I check my voucher balance?"
    gift.save()
    build_snapshot()
    assert top_id("voucher") == str(gift.pk)

    gift.active = False
    gift.save()
    build_snapshot()
    assert top_id("voucher") is None


def test_removing_every_faq_empties_the_live_index(embedder: CountingEmbedder) -> None:
    faq = add_faq("How do I return an item?", "Use the returns form.")
    build_snapshot()
    Faq.objects.filter(pk=faq.pk).update(active=False)

    snap = build_snapshot()

    assert snap is not None and snap.faq_count == 0
    for mode in ("hybrid", "bm25", "dense"):
        result = search("return an item", mode=mode)
        assert result.hits == [] and result.confidence == 0.0


def test_reload_check_is_throttled(
    embedder: CountingEmbedder, settings, django_assert_num_queries
) -> None:
    add_faq("How do I return an item?", "Use the returns form.")
    build_snapshot()
    settings.INDEX_RELOAD_CHECK_S = 3600
    assert top_id("gift card") is None  # loads the snapshot and starts the interval
    gift = add_faq("How do I check my gift card balance?", "See the gift card page.")
    build_snapshot()

    with django_assert_num_queries(0):
        assert top_id("gift card") is None  # within the interval: no database round trip
    settings.INDEX_RELOAD_CHECK_S = 0
    assert top_id("gift card") == str(gift.pk)


def test_a_building_snapshot_never_goes_live(embedder: CountingEmbedder) -> None:
    returns = add_faq("How do I return an item?", "Use the returns form.")
    live = build_snapshot()
    # A concurrent build that started later holds a higher id but is not finished.
    other = IndexDoc("999", "Do you sell gift cards?", "Yes.")
    IndexSnapshot.objects.create(
        status=IndexSnapshot.BUILDING,
        embedder=embedder.name,
        faq_count=1,
        payload=encode_payload([other], embedder.encode(["a", "b"]), np.array([0, 0]), ["x", "y"]),
    )

    assert top_id("return an item") == str(returns.pk)
    assert top_id("gift cards") is None
    assert live_index.snapshot_id == live.pk


def test_a_stale_build_finishing_late_does_not_replace_a_newer_one(
    embedder: CountingEmbedder,
) -> None:
    faq = add_faq("How do I return an item?", "Use the returns form.")
    old = build_snapshot()
    # A build started before the edit below (so with a lower id) is still running ...
    stale = IndexSnapshot.objects.create(
        status=IndexSnapshot.BUILDING,
        embedder=embedder.name,
        fingerprint=old.fingerprint,
        faq_count=1,
    )
    faq.question = "How do I send a parcel back?"
    faq.save()
    fresh = build_snapshot()
    assert fresh is not None and fresh.pk > stale.pk
    # ... and finishes after the fresher one, with the old content.
    IndexSnapshot.objects.filter(pk=stale.pk).update(
        status=IndexSnapshot.READY, payload=old.payload
    )

    assert top_id("send a parcel back") == str(faq.pk)
    assert live_index.snapshot_id == fresh.pk


def test_a_search_in_flight_keeps_its_snapshot(embedder: CountingEmbedder) -> None:
    faq = add_faq("How do I return an item?", "Use the returns form.")
    build_snapshot()
    held = live_index.get()
    assert held is not None

    faq.question = "How do I send a parcel back?"
    faq.save()
    gift = add_faq("How do I check my gift card balance?", "See the gift card page.")
    build_snapshot()
    current = live_index.get()

    assert current is not held
    # The held searcher is exactly the old index, not a mix of old and new.
    assert [d.question for d in held.docs] == ["How do I return an item?"]
    assert held.search("gift card", mode="bm25").hits == []
    assert held.search("item", k=1, mode="bm25").hits[0].doc.id == str(faq.pk)
    assert current.search("gift card", k=1, mode="bm25").hits[0].doc.id == str(gift.pk)
    assert current.search("item", mode="bm25").hits == []


def test_vectors_of_unchanged_texts_are_reused(embedder: CountingEmbedder) -> None:
    first = add_faq("How do I return an item?", "Use the returns form.")
    add_faq("How long does shipping take?", "Three to five business days.")
    build_snapshot()
    assert len(embedder.encoded) == 4  # two questions, two question+answer texts

    embedder.encoded.clear()
    first.answer = "Use the returns form within 30 days."
    first.save()
    build_snapshot()
    assert embedder.encoded == ["How do I return an item?\nUse the returns form within 30 days."]

    embedder.encoded.clear()
    add_faq("Do you sell gift cards?", "Yes.", alternates=["Gift vouchers?"])
    snap = build_snapshot()
    assert sorted(embedder.encoded) == sorted(
        ["Do you sell gift cards?", "Gift vouchers?", "Do you sell gift cards?\nYes."]
    )

    # Reused rows are the very vectors a fresh embedding would give.
    docs, vectors, _, _ = decode_payload(snap.payload)
    texts = [t for d in docs for t in d.dense_texts()]
    np.testing.assert_allclose(vectors, HashingEmbedder().encode(texts), atol=1e-6)


def test_vectors_of_another_embedder_are_not_reused(
    embedder: CountingEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_faq("How do I return an item?", "Use the returns form.")
    build_snapshot()
    embedder.encoded.clear()
    monkeypatch.setattr(embedder, "name", "hashing:other")

    snap = build_snapshot()

    assert snap is not None  # the embedder is part of the fingerprint
    assert len(embedder.encoded) == 2


def test_payload_round_trip() -> None:
    docs = [
        IndexDoc(
            "1",
            "Où est ma commande ?",
            "Voir la page « suivi ».",
            ("Suivi?",),
            url="https://example.com/faq#1",
            lang="fr",
        ),
        IndexDoc("2", "如何退貨？", "在订单页面申请。", kind="passage"),
    ]
    vectors = np.random.default_rng(0).random((5, 8), dtype=np.float32)
    owners = np.array([0, 0, 0, 1, 1])
    hashes = [f"{i:040x}" for i in range(5)]

    out_docs, out_vectors, out_owners, out_hashes = decode_payload(
        encode_payload(docs, vectors, owners, hashes)
    )

    assert out_docs == docs
    np.testing.assert_array_equal(out_vectors, vectors)
    assert out_owners.tolist() == owners.tolist()
    assert out_hashes == hashes


PICKLE_RAN: list[str] = []


def _record_unpickling() -> str:
    PICKLE_RAN.append("ran")
    return "pwned"


class _Exploit:
    def __reduce__(self):
        return (_record_unpickling, ())


def test_pickled_payloads_are_refused() -> None:
    PICKLE_RAN.clear()
    with pytest.raises(ValueError):
        decode_payload(pickle.dumps({"docs": _Exploit()}))
    assert PICKLE_RAN == []

    # An npz whose member is an object array is a pickle inside a zip.
    buf = io.BytesIO()
    np.savez(
        buf,
        vectors=np.zeros((1, 2), dtype=np.float32),
        owners=np.zeros(1),
        row_hashes=np.array(["x"]),
        docs=np.array([_Exploit()], dtype=object),
    )
    with pytest.raises(ValueError):
        decode_payload(buf.getvalue())
    assert PICKLE_RAN == []


def test_corrupt_old_snapshot_only_costs_reembedding(embedder: CountingEmbedder) -> None:
    faq = add_faq("How do I return an item?", "Use the returns form.")
    add_faq("How long does shipping take?", "Three to five business days.")
    old = build_snapshot()
    IndexSnapshot.objects.filter(pk=old.pk).update(payload=b"PK\x03\x04 not really a zip")
    embedder.encoded.clear()
    faq.question = "How do I send a parcel back?"
    faq.save()

    snap = build_snapshot()

    assert snap is not None and snap.status == IndexSnapshot.READY
    assert len(embedder.encoded) == 4  # nothing reused, everything embedded again
    assert top_id("send a parcel back") == str(faq.pk)


def test_corrupt_live_snapshot_keeps_the_previous_searcher(embedder: CountingEmbedder) -> None:
    faq = add_faq("How do I return an item?", "Use the returns form.")
    build_snapshot()
    assert top_id("return an item") == str(faq.pk)
    add_faq("How long does shipping take?", "Three to five business days.")
    newest = build_snapshot()
    IndexSnapshot.objects.filter(pk=newest.pk).update(payload=b"garbage")

    assert top_id("return an item") == str(faq.pk)


def test_failed_build_is_recorded_and_never_goes_live(
    embedder: CountingEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    faq = add_faq("How do I return an item?", "Use the returns form.")
    good = build_snapshot()
    add_faq("How long does shipping take?", "Three to five business days.")
    monkeypatch.setattr(index, "get_embedder", lambda: BrokenEmbedder())

    with pytest.raises(RuntimeError):
        build_snapshot()

    failed = IndexSnapshot.objects.get(status=IndexSnapshot.FAILED)
    assert "model crashed" in failed.error
    assert top_id("return an item") == str(faq.pk)
    assert live_index.snapshot_id == good.pk


def test_only_the_last_snapshots_are_kept(embedder: CountingEmbedder) -> None:
    faq = add_faq("Question 0?", "Answer.")
    built = []
    for i in range(KEEP_SNAPSHOTS + 2):
        faq.question = f"Question {i}?"
        faq.save()
        built.append(build_snapshot().pk)

    assert KEEP_SNAPSHOTS == 3
    assert ready_ids() == built[-3:]


def test_abandoned_builds_are_pruned_but_running_ones_kept(embedder: CountingEmbedder) -> None:
    add_faq("How do I return an item?", "Use the returns form.")
    abandoned = IndexSnapshot.objects.create(status=IndexSnapshot.BUILDING)
    old_failure = IndexSnapshot.objects.create(status=IndexSnapshot.FAILED)
    IndexSnapshot.objects.filter(pk__in=[abandoned.pk, old_failure.pk]).update(
        created_at=timezone.now() - timedelta(hours=2)
    )
    running = IndexSnapshot.objects.create(status=IndexSnapshot.BUILDING)

    build_snapshot()

    remaining = set(IndexSnapshot.objects.values_list("id", flat=True))
    assert abandoned.pk not in remaining
    assert old_failure.pk not in remaining
    assert running.pk in remaining

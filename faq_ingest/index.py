"""The sole owner of the retrieval index: build snapshots, swap them in, search them.

The database is the source of truth. A build reads the active FAQs, embeds them (reusing
vectors of unchanged texts from the previous snapshot), and stores a self-contained
snapshot row. Every process keeps the newest READY snapshot in memory and checks for a
newer one at most every CHATBOT_INDEX_RELOAD_CHECK_S seconds, so web and inference
processes on any machine pick up a rebuild without a restart. Snapshot ids are allocated
when a build starts, so "newest READY id" is also "built from the freshest data".
A BUILDING row holds a lease (leases.py) renewed while it embeds; a build whose process
died is closed as FAILED by the next build or by recovery (recovery.py).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import threading
import time

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from faq_ingest import leases
from faq_ingest.models import Faq, IndexSnapshot
from faq_ingest.retrieval.embedders import Embedder, get_embedder
from faq_ingest.retrieval.searcher import HybridSearcher, IndexDoc, SearchResult

log = logging.getLogger(__name__)

KEEP_SNAPSHOTS = 3


def faq_to_doc(faq: Faq) -> IndexDoc:
    return IndexDoc(
        id=str(faq.pk),
        question=faq.question,
        answer=faq.answer,
        alternates=tuple(a for a in (faq.alternates or []) if isinstance(a, str)),
        url=faq.source_url,
        lang=faq.language,
        kind=faq.kind,
    )


def _text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def fingerprint(docs: list[IndexDoc], embedder_name: str) -> str:
    h = hashlib.sha256(embedder_name.encode())
    for d in docs:
        h.update(
            json.dumps(
                [d.id, d.question, d.answer, d.alternates, d.url, d.lang, d.kind],
                ensure_ascii=False,
            ).encode()
        )
    return h.hexdigest()


def encode_payload(
    docs: list[IndexDoc], vectors: np.ndarray, owners: np.ndarray, row_hashes: list[str]
) -> bytes:
    buf = io.BytesIO()
    docs_json = json.dumps(
        [d.__dict__ | {"alternates": list(d.alternates)} for d in docs], ensure_ascii=False
    ).encode()
    np.savez_compressed(
        buf,
        vectors=vectors.astype(np.float32),
        owners=owners.astype(np.int32),
        row_hashes=np.array(row_hashes, dtype="U40"),
        docs=np.frombuffer(docs_json, dtype=np.uint8),
    )
    return buf.getvalue()


def decode_payload(payload: bytes) -> tuple[list[IndexDoc], np.ndarray, np.ndarray, list[str]]:
    # allow_pickle=False: the payload comes from the database and must not run code.
    with np.load(io.BytesIO(bytes(payload)), allow_pickle=False) as data:
        docs_raw = json.loads(data["docs"].tobytes().decode())
        docs = [IndexDoc(**(d | {"alternates": tuple(d["alternates"])})) for d in docs_raw]
        return docs, data["vectors"], data["owners"], [str(h) for h in data["row_hashes"]]


def _previous_vectors(embedder_name: str) -> dict[str, np.ndarray]:
    prev = (
        IndexSnapshot.objects.filter(status=IndexSnapshot.READY, embedder=embedder_name)
        .order_by("-id")
        .first()
    )
    if prev is None:
        return {}
    try:
        _docs, vectors, _owners, hashes = decode_payload(prev.payload)
    except Exception:  # a corrupt old snapshot only costs re-embedding
        log.warning("could not reuse vectors of snapshot %s", prev.pk, exc_info=True)
        return {}
    return {h: vectors[i] for i, h in enumerate(hashes)}


def embed_with_reuse(
    docs: list[IndexDoc], embedder: Embedder, cached: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    texts, owners, hashes = [], [], []
    for i, doc in enumerate(docs):
        for text in doc.dense_texts():
            texts.append(text)
            owners.append(i)
            hashes.append(_text_hash(text))
    missing = [j for j, h in enumerate(hashes) if h not in cached]
    fresh = embedder.encode([texts[j] for j in missing]) if missing else None
    vectors = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    fresh_pos = {j: n for n, j in enumerate(missing)}
    for j, h in enumerate(hashes):
        vectors[j] = fresh[fresh_pos[j]] if j in fresh_pos else cached[h]
    return vectors, np.asarray(owners, dtype=np.int32), hashes


def reap_builds() -> list[tuple[int, str]]:
    """Mark BUILDING snapshots whose builder died (lease ran out, or its process is gone)
    as FAILED, so they neither block nor wait an hour to be pruned."""
    return leases.reap(
        IndexSnapshot.objects.all(),
        running_status=IndexSnapshot.BUILDING,
        failed_status=IndexSnapshot.FAILED,
        started_field="created_at",
    )


def build_snapshot(*, force: bool = False) -> IndexSnapshot | None:
    """Build and publish a snapshot of the active FAQs.

    None when nothing changed, when a live build of exactly this content is already
    running elsewhere, or when this build lost its lease before publishing.
    """
    reap_builds()
    embedder = get_embedder()
    faqs = list(Faq.objects.filter(active=True).order_by("id"))
    docs = [faq_to_doc(f) for f in faqs]
    fp = fingerprint(docs, embedder.name)
    latest = IndexSnapshot.objects.filter(status=IndexSnapshot.READY).order_by("-id").first()
    if not force and latest is not None and latest.fingerprint == fp:
        return None
    if not force and _live_build_of(fp):
        return None
    snap = IndexSnapshot.objects.create(
        status=IndexSnapshot.BUILDING,
        embedder=embedder.name,
        fingerprint=fp,
        faq_count=len(docs),
        **leases.lease_fields(),
    )
    heartbeat = leases.Heartbeat(
        IndexSnapshot, snap.pk, snap.lease_owner, IndexSnapshot.BUILDING
    ).start()
    started = time.perf_counter()
    try:
        vectors, owners, hashes = embed_with_reuse(docs, embedder, _previous_vectors(embedder.name))
        payload = encode_payload(docs, vectors, owners, hashes)
    except Exception as exc:
        _owned(snap).update(
            status=IndexSnapshot.FAILED, error=repr(exc)[:2000], lease_expires_at=None
        )
        raise
    finally:
        heartbeat.stop()
    with transaction.atomic():
        published = _owned(snap).update(
            status=IndexSnapshot.READY,
            payload=payload,
            ready_at=timezone.now(),
            build_seconds=time.perf_counter() - started,
            lease_expires_at=None,
        )
    if not published:
        # Recovery presumed this process dead (it stalled past its lease) and closed the
        # row; whoever rebuilds next publishes the same content.
        log.warning("index snapshot %s lost its lease before publishing; discarded", snap.pk)
        return None
    _prune()
    snap.refresh_from_db()
    log.info("index snapshot %s ready: %s FAQs in %.2fs", snap.pk, len(docs), snap.build_seconds)
    return snap


def _prune() -> None:
    ready_ids = list(
        IndexSnapshot.objects.filter(status=IndexSnapshot.READY)
        .order_by("-id")
        .values_list("id", flat=True)[KEEP_SNAPSHOTS:]
    )
    IndexSnapshot.objects.filter(id__in=ready_ids).delete()
    # A BUILDING row is never deleted here: it is live, or reap_builds has closed it.
    cutoff = timezone.now() - timezone.timedelta(hours=1)
    IndexSnapshot.objects.filter(status=IndexSnapshot.FAILED, created_at__lt=cutoff).delete()


def _owned(snap: IndexSnapshot):  # -> QuerySet[IndexSnapshot]
    """The build's row, as long as this process still holds its lease."""
    return IndexSnapshot.objects.filter(
        pk=snap.pk, status=IndexSnapshot.BUILDING, lease_owner=snap.lease_owner
    )


def _live_build_of(fp: str) -> bool:
    # Called after reap_builds: a BUILDING row left now has a live (or recent) builder.
    return IndexSnapshot.objects.filter(status=IndexSnapshot.BUILDING, fingerprint=fp).exists()


def index_is_current() -> bool:
    """Whether the newest READY snapshot holds exactly the active FAQs (loads the embedder,
    whose name is part of the fingerprint)."""
    docs = [faq_to_doc(f) for f in Faq.objects.filter(active=True).order_by("id")]
    latest = IndexSnapshot.objects.filter(status=IndexSnapshot.READY).order_by("-id").first()
    return latest is not None and latest.fingerprint == fingerprint(docs, get_embedder().name)


def ensure_current(wait_s: float = 0.0, poll_s: float = 1.0) -> bool:
    """Build unless the index is current; when another process is building it, wait up to
    `wait_s` for that build. True once the index holds the active FAQs."""
    deadline = time.monotonic() + wait_s
    while True:
        if build_snapshot() is not None or index_is_current():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll_s)


class _LiveIndex:
    """This process's copy of the newest READY snapshot."""

    def __init__(self) -> None:
        self.snapshot_id: int | None = None
        self.searcher: HybridSearcher | None = None
        self._bad_id: int | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()

    def get(self) -> HybridSearcher | None:
        now = time.monotonic()
        if self.searcher is not None and now - self._checked_at < settings.INDEX_RELOAD_CHECK_S:
            return self.searcher
        with self._lock:
            newest = (
                IndexSnapshot.objects.filter(status=IndexSnapshot.READY)
                .order_by("-id")
                .values_list("id", flat=True)
                .first()
            )
            self._checked_at = time.monotonic()
            if newest is not None and newest not in (self.snapshot_id, self._bad_id):
                try:
                    searcher = self._load(newest)
                except Exception:
                    # A snapshot this process cannot read (corrupt, or built by another
                    # embedder) must not take search down: keep serving the one we have.
                    log.exception(
                        "index snapshot %s unusable; keeping %s", newest, self.snapshot_id
                    )
                    self._bad_id = newest
                else:
                    if searcher is not None:
                        # One assignment: searches in flight keep the object they hold.
                        self.searcher, self.snapshot_id = searcher, newest
            return self.searcher

    @staticmethod
    def _load(snapshot_id: int) -> HybridSearcher | None:
        row = (
            IndexSnapshot.objects.filter(pk=snapshot_id).values_list("payload", "embedder").first()
        )
        if row is None or not row[0]:
            return None
        payload, embedder_name = row
        embedder = get_embedder()
        if embedder_name and embedder_name != embedder.name:
            raise ValueError(
                f"snapshot built with {embedder_name}, this process uses {embedder.name}"
            )
        docs, vectors, owners, _ = decode_payload(payload)
        return HybridSearcher(docs, vectors, owners, embedder, reranker=_reranker())

    def reset(self) -> None:
        with self._lock:
            self.snapshot_id, self.searcher, self._checked_at = None, None, 0.0
            self._bad_id = None


live_index = _LiveIndex()


def _reranker():
    if not settings.RERANKER_MODEL:
        return None
    from faq_ingest.retrieval.rerankers import get_reranker

    return get_reranker(settings.RERANKER_MODEL)


def search(query: str, k: int = 5, mode: str = "hybrid") -> SearchResult:
    searcher = live_index.get()
    if searcher is None or len(searcher) == 0:
        return SearchResult(hits=[], confidence=0.0)
    return searcher.search(query, k=k, mode=mode)


REBUILD_PENDING_KEY = "faq_ingest:index-rebuild-pending"


def request_rebuild() -> None:
    """Ask for a rebuild once the current transaction commits, debounced: a burst of FAQ
    changes (a crawl, a bulk admin action) queues one build that runs after the burst."""
    from faq_ingest import tasks

    def enqueue() -> None:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            tasks.rebuild_index.delay()
            return
        # cache.add is atomic (SET NX in Redis): only the first request of a burst
        # enqueues; the task clears the flag when it starts, so later changes queue anew.
        if cache.add(REBUILD_PENDING_KEY, "1", timeout=settings.INDEX_REBUILD_DEBOUNCE_S + 600):
            tasks.rebuild_index.apply_async(countdown=settings.INDEX_REBUILD_DEBOUNCE_S)

    transaction.on_commit(enqueue)


def clear_rebuild_request() -> None:
    cache.delete(REBUILD_PENDING_KEY)

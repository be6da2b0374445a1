"""Healing after a crash: close abandoned crawls and index builds, bring the index up to date.

Run at start-up of every web process and worker (in the background: start-up never waits
for it), periodically while processes run, and by every crawl or build before it starts.
In the scaled shape the web process only asks the `ingest` queue to do it, so it never
loads the embedder.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.db import close_old_connections, connections

from faq_ingest import index, sync, tasks
from faq_ingest.models import Faq, IndexSnapshot

log = logging.getLogger(__name__)


def reap_abandoned() -> dict[str, list[int]]:
    """Close crawls and builds whose worker died; ask for a rebuild where that left the
    index behind. Cheap: a query over the RUNNING/BUILDING rows."""
    crawls = sync.reap_crawls()  # requests a rebuild itself when the crawl saved FAQs
    builds = index.reap_builds()
    if builds:
        index.request_rebuild()
    return {"crawls": [pk for pk, _ in crawls], "builds": [pk for pk, _ in builds]}


def heal() -> dict[str, object]:
    """Reap, then rebuild the index unless it already holds exactly the active FAQs (a
    missing snapshot, or one left stale by an interrupted crawl or build)."""
    reaped = reap_abandoned()
    snapshot = None
    if Faq.objects.filter(active=True).exists() or IndexSnapshot.objects.exists():
        # (A fresh install has nothing to index; loading the embedder for it would only
        # slow the first start.)
        snapshot = index.build_snapshot()
    result: dict[str, object] = {**reaped, "rebuilt_snapshot": snapshot.pk if snapshot else None}
    if reaped["crawls"] or reaped["builds"] or snapshot:
        log.warning("ingestion recovered: %s", result)
    return result


def request_heal() -> None:
    """Ask an ingest worker to heal (scaled shape). Sent by name: no import of the worker
    code, and a broker that is down only costs a log line."""
    try:
        tasks.heal.apply_async(queue="ingest", expires=max(settings.INGEST_LEASE_S, 60))
    except Exception:
        log.exception("could not queue the start-up index check")


def start_background_recovery() -> threading.Thread | None:
    """The web process's start-up check, in a daemon thread so start-up never waits on it.

    Embedded with inline inference: heal here (this process owns the models), then keep
    looking for abandoned crawls, e.g. a `manage.py crawl` killed while the server runs.
    Scaled: only queue the check for an ingest worker, so that web never imports torch.
    """
    if settings.SCALED:
        target, name = request_heal, "ingest-recovery-request"
    elif settings.INFERENCE_MODE == "inline":
        target, name = _heal_then_watch, "ingest-recovery"
    else:
        return None
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


def _heal_then_watch() -> None:
    healed = False
    while True:
        close_old_connections()
        try:
            if healed:
                reap_abandoned()
            else:
                heal()
                healed = True
        except Exception:
            log.exception("ingestion recovery failed; retrying in %.0f s", _watch_interval_s())
        finally:
            connections.close_all()
        time.sleep(_watch_interval_s())


def _watch_interval_s() -> float:
    # Half a lease: an abandoned crawl is noticed at most 1.5 leases after its last beat.
    return settings.INGEST_LEASE_S / 2

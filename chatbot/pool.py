"""The inference pool as the web side sees it: queue depth, the live workers and their
health, and the wait a new question faces. Database reads and small writes only, so any
process can call it; no model code.

Queue depth is counted from the reply rows (bot messages still PENDING), not from the
broker: it is the same number in the embedded and the scaled shape, it includes replies
whose task a dead worker held, and the web process needs no broker internals to read it.
"""

from __future__ import annotations

import math
import os
import socket
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from chatbot.models import InferenceWorker, Message

# A worker that has not beaten for this long is not counted as live.
WORKER_STALE = timedelta(seconds=30)
# Until replies have been timed, a new question is assumed to take this long to answer.
DEFAULT_ANSWER_S = 5.0
_ANSWER_S_KEY = "chatbot:pool:answer_s"
APP_VERSION = "0.1.0"  # pyproject's version; reported with each worker's model


def queue_depth() -> int:
    """Replies accepted and waiting for a worker (all conversations)."""
    return Message.objects.filter(role=Message.BOT, state=Message.PENDING).count()


def in_progress() -> int:
    return Message.objects.filter(role=Message.BOT, state=Message.STREAMING).count()


def live_workers() -> list[InferenceWorker]:
    since = timezone.now() - WORKER_STALE
    return list(InferenceWorker.objects.filter(heartbeat_at__gte=since))


def slots() -> int:
    """How many replies the live workers generate at once (at least 1 for estimates)."""
    return max(1, sum(w.slots for w in live_workers() if w.ok))


def record_answer_seconds(seconds: float) -> None:
    """Fold one reply's claim-to-final time into the running average used for estimates."""
    previous = cache.get(_ANSWER_S_KEY)
    value = seconds if previous is None else 0.8 * float(previous) + 0.2 * seconds
    cache.set(_ANSWER_S_KEY, value, timeout=24 * 3600)


def average_answer_seconds() -> float:
    value = cache.get(_ANSWER_S_KEY)
    return DEFAULT_ANSWER_S if value is None else float(value)


def estimate_wait_s(position: int) -> int:
    """Seconds until a reply with `position` replies ahead of it starts being written."""
    rounds = math.ceil(position / slots())
    return max(1, math.ceil(rounds * average_answer_seconds()))


def over_capacity() -> int | None:
    """None while a new message may be accepted; else the seconds to wait (retry_after)."""
    depth = queue_depth()
    if depth < settings.QUEUE_MAX_DEPTH:
        return None
    return estimate_wait_s(depth - settings.QUEUE_MAX_DEPTH + 1)


def status() -> dict:
    """The pool for /healthz: depth, work in progress, and each live worker's health."""
    return {
        "queue_depth": queue_depth(),
        "in_progress": in_progress(),
        "queue_warn_depth": settings.QUEUE_WARN_DEPTH,
        "queue_max_depth": settings.QUEUE_MAX_DEPTH,
        "average_answer_s": round(average_answer_seconds(), 2),
        "workers": [
            {
                "name": w.name,
                "backend": w.backend,
                "model": w.model,
                "version": w.version,
                "device": w.device,
                "slots": w.slots,
                "busy": w.busy,
                "ok": w.ok,
                "detail": w.detail,
                "started_at": w.started_at.isoformat(),
                "heartbeat_at": w.heartbeat_at.isoformat(),
            }
            for w in live_workers()
        ],
    }


def worker_name(hostname: str | None = None) -> str:
    return f"{hostname or socket.gethostname()}:{os.getpid()}"


def register_worker(name: str, info: dict) -> None:
    """Record a worker that has loaded and warmed up its model (called before it takes work)."""
    now = timezone.now()
    InferenceWorker.objects.update_or_create(
        name=name,
        defaults={
            "backend": str(info.get("backend", ""))[:200],
            "model": str(info.get("model", ""))[:500],
            "version": APP_VERSION,
            "device": str(info.get("device", ""))[:100],
            "slots": int(info.get("slots", 1)),
            "pid": os.getpid(),
            "started_at": now,
            "heartbeat_at": now,
            "busy": False,
            "ok": bool(info.get("ok", True)),
            "detail": str(info.get("detail", ""))[:2000],
        },
    )


def beat_worker(name: str, *, busy: bool) -> None:
    InferenceWorker.objects.filter(name=name).update(heartbeat_at=timezone.now(), busy=busy)


def unregister_worker(name: str) -> None:
    InferenceWorker.objects.filter(name=name).delete()

"""How many customer sockets each conversation has open, across web processes.

A counter in the shared cache (Redis in the scaled shape, process memory embedded, where
there is one process). It only decides whether leaving cancels the answer in progress, so
it errs towards "someone is still here": a web process that dies without decrementing
leaves the count high until the key expires, and the worst outcome is an answer finished
for nobody.
"""

from __future__ import annotations

import uuid

from django.core.cache import cache

TTL_S = 24 * 3600


def _key(public_id: uuid.UUID) -> str:
    return f"chatbot:presence:{public_id.hex}"


def joined(public_id: uuid.UUID) -> int:
    key = _key(public_id)
    cache.add(key, 0, timeout=TTL_S)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=TTL_S)
        return 1


def left(public_id: uuid.UUID) -> int:
    """Sockets still open after this one closed."""
    try:
        remaining = cache.decr(_key(public_id))
    except ValueError:
        return 0
    if remaining <= 0:
        cache.delete(_key(public_id))
        return 0
    return remaining


def count(public_id: uuid.UUID) -> int:
    return int(cache.get(_key(public_id)) or 0)

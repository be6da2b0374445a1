"""Typed websocket payloads (the protocol in docs/protocol.md) and how they are published.

Publishing happens from plain threads (the inline inference thread, Celery workers), never
from inside the event loop. Each process has one "publisher loop": the ASGI server's own
loop when there is one (the in-memory channel layer only works from its loop), otherwise
a private background loop, so channels-redis keeps one connection pool per process.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Literal, NotRequired, TypedDict

from channels.layers import get_channel_layer

EVENT_TYPE = "chat.event"  # the channel-layer message type consumers handle


class TokenEvent(TypedDict):
    type: Literal["token"]
    message_id: int
    text: str
    # Which claim of the reply produced it (1 = first worker). A client drops tokens of an
    # older attempt than the newest it has seen for this message.
    attempt: NotRequired[int]


class ReplyRestartEvent(TypedDict):
    """A reply's earlier attempt died mid-answer and another worker starts it over: the
    client discards the partial text it has for `message_id`."""

    type: Literal["reply_restart"]
    message_id: int
    attempt: int


class ReplyCancelledEvent(TypedDict):
    """The reply will not be written: the customer sent a newer message (`superseded`) or
    left (`disconnected`); other reasons may be added (e.g. a person took over). The client
    removes its bubble."""

    type: Literal["reply_cancelled"]
    message_id: int
    reason: str


class QueueStatusEvent(TypedDict):
    """The answer for `message_id` waits behind others: `position` replies are ahead of it
    and it should start in about `estimated_wait_s`; `offer_human` when the wait is long
    enough that asking for a person is the better option."""

    type: Literal["queue_status"]
    message_id: int
    position: int
    estimated_wait_s: int
    offer_human: bool


class BotMessageEvent(TypedDict):
    type: Literal["bot_message"]
    message_id: int
    text: str
    citations: list[dict]
    confidence: float
    escalate: bool


class ErrorEvent(TypedDict):
    type: Literal["error"]
    code: str
    detail: str
    retry_after: NotRequired[int]  # seconds; only on errors that clear by waiting


def token(message_id: int, text: str, attempt: int | None = None) -> TokenEvent:
    event: TokenEvent = {"type": "token", "message_id": message_id, "text": text}
    if attempt is not None:
        event["attempt"] = attempt
    return event


def reply_restart(message_id: int, attempt: int) -> ReplyRestartEvent:
    return {"type": "reply_restart", "message_id": message_id, "attempt": attempt}


def reply_cancelled(message_id: int, reason: str) -> ReplyCancelledEvent:
    return {"type": "reply_cancelled", "message_id": message_id, "reason": reason}


def queue_status(
    message_id: int, position: int, estimated_wait_s: int, offer_human: bool
) -> QueueStatusEvent:
    return {
        "type": "queue_status",
        "message_id": message_id,
        "position": position,
        "estimated_wait_s": estimated_wait_s,
        "offer_human": offer_human,
    }


def bot_message(
    message_id: int, text: str, citations: list[dict], confidence: float, escalate: bool
) -> BotMessageEvent:
    return {
        "type": "bot_message",
        "message_id": message_id,
        "text": text,
        "citations": citations,
        "confidence": confidence,
        "escalate": escalate,
    }


def error(code: str, detail: str, *, retry_after: int | None = None) -> ErrorEvent:
    event: ErrorEvent = {"type": "error", "code": code, "detail": detail}
    if retry_after is not None:
        event["retry_after"] = retry_after
    return event


_server_loop: asyncio.AbstractEventLoop | None = None
_private_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def register_server_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Called by consumers: the loop the channel layer lives on in this process."""
    global _server_loop
    _server_loop = loop


def _publisher_loop() -> asyncio.AbstractEventLoop:
    global _private_loop
    if _server_loop is not None and _server_loop.is_running():
        return _server_loop
    with _loop_lock:
        if _private_loop is None:
            _private_loop = asyncio.new_event_loop()
            threading.Thread(
                target=_private_loop.run_forever, name="event-publisher", daemon=True
            ).start()
        return _private_loop


def publish(group: str, payload: dict[str, Any], timeout: float = 10.0) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    loop = _publisher_loop()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        raise RuntimeError("publish() is for threads; use the layer directly in async code")
    future = asyncio.run_coroutine_threadsafe(
        layer.group_send(group, {"type": EVENT_TYPE, "payload": payload}), loop
    )
    future.result(timeout=timeout)


# --- Handoff events on the customer socket (published by agents/notify.py) --------------


class StatusEvent(TypedDict):
    type: Literal["status"]
    status: str
    agent: dict | None  # {"name": str} while an agent owns the conversation
    estimate_minutes: int | None  # while waiting: the honest estimate from the queue
    rated: bool  # after resolution: whether the customer already gave a rating


class SystemMessageEvent(TypedDict):
    type: Literal["system_message"]
    message_id: int
    text: str
    notice: str
    created_at: str


class AgentMessageEvent(TypedDict):
    type: Literal["agent_message"]
    message_id: int
    text: str
    author: str
    created_at: str


class TypingEvent(TypedDict):
    type: Literal["typing"]
    role: str
    name: NotRequired[str]
    typing: bool


class HandoffUnavailableEvent(TypedDict):
    type: Literal["handoff_unavailable"]
    reason: str  # no_agents, outside_hours, holiday
    next_open: str | None  # ISO 8601, when known


def status(
    status: str,
    agent_name: str | None = None,
    estimate_minutes: int | None = None,
    rated: bool = False,
) -> StatusEvent:
    return {
        "type": "status",
        "status": status,
        "agent": {"name": agent_name} if agent_name else None,
        "estimate_minutes": estimate_minutes,
        "rated": rated,
    }


def system_message(message_id: int, text: str, notice: str, created_at: str) -> SystemMessageEvent:
    return {
        "type": "system_message",
        "message_id": message_id,
        "text": text,
        "notice": notice,
        "created_at": created_at,
    }


def agent_message(message_id: int, text: str, author: str, created_at: str) -> AgentMessageEvent:
    return {
        "type": "agent_message",
        "message_id": message_id,
        "text": text,
        "author": author,
        "created_at": created_at,
    }


def typing(role: str, is_typing: bool, name: str | None = None) -> TypingEvent:
    event: TypingEvent = {"type": "typing", "role": role, "typing": is_typing}
    if name:
        event["name"] = name
    return event


def handoff_unavailable(reason: str, next_open: str | None) -> HandoffUnavailableEvent:
    return {"type": "handoff_unavailable", "reason": reason, "next_open": next_open}

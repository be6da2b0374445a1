"""The customer websocket. Parses and checks frames, calls `conversations`, forwards events.

Async because it forwards streamed tokens from the channel layer; every ORM call goes
through database_sync_to_async.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from agents import customer, notify, tickets
from agents import presence as customer_presence
from chatbot import conversations, events, presence, replies
from chatbot.models import conversation_group

MAX_FRAME_BYTES = 64 * 1024
# Statuses in which a person is (about to be) reading: only then is typing worth sending.
_HUMAN_STATUSES = ("waiting", "agent")


class ChatConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        events.register_server_loop(asyncio.get_running_loop())
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        wanted = (query.get("conversation") or [None])[0]
        # Who the browser is across conversations (signed; a new key when absent or forged).
        self.customer_key, token = customer.customer_key((query.get("customer") or [None])[0])
        # Only an id: the conversation's row may not exist until the first message.
        self.public_id = await database_sync_to_async(conversations.resolve_public_id)(wanted)
        self.group = conversation_group(self.public_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await database_sync_to_async(presence.joined)(self.public_id)
        await self.accept()
        # Read after joining the group: whatever happens from here on arrives as an event,
        # and whatever happened before is in this snapshot.
        current = await database_sync_to_async(conversations.snapshot)(self.public_id)
        handoff = await database_sync_to_async(customer.view)(self.public_id)
        self.status = current.status
        await self._send(
            {
                "type": "conversation",
                "conversation_id": str(self.public_id),
                "status": current.status,
                "messages": current.messages,
                "customer_token": token,
                **handoff,
            }
        )
        self.heartbeat = asyncio.create_task(self._heartbeat())

    async def _heartbeat(self) -> None:
        # Tells the handoff that the customer is still here (a waiting customer who left
        # is eventually marked abandoned, see agents.sweeps).
        while True:
            await database_sync_to_async(customer_presence.customer_seen)(self.public_id)
            await asyncio.sleep(settings.AGENTS_HEARTBEAT_S)

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "heartbeat"):
            self.heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.heartbeat
            await database_sync_to_async(customer_presence.customer_seen)(self.public_id)
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)
            if await database_sync_to_async(presence.left)(self.public_id) == 0:
                # The customer's last socket closed: stop the answer in progress unless a
                # socket comes back within the grace (a page reload, a network blip).
                _schedule_cancel(self.public_id)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None:
            await self._send(events.error("invalid_frame", "Send JSON text frames, not binary."))
            return
        if len(text_data.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES:
            await self._send(
                events.error("frame_too_large", f"Frames are limited to {MAX_FRAME_BYTES} bytes.")
            )
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            await self._send(events.error("invalid_json", "The frame is not valid JSON."))
            return
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self._send(
                events.error("invalid_frame", 'Every frame must be a JSON object with a "type".')
            )
            return
        if frame["type"] == "customer_message":
            await self._customer_message(frame.get("text"))
        elif frame["type"] == "ping":
            await self._send({"type": "pong"})
        elif frame["type"] in self.HANDOFF_FRAMES:
            try:
                await getattr(self, self.HANDOFF_FRAMES[frame["type"]])(frame)
            except (customer.Rejected, tickets.TicketRejected) as exc:
                await self._send(events.error(exc.code, exc.detail))
        else:
            await self._send(
                events.error("unknown_type", f"Unknown event type {frame['type'][:40]!r}.")
            )

    HANDOFF_FRAMES = {
        "request_human": "_request_human",
        "cancel_handoff": "_cancel_handoff",
        "typing": "_typing",
        "feedback": "_feedback",
        "leave_message": "_leave_message",
        "rate": "_rate",
    }

    async def _request_human(self, frame: dict) -> None:
        await database_sync_to_async(customer.request_human)(self.public_id, self.customer_key)

    async def _cancel_handoff(self, frame: dict) -> None:
        await database_sync_to_async(customer.cancel_waiting)(self.public_id)

    async def _typing(self, frame: dict) -> None:
        if self.status not in _HUMAN_STATUSES:
            return  # nobody is there to see it
        payload = {
            **events.typing("customer", bool(frame.get("typing"))),
            "conversation_id": str(self.public_id),
        }
        await self.channel_layer.group_send(
            notify.watchers_group(self.public_id), {"type": events.EVENT_TYPE, "payload": payload}
        )

    async def _feedback(self, frame: dict) -> None:
        value = await database_sync_to_async(customer.feedback)(
            self.public_id, frame.get("message_id"), frame.get("value")
        )
        await self._send(
            {"type": "feedback_received", "message_id": frame.get("message_id"), "value": value}
        )

    async def _leave_message(self, frame: dict) -> None:
        ticket = await database_sync_to_async(tickets.leave_message)(
            self.public_id, frame.get("email"), frame.get("message")
        )
        await self._send({"type": "ticket_created", "ticket_id": ticket.pk, "email": ticket.email})

    async def _rate(self, frame: dict) -> None:
        rating = await database_sync_to_async(customer.rate)(
            self.public_id, frame.get("score"), frame.get("comment", "")
        )
        await self._send({"type": "rating_received", "score": rating.score})

    async def _customer_message(self, text: object) -> None:
        try:
            msg = await database_sync_to_async(conversations.add_customer_message)(
                self.public_id, text, customer_key=self.customer_key
            )
        except conversations.MessageRejected as exc:
            await self._send(events.error(exc.code, exc.detail, retry_after=exc.retry_after))
            return
        await self._send(
            {
                "type": "message_received",
                "message_id": msg.pk,
                # The assistant's reply to come (its tokens carry this id), or null when
                # the assistant will not answer (a person is involved).
                "reply_id": msg.bot_reply.pk if getattr(msg, "bot_reply", None) else None,
            }
        )

    async def chat_event(self, event: dict) -> None:
        payload = event["payload"]
        if payload.get("type") == "status":
            self.status = payload.get("status")
        await self._send(payload)

    async def _send(self, payload: dict) -> None:
        await self.send(text_data=json.dumps(payload, ensure_ascii=False))


_pending_cancels: set[asyncio.Task] = set()  # held so the loop does not drop them


def _schedule_cancel(public_id) -> None:
    task = asyncio.get_running_loop().create_task(_cancel_if_still_gone(public_id))
    _pending_cancels.add(task)
    task.add_done_callback(_pending_cancels.discard)


async def _cancel_if_still_gone(public_id) -> None:
    await asyncio.sleep(settings.DISCONNECT_CANCEL_S)
    await database_sync_to_async(replies.cancel_if_abandoned)(public_id)

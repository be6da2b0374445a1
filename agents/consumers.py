"""The agent console's websocket (/ws/agent/): authenticated agents only.

Parses and checks frames, calls agents.console / assignment, forwards events from the
inbox, the agent's own group and the conversation the console has open. Every ORM call
goes through database_sync_to_async. Protocol: docs/protocol.md, "Agent socket".
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from agents import assignment, availability, console, inbox, notify, presence
from chatbot import events
from chatbot.consumers import MAX_FRAME_BYTES

# Close codes (4000–4999 are the application's): the handshake is refused with 403.
NOT_AN_AGENT = 4403

db = database_sync_to_async


def _hello(user) -> dict:
    profile = assignment.profile_for(user)
    return {
        "type": "hello",
        "agent": {
            "id": user.pk,
            "name": profile.name,
            "status": profile.status,
            "max_concurrent": profile.max_concurrent,
        },
        "inbox": inbox.lists_for(user),
    }


def _agent_online() -> None:
    assignment.assign_waiting()


class AgentConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        events.register_server_loop(asyncio.get_running_loop())
        user = self.scope.get("user")
        if not await db(availability.is_agent)(user):
            await self.close(code=NOT_AN_AGENT)
            return
        self.user = user
        self.watching = None  # the open conversation's watchers group
        self.groups_joined = [notify.INBOX_GROUP, notify.agent_group(user.pk)]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        await db(presence.agent_connected)(user)
        # Lists read after joining the groups: later changes arrive as events.
        await self._send(await db(_hello)(user))
        self.heartbeat = asyncio.create_task(self._heartbeat())
        await db(_agent_online)()

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(settings.AGENTS_HEARTBEAT_S)
            await db(presence.agent_heartbeat)(self.user.pk)

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "user"):
            return
        self.heartbeat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.heartbeat
        for group in [*self.groups_joined, self.watching]:
            if group:
                await self.channel_layer.group_discard(group, self.channel_name)
        await db(presence.agent_disconnected)(self.user.pk)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        frame = await self._parse(text_data)
        if frame is None:
            return
        kind = frame["type"]
        handler = getattr(self, f"_on_{kind}", None) if kind.isidentifier() else None
        if handler is None:
            await self._error("unknown_type", f"Unknown event type {kind[:40]!r}.")
            return
        try:
            await handler(frame)
        except console.ConsoleError as exc:
            await self._error(exc.code, exc.detail)
        except assignment.AssignmentError as exc:
            await self._error(exc.code, exc.detail)

    async def _parse(self, text_data: str | None) -> dict | None:
        if text_data is None:
            await self._error("invalid_frame", "Send JSON text frames, not binary.")
            return None
        if len(text_data.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES:
            await self._error("frame_too_large", f"Frames are limited to {MAX_FRAME_BYTES} bytes.")
            return None
        try:
            frame = json.loads(text_data)
        except ValueError:
            await self._error("invalid_json", "The frame is not valid JSON.")
            return None
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self._error("invalid_frame", 'Every frame must be a JSON object with a "type".')
            return None
        return frame

    # --- frames ----------------------------------------------------------------------------

    async def _on_ping(self, frame: dict) -> None:
        await self._send({"type": "pong"})

    async def _on_inbox(self, frame: dict) -> None:
        await self._send(await db(_hello)(self.user))

    async def _on_set_availability(self, frame: dict) -> None:
        await db(console.set_availability)(self.user, frame.get("status"))

    async def _on_open(self, frame: dict) -> None:
        conv = await db(console.find)(str(frame.get("conversation_id")))
        group = notify.watchers_group(conv.public_id)
        if self.watching != group:
            if self.watching:
                await self.channel_layer.group_discard(self.watching, self.channel_name)
            # Joined before the snapshot is read: nothing falls between the two.
            await self.channel_layer.group_add(group, self.channel_name)
            self.watching = group
        detail = await db(inbox.detail)(conv)
        await self._send({"type": "conversation", "conversation": detail})

    async def _on_close(self, frame: dict) -> None:
        if self.watching:
            await self.channel_layer.group_discard(self.watching, self.channel_name)
            self.watching = None

    async def _on_accept(self, frame: dict) -> None:
        conv = await db(console.accept)(str(frame.get("conversation_id")), self.user)
        await self._send({"type": "accepted", "conversation_id": str(conv.public_id)})

    async def _on_message(self, frame: dict) -> None:
        msg = await db(console.send_message)(
            str(frame.get("conversation_id")), self.user, frame.get("text")
        )
        await self._send({"type": "message_sent", "message_id": msg.pk})

    async def _on_typing(self, frame: dict) -> None:
        group, payload = await db(console.typing)(
            str(frame.get("conversation_id")), self.user, bool(frame.get("typing"))
        )
        # Ephemeral: straight to the customer's sockets, nothing stored.
        await self.channel_layer.group_send(group, {"type": events.EVENT_TYPE, "payload": payload})

    async def _on_resolve(self, frame: dict) -> None:
        await db(console.resolve)(str(frame.get("conversation_id")), self.user)

    async def _on_hand_back(self, frame: dict) -> None:
        await db(console.hand_back)(
            str(frame.get("conversation_id")), self.user, frame.get("note", "")
        )

    async def _on_promote(self, frame: dict) -> None:
        draft = await db(console.promote_to_faq)(
            frame.get("message_id"), self.user, frame.get("question")
        )
        await self._send(
            {
                "type": "promoted",
                "message_id": frame.get("message_id"),
                "faq_id": draft.faq_id,
            }
        )

    # --- out -------------------------------------------------------------------------------

    async def chat_event(self, event: dict) -> None:
        await self._send(event["payload"])

    async def _error(self, code: str, detail: str) -> None:
        await self._send(events.error(code, detail))

    async def _send(self, payload: dict) -> None:
        await self.send(text_data=json.dumps(payload, ensure_ascii=False))

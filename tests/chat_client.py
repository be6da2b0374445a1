"""An in-process websocket client for the chat consumer, shared by the chat tests."""

from __future__ import annotations

from channels.testing import WebsocketCommunicator

from chatbot.asgi import application

ORIGIN = [(b"origin", b"http://testserver")]


async def open_chat(query: str = "") -> tuple[WebsocketCommunicator, dict]:
    """Connect (optionally with `conversation=<id>`) and return the greeting frame."""
    path = "/ws/chat/" + (f"?{query}" if query else "")
    comm = WebsocketCommunicator(application, path, headers=ORIGIN)
    connected, _ = await comm.connect(timeout=10)
    assert connected
    hello = await comm.receive_json_from(timeout=10)
    assert hello["type"] == "conversation"
    return comm, hello

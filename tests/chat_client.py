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


def session_cookie(user) -> bytes:
    """A signed-in session for `user`, as the Cookie header a browser would send."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def open_agent(cookie: bytes | None) -> tuple[WebsocketCommunicator, dict | None]:
    """Connect to the agent console socket; the hello frame, or None when refused."""
    headers = list(ORIGIN)
    if cookie:
        headers.append((b"cookie", cookie))
    comm = WebsocketCommunicator(application, "/ws/agent/", headers=headers)
    connected, _ = await comm.connect(timeout=10)
    if not connected:
        return comm, None
    hello = await comm.receive_json_from(timeout=10)
    assert hello["type"] == "hello"
    return comm, hello


async def receive_until(comm: WebsocketCommunicator, wanted, timeout: float = 20) -> list[dict]:
    """Frames up to and including the first for which `wanted(frame)` is true."""
    frames: list[dict] = []
    while not frames or not wanted(frames[-1]):
        frames.append(await comm.receive_json_from(timeout=timeout))
    return frames


async def inference_idle() -> None:
    """Wait until the inline inference thread has finished what it was given (the bot's
    after-answer work runs there after the answer is sent). The in-memory SQLite of the
    test suite fails a write that meets another thread's write instead of waiting, so
    tests step in only once that thread is quiet."""
    import asyncio

    from chatbot import inference

    await asyncio.to_thread(inference.wait_inline_idle)

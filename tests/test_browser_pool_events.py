"""chat.js and the pool's events, in headless Chromium against a scripted websocket server:
a reply restarted by another worker replaces its partial text, a cancelled reply leaves no
bubble, a busy queue tells the wait, and a `busy` refusal gives the text back."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from tests.test_browser_chat import (
    CHROMIUM,
    CHROMIUM_ARGS,
    CITATION,
    _page_with_server,
    _scripted_page,
    _send,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: run `make chromium`", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield instance
        finally:
            instance.close()


HELLO = {"type": "conversation", "conversation_id": "c1", "status": "open", "messages": []}
MARKER = {"type": "error", "code": "marker", "detail": "all frames handled"}
FINAL = {
    "type": "bot_message",
    "message_id": 11,
    "text": "Within 30 days.",
    "citations": [CITATION],
    "confidence": 0.9,
    "escalate": False,
}
RECORD_BOT_TEXTS = """() => {
    window.__seen = [];
    new MutationObserver(() => {
        for (const li of document.querySelectorAll('.msg.bot .body')) window.__seen.push(li.textContent);
    }).observe(document.getElementById('messages'), {childList: true, subtree: true, characterData: true});
}"""


def _token(text: str, attempt: int, message_id: int = 11) -> dict:
    return {"type": "token", "message_id": message_id, "text": text, "attempt": attempt}


def test_a_restarted_reply_replaces_the_first_attempts_text(browser, live_demo):
    frames = [
        HELLO,
        _token("Visit the gift card ", 1),
        _token("website.", 1),
        {"type": "reply_restart", "message_id": 11, "attempt": 2},
        _token("Within ", 2),
        _token("LEFTOVER OF ATTEMPT ONE", 1),  # a dead worker's late token
        _token("30 days.", 2),
    ]
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.add_init_script("document.addEventListener('DOMContentLoaded', " + RECORD_BOT_TEXTS + ");")

    def server(ws):
        for frame in [*frames, MARKER]:
            ws.send(json.dumps(frame))

    page.route_web_socket(re.compile(r".*/ws/chat/.*"), server)
    page.goto(live_demo.base_url + "/", wait_until="domcontentloaded")
    try:
        page.wait_for_selector(".msg.error", timeout=10_000)
        assert page.locator(".msg.bot").count() == 1
        assert page.locator(".msg.bot .body").inner_text() == "Within 30 days."
        seen = page.evaluate("window.__seen")
        assert "Visit the gift card website." in seen  # the first attempt was shown…
        # …and replaced, not appended to; the dead attempt's late token never showed.
        after = seen[seen.index("Visit the gift card website.") + 1 :]
        assert after and all("gift card" not in s and "LEFTOVER" not in s for s in after)
    finally:
        context.close()
    assert errors == []


def test_a_cancelled_reply_leaves_no_bubble(browser, live_demo):
    frames = [
        HELLO,
        _token("Within ", 1),
        {"type": "reply_cancelled", "message_id": 11, "reason": "superseded"},
        _token("30 days.", 1),  # late, from the worker that has not noticed yet
        MARKER,
    ]
    context, page, errors = _scripted_page(browser, live_demo, frames)
    try:
        page.wait_for_selector(".msg.error", timeout=10_000)
        assert page.locator(".msg.bot").count() == 0
    finally:
        context.close()
    assert errors == []


def test_a_busy_queue_tells_the_wait_until_the_answer_starts(browser, live_demo):
    frames = [
        HELLO,
        {
            "type": "queue_status",
            "message_id": 11,
            "position": 12,
            "estimated_wait_s": 40,
            "offer_human": True,
        },
        MARKER,
    ]
    context, page, errors = _scripted_page(browser, live_demo, frames)
    try:
        page.wait_for_selector(".msg.error", timeout=10_000)
        note = page.locator(".msg.bot .queue-note").inner_text()
        assert "about 40 s" in note and "ask for a person" in note
    finally:
        context.close()
    assert errors == []

    context, page, errors = _scripted_page(
        browser, live_demo, [*frames[:2], _token("Within ", 1), FINAL, MARKER]
    )
    try:
        page.wait_for_selector(".msg.bot a.citation", timeout=10_000)
        assert page.locator(".queue-note").count() == 0
        assert page.locator(".msg.bot .body").inner_text() == "Within 30 days."
    finally:
        context.close()
    assert errors == []


def test_a_busy_refusal_gives_the_text_back(browser, live_demo):
    busy = {
        "type": "error",
        "code": "busy",
        "detail": "We're answering a lot of questions right now. Please send yours again "
        "in about 30 seconds, or ask for a person.",
        "retry_after": 30,
    }
    with _page_with_server(browser, live_demo, lambda n, text: [busy]) as page:
        _send(page, "Where is my order?")
        error = page.wait_for_selector(".msg.error", timeout=10_000)
        assert "ask for a person" in error.inner_text()
        assert page.locator("#input").input_value() == "Where is my order?"
        assert page.locator(".msg.customer").count() == 0

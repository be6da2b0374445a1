"""The chat page in a real headless Chromium against a live daphne with the demo ingested."""

from __future__ import annotations

import shutil
from contextlib import contextmanager

import pytest
import requests

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
QUESTION = "What is your return policy?"


@pytest.fixture(scope="module")
def browser():
    if shutil.which(CHROMIUM) is None:
        pytest.fail(
            f"{CHROMIUM} is missing: run `make chromium` (apt-get install chromium)", pytrace=False
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def page(browser, live_demo):
    context = browser.new_context(viewport={"width": 900, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(live_demo.base_url + "/", wait_until="domcontentloaded")
    page.wait_for_function(
        "document.getElementById('status').textContent === 'Online'", timeout=15_000
    )
    yield page
    context.close()
    assert errors == [], f"JavaScript errors on the chat page: {errors}"


def test_a_question_streams_then_shows_a_cited_answer(page, live_demo, tmp_path):
    # Record each state the bot bubble goes through, as the page renders it.
    page.evaluate("""() => {
        window.__seen = [];
        new MutationObserver(() => {
            const bot = document.querySelector('.msg.bot');
            if (bot) window.__seen.push(bot.classList.contains('typing') ? 'typing'
                                        : bot.classList.contains('streaming') ? 'streaming'
                                        : 'final');
        }).observe(document.getElementById('messages'),
                   {childList: true, subtree: true, characterData: true, attributes: true});
    }""")
    page.fill("#input", QUESTION)
    page.press("#input", "Enter")

    # The fake generator streams for a fraction of a second: waiting for the transient
    # streaming class can miss it, so the MutationObserver record above is the proof.
    citation = page.wait_for_selector(".msg.bot a.citation", timeout=30_000)
    seen = page.evaluate("window.__seen")
    assert seen[0] == "typing" and "streaming" in seen and seen[-1] == "final"
    assert page.locator(".msg.bot.streaming").count() == 0

    assert page.locator(".msg.customer .body").inner_text() == QUESTION
    answer = page.locator(".msg.bot .body").inner_text()
    assert "30 days" in answer and "[1]" not in answer
    href = citation.get_attribute("href")
    assert href.startswith(f"{live_demo.base_url}/demo-help/returns.html")
    assert citation.get_attribute("rel") == "noopener noreferrer"
    assert requests.get(href, timeout=10).status_code == 200
    assert page.locator("#input").input_value() == ""

    shot = tmp_path / "chat.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 5_000


# tests/fixtures/generation/invents_a_sentence.json makes the fake model answer this with a
# true sentence, an invented one (a "Boulder outlet" and store credit the FAQ never
# mentions) and another true one.
INVENTING_QUESTION = "What is the return policy for my boots?"


def test_an_invented_sentence_never_appears_on_screen(page):
    # Every state of the bot bubble, as rendered, with the time since the message was sent.
    page.evaluate("""() => {
        window.__states = [];
        new MutationObserver(() => {
            const bot = document.querySelector('.msg.bot');
            if (!bot) return;
            window.__states.push({
                t: performance.now() - window.__sentAt,
                typing: bot.classList.contains('typing'),
                streaming: bot.classList.contains('streaming'),
                text: bot.querySelector('.body').textContent,
            });
        }).observe(document.getElementById('messages'),
                   {childList: true, subtree: true, characterData: true, attributes: true});
        document.getElementById('composer').addEventListener(
            'submit', () => { window.__sentAt = performance.now(); }, {capture: true});
    }""")
    page.fill("#input", INVENTING_QUESTION)
    page.press("#input", "Enter")
    page.wait_for_selector(".msg.bot a.citation", timeout=30_000)
    states = page.evaluate("window.__states")

    assert not any("Boulder" in s["text"] or "store credit" in s["text"] for s in states), states
    final = page.locator(".msg.bot .body").inner_text()
    assert final == (
        "You can return most unused items within 30 days of delivery for a full refund. "
        "Footwear must come back in its original box."
    )
    # Typing first, then the verified sentences one by one, then the final answer.
    assert states[0]["typing"] and states[0]["text"] == ""
    texts = [s["text"] for s in states if s["text"]]
    assert texts[0] == final.split(" Footwear")[0]
    assert all(final.startswith(t) for t in texts)
    typing_ms = states[0]["t"]
    first_words_ms = next(s["t"] for s in states if s["text"])
    assert typing_ms < first_words_ms
    print(f"typing indicator {typing_ms:.0f} ms, first verified sentence {first_words_ms:.0f} ms")


def test_the_conversation_survives_a_page_reload(page, live_demo):
    page.fill("#input", "Are returns free?")
    page.press("#input", "Enter")
    page.wait_for_selector(".msg.bot a.citation", timeout=30_000)
    before = page.locator(".msg .body").all_inner_texts()

    page.reload(wait_until="domcontentloaded")
    page.wait_for_function(
        "document.querySelectorAll('.msg.bot a.citation').length > 0", timeout=15_000
    )
    assert page.locator(".msg .body").all_inner_texts() == before


def test_an_uncovered_question_is_handed_over_honestly(page):
    # Nobody is signed in to the agent console here: no transfer is promised.
    # The default policy asks to rephrase after the first miss and hands over after the second.
    page.fill("#input", "xyzzy plugh frobnicate")
    page.press("#input", "Enter")
    page.wait_for_selector(".msg.system[data-notice=rephrase]", timeout=30_000)
    assert page.locator(".msg.system[data-notice=offline]").count() == 0
    page.fill("#input", "zorkmid quantum blorb")
    page.press("#input", "Enter")
    page.wait_for_selector(".msg.bot.escalated >> nth=1", timeout=30_000)
    flagged = page.locator(".msg.bot.escalated").nth(1)
    assert "won't guess" in flagged.inner_text()
    assert page.locator(".msg.bot.escalated a.citation").count() == 0
    notice = page.wait_for_selector(".msg.system[data-notice=offline]", timeout=15_000)
    assert "nobody from our team is available" in notice.inner_text()
    assert page.locator("#ticket-form").is_visible()


def test_a_too_long_message_is_refused_in_the_page(page):
    page.evaluate("document.getElementById('input').removeAttribute('maxlength')")
    page.fill("#input", "x" * 2001)
    page.press("#input", "Enter")
    error = page.wait_for_selector(".msg.error", timeout=10_000)
    assert "2000" in error.inner_text()
    assert page.locator(".msg.customer").count() == 0


# --- chat.js against a scripted server -----------------------------------------------------
# Playwright stands in for the websocket server, so the client's handling of awkward orderings
# (reconnecting mid-answer, a final answer it has already replayed) is exercised exactly.


def _scripted_page(browser, live_demo, frames: list[dict]):
    import json
    import re

    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def server(ws):
        for frame in frames:
            ws.send(json.dumps(frame))

    page.route_web_socket(re.compile(r".*/ws/chat/.*"), server)
    page.goto(live_demo.base_url + "/", wait_until="domcontentloaded")
    return context, page, errors


CITATION = {
    "faq_id": 1,
    "question": "What is your return policy?",
    "url": "/demo-help/returns.html#return-window",
}


@contextmanager
def _page_with_server(browser, live_demo, on_customer_message):
    """chat.js against a scripted server that answers each customer message by calling
    `on_customer_message(n, text)` (n counts from 0) for the frames to send back, or None
    to drop the socket instead. Every (re)connection is greeted with an empty history.
    Yields the page; on leaving, the page must not have thrown a script error."""
    import json
    import re

    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    hello = {"type": "conversation", "conversation_id": "c1", "status": "bot", "messages": []}
    seen: list[str] = []

    def server(ws):
        def on_message(raw):
            frame = json.loads(raw)
            if frame.get("type") == "customer_message":
                replies = on_customer_message(len(seen), frame["text"])
                seen.append(frame["text"])
                if replies is None:
                    ws.close()
                    return
                for reply in replies:
                    ws.send(json.dumps(reply))

        ws.on_message(on_message)
        ws.send(json.dumps(hello))

    page.route_web_socket(re.compile(r".*/ws/chat/.*"), server)
    page.goto(live_demo.base_url + "/", wait_until="domcontentloaded")
    page.wait_for_function(
        "document.getElementById('status').textContent === 'Online'", timeout=15_000
    )
    try:
        yield page
    finally:
        context.close()
    assert errors == []


def _send(page, text: str) -> None:
    page.fill("#input", text)
    page.press("#input", "Enter")


RATE_LIMITED = {
    "type": "error",
    "code": "rate_limited",
    "detail": "You're sending messages faster than we can answer: at most 10 a minute. "
    "Please wait 42 seconds and try again.",
    "retry_after": 42,
}


def test_a_message_the_server_refuses_goes_back_into_the_input(browser, live_demo):
    def server(n, text):
        return [{"type": "message_received", "message_id": 1}] if n == 0 else [RATE_LIMITED]

    with _page_with_server(browser, live_demo, server) as page:
        _send(page, "Where is my order?")
        page.wait_for_selector(".msg.customer:not(.pending)", timeout=10_000)
        assert page.locator("#input").input_value() == ""

        _send(page, "And can I change the address?")
        error = page.wait_for_selector(".msg.error", timeout=10_000)
        assert "wait 42 seconds" in error.inner_text()
        # The refused text is back in the box to send again; only the accepted one is
        # shown as said.
        assert page.locator("#input").input_value() == "And can I change the address?"
        assert page.locator(".msg.customer .body").all_inner_texts() == ["Where is my order?"]


@pytest.mark.parametrize(
    "code, detail",
    [
        ("message_too_long", "Messages are limited to 5 characters (this one has 20)."),
        ("empty_message", "The message is empty."),
    ],
)
def test_any_refusal_keeps_the_text(browser, live_demo, code, detail):
    def server(n, text):
        return [{"type": "error", "code": code, "detail": detail}]

    with _page_with_server(browser, live_demo, server) as page:
        _send(page, "twenty chars exactly")
        error = page.wait_for_selector(".msg.error", timeout=10_000)
        assert error.inner_text() == detail
        assert page.locator("#input").input_value() == "twenty chars exactly"
        assert page.locator(".msg.customer").count() == 0


def test_a_message_lost_with_the_connection_goes_back_into_the_input(browser, live_demo):
    # The socket drops before the message is acknowledged, and the history replayed on
    # reconnecting doesn't have it: it was never stored, so the customer gets it back.
    def server(n, text):
        return None if n == 0 else []

    with _page_with_server(browser, live_demo, server) as page:
        _send(page, "Where is my order?")
        page.wait_for_function(
            "document.getElementById('input').value === 'Where is my order?'", timeout=15_000
        )
        assert page.locator(".msg.customer").count() == 0


def test_an_unrelated_error_does_not_take_back_a_sent_message(browser, live_demo):
    # generation_failed is about an answer, not the message being sent: the message was
    # stored and stays shown as said.
    def server(n, text):
        return [
            {"type": "error", "code": "generation_failed", "detail": "Sorry, try again."},
            {"type": "message_received", "message_id": 7},
        ]

    with _page_with_server(browser, live_demo, server) as page:
        _send(page, "Where is my order?")
        page.wait_for_selector(".msg.customer:not(.pending)", timeout=10_000)
        assert page.locator(".msg.error").inner_text() == "Sorry, try again."
        assert page.locator("#input").input_value() == ""
        assert page.locator(".msg.customer .body").all_inner_texts() == ["Where is my order?"]


def test_reconnecting_mid_answer_keeps_one_bubble(browser, live_demo):
    frames = [
        {
            "type": "conversation",
            "conversation_id": "c1",
            "status": "bot",
            "messages": [
                {"message_id": 10, "role": "customer", "text": "Return window?", "citations": []},
                {
                    "message_id": 11,
                    "role": "bot",
                    "text": "",
                    "citations": [],
                    "state": "streaming",
                    "escalate": False,
                },
            ],
        },
        {"type": "token", "message_id": 11, "text": "Within "},
        {"type": "token", "message_id": 11, "text": "30 days."},
        {
            "type": "bot_message",
            "message_id": 11,
            "text": "Within **30 days**.",
            "citations": [CITATION],
            "confidence": 0.9,
            "escalate": False,
        },
    ]
    context, page, errors = _scripted_page(browser, live_demo, frames)
    try:
        page.wait_for_selector(".msg.bot a.citation", timeout=10_000)
        assert page.locator(".msg.bot").count() == 1
        assert page.locator(".msg.bot .body").inner_text() == "Within 30 days."
        assert page.locator(".msg.bot strong").inner_text() == "30 days"
    finally:
        context.close()
    assert errors == []


def test_a_final_answer_already_replayed_is_not_shown_twice(browser, live_demo):
    done = {
        "message_id": 11,
        "role": "bot",
        "text": "Within 30 days.",
        "citations": [CITATION],
        "state": "complete",
        "escalate": False,
    }
    frames = [
        {
            "type": "conversation",
            "conversation_id": "c1",
            "status": "bot",
            "messages": [
                {"message_id": 10, "role": "customer", "text": "Return window?", "citations": []},
                done,
            ],
        },
        {"type": "token", "message_id": 11, "text": "late token"},
        {
            "type": "bot_message",
            "message_id": 11,
            "text": done["text"],
            "citations": [CITATION],
            "confidence": 0.9,
            "escalate": False,
        },
        {"type": "error", "code": "marker", "detail": "all frames handled"},
    ]
    context, page, errors = _scripted_page(browser, live_demo, frames)
    try:
        page.wait_for_selector(".msg.error", timeout=10_000)
        assert page.locator(".msg.bot").count() == 1
        assert page.locator(".msg.bot a.citation").count() == 1
        assert page.locator(".msg.bot .body").inner_text() == "Within 30 days."
    finally:
        context.close()
    assert errors == []


def test_markup_and_script_urls_in_answers_are_not_executed(browser, live_demo):
    frames = [
        {"type": "conversation", "conversation_id": "c1", "status": "bot", "messages": []},
        {
            "type": "bot_message",
            "message_id": 5,
            "text": '<img src=x onerror="window.__pwned=1"> [click](javascript:window.__pwned=2) '
            "[ok](https://help.example/a?x=1&y=2)",
            "citations": [
                {"faq_id": 1, "question": "evil", "url": "javascript:window.__pwned=3"},
                CITATION,
            ],
            "confidence": 0.9,
            "escalate": False,
        },
    ]
    context, page, errors = _scripted_page(browser, live_demo, frames)
    try:
        page.wait_for_selector(".msg.bot a.citation", timeout=10_000)
        page.wait_for_timeout(300)
        assert page.evaluate("window.__pwned") is None
        body = page.locator(".msg.bot .body")
        assert body.locator("img").count() == 0
        assert "<img" in body.inner_text()  # shown as text, harmlessly
        hrefs = body.locator("a").evaluate_all("els => els.map(e => e.href)")
        assert hrefs == ["https://help.example/a?x=1&y=2"]
        cites = page.locator("a.citation").evaluate_all("els => els.map(e => e.href)")
        assert cites == [live_demo.base_url + "/demo-help/returns.html#return-window"]
    finally:
        context.close()
    assert errors == []

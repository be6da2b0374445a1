"""Both sides of the handoff in two real Chromium windows against a live daphne (embedded
shape, the demo help center crawled through the app, the demo agent from
`create_demo_agent`): escalate from the chat window, accept in the console, talk both ways
with typing indicators, hand back (the bot answers again), resolve, rate. And the offline
path: nobody online, the customer leaves a message, the e-mail goes out.

Screenshots of both windows land in tests/artifacts/ (git-ignored)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.services import app_env, free_port, manage, start_daphne

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("handoff-site")
    env = app_env(
        DATA_DIR=str(data_dir),
        CHATBOT_GENERATOR="fake",
        CHATBOT_EMBEDDER="hashing",
        CHATBOT_INDEX_RELOAD_CHECK_S="0",
        INFERENCE_MODE="inline",
        AGENTS_AUTO_ASSIGN="0",  # the agent accepts from the queue, as a person would
        AGENTS_HEARTBEAT_S="1",
        CHATBOT_IN_PROCESS_SCHEDULER="1",
        AGENTS_SWEEP_EVERY_S="1",
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(data_dir / "mail"),
        AGENTS_TICKET_EMAILS="help@northwind.example",
    )
    for var in ("DATABASE_URL", "REDIS_URL"):
        env.pop(var, None)
    migrate = manage(env, "migrate", "--noinput", timeout=180)
    assert migrate.returncode == 0, migrate.stderr
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    demo = manage(env, "create_demo_agent", "--server", base, timeout=60)
    assert demo.returncode == 0, demo.stderr
    password = re.search(r"user demo-agent\s+password (\S+)", demo.stdout).group(1)
    proc = start_daphne(env, port, data_dir)
    try:
        crawl = manage(env, "crawl", f"{base}/demo-help/index.html", timeout=180)
        assert crawl.stdout.startswith("succeeded"), crawl.stdout + crawl.stderr + proc.log()
        yield {"base": base, "password": password, "mail": data_dir / "mail", "proc": proc}
    finally:
        proc.stop()


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


class Window:
    """One browser context (its own cookies and storage): a customer, or the agent."""

    def __init__(self, browser, size):
        self.context = browser.new_context(viewport=size)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def close(self):
        self.context.close()
        assert self.errors == [], f"JavaScript errors: {self.errors}"


def customer_window(browser, site) -> Window:
    win = Window(browser, {"width": 720, "height": 900})
    win.page.goto(site["base"] + "/", wait_until="domcontentloaded")
    win.page.wait_for_function(
        "document.getElementById('status').textContent === 'Online'", timeout=15_000
    )
    return win


def agent_window(browser, site) -> Window:
    win = Window(browser, {"width": 1440, "height": 900})
    page = win.page
    page.goto(site["base"] + "/agent/", wait_until="domcontentloaded")
    assert "/agent/login/" in page.url  # signed out: the plain sign-in page
    page.fill("#id_username", "demo-agent")
    page.fill("#id_password", site["password"])
    page.click("button[type=submit]")
    page.wait_for_selector("#conn.ok", timeout=15_000)
    # Connected first, then the hello frame names the agent and fills the lists.
    page.wait_for_function(
        "document.getElementById('me-name').textContent === 'Maya'", timeout=15_000
    )
    return win


def say(page, text):
    page.fill("#input", text)
    page.press("#input", "Enter")


def shot(win: Window, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    win.page.screenshot(path=str(path), full_page=False)
    assert path.stat().st_size > 10_000
    return path


def test_nobody_online_the_customer_leaves_a_message_and_it_is_emailed(browser, site):
    customer = customer_window(browser, site)
    page = customer.page
    try:
        say(page, "My parcel never arrived")
        page.wait_for_selector(".msg.bot", timeout=30_000)
        page.click("#talk-to-person")
        notice = page.wait_for_selector(".msg.system[data-notice=offline]", timeout=15_000)
        assert "nobody from our team is available" in notice.inner_text()
        assert page.locator("text=will join").count() == 0
        page.wait_for_selector("#ticket-form:not([hidden])")
        assert "My parcel never arrived" in page.input_value("#ticket-message")
        page.fill("#ticket-email", "ana@example.com")
        page.click("#ticket-form button[type=submit]")
        done = page.wait_for_selector(".msg.system[data-notice=ticket]", timeout=15_000)
        assert "ana@example.com" in done.inner_text()
        assert page.locator("#ticket-form").is_hidden()
        shot(customer, "handoff-offline-customer.png")
    finally:
        customer.close()
    mails = list(site["mail"].glob("*.log"))
    assert len(mails) == 1
    body = mails[0].read_text()
    assert "To: help@northwind.example" in body and "Reply-To: ana@example.com" in body
    assert "My parcel never arrived" in body


def test_both_windows_through_the_whole_handoff(browser, site):
    agent = agent_window(browser, site)
    customer = customer_window(browser, site)
    cp, ap = customer.page, agent.page
    try:
        say(cp, "What is your return policy?")
        cp.wait_for_selector(".msg.bot a.citation", timeout=30_000)
        # Thumbs on the answer: stored, and shown pressed once the server has it.
        cp.click(".msg.bot .thumb.up")
        cp.wait_for_selector(".msg.bot .thumb.up[aria-pressed=true]", timeout=10_000)

        # Escalate from the chat window.
        cp.click("#talk-to-person")
        queued = cp.wait_for_selector(".msg.system[data-notice=queued]", timeout=15_000)
        assert "An agent will join you in about 1 minute" in queued.inner_text()
        assert "Waiting for an agent" in cp.locator("#handoff-banner").inner_text()
        assert cp.locator("#talk-to-person").is_disabled()

        # The agent sees it in the queue, with why and how long, and accepts.
        waiting = ap.wait_for_selector("#list-waiting .item", timeout=15_000)
        assert "Pressed “Talk to a person”" in waiting.inner_text()
        assert "EN" in waiting.inner_text()
        waiting.click()
        ap.wait_for_selector("#transcript .tmsg.customer", timeout=10_000)
        assert "Asked: What is your return policy?" in ap.locator("#summary").inner_text()
        bot_view = ap.locator("#transcript .tmsg.bot").first
        assert "confidence" in bot_view.inner_text() and "helpful" in bot_view.inner_text()
        assert bot_view.locator(".text strong").count() >= 1  # the FAQ's Markdown, rendered
        ap.click("#accept")
        joined = cp.wait_for_selector(".msg.system[data-notice=joined]", timeout=15_000)
        assert joined.inner_text() == "Maya has joined the conversation."
        cp.wait_for_function(
            "document.getElementById('handoff-banner').textContent.includes('chatting with Maya')"
        )
        ap.wait_for_selector("#reply:not([hidden])", timeout=10_000)
        assert ap.locator("#list-mine .item").count() == 1

        # Typing indicators, both ways.
        cp.type("#input", "Hello", delay=30)
        ap.wait_for_selector("#typing:not([hidden])", timeout=10_000)
        assert ap.locator("#typing").inner_text() == "Customer is typing…"
        ap.type("#reply-text", "Hi", delay=30)
        cp.wait_for_selector("#typing:not([hidden])", timeout=10_000)
        assert cp.locator("#typing").inner_text() == "Maya is typing…"

        # Live chat, both ways; the bot stays silent.
        ap.fill("#reply-text", "Hi, I'm Maya. I can help with your return.")
        ap.press("#reply-text", "Enter")
        said = cp.wait_for_selector(".msg.agent", timeout=10_000)
        assert "I'm Maya" in said.inner_text() and "Maya · Support team" in said.inner_text()
        assert cp.locator("#typing").is_hidden()
        cp.fill("#input", "Thanks! It's order NW-5512.")
        cp.press("#input", "Enter")
        ap.wait_for_selector("#transcript .tmsg.customer >> text=order NW-5512", timeout=10_000)
        bots_before = cp.locator(".msg.bot").count()
        cp.wait_for_timeout(1500)
        assert cp.locator(".msg.bot").count() == bots_before
        shot(customer, "handoff-customer.png")
        shot(agent, "handoff-agent.png")

        # Canned replies and FAQ answers can be inserted.
        ap.fill("#kb-q", "return policy")
        ap.wait_for_selector("#kb-results .result", timeout=15_000)
        ap.click("#kb-results .result >> text=Insert answer")
        assert "30 days" in ap.input_value("#reply-text")
        ap.fill("#reply-text", "")

        # Hand back to the bot, with a note; the bot answers again.
        ap.click("#hand-back")
        ap.fill("#hand-back-note", "Return explained; the assistant can take it.")
        ap.click("#hand-back-form button[type=submit]")
        back = cp.wait_for_selector(".msg.system[data-notice=back_to_bot]", timeout=15_000)
        assert "back with the assistant" in back.inner_text()
        cp.wait_for_function("document.getElementById('handoff-banner').hidden")
        say(cp, "How much does shipping cost?")
        cp.wait_for_function(
            f"document.querySelectorAll('.msg.bot a.citation').length > {bots_before}",
            timeout=30_000,
        )

        # Again to a person; this time the agent resolves and the customer rates.
        cp.click("#talk-to-person")
        cp.wait_for_selector(".msg.system[data-notice=queued] >> nth=1", timeout=15_000)
        ap.wait_for_selector("#accept:not([hidden])", timeout=15_000)
        ap.click("#accept")
        cp.wait_for_selector(".msg.system[data-notice=joined] >> nth=1", timeout=15_000)
        ap.wait_for_selector("#resolve:not([hidden])", timeout=10_000)
        ap.click("#resolve")
        cp.wait_for_selector("#csat:not([hidden])", timeout=15_000)
        assert cp.locator("#composer").is_hidden()
        cp.click(".star[data-score='5']")
        cp.fill("#csat-comment", "Quick and friendly")
        shot(customer, "handoff-customer-csat.png")
        cp.click("#csat-submit")
        cp.wait_for_selector("#csat-thanks:not([hidden])", timeout=10_000)
        ap.wait_for_selector("#list-closed .item .stars-small", timeout=15_000)
        assert ap.locator("#list-closed .item .stars-small").first.inner_text() == "★★★★★"
        shot(customer, "handoff-customer-rated.png")
        shot(agent, "handoff-agent-closed.png")

        # A new conversation starts clean.
        cp.click("#new-chat-button")
        cp.wait_for_function("document.querySelectorAll('.msg').length === 0")
        cp.wait_for_selector("#composer:not([hidden])")
    finally:
        customer.close()
        agent.close()


def test_the_console_is_for_signed_in_agents_only(browser, site):
    win = Window(browser, {"width": 900, "height": 700})
    try:
        win.page.goto(site["base"] + "/agent/", wait_until="domcontentloaded")
        assert "/agent/login/" in win.page.url
        win.page.fill("#id_username", "demo-agent")
        win.page.fill("#id_password", "wrong password")
        win.page.click("button[type=submit]")
        assert "didn't match" in win.page.locator(".form-error").inner_text()
        shot(win, "handoff-agent-login.png")
    finally:
        win.close()

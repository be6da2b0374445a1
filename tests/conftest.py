from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _fresh_live_index():
    """Each test sees only the index snapshots its own database holds."""
    from faq_ingest.index import live_index

    live_index.reset()
    yield
    live_index.reset()


# A tiny knowledge base for in-process chat tests. Tests using it must be marked
# django_db (pytest-django's marker fixture runs first, so the database is ready here).
TINY_FAQS = [
    (
        "How long do I have to return an item?",
        "You can return unworn items within 30 days of delivery for a full refund.",
        "https://shop.example/help/returns#return-window",
    ),
    (
        "How much does standard shipping cost?",
        "Standard shipping costs $4.95 and is free on orders over $50.",
        "https://shop.example/help/shipping#shipping-cost",
    ),
    (
        "How do I reset my password?",
        "Click Forgot password on the sign-in page and follow the link we email you.",
        "https://shop.example/help/account#reset-password",
    ),
]


@pytest.fixture
def tiny_kb():
    """Three FAQs in the test database, indexed; returns them by source URL."""
    from faq_ingest.index import build_snapshot
    from faq_ingest.models import Faq

    faqs = {}
    for n, (question, answer, url) in enumerate(TINY_FAQS):
        faqs[url] = Faq.objects.create(
            question=question,
            question_key=f"tiny-{n}",
            answer=answer,
            source_url=url,
            language="en",
        )
    assert build_snapshot(force=True) is not None
    return faqs


class LiveDemo:
    """A daphne subprocess (embedded mode, fake generator) with the demo site ingested."""

    def __init__(self, base_url: str, env: dict[str, str], proc) -> None:
        self.base_url = base_url
        self.ws_url = base_url.replace("http://", "ws://", 1) + "/ws/chat/"
        self.env = env
        self.proc = proc


FAKE_MODEL_SCRIPT = Path(__file__).parent / "fixtures" / "generation" / "invents_a_sentence.json"


@pytest.fixture(scope="session")
def live_demo(tmp_path_factory):
    """Shared by the live-server websocket and browser tests: started once per session.

    The demo is ingested the way `make run` does it: the real crawler fetches the pages over
    HTTP from the app's own /demo-help/ route.
    """
    from tests.services import app_env, free_port, manage, start_daphne

    data_dir = tmp_path_factory.mktemp("live-demo")
    env = app_env(
        DATA_DIR=str(data_dir),
        CHATBOT_GENERATOR="fake",
        # Scripted replies for a few questions (see FakeGenerator), e.g. one that invents.
        CHATBOT_MODEL=str(FAKE_MODEL_SCRIPT),
        CHATBOT_EMBEDDER="hashing",
        CHATBOT_INDEX_RELOAD_CHECK_S="0",
        INFERENCE_MODE="inline",
    )
    for var in ("DATABASE_URL", "REDIS_URL"):
        env.pop(var, None)
    migrate = manage(env, "migrate", "--noinput", timeout=180)
    assert migrate.returncode == 0, migrate.stderr
    port = free_port()
    proc = start_daphne(env, port, data_dir)
    try:
        base = f"http://127.0.0.1:{port}"
        crawl = manage(env, "crawl", f"{base}/demo-help/index.html", timeout=180)
        assert crawl.returncode == 0, crawl.stdout + crawl.stderr + proc.log()
        assert crawl.stdout.startswith("succeeded"), crawl.stdout + crawl.stderr
        yield LiveDemo(base, env, proc)
    finally:
        proc.stop()

"""The real default models (SmolLM2 GGUF via llama.cpp, MiniLM via sentence-transformers)
answer a clear demo question from the crawled demo help center, citing the right FAQ."""

from __future__ import annotations

import json

import pytest

from tests.httpserver import LocalHTTPServer
from tests.services import ROOT, app_env, manage

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

DEMO_SITE = ROOT / "faq_ingest" / "demo_site"
# Paraphrased on purpose: faq_ingest/demo_site/returns.html words it
# "What is your return policy?" / "within 30 days of delivery".
QUESTION = "How long do I have to return something?"


def test_a_clear_demo_question_is_answered_with_the_return_window_faq(tmp_path):
    env = app_env(DATA_DIR=str(tmp_path), CRAWLER_ALLOWED_PRIVATE_HOSTS="127.0.0.1")
    # The real defaults, whatever the test settings or the caller's shell chose.
    for var in (
        "CHATBOT_GENERATOR",
        "CHATBOT_EMBEDDER",
        "CHATBOT_MODEL",
        "CHATBOT_EMBEDDING_MODEL",
        "CHATBOT_RERANKER_MODEL",
        "INFERENCE_MODE",
        "DATABASE_URL",
        "REDIS_URL",
        "CHATBOT_CONFIDENCE_THRESHOLD",
    ):
        env.pop(var, None)
    migrate = manage(env, "migrate", "--noinput", timeout=300)
    assert migrate.returncode == 0, migrate.stderr

    with LocalHTTPServer(directory=DEMO_SITE) as site:
        crawl = manage(env, "crawl", site.url("/index.html"), timeout=600)
    assert crawl.returncode == 0, crawl.stdout + crawl.stderr
    assert crawl.stdout.startswith("succeeded"), crawl.stdout + crawl.stderr

    ask = manage(env, "ask", QUESTION, "--json", timeout=600)
    assert ask.returncode == 0, ask.stderr
    data = json.loads(ask.stdout)  # exactly one JSON object on stdout
    assert set(data) == {"answer", "citations", "confidence", "escalate"}

    assert data["escalate"] is False, f"a clear question escalated: {data}"
    assert data["confidence"] >= 0.5
    urls = [c["url"] for c in data["citations"]]
    assert any("returns.html#return-window" in u for u in urls), data
    assert "30 days" in data["answer"]

"""In scaled mode the web process must not load the model libraries (seconds, gigabytes)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.services import ROOT, app_env

HEAVY = ("torch", "llama_cpp", "sentence_transformers", "transformers", "peft")

PROBE = f"""
import json, sys
import django
django.setup()
import chatbot.asgi, chatbot.urls, chatbot.views, chatbot.consumers, chatbot.routing
import chatbot.inference, chatbot.conversations, chatbot.events, chatbot.celery
import agents.consumers, agents.views, agents.urls, agents.kb, agents.tasks, agents.sweeps
import chatbot.scheduler
import chatbot.replies, chatbot.pool, chatbot.watchdog, chatbot.presence, chatbot.tasks
import chatbot.generation
from django.urls import reverse
reverse("api-ask")
reverse("agent-kb")
reverse("healthz-pool")
print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))
"""


def _loaded_heavy_modules(tmp_path, **env: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=app_env(DATA_DIR=str(tmp_path), **env),
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_web_stack_in_celery_inference_mode_imports_no_model_library(tmp_path):
    # The default backends: what a real deployment runs.
    loaded = _loaded_heavy_modules(
        tmp_path,
        INFERENCE_MODE="celery",
        CHATBOT_GENERATOR="llamacpp",
        CHATBOT_EMBEDDER="sentence-transformers",
    )
    assert loaded == []


@pytest.mark.parametrize("backend", ["transformers", "openai"])
def test_web_stack_with_the_other_backends_imports_no_model_library(tmp_path, backend):
    loaded = _loaded_heavy_modules(
        tmp_path,
        INFERENCE_MODE="celery",
        CHATBOT_GENERATOR=backend,
        CHATBOT_EMBEDDER="sentence-transformers",
    )
    assert loaded == []


def test_the_probe_would_notice_a_heavy_import(tmp_path, monkeypatch):
    # Guard against a probe that can never fail: an early import of a (stand-in, so the
    # check stays fast) `transformers` module is reported.
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    (tmp_path / "transformers.py").write_text("")
    (tmp_path / "sitecustomize.py").write_text("import transformers\n")
    assert _loaded_heavy_modules(tmp_path, INFERENCE_MODE="celery") == ["transformers"]

"""The `openai` backend: against llama-cpp-python's own OpenAI-compatible server running the
SmolLM2 GGUF locally, and against a scripted server for retries and broken streams."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import requests

from chatbot.answering.prompt import STOP, build_messages
from chatbot.envconf import ConfigError
from chatbot.generation.base import default_gguf_path
from chatbot.generation.openai_backend import GenerationError, OpenAIGenerator
from faq_ingest.retrieval.searcher import IndexDoc
from tests.httpserver import LocalHTTPServer, Response
from tests.services import ROOT, Proc, free_port

RETURNS = IndexDoc(
    "1",
    "How long do I have to return an item?",
    "You can return unworn items within 30 days of delivery for a full refund.",
)


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    """`python -m llama_cpp.server` on a free loopback port (test-only dependencies)."""
    pytest.importorskip("llama_cpp.server.app", reason="llama-cpp-python[server] deps missing")
    port = free_port()
    log_dir = tmp_path_factory.mktemp("llama-server")
    proc = Proc(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            default_gguf_path(),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "2048",
        ],
        {"PATH": "/usr/bin:/bin", "HOME": str(log_dir)},
        log_dir / "server.log",
    )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        proc.wait_until(lambda: requests.get(base + "/models", timeout=2).ok, 120, "llama server")
        yield base
    finally:
        proc.stop()


def _generator(settings, base_url: str, **overrides) -> OpenAIGenerator:
    settings.OPENAI_BASE_URL = base_url
    settings.OPENAI_MODEL = overrides.pop("model", "")
    settings.OPENAI_RETRIES = overrides.pop("retries", 2)
    settings.OPENAI_TIMEOUT_S = overrides.pop("timeout", 30.0)
    settings.OPENAI_API_KEY = overrides.pop("api_key", "")
    return OpenAIGenerator()


@pytest.mark.slow
def test_it_streams_an_answer_from_a_local_llama_cpp_server(settings, llama_server):
    gen = _generator(settings, llama_server)
    # No model configured: the server's own model is discovered.
    assert gen.model.endswith(".gguf") and gen.name.startswith("openai:")
    messages = build_messages("How long do I have to return something?", [RETURNS])
    pieces = list(gen.stream(messages, max_tokens=40, stop=STOP))
    assert len(pieces) >= 3  # streamed, not one block
    assert "30" in "".join(pieces)
    # Greedy: the same prompt gives the same text.
    assert "".join(gen.stream(messages, max_tokens=40, stop=STOP)) == "".join(pieces)
    assert gen.health()["ok"] is True and gen.describe()["device"].startswith("remote:")


@pytest.mark.slow
def test_closing_the_stream_cancels_and_frees_the_server(settings, llama_server):
    gen = _generator(settings, llama_server)
    messages = build_messages("How long do I have to return something?", [RETURNS])
    stream = gen.stream(messages, max_tokens=150)
    next(stream)
    stream.close()
    started = time.monotonic()
    assert "".join(gen.stream(messages, max_tokens=5))
    assert time.monotonic() - started < 20


def _sse(*pieces: str, done: bool = True) -> bytes:
    lines = [{"choices": [{"index": 0, "delta": {"role": "assistant"}}]}]
    lines += [{"choices": [{"index": 0, "delta": {"content": p}}]} for p in pieces]
    body = "".join(f"data: {json.dumps(line)}\n\n" for line in lines)
    return (body + ("data: [DONE]\n\n" if done else "")).encode()


def test_it_retries_an_overloaded_server_before_the_first_token(settings):
    calls: list[dict] = []

    def completions(req):
        calls.append(json.loads(req.body))
        if len(calls) < 3:
            return Response(status=503, body=b"busy", headers={"Retry-After": "0"})
        return Response(
            body=_sse("Within ", "30 days."), headers={"Content-Type": "text/event-stream"}
        )

    with LocalHTTPServer({"/v1/chat/completions": completions}) as server:
        gen = _generator(settings, server.url("/v1"), model="my-model", api_key="sk-test")
        out = list(gen.stream([{"role": "user", "content": "hi"}], max_tokens=9, stop=["\n\n"]))
        auth = server.requests[-1].headers.get("authorization")
    assert out == ["Within ", "30 days."]
    assert len(calls) == 3 and auth == "Bearer sk-test"
    assert calls[-1] | {"messages": None} == {
        "model": "my-model",
        "messages": None,
        "stream": True,
        "max_tokens": 9,
        "temperature": 0.0,
        "stop": ["\n\n"],
    }


def test_a_client_error_is_reported_at_once_with_the_server_words(settings):
    bad = Response(status=400, body=b'{"error": "model not found"}')
    with LocalHTTPServer({"/v1/chat/completions": bad}) as server:
        gen = _generator(settings, server.url("/v1"), model="nope")
        with pytest.raises(GenerationError, match="HTTP 400.*model not found"):
            list(gen.stream([{"role": "user", "content": "hi"}], max_tokens=5))
        assert server.hits("/v1/chat/completions") == 1


def test_a_broken_stream_is_an_error_not_a_short_answer(settings):
    garbage = Response(body=_sse("Half", done=False) + b"data: {not json\n\n")
    with LocalHTTPServer({"/v1/chat/completions": garbage}) as server:
        gen = _generator(settings, server.url("/v1"), model="m")
        with pytest.raises(GenerationError, match="malformed"):
            list(gen.stream([{"role": "user", "content": "hi"}], max_tokens=5))


def test_an_unreachable_server_fails_after_the_retries(settings):
    port = free_port()  # nothing listens here
    gen_settings = {"model": "m", "retries": 1, "timeout": 2.0}
    gen = _generator(settings, f"http://127.0.0.1:{port}/v1", **gen_settings)
    with pytest.raises(GenerationError, match="ConnectionError"):
        list(gen.stream([{"role": "user", "content": "hi"}], max_tokens=5))


def test_a_missing_base_url_stops_with_a_clear_message(settings):
    settings.OPENAI_BASE_URL = ""
    with pytest.raises(ConfigError, match="CHATBOT_OPENAI_BASE_URL"):
        OpenAIGenerator()


def test_bad_base_url_settings_fail_at_start_up(tmp_path):
    from tests.services import app_env

    env = app_env(DATA_DIR=str(tmp_path), CHATBOT_OPENAI_TIMEOUT_S="soon")
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=dict(env, DJANGO_SETTINGS_MODULE="chatbot.settings"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "CHATBOT_OPENAI_TIMEOUT_S" in result.stderr

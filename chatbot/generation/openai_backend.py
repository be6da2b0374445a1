"""OpenAI-compatible backend: any server speaking `POST /v1/chat/completions` with
`stream: true` (vLLM, TGI, llama.cpp's server, a hosted API). This is how a site with a GPU
cluster plugs in: the inference workers then only retrieve, prompt and verify.

Plain `requests` rather than the `openai` package: all we need is one POST and a stream of
`data:` lines, requests is already a dependency, and the official client would add httpx,
pydantic, anyio, jiter and distro to every inference worker for no capability used here.
This session is separate from faq_ingest/fetch.py's on purpose: that one guards against
hostile crawl targets (private addresses refused), while this one talks to the one server
an operator configured, usually on a private network.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import requests

from chatbot.envconf import ConfigError
from chatbot.generation.base import ChatMessage, Generator

log = logging.getLogger(__name__)

USER_AGENT = "NorthwindFAQBot/0.1 (+self-hosted support bot)"
# Worth another try before the first token: the server is overloaded or restarting.
RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


class GenerationError(RuntimeError):
    pass


class OpenAIGenerator(Generator):
    def __init__(self, model: str = "") -> None:
        from django.conf import settings

        base = settings.OPENAI_BASE_URL.rstrip("/")
        if not base:
            raise ConfigError(
                "CHATBOT_GENERATOR=openai needs CHATBOT_OPENAI_BASE_URL, e.g. http://vllm:8000/v1"
            )
        if urlsplit(base).scheme not in ("http", "https"):
            raise ConfigError(f"CHATBOT_OPENAI_BASE_URL must be an http(s) URL, got {base!r}")
        self.base_url = base
        self.timeout = settings.OPENAI_TIMEOUT_S
        self.retries = settings.OPENAI_RETRIES
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        if settings.OPENAI_API_KEY:
            self.session.headers["Authorization"] = f"Bearer {settings.OPENAI_API_KEY}"
        self.model = settings.OPENAI_MODEL or model or self._first_served_model()
        self.name = f"openai:{self.model}"
        self.device = f"remote:{urlsplit(base).netloc}"
        # The server batches; this worker may keep this many requests in flight.
        self.slots = settings.GENERATOR_MAX_BATCH

    def _first_served_model(self) -> str:
        """No model configured: the server's first (often only) model."""
        response = self._request("GET", "/models", stream=False)
        try:
            return str(response.json()["data"][0]["id"])
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise GenerationError(
                f"{self.base_url}/models did not list a model; set CHATBOT_OPENAI_MODEL"
            ) from exc

    def _request(self, method: str, path: str, *, stream: bool, payload: dict | None = None):
        """One request, retried with backoff on connection errors and RETRY_STATUS: only
        before any of the answer was read, so a retry never repeats text."""
        url = self.base_url + path
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = self.session.request(
                    method,
                    url,
                    json=payload,
                    stream=stream,
                    timeout=(min(5.0, self.timeout), self.timeout),
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                if last:
                    raise GenerationError(f"{url}: {exc.__class__.__name__}: {exc}") from exc
                self._backoff(attempt, None)
                continue
            if response.status_code < 400:
                return response
            detail = response.text[:500]
            response.close()
            if response.status_code in RETRY_STATUS and not last:
                self._backoff(attempt, response.headers.get("Retry-After"))
                continue
            raise GenerationError(f"{url}: HTTP {response.status_code}: {detail}")
        raise AssertionError("unreachable")

    @staticmethod
    def _backoff(attempt: int, retry_after: str | None) -> None:
        delay = 0.5 * 2**attempt
        if retry_after and retry_after.isdigit():
            delay = min(float(retry_after), 10.0)
        time.sleep(delay)

    def stream(
        self, messages: list[ChatMessage], *, max_tokens: int, stop: list[str] | None = None
    ) -> Iterator[str]:
        payload = {
            "model": self.model,
            "messages": list(messages),
            "stream": True,
            "max_tokens": max_tokens,
            "temperature": 0.0,
        }
        if stop:
            payload["stop"] = stop
        response = self._request("POST", "/chat/completions", stream=True, payload=payload)
        # Closing the response (on cancel, or when done) drops the connection, which is how
        # OpenAI-compatible servers learn to stop generating.
        try:
            for line in response.iter_lines():
                if not line.startswith(b"data:"):
                    continue  # blank separators, comments, `event:` lines
                data = line[5:].strip()
                if data == b"[DONE]":
                    return
                try:
                    chunk = json.loads(data)
                except ValueError as exc:
                    raise GenerationError(f"malformed stream chunk: {data[:200]!r}") from exc
                if not isinstance(chunk, dict):
                    raise GenerationError(f"malformed stream chunk: {data[:200]!r}")
                if chunk.get("error"):
                    raise GenerationError(f"server error mid-stream: {chunk['error']}")
                choices = chunk.get("choices") or []
                delta = choices[0].get("delta") or {} if choices else {}
                piece = delta.get("content") if isinstance(delta, dict) else None
                if piece:
                    yield piece
        except requests.RequestException as exc:
            raise GenerationError(f"stream from {self.base_url} broke: {exc}") from exc
        finally:
            response.close()

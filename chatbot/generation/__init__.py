"""Text generators behind one interface, with a lazy registry.

Backends import their heavy libraries (llama.cpp, torch) only when built, so the web
process never pays for them unless it is also the inference process (embedded mode).
"""

from __future__ import annotations

import importlib
import threading

from chatbot.generation.base import ChatMessage, Generator

__all__ = ["ChatMessage", "Generator", "get_generator", "BACKENDS"]

BACKENDS = {
    "llamacpp": "chatbot.generation.llamacpp:LlamaCppGenerator",
    "transformers": "chatbot.generation.transformers_backend:TransformersGenerator",
    "openai": "chatbot.generation.openai_backend:OpenAIGenerator",
    "extractive": "chatbot.generation.fake:ExtractiveGenerator",
    "fake": "chatbot.generation.fake:FakeGenerator",
}

_cache: dict[tuple[str, str], Generator] = {}
_lock = threading.Lock()


def get_generator(backend: str | None = None, model: str | None = None) -> Generator:
    """The process-wide generator: loaded once, warmed up, then reused."""
    from django.conf import settings

    backend = backend or settings.GENERATOR_BACKEND
    model = settings.GENERATOR_MODEL if model is None else model
    key = (backend, model)
    with _lock:
        if key not in _cache:
            if backend not in BACKENDS:
                raise ValueError(f"unknown generator backend {backend!r}")
            module_name, cls_name = BACKENDS[backend].split(":")
            cls = getattr(importlib.import_module(module_name), cls_name)
            generator = cls(model=model)
            generator.warmup()
            _cache[key] = generator
        return _cache[key]

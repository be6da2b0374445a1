"""Optional cross-encoder reranking of the fused candidates (off unless configured)."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from faq_ingest.retrieval.searcher import Hit


class CrossEncoderReranker:
    def __init__(self, model: str, device: str = "cpu", top_n: int = 20) -> None:
        if Path(model).exists():
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import CrossEncoder

        self._model = CrossEncoder(model, device=device)
        self.top_n = top_n

    def rerank(self, query: str, hits: list[Hit]) -> list[Hit]:
        head, tail = hits[: self.top_n], hits[self.top_n :]
        scores = self._model.predict([(query, f"{h.doc.question}\n{h.doc.answer}") for h in head])
        order = sorted(range(len(head)), key=lambda i: -float(scores[i]))
        return [head[i] for i in order] + tail


@functools.lru_cache(maxsize=2)
def get_reranker(model: str) -> CrossEncoderReranker:
    from faq_ingest.retrieval.embedders import pick_device

    return CrossEncoderReranker(model, device=pick_device("auto"))

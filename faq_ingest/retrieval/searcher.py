"""In-memory hybrid search over one immutable set of documents.

A `HybridSearcher` is built once per index snapshot and never mutated, so a process can
swap the live one by reassigning a reference: a search in flight keeps the old object.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from faq_ingest.retrieval.bm25 import BM25Index
from faq_ingest.retrieval.calibration import Calibrator
from faq_ingest.retrieval.embedders import Embedder
from faq_ingest.retrieval.text import tokenize

# Field weights for BM25: the question is what customers paraphrase, so it counts most.
FIELD_WEIGHTS = {"question": 2.0, "alternates": 1.5, "answer": 0.6}
RRF_K = 60
CANDIDATES = 100

MODES = ("hybrid", "bm25", "dense")


@dataclass(frozen=True)
class IndexDoc:
    id: str
    question: str
    answer: str
    alternates: tuple[str, ...] = ()
    url: str = ""
    lang: str = ""
    kind: str = "faq"

    def dense_texts(self) -> list[str]:
        """What gets embedded: the question, each alternate, and question + answer."""
        return [self.question, *self.alternates, f"{self.question}\n{self.answer[:1000]}"]


@dataclass
class Hit:
    doc: IndexDoc
    index: int
    score: float
    bm25: float
    dense: float
    bm25_rank: int | None
    dense_rank: int | None


@dataclass
class SearchResult:
    hits: list[Hit]
    confidence: float
    features: dict[str, float] = field(default_factory=dict)
    embed_seconds: float = 0.0
    total_seconds: float = 0.0


def embed_docs(docs: Sequence[IndexDoc], embedder: Embedder) -> tuple[np.ndarray, np.ndarray]:
    """Rows of vectors and, for each row, the index of the document it belongs to."""
    texts: list[str] = []
    owners: list[int] = []
    for i, doc in enumerate(docs):
        for text in doc.dense_texts():
            texts.append(text)
            owners.append(i)
    vectors = embedder.encode(texts)
    return vectors, np.asarray(owners, dtype=np.int32)


class HybridSearcher:
    def __init__(self, docs: Sequence[IndexDoc], vectors: np.ndarray, owners: np.ndarray,
                 embedder: Embedder | None, calibrator: Calibrator | None = None,
                 reranker=None) -> None:
        self.docs = list(docs)
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.owners = owners
        self.embedder = embedder
        self.calibrator = calibrator or Calibrator.default()
        self.reranker = reranker
        self._doc_tokens = [set(tokenize(f"{d.question} {' '.join(d.alternates)} {d.answer}"))
                            for d in self.docs]
        self.bm25 = BM25Index(
            [
                [tokenize(d.question) for d in self.docs],
                [tokenize(" ".join(d.alternates)) for d in self.docs],
                [tokenize(d.answer) for d in self.docs],
            ],
            [FIELD_WEIGHTS["question"], FIELD_WEIGHTS["alternates"], FIELD_WEIGHTS["answer"]],
        )

    def __len__(self) -> int:
        return len(self.docs)

    def dense_scores(self, query_vector: np.ndarray) -> np.ndarray:
        n = len(self.docs)
        if n == 0 or self.vectors.size == 0:
            return np.zeros(n, dtype=np.float32)
        sims = self.vectors @ query_vector
        per_doc = np.full(n, -1.0, dtype=np.float32)
        np.maximum.at(per_doc, self.owners, sims)
        return per_doc

    def search(self, query: str, k: int = 5, mode: str = "hybrid",
               query_vector: np.ndarray | None = None) -> SearchResult:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        started = time.perf_counter()
        n = len(self.docs)
        q_tokens = tokenize(query)
        bm25 = self.bm25.scores(q_tokens)
        embed_s = 0.0
        if mode != "bm25" and self.embedder is not None:
            if query_vector is None:
                t0 = time.perf_counter()
                query_vector = self.embedder.encode([query])[0]
                embed_s = time.perf_counter() - t0
            dense = self.dense_scores(query_vector)
        else:
            dense = np.zeros(n, dtype=np.float32)

        bm25_order = _top(bm25, CANDIDATES, positive_only=True)
        dense_order = _top(dense, CANDIDATES, positive_only=False)
        bm25_rank = {int(d): r for r, d in enumerate(bm25_order)}
        dense_rank = {int(d): r for r, d in enumerate(dense_order)}

        if mode == "bm25":
            fused = {int(d): float(bm25[d]) for d in bm25_order}
        elif mode == "dense":
            fused = {int(d): float(dense[d]) for d in dense_order}
        else:
            fused = {}
            for ranks in (bm25_rank, dense_rank):
                for d, r in ranks.items():
                    fused[d] = fused.get(d, 0.0) + 1.0 / (RRF_K + r + 1)
        ordered = sorted(fused, key=lambda d: (-fused[d], d))[: max(k, 10)]
        hits = [
            Hit(self.docs[d], d, fused[d], float(bm25[d]), float(dense[d]),
                bm25_rank.get(d), dense_rank.get(d))
            for d in ordered
        ]
        if self.reranker is not None and mode == "hybrid" and hits:
            hits = self.reranker.rerank(query, hits)
        features = self._features(q_tokens, hits, dense, bm25, mode)
        confidence = self.calibrator.confidence(features) if hits else 0.0
        return SearchResult(hits[:k], confidence, features, embed_s,
                            time.perf_counter() - started)

    def _features(self, q_tokens: list[str], hits: list[Hit], dense: np.ndarray,
                  bm25: np.ndarray, mode: str) -> dict[str, float]:
        if not hits:
            return {}
        top = hits[0]
        second_dense = hits[1].dense if len(hits) > 1 else -1.0
        q_set = set(q_tokens)
        doc_tokens = self._doc_tokens[top.index]
        coverage = len(q_set & doc_tokens) / len(q_set) if q_set else 0.0
        bm25_max = float(bm25.max()) if bm25.size else 0.0
        return {
            "dense_top": float(top.dense) if mode != "bm25" else 0.0,
            "dense_margin": float(top.dense - second_dense) if mode != "bm25" else 0.0,
            "bm25_share": float(top.bm25 / bm25_max) if bm25_max > 0 else 0.0,
            "coverage": float(coverage),
            "agree": float(top.bm25_rank == 0 and top.dense_rank == 0),
            "n_query_tokens": float(min(len(q_set), 20)),
        }


def _top(scores: np.ndarray, k: int, *, positive_only: bool) -> np.ndarray:
    if scores.size == 0:
        return np.zeros(0, dtype=np.int64)
    k = min(k, scores.size)
    idx = np.argpartition(-scores, k - 1)[:k]
    idx = idx[np.lexsort((idx, -scores[idx]))]
    if positive_only:
        idx = idx[scores[idx] > 0]
    return idx

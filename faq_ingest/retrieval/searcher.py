"""In-memory hybrid search over one immutable set of documents.

A `HybridSearcher` is built once per index snapshot and never mutated afterwards (only
the evaluation harness toggles its reranker), so a process swaps the live index by
reassigning one reference: a search in flight keeps the object it holds.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from faq_ingest.retrieval.bm25 import BM25Index
from faq_ingest.retrieval.calibration import RetrievalModel
from faq_ingest.retrieval.embedders import Embedder
from faq_ingest.retrieval.fusion import candidate_matrix, rrf_scores
from faq_ingest.retrieval.text import is_mostly_non_latin, tokenize

# BM25 field weights: the question is what customers paraphrase, so it counts most.
FIELD_WEIGHTS = {"question": 2.0, "alternates": 1.5, "answer": 0.6}
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


@dataclass
class _Scored:
    """Everything one query computed, shared by ranking, features and training."""

    q_tokens: set[str]
    cjk: bool
    bm25: np.ndarray
    dense: np.ndarray
    dense_q: np.ndarray
    dense_qa: np.ndarray
    bm25_q: np.ndarray
    bm25_rank: dict[int, int]
    dense_rank: dict[int, int]
    candidates: list[int]
    matrix: np.ndarray
    embed_seconds: float


class HybridSearcher:
    def __init__(
        self,
        docs: Sequence[IndexDoc],
        vectors: np.ndarray,
        owners: np.ndarray,
        embedder: Embedder | None,
        model: RetrievalModel | None = None,
        reranker=None,
    ) -> None:
        self.docs = list(docs)
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.owners = np.asarray(owners, dtype=np.int64)
        self.embedder = embedder
        model = model if model is not None else RetrievalModel.load()
        self.model = model.for_embedder(embedder.name if embedder else "")
        self.reranker = reranker
        q_tokens = [tokenize(d.question) for d in self.docs]
        alt_tokens = [tokenize(" ".join(d.alternates)) for d in self.docs]
        ans_tokens = [tokenize(d.answer) for d in self.docs]
        self._question_sets = [set(q) | set(a) for q, a in zip(q_tokens, alt_tokens, strict=True)]
        self._doc_sets = [
            qs | set(a) for qs, a in zip(self._question_sets, ans_tokens, strict=True)
        ]
        # Document frequencies for idf-weighted coverage: a query whose rare words are
        # nowhere in the knowledge base is likely out of scope even if "password" matches.
        df: Counter[str] = Counter()
        for tokens in self._doc_sets:
            df.update(tokens)
        n = max(len(self.docs), 1)
        self._idf = {t: math.log1p((n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        self._idf_oov = math.log1p((n + 0.5) / 0.5)
        self.bm25 = BM25Index(
            [q_tokens, alt_tokens, ans_tokens],
            [FIELD_WEIGHTS["question"], FIELD_WEIGHTS["alternates"], FIELD_WEIGHTS["answer"]],
        )
        # Question-only BM25: "the customer asked this question" is a different signal
        # from "the answer mentions these words".
        self.bm25_question = BM25Index([q_tokens, alt_tokens], [1.0, 1.0])
        # Rows are grouped by document and each group ends with its question+answer row
        # (see IndexDoc.dense_texts); the others are the question and its alternates.
        owners_next = np.append(self.owners[1:], -1)
        self._qa_rows = owners_next != self.owners

    def __len__(self) -> int:
        return len(self.docs)

    def dense_scores(self, query_vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per document: best similarity over its question and alternates, and of its
        question+answer text."""
        n = len(self.docs)
        if n == 0 or self.vectors.size == 0:
            return np.zeros(n, dtype=np.float32), np.zeros(n, dtype=np.float32)
        sims = self.vectors @ query_vector.astype(np.float32)
        dense_q = np.full(n, -1.0, dtype=np.float32)
        np.maximum.at(dense_q, self.owners[~self._qa_rows], sims[~self._qa_rows])
        dense_qa = np.full(n, -1.0, dtype=np.float32)
        dense_qa[self.owners[self._qa_rows]] = sims[self._qa_rows]
        return dense_q, dense_qa

    def score(
        self, query: str, mode: str = "hybrid", query_vector: np.ndarray | None = None
    ) -> _Scored:
        n = len(self.docs)
        q_list = tokenize(query)
        bm25 = self.bm25.scores(q_list)
        embed_s = 0.0
        if mode != "bm25" and self.embedder is not None and self.vectors.size:
            if query_vector is None:
                t0 = time.perf_counter()
                query_vector = self.embedder.encode([query])[0]
                embed_s = time.perf_counter() - t0
            dense_q, dense_qa = self.dense_scores(query_vector)
        else:
            dense_q = dense_qa = np.zeros(n, dtype=np.float32)
        dense = np.maximum(dense_q, dense_qa)
        bm25_q = self.bm25_question.scores(q_list)
        bm25_order = _top(bm25, CANDIDATES, positive_only=True)
        dense_order = (
            _top(dense, CANDIDATES, positive_only=False)
            if mode != "bm25"
            else np.zeros(0, dtype=np.int64)
        )
        bm25_rank = {int(d): r for r, d in enumerate(bm25_order)}
        dense_rank = {int(d): r for r, d in enumerate(dense_order)}
        if mode == "bm25":
            candidates = [int(d) for d in bm25_order]
        elif mode == "dense":
            candidates = [int(d) for d in dense_order]
        else:
            candidates = list(dict.fromkeys([*map(int, dense_order), *map(int, bm25_order)]))
        q_set = set(q_list)
        denom = len(q_set) or 1
        coverage = [len(q_set & self._doc_sets[c]) / denom for c in candidates]
        q_coverage = [len(q_set & self._question_sets[c]) / denom for c in candidates]
        # The 'cjk' group: CJK, or any script the default embedder cannot read.
        cjk = is_mostly_non_latin(query)
        matrix = (
            candidate_matrix(
                dense,
                bm25,
                bm25_rank,
                dense_rank,
                candidates,
                coverage,
                q_coverage,
                cjk,
                dense_q,
                dense_qa,
                bm25_q,
            )
            if candidates
            else np.zeros((0, 0))
        )
        return _Scored(
            q_set,
            cjk,
            bm25,
            dense,
            dense_q,
            dense_qa,
            bm25_q,
            bm25_rank,
            dense_rank,
            candidates,
            matrix,
            embed_s,
        )

    def search(
        self, query: str, k: int = 5, mode: str = "hybrid", query_vector: np.ndarray | None = None
    ) -> SearchResult:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        started = time.perf_counter()
        s = self.score(query, mode, query_vector)
        if not s.candidates:
            return SearchResult([], 0.0, {}, s.embed_seconds, time.perf_counter() - started)
        if mode == "bm25":
            fused = s.bm25[s.candidates].astype(np.float64)
        elif mode == "dense":
            fused = s.dense[s.candidates].astype(np.float64)
        elif (fusion := self.model.fusion_for(s.cjk)) is not None:
            fused = fusion.score(s.matrix)
        else:
            rrf = rrf_scores(s.bm25_rank, s.dense_rank)
            fused = np.array([rrf[c] for c in s.candidates])
        order = np.lexsort((np.array(s.candidates), -fused))[: max(k, 10)]
        hits = [
            Hit(
                self.docs[s.candidates[i]],
                s.candidates[i],
                float(fused[i]),
                float(s.bm25[s.candidates[i]]),
                float(s.dense[s.candidates[i]]),
                s.bm25_rank.get(s.candidates[i]),
                s.dense_rank.get(s.candidates[i]),
            )
            for i in order
        ]
        if self.reranker is not None and mode == "hybrid":
            hits = self.reranker.rerank(query, hits)
        position = {c: i for i, c in enumerate(s.candidates)}
        features = self._features(s, hits, position, fused, mode)
        confidence = self.model.calibrator(mode, s.cjk).confidence(features)
        return SearchResult(
            hits[:k], confidence, features, s.embed_seconds, time.perf_counter() - started
        )

    def _features(
        self, s: _Scored, hits: list[Hit], position: dict[int, int], fused: np.ndarray, mode: str
    ) -> dict[str, float]:
        """Scale-free evidence about the top hit, the input of the confidence calibrator."""
        top = hits[0]
        row = s.matrix[position[top.index]]
        # The fusion is a listwise softmax model, so its softmax over the candidates is
        # already a (roughly calibrated) probability that this candidate is the gold one.
        p = np.exp(fused - fused.max())
        p /= p.sum()
        p_top = float(p[position[top.index]])
        p_second = float(p[position[hits[1].index]]) if len(hits) > 1 else 0.0
        bm25_max = float(s.bm25.max()) if s.bm25.size else 0.0
        q_idf = {t: self._idf.get(t, self._idf_oov) for t in s.q_tokens}
        idf_total = sum(q_idf.values()) or 1.0
        dense_on = mode != "bm25"
        dense_margin = 0.0
        if dense_on and s.dense.size > 1:
            # Margin over the best *other* FAQ, whether or not the top hit is the dense max.
            second, first = np.partition(s.dense, -2)[-2:]
            d_top = float(s.dense[top.index])
            dense_margin = d_top - float(second if d_top >= first else first)
        return {
            "logit_p": math.log(p_top + 1e-6) - math.log(1.0 - p_top + 1e-6),
            "p_margin": p_top - p_second,
            "dense_top": float(top.dense) if dense_on else 0.0,
            "dense_q_top": float(s.dense_q[top.index]) if dense_on else 0.0,
            "dense_margin": dense_margin,
            # A query whose rare words are nowhere in the knowledge base is likely out of
            # scope even if a common word like "password" matches.
            "idf_coverage": sum(q_idf[t] for t in s.q_tokens & self._doc_sets[top.index])
            / idf_total,
            "idf_q_coverage": sum(q_idf[t] for t in s.q_tokens & self._question_sets[top.index])
            / idf_total,
            "oov_share": (
                sum(1 for t in s.q_tokens if t not in self._idf) / len(s.q_tokens)
                if s.q_tokens
                else 1.0
            ),
            "agree": float(top.bm25_rank == 0 and top.dense_rank == 0),
            "q_coverage": float(row[6]),
            "coverage": float(row[5]),
            "qlen": math.log1p(len(s.q_tokens)),
            "bm25_share": float(top.bm25 / bm25_max) if bm25_max > 0 else 0.0,
            "bm25_top_log": math.log1p(max(float(top.bm25), 0.0)),
            "cjk": float(s.cjk),
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

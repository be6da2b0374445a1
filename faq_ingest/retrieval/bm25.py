"""Okapi BM25 over several weighted fields, as one sparse matrix product per query.

Written here rather than taken from a package because we need per-field weights
(question counts more than answer) and our own tokenizer; the maths is the standard
Lucene-style BM25 with idf = ln(1 + (N - df + 0.5) / (df + 0.5)).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy import sparse


class BM25Index:
    def __init__(
        self,
        fields: Sequence[Sequence[list[str]]],
        weights: Sequence[float],
        k1: float = 1.2,
        b: float = 0.75,
    ) -> None:
        """`fields[f][d]` is the token list of field f of document d."""
        if len(fields) != len(weights):
            raise ValueError("one weight per field")
        self.n_docs = len(fields[0]) if fields else 0
        vocab: dict[str, int] = {}
        for field in fields:
            for tokens in field:
                for tok in tokens:
                    vocab.setdefault(tok, len(vocab))
        self.vocab = vocab
        matrix = sparse.csr_matrix((self.n_docs, len(vocab)), dtype=np.float32)
        for field, weight in zip(fields, weights, strict=True):
            matrix = matrix + weight * self._field_matrix(field, k1, b)
        self.matrix = matrix.tocsc()

    def _field_matrix(self, docs: Sequence[list[str]], k1: float, b: float) -> sparse.csr_matrix:
        n = len(docs)
        lengths = np.array([len(d) for d in docs], dtype=np.float32)
        avgdl = float(lengths.mean()) if n and lengths.sum() > 0 else 1.0
        df: Counter[int] = Counter()
        rows, cols, tfs = [], [], []
        for i, tokens in enumerate(docs):
            counts = Counter(self.vocab[t] for t in tokens)
            for col, tf in counts.items():
                rows.append(i)
                cols.append(col)
                tfs.append(tf)
            df.update(counts.keys())
        if not rows:
            return sparse.csr_matrix((n, len(self.vocab)), dtype=np.float32)
        rows_a = np.array(rows)
        cols_a = np.array(cols)
        tf_a = np.array(tfs, dtype=np.float32)
        df_a = np.array([df[c] for c in cols], dtype=np.float32)
        idf = np.log1p((n - df_a + 0.5) / (df_a + 0.5))
        norm = k1 * (1 - b + b * lengths[rows_a] / avgdl)
        values = idf * tf_a * (k1 + 1) / (tf_a + norm)
        return sparse.csr_matrix(
            (values, (rows_a, cols_a)), shape=(n, len(self.vocab)), dtype=np.float32
        )

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        cols = [self.vocab[t] for t in query_tokens if t in self.vocab]
        if not cols or self.n_docs == 0:
            return np.zeros(self.n_docs, dtype=np.float32)
        counts = Counter(cols)
        idx = np.fromiter(counts.keys(), dtype=np.int64)
        qtf = np.fromiter(counts.values(), dtype=np.float32)
        return np.asarray(self.matrix[:, idx] @ qtf).ravel()

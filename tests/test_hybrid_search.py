"""Hybrid search on a tiny corpus: every mode ranks, respects k, and survives an empty index."""

from __future__ import annotations

import numpy as np
import pytest

from faq_ingest.retrieval.embedders import HashingEmbedder
from faq_ingest.retrieval.searcher import MODES, HybridSearcher, IndexDoc, embed_docs

DOCS = [
    IndexDoc(
        "returns",
        "How do I return an item?",
        "Start a return from your orders page within 30 days of delivery.",
        alternates=("Can I send something back?",),
    ),
    IndexDoc(
        "shipping", "How long does shipping take?", "Standard shipping takes 3 to 5 business days."
    ),
    IndexDoc(
        "password",
        "How do I reset my password?",
        "Use the forgot password link on the sign-in page.",
    ),
    IndexDoc(
        "refund",
        "When will I get my refund?",
        "Refunds reach your card 5 to 10 days after we receive the return.",
    ),
    IndexDoc("zh-returns", "如何退货？", "在订单页面申请退货，30天内有效。"),
]


@pytest.fixture(scope="module")
def searcher() -> HybridSearcher:
    embedder = HashingEmbedder()
    vectors, owners = embed_docs(DOCS, embedder)
    return HybridSearcher(DOCS, vectors, owners, embedder)


def empty_searcher() -> HybridSearcher:
    embedder = HashingEmbedder()
    return HybridSearcher(
        [], np.zeros((0, embedder.dim), dtype=np.float32), np.zeros(0, dtype=np.int32), embedder
    )


def test_embed_docs_gives_one_row_per_dense_text() -> None:
    vectors, owners = embed_docs(DOCS, HashingEmbedder())
    expected = [i for i, d in enumerate(DOCS) for _ in d.dense_texts()]
    assert owners.tolist() == expected
    assert vectors.shape == (len(expected), HashingEmbedder().dim)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_ranks_the_matching_faq_first(searcher: HybridSearcher, mode: str) -> None:
    result = searcher.search("how do I reset my password", k=3, mode=mode)
    assert result.hits, mode
    assert result.hits[0].doc.id == "password"
    scores = [h.score for h in result.hits]
    assert scores == sorted(scores, reverse=True)
    assert all(np.isfinite(s) for s in scores)
    assert 0.0 <= result.confidence <= 1.0


@pytest.mark.parametrize("mode", MODES)
def test_k_is_respected(searcher: HybridSearcher, mode: str) -> None:
    # The words are spread over three FAQs, so even bm25 mode has more candidates than k.
    for k in (1, 2, 3):
        assert len(searcher.search("return order refund days", k=k, mode=mode).hits) == k
    assert len(searcher.search("return order refund days", k=50, mode=mode).hits) <= len(DOCS)


def test_hits_carry_both_retrievers_scores(searcher: HybridSearcher) -> None:
    top = searcher.search("how long does shipping take", k=1, mode="hybrid").hits[0]
    assert top.doc.id == "shipping"
    assert top.bm25 > 0
    assert top.dense > 0
    assert top.bm25_rank == 0
    assert top.dense_rank == 0


def test_bm25_mode_skips_the_embedder(searcher: HybridSearcher) -> None:
    result = searcher.search("refund", k=3, mode="bm25")
    assert result.hits[0].doc.id == "refund"
    assert all(h.bm25 > 0 for h in result.hits)  # no zero-score filler in lexical mode
    assert result.embed_seconds == 0.0


def test_alternates_are_searchable(searcher: HybridSearcher) -> None:
    assert searcher.search("send something back", k=1, mode="bm25").hits[0].doc.id == "returns"


def test_traditional_chinese_query_finds_simplified_faq(searcher: HybridSearcher) -> None:
    for mode in MODES:
        assert searcher.search("如何退貨", k=1, mode=mode).hits[0].doc.id == "zh-returns", mode


def test_given_query_vector_is_used(searcher: HybridSearcher) -> None:
    vector = HashingEmbedder().encode(["How long does shipping take?"])[0]
    result = searcher.search("zzz", k=1, mode="dense", query_vector=vector)
    assert result.hits[0].doc.id == "shipping"
    assert result.embed_seconds == 0.0


def test_query_without_words_does_not_crash(searcher: HybridSearcher) -> None:
    assert searcher.search("😀 !!! ???", k=3, mode="bm25").hits == []
    for mode in ("hybrid", "dense"):
        result = searcher.search("😀 !!! ???", k=3, mode=mode)
        assert len(result.hits) <= 3
        assert 0.0 <= result.confidence <= 1.0


def test_unknown_mode_is_refused(searcher: HybridSearcher) -> None:
    with pytest.raises(ValueError):
        searcher.search("refund", mode="semantic")


@pytest.mark.parametrize("mode", MODES)
def test_empty_index_gives_no_hits_and_zero_confidence(mode: str) -> None:
    result = empty_searcher().search("how do I return an item", k=5, mode=mode)
    assert result.hits == []
    assert result.confidence == 0.0


@pytest.mark.django_db
def test_search_without_any_snapshot_gives_no_hits() -> None:
    from faq_ingest.index import search

    result = search("how do I return an item")
    assert result.hits == []
    assert result.confidence == 0.0

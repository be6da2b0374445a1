"""The shipped retrieval model with the real all-MiniLM-L6-v2 on the held-out demo split.

A regression guard, not the measurement (that is docs/evaluation.md and
bench/retrieval_cv.py): it fails if a change to features, fusion or calibration makes
hybrid worse than its own baselines or the confidence clearly miscalibrated.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from faq_ingest import evaluation
from faq_ingest.retrieval.calibration import RetrievalModel

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

DEMO = Path(__file__).resolve().parent.parent / "bench" / "datasets" / "demo"


@pytest.fixture(scope="module")
def demo_results():
    from faq_ingest.retrieval.embedders import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder()
    searcher = evaluation.build_searcher(
        evaluation.load_faqs(DEMO / "faqs.jsonl"), embedder, model=RetrievalModel.load()
    )
    assert searcher.model.fusion, "the shipped model must match the default embedder"
    queries = evaluation.load_queries(DEMO / "queries.test.jsonl")
    return evaluation.evaluate(searcher, queries, 0.5, ("hybrid", "bm25", "dense"))


def test_hybrid_beats_both_baselines_on_held_out_demo_queries(demo_results) -> None:
    hybrid, bm25, dense = (demo_results[m]["hit@1"] for m in ("hybrid", "bm25", "dense"))
    assert hybrid >= max(bm25, dense)
    assert hybrid >= 0.80
    assert demo_results["hybrid"]["hit@3"] >= 0.93


def test_confidence_separates_and_is_roughly_calibrated(demo_results) -> None:
    hybrid = demo_results["hybrid"]
    # 66 queries: the ECE noise floor alone is ~0.07 (docs/evaluation.md), so this only
    # catches gross miscalibration.
    assert hybrid["ece"] <= 0.15
    assert hybrid["abstain_auprc"] >= 0.6
    assert hybrid["abstain_f1"] >= 0.5

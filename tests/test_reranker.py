"""The optional cross-encoder stage: off unless configured, applied to hybrid search
only, and reported by `evaluate` as its own `reranked` system next to plain `hybrid`."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from faq_ingest import evaluation
from faq_ingest.retrieval.embedders import get_embedder
from faq_ingest.retrieval.searcher import IndexDoc

DOCS = [
    IndexDoc("pw", "How do I reset my password?", "Use the Forgot password link."),
    IndexDoc("ship", "Do you ship to Canada?", "We ship to the US and the EU."),
    IndexDoc("ret", "How do I return an item?", "Start a return from your orders page."),
    IndexDoc("pts", "How do I reset my loyalty points?", "Points never reset."),
]


class PreferDoc:
    """A stand-in cross-encoder that moves one FAQ to the top, so its effect is visible."""

    def __init__(self, doc_id: str) -> None:
        self.doc_id = doc_id
        self.calls = 0

    def rerank(self, query, hits):
        self.calls += 1
        return sorted(hits, key=lambda h: h.doc.id != self.doc_id)


def test_reranker_reorders_hybrid_results_only() -> None:
    reranker = PreferDoc("pts")
    searcher = evaluation.build_searcher(DOCS, get_embedder(), reranker=reranker)
    assert searcher.search("reset my password", mode="hybrid").hits[0].doc.id == "pts"
    assert searcher.search("reset my password", mode="bm25").hits[0].doc.id == "pw"
    assert reranker.calls == 1
    plain = evaluation.build_searcher(DOCS, get_embedder())
    assert plain.reranker is None
    assert plain.search("reset my password").hits[0].doc.id == "pw"


def test_evaluate_reports_hybrid_without_and_reranked_with_the_reranker(tmp_path, monkeypatch):
    faqs = tmp_path / "faqs.jsonl"
    faqs.write_text(
        "".join(
            json.dumps({"id": d.id, "question": d.question, "answer": d.answer}) + "\n"
            for d in DOCS
        )
    )
    queries = tmp_path / "q.jsonl"
    queries.write_text(json.dumps({"query": "reset my password", "gold": ["pw"]}) + "\n")
    from django.conf import settings

    import faq_ingest.retrieval.rerankers as rerankers

    monkeypatch.setattr(settings, "RERANKER_MODEL", "stand-in")
    monkeypatch.setattr(rerankers, "get_reranker", lambda model: PreferDoc("pts"))
    out = StringIO()
    call_command("evaluate", "--queries", str(queries), "--faqs", str(faqs), "--json", stdout=out)
    results = json.loads(out.getvalue())
    assert set(results) == {"hybrid", "bm25", "dense", "reranked", "production"}
    assert results["hybrid"]["hit@1"] == 1.0  # plain fusion, reranker switched off
    assert results["reranked"]["hit@1"] == 0.0  # the stand-in demotes the gold FAQ
    assert results["production"]["hit@1"] == 0.0  # production is what the chat runs


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_real_cross_encoder_class_loads_a_local_folder_offline() -> None:
    """No cross-encoder ships offline, so this builds one from the bundled MiniLM folder
    (its classification head is freshly initialised): it proves the loading and scoring
    path, not ranking quality."""
    from faq_ingest.retrieval.embedders import default_minilm_path
    from faq_ingest.retrieval.rerankers import CrossEncoderReranker

    reranker = CrossEncoderReranker(default_minilm_path(), device="cpu", top_n=3)
    searcher = evaluation.build_searcher(DOCS, get_embedder(), reranker=reranker)
    before = evaluation.build_searcher(DOCS, get_embedder()).search("reset my password", k=4)
    after = searcher.search("reset my password", k=4)
    assert {h.doc.id for h in after.hits} == {h.doc.id for h in before.hits}
    # Only the head is re-scored; the tail keeps the fused order.
    assert [h.doc.id for h in after.hits[3:]] == [h.doc.id for h in before.hits[3:]]
    scores = reranker._model.predict(
        [("reset my password", f"{h.doc.question}\n{h.doc.answer}") for h in after.hits[:3]]
    )
    assert list(scores) == sorted(scores, reverse=True)
    assert 0.0 <= after.confidence <= 1.0

"""Fitting the retrieval model: listwise fusion, cross-fitted calibrators, `calibrate`.

Uses the hashing embedder (tests/settings.py), so it runs in seconds; the real
all-MiniLM-L6-v2 fit is measured by `bench/retrieval_cv.py` and docs/evaluation.md.
"""

from __future__ import annotations

import json
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from faq_ingest import evaluation
from faq_ingest.retrieval.calibration import RetrievalModel
from faq_ingest.retrieval.embedders import get_embedder
from faq_ingest.retrieval.fusion import CANDIDATE_FEATURES, LearnedFusion

VERBS = ["reset", "cancel", "change", "export", "delete", "upgrade", "share", "rename"]
NOUNS = ["password", "subscription", "invoice", "profile", "workspace"]
OFF_TOPIC = [
    "what is the weather in paris",
    "tell me a joke about penguins",
    "who won the football match yesterday",
    "recommend a good pizza recipe",
    "how tall is mount everest",
    "translate hello into klingon",
    "best hiking trails near denver",
    "what time is it in tokyo",
]


def synthetic_kb() -> tuple[list[dict], list[dict]]:
    faqs, queries = [], []
    for v in VERBS:
        for n in NOUNS:
            faqs.append(
                {
                    "id": f"{v}-{n}",
                    "question": f"How do I {v} my {n}?",
                    "answer": f"Open settings, pick your {n} and choose {v.title()}.",
                }
            )
            queries.append({"query": f"{v} {n}", "gold": [f"{v}-{n}"]})
            queries.append({"query": f"i need to {v} the {n} please", "gold": [f"{v}-{n}"]})
    # Ambiguous one-word queries: the gold is one of several equally good matches, so
    # some top-1 answers are wrong and the calibrator sees both outcomes.
    for n in NOUNS:
        queries.append({"query": n, "gold": [f"{VERBS[0]}-{n}"]})
    queries += [{"query": q, "gold": []} for q in OFF_TOPIC]
    return faqs, queries


def write_dataset(folder, faqs, queries) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "faqs.jsonl").write_text("".join(json.dumps(f) + "\n" for f in faqs))
    (folder / "queries.dev.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries))


def labelled_set(tmp_path) -> evaluation.LabelledSet:
    faqs, queries = synthetic_kb()
    write_dataset(tmp_path / "kb", faqs, queries)
    docs = evaluation.load_faqs(tmp_path / "kb" / "faqs.jsonl")
    searcher = evaluation.build_searcher(docs, get_embedder(), model=RetrievalModel())
    return evaluation.LabelledSet(
        "kb", searcher, evaluation.load_queries(tmp_path / "kb" / "queries.dev.jsonl")
    )


def test_listwise_fusion_learns_which_feature_finds_the_gold() -> None:
    rng = np.random.default_rng(0)
    informative = CANDIDATE_FEATURES.index("bm25_norm")
    matrices, labels = [], []
    for _ in range(60):
        m = rng.normal(size=(12, len(CANDIDATE_FEATURES)))
        gold = int(rng.integers(12))
        m[gold, informative] += 3.0  # only this feature singles out the gold candidate
        matrices.append(m)
        labels.append(np.arange(12) == gold)
    fusion = LearnedFusion.fit(matrices, labels)
    weights = fusion.weights
    assert weights["bm25_norm"] > 0
    assert weights["bm25_norm"] == max(weights.values(), key=abs)
    # It ranks fresh queries from the same distribution correctly most of the time.
    right = 0
    for _ in range(50):
        m = rng.normal(size=(12, len(CANDIDATE_FEATURES)))
        gold = int(rng.integers(12))
        m[gold, informative] += 3.0
        right += int(np.argmax(fusion.score(m)) == gold)
    assert right >= 40


def test_a_script_group_with_few_queries_shares_the_pooled_fusion() -> None:
    rng = np.random.default_rng(1)
    n = len(CANDIDATE_FEATURES)
    matrices = [rng.normal(size=(5, n)) for _ in range(40)]
    labels = [np.arange(5) == 0 for _ in range(40)]
    groups = ["other"] * 37 + ["cjk"] * 3
    fusion = evaluation.fit_fusion(matrices, labels, groups)
    assert set(fusion) == {"cjk", "other"}
    pooled = LearnedFusion.fit(matrices, labels)
    assert fusion["cjk"].weights == pytest.approx(pooled.weights)
    assert fusion["other"].weights != pytest.approx(pooled.weights)


def test_folds_are_stable_and_balanced() -> None:
    queries = [evaluation.Query(f"question number {i}", ()) for i in range(1000)]
    folds = [evaluation.fold_of(q, 5) for q in queries]
    assert folds == [evaluation.fold_of(q, 5) for q in queries]
    counts = np.bincount(folds, minlength=5)
    assert counts.min() > 150  # ~200 each


def test_fit_retrieval_model_cross_fits_and_gives_usable_confidences(tmp_path) -> None:
    labelled = labelled_set(tmp_path)
    scored_per_fold: list[int] = []
    real_run = evaluation.run_queries

    def counting_run(searcher, queries, mode, key=lambda doc: doc.id):
        if mode == "hybrid":
            scored_per_fold.append(len(queries))
        return real_run(searcher, queries, mode, key)

    evaluation.run_queries = counting_run
    try:
        model = evaluation.fit_retrieval_model([labelled], "hashing:test", folds=5)
    finally:
        evaluation.run_queries = real_run
    # Cross-fitting: five hybrid passes whose held-out folds cover every query once.
    assert len(scored_per_fold) == 5
    assert sum(scored_per_fold) == len(labelled.queries)
    assert set(model.fusion) == {"cjk", "other"}
    assert {"hybrid", "bm25", "dense", "hybrid:other"} <= set(model.calibrators)
    assert labelled.searcher.model is model

    exact = labelled.searcher.search("how do i export my invoice")
    off_topic = labelled.searcher.search("what is the capital of australia")
    assert exact.hits[0].doc.id == "export-invoice"
    assert 0.0 <= off_topic.confidence < exact.confidence <= 1.0
    assert exact.confidence > 0.5 > off_topic.confidence


def test_calibrate_command_writes_a_model_that_loads(tmp_path) -> None:
    faqs, queries = synthetic_kb()
    write_dataset(tmp_path / "kb", faqs, queries)
    out = tmp_path / "model.json"
    stdout = StringIO()
    call_command("calibrate", "--dataset", str(tmp_path / "kb"), "--out", str(out), stdout=stdout)
    assert "5-fold cross-fitted" in stdout.getvalue()
    model = RetrievalModel.load(out)
    assert model.embedder == get_embedder().name
    assert model.fitted_on == "kb/queries.dev.jsonl"
    assert set(model.fusion) == {"cjk", "other"}
    assert "hybrid" in model.calibrators


def test_calibrate_command_rejects_a_folder_without_dev_queries(tmp_path) -> None:
    (tmp_path / "kb").mkdir()
    (tmp_path / "kb" / "faqs.jsonl").write_text('{"id": "a", "question": "q", "answer": "a"}\n')
    with pytest.raises(CommandError, match="queries.dev.jsonl is missing"):
        call_command("calibrate", "--dataset", str(tmp_path / "kb"), "--out", str(tmp_path / "m"))


def test_shipped_model_matches_the_default_embedder_and_the_feature_lists() -> None:
    """The fitted model ships in the repo; if a feature is added to the fusion or the
    calibrator without re-running `calibrate`, or the default embedder changes, the chat
    would silently run on stale weights or the RRF fallback."""
    from pathlib import Path

    from faq_ingest.retrieval.calibration import FEATURES
    from faq_ingest.retrieval.embedders import default_minilm_path

    model = RetrievalModel.load()
    assert model.embedder == f"sentence-transformers:{Path(default_minilm_path()).name}"
    assert set(model.fusion) == {"cjk", "other"}
    for fusion in model.fusion.values():
        assert set(fusion.weights) == set(CANDIDATE_FEATURES)
    for name in ("hybrid", "hybrid:cjk", "hybrid:other", "bm25", "dense"):
        assert set(model.calibrators[name].weights) == set(FEATURES), name


def test_calibrate_command_rejects_gold_ids_that_name_no_faq(tmp_path) -> None:
    faqs, queries = synthetic_kb()
    write_dataset(tmp_path / "kb", faqs, [*queries, {"query": "x", "gold": ["nope"]}])
    with pytest.raises(CommandError, match="not in the knowledge base"):
        call_command("calibrate", "--dataset", str(tmp_path / "kb"), "--out", str(tmp_path / "m"))
    assert not (tmp_path / "m").exists()

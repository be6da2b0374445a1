"""The optional entailment (NLI) model for the sentence verifier: loaded from a local
folder, its 'entailment' label found from the config, used instead of the lexical and
similarity test, and refused with a clear error when the model has no such label."""

from __future__ import annotations

import json
import shutil

import pytest

from chatbot.answering import entailment, pipeline
from chatbot.answering.verify import Verifier
from faq_ingest.retrieval.embedders import get_embedder
from faq_ingest.retrieval.searcher import IndexDoc
from tests.test_answer_pipeline import Scripted

REF = IndexDoc("1", "How long do I have to return an item?", "Within 30 days of delivery.")


class Stub:
    """An entailment model that says yes to one hypothesis only."""

    name = "stub"

    def __init__(self, entailed: str) -> None:
        self.entailed = entailed
        self.pairs: list[tuple[str, str]] = []

    def entailment(self, pairs):
        self.pairs += list(pairs)
        return [0.97 if h == self.entailed else 0.02 for _p, h in pairs]


def test_with_an_entailment_model_its_verdict_decides_meaning():
    yes = "You can return it within 30 days of delivery."
    stub = Stub(entailed=yes)
    v = Verifier("return window", [REF], embedder=get_embedder("hashing"), entailment=stub)
    verdict = v.check(yes + " [1]")
    assert verdict.supported and verdict.scores["entailment"] == pytest.approx(0.97)
    assert stub.pairs[0] == (
        "How long do I have to return an item? Within 30 days of delivery.",
        yes,
    )
    # Shares the words, but the model says the reference does not entail it.
    no = v.check("You can return it after 30 days of delivery. [1]")
    assert not no.supported and any("does not entail" in r for r in no.reasons)
    # The hard checks still apply to what the model entails.
    stub.entailed = "You can return it within 60 days of delivery."
    assert not v.check(stub.entailed).supported


@pytest.mark.django_db
def test_the_pipeline_uses_the_configured_model(monkeypatch, settings, tiny_kb):
    settings.ANSWER_CONFIDENCE_THRESHOLD = 0.0
    sentence = "You may send back unworn items within 30 days."
    monkeypatch.setattr(pipeline, "get_generator", lambda: Scripted([sentence]))
    without = pipeline.answer_question("How long do I have to return an item?")
    assert without.outcome == "fallback"  # too few of its words are in the FAQ
    stub = Stub(entailed=sentence)
    monkeypatch.setattr(pipeline, "get_entailment_model", lambda: stub)
    answer = pipeline.answer_question("How long do I have to return an item?")
    assert answer.outcome == "draft" and answer.answer == sentence
    assert answer.verdicts[0]["scores"]["entailment"] == pytest.approx(0.97)


def test_no_model_configured_means_none(settings):
    settings.NLI_MODEL = ""
    assert entailment.get_entailment_model() is None


def _minilm_folder(tmp_path, labels: dict | None):
    from faq_ingest.retrieval.embedders import default_minilm_path

    folder = tmp_path / "nli"
    shutil.copytree(default_minilm_path(), folder)
    config = json.loads((folder / "config.json").read_text())
    config["architectures"] = ["BertForSequenceClassification"]
    if labels is not None:
        config["id2label"] = {str(k): v for k, v in labels.items()}
        config["label2id"] = {v: k for k, v in labels.items()}
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_cross_encoder_with_an_entailment_label_loads_from_a_local_folder(tmp_path):
    """No NLI model ships offline: this builds one from the bundled MiniLM folder with a
    fresh 3-way head, which proves the loading and scoring path, not its judgement."""
    folder = _minilm_folder(tmp_path, {0: "contradiction", 1: "entailment", 2: "neutral"})
    model = entailment.EntailmentModel(str(folder), device="cpu")
    assert model.entailment_label == 1
    probs = model.entailment([("Within 30 days.", "Thirty days."), ("a", "b")])
    assert len(probs) == 2 and all(0.0 <= p <= 1.0 for p in probs)
    v = Verifier("return window", [REF], embedder=get_embedder("hashing"), entailment=model)
    assert "entailment" in v.check("Within 30 days of delivery. [1]").scores


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_model_without_an_entailment_label_is_refused(tmp_path):
    folder = _minilm_folder(tmp_path, {0: "LABEL_0", 1: "LABEL_1"})
    with pytest.raises(ValueError, match="not an entailment model"):
        entailment.EntailmentModel(str(folder), device="cpu")

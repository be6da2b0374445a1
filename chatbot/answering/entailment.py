"""Optional entailment (NLI) cross-encoder for the sentence verifier.

Off unless CHATBOT_NLI_MODEL names a cross-encoder trained for natural language inference
(a Hugging Face id or a local folder) whose labels include "entailment". When configured,
"does the reference entail this sentence?" replaces the lexical-plus-similarity test; the
hard checks on numbers, links, names and negation still apply. torch loads only here, in
the process that answers.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np


class EntailmentModel:
    def __init__(self, model: str, device: str = "cpu") -> None:
        if Path(model).exists():
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import CrossEncoder

        self._model = CrossEncoder(model, device=device)
        labels = {
            int(i): str(name).lower()
            for i, name in (self._model.model.config.id2label or {}).items()
        }
        entail = [i for i, name in labels.items() if name.startswith("entail")]
        if not entail:
            raise ValueError(
                f"CHATBOT_NLI_MODEL {model!r} is not an entailment model: its labels are "
                f"{sorted(labels.values())}, none of them 'entailment'"
            )
        self.entailment_label = entail[0]
        self.name = f"nli:{Path(model).name if Path(model).exists() else model}"
        self._lock = threading.Lock()

    def entailment(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        """P(premise entails hypothesis) for each (premise, hypothesis) pair."""
        if not pairs:
            return []
        with self._lock:
            logits = np.asarray(
                self._model.predict(list(pairs), convert_to_numpy=True, show_progress_bar=False),
                dtype=np.float64,
            )
        logits = logits.reshape(len(pairs), -1)
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        return [float(p) for p in probs[:, self.entailment_label]]


@functools.lru_cache(maxsize=2)
def _load(model: str) -> EntailmentModel:
    from faq_ingest.retrieval.embedders import pick_device

    return EntailmentModel(model, device=pick_device("auto"))


def get_entailment_model() -> EntailmentModel | None:
    """The configured NLI model, loaded once per process; None when none is configured."""
    from django.conf import settings

    if not settings.NLI_MODEL:
        return None
    return _load(settings.NLI_MODEL)

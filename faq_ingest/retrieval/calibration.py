"""The fitted retrieval model: fusion weights and per-mode confidence calibrators.

The confidence is a logistic model over scale-free features of the top hit (fused score,
margin over the runner-up, dense similarity, lexical coverage, agreement of retrievers),
fitted on labelled development splits by `manage.py calibrate`, so that a threshold of
0.5 means "more likely right than wrong" rather than an arbitrary similarity cut-off.
Both parts depend on the embedder they were fitted with; with another embedder the
fallbacks (RRF and a prior) are used until `calibrate` is run again.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from faq_ingest.retrieval.fusion import LearnedFusion

FEATURES = (
    "logit_p",
    "p_margin",
    "dense_top",
    "dense_q_top",
    "dense_margin",
    "idf_coverage",
    "idf_q_coverage",
    "oov_share",
    "agree",
    "q_coverage",
    "coverage",
    "qlen",
    "bm25_share",
    "bm25_top_log",
    "cjk",
)
DEFAULT_PATH = Path(__file__).with_name("retrieval_model.json")


@dataclass
class Calibrator:
    weights: dict[str, float]
    bias: float

    def confidence(self, features: dict[str, float]) -> float:
        z = self.bias + sum(w * features.get(name, 0.0) for name, w in self.weights.items())
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        ez = math.exp(z)
        return ez / (1.0 + ez)

    @classmethod
    def prior(cls) -> Calibrator:
        # Used only until a fitted model exists: mostly dense similarity and coverage.
        return cls({"dense_top": 9.0, "dense_margin": 4.0, "coverage": 2.0, "agree": 1.0}, -6.5)

    @classmethod
    def fit(cls, feature_rows: Sequence[dict[str, float]], labels: Sequence[bool]) -> Calibrator:
        """Logistic regression of `top-1 is correct` on the top-hit features."""
        import numpy as np
        from sklearn.linear_model import LogisticRegression

        x = np.array([[row.get(f, 0.0) for f in FEATURES] for row in feature_rows])
        y = np.array(labels, dtype=int)
        if len(set(y.tolist())) < 2:
            raise ValueError("calibration needs both correct and incorrect examples")
        model = LogisticRegression(C=1.0, max_iter=5000)
        model.fit(x, y)
        return cls(
            {f: float(w) for f, w in zip(FEATURES, model.coef_[0], strict=True)},
            float(model.intercept_[0]),
        )


@dataclass
class RetrievalModel:
    embedder: str = ""
    # One fusion per query script ("cjk", "other"): the embedder's quality, and so the
    # right balance of the retrievers, depends on the language.
    fusion: dict[str, LearnedFusion] = field(default_factory=dict)
    calibrators: dict[str, Calibrator] = field(default_factory=dict)
    fitted_on: str = ""

    def fusion_for(self, cjk: bool) -> LearnedFusion | None:
        return self.fusion.get("cjk" if cjk else "other")

    def calibrator(self, mode: str, cjk: bool = False) -> Calibrator:
        """Calibrators are fitted per mode and query script ("hybrid:cjk"), falling back
        to the mode's pooled one, then to the prior."""
        group = "cjk" if cjk else "other"
        return (
            self.calibrators.get(f"{mode}:{group}")
            or self.calibrators.get(mode)
            or Calibrator.prior()
        )

    def for_embedder(self, embedder_name: str) -> RetrievalModel:
        """This model if it was fitted with `embedder_name`, else the unfitted fallback."""
        if self.embedder and embedder_name and self.embedder != embedder_name:
            return RetrievalModel()
        return self

    def save(self, path: Path = DEFAULT_PATH) -> None:
        data = {
            "embedder": self.embedder,
            "fitted_on": self.fitted_on,
            "fusion": {group: f.to_json() for group, f in self.fusion.items()},
            "calibrators": {
                m: {"weights": c.weights, "bias": c.bias} for m, c in self.calibrators.items()
            },
        }
        Path(path).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: Path = DEFAULT_PATH) -> RetrievalModel:
        if not Path(path).exists():
            return cls()
        data = json.loads(Path(path).read_text())
        return cls(
            embedder=data.get("embedder", ""),
            fusion={
                group: LearnedFusion.from_json(f) for group, f in (data.get("fusion") or {}).items()
            },
            calibrators={
                m: Calibrator({k: float(v) for k, v in c["weights"].items()}, float(c["bias"]))
                for m, c in (data.get("calibrators") or {}).items()
            },
            fitted_on=data.get("fitted_on", ""),
        )

"""Turns retrieval features into a calibrated probability that the top FAQ answers.

A logistic model over a handful of scale-free features (dense similarity and margin,
lexical coverage, agreement of the two retrievers). Its coefficients are fitted on the
labelled development splits by `manage.py calibrate` and shipped as JSON, so a threshold
of 0.5 means "more likely right than wrong" rather than an arbitrary similarity cut.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

FEATURES = ("dense_top", "dense_margin", "bm25_share", "coverage", "agree", "n_query_tokens")
DEFAULT_PATH = Path(__file__).with_name("calibration.json")


@dataclass
class Calibrator:
    weights: dict[str, float]
    bias: float
    fitted_on: str = "hand-set prior"

    @classmethod
    def default(cls) -> Calibrator:
        if DEFAULT_PATH.exists():
            return cls.load(DEFAULT_PATH)
        # A prior used only until a fitted file exists: mostly dense similarity.
        return cls({"dense_top": 9.0, "dense_margin": 4.0, "coverage": 2.0, "agree": 1.0},
                   -6.5)

    @classmethod
    def load(cls, path: Path) -> Calibrator:
        data = json.loads(Path(path).read_text())
        return cls({k: float(v) for k, v in data["weights"].items()}, float(data["bias"]),
                   data.get("fitted_on", str(path)))

    def save(self, path: Path = DEFAULT_PATH) -> None:
        Path(path).write_text(json.dumps(
            {"weights": self.weights, "bias": self.bias, "fitted_on": self.fitted_on},
            indent=2, sort_keys=True) + "\n")

    def confidence(self, features: dict[str, float]) -> float:
        z = self.bias + sum(w * features.get(name, 0.0) for name, w in self.weights.items())
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        ez = math.exp(z)
        return ez / (1.0 + ez)

    @classmethod
    def fit(cls, feature_rows: Sequence[dict[str, float]], labels: Sequence[bool],
            fitted_on: str = "") -> Calibrator:
        """Logistic regression of `top-1 is correct` on the features."""
        import numpy as np
        from sklearn.linear_model import LogisticRegression

        x = np.array([[row.get(f, 0.0) for f in FEATURES] for row in feature_rows])
        y = np.array(labels, dtype=int)
        if len(set(y.tolist())) < 2:
            raise ValueError("calibration needs both correct and incorrect examples")
        model = LogisticRegression(C=1.0, max_iter=2000)
        model.fit(x, y)
        weights = {f: float(w) for f, w in zip(FEATURES, model.coef_[0], strict=True)}
        return cls(weights, float(model.intercept_[0]), fitted_on)

"""How well fusion and confidence generalise: cross-validation and leave-one-set-out.

Run:  .venv/bin/python bench/retrieval_cv.py            (about 5 minutes on 2 CPU cores)
      .venv/bin/python bench/retrieval_cv.py --json

The shipped model is fitted on the `queries.dev.jsonl` splits and `manage.py evaluate`
reports the held-out `queries.test.jsonl` splits, but those splits are small (66-139
queries): one query moves hit@1 by 1-2 points and ECE alone varies by several hundredths.
This bench re-fits the whole retrieval model (fusion + cross-fitted calibrators, exactly
`evaluation.fit_retrieval_model`, as `manage.py calibrate` does) and scores every query
out of sample, two ways:

- `cv`: k-fold over all queries of all sets; each fold is scored by a model fitted on
  the other folds (of every set).
- `lodo`: leave one dataset out; each set is scored by a model fitted only on the
  other sets, the closest we get to "a help centre it has never seen".

For each score it also prints the ECE noise floor: the ECE a perfectly calibrated system
with the same confidences would show on that many queries.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatbot.settings")

DATASETS = ("demo", "software_faq_en", "debian_faq_zh")
MODES = ("hybrid", "bm25", "dense")
SWEEP = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


class CachingEmbedder:
    """Every query is embedded once, however many folds score it."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name
        self.cache: dict[str, object] = {}

    def encode(self, texts, *, batch_size: int = 64):
        import numpy as np

        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            for text, vector in zip(
                missing, self.inner.encode(missing, batch_size=batch_size), strict=True
            ):
                self.cache[text] = vector
        return np.stack([self.cache[t] for t in texts])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--threshold", type=float, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings

    from faq_ingest import evaluation, evaluation_metrics
    from faq_ingest.retrieval.calibration import RetrievalModel
    from faq_ingest.retrieval.embedders import get_embedder

    threshold = settings.ANSWER_CONFIDENCE_THRESHOLD if args.threshold is None else args.threshold
    started = time.perf_counter()
    embedder = CachingEmbedder(get_embedder())
    sets = []
    for name in args.datasets:
        folder = ROOT / "bench" / "datasets" / name
        docs = evaluation.load_faqs(folder / "faqs.jsonl")
        # dev + test: every labelled query, with gold FAQ ids in every set.
        queries = evaluation.load_queries(folder / "queries.dev.jsonl") + evaluation.load_queries(
            folder / "queries.test.jsonl"
        )
        searcher = evaluation.build_searcher(docs, embedder, model=RetrievalModel())
        embedder.encode([q.text for q in queries])
        sets.append(evaluation.LabelledSet(name, searcher, queries))

    def score(train: list, test: dict[str, list]) -> dict[str, dict[str, list]]:
        model = evaluation.fit_retrieval_model(train, embedder.name, folds=args.folds)
        out: dict[str, dict[str, list]] = {}
        for labelled in sets:
            if not test.get(labelled.name):
                continue
            labelled.searcher.model = model
            out[labelled.name] = {
                mode: evaluation.run_queries(labelled.searcher, test[labelled.name], mode)
                for mode in MODES
            }
        return out

    rows: dict[str, dict[str, dict[str, list]]] = {"cv": {}, "lodo": {}}
    for fold in range(args.folds):
        train = [
            evaluation.LabelledSet(
                s.name,
                s.searcher,
                [q for q in s.queries if evaluation.fold_of(q, args.folds) != fold],
            )
            for s in sets
        ]
        test = {
            s.name: [q for q in s.queries if evaluation.fold_of(q, args.folds) == fold]
            for s in sets
        }
        for name, by_mode in score(train, test).items():
            for mode, r in by_mode.items():
                rows["cv"].setdefault(name, {}).setdefault(mode, []).extend(r)
    if len(sets) > 1:
        for held in sets:
            train = [s for s in sets if s.name != held.name]
            rows["lodo"].update(score(train, {held.name: held.queries}))

    results: dict = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}",
        "threshold": threshold,
        "folds": args.folds,
        "seconds": round(time.perf_counter() - started, 1),
        "schemes": {},
    }
    for scheme, by_set in rows.items():
        for name, by_mode in by_set.items():
            entry = {
                mode: evaluation_metrics.summarise(r, threshold) for mode, r in by_mode.items()
            }
            entry["hybrid"]["ece_noise_floor"] = evaluation_metrics.ece_noise_floor(
                [r["confidence"] for r in by_mode["hybrid"]]
            )
            # Is the threshold the limit on abstention F1, or separability?
            entry["hybrid"]["abstain_f1_by_threshold"] = {
                f"{t:.2f}": evaluation_metrics.summarise(by_mode["hybrid"], t)["abstain_f1"]
                for t in SWEEP
            }
            results["schemes"].setdefault(scheme, {})[name] = entry

    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(
        f"{results['machine']}; threshold {threshold}; {args.folds} folds; {results['seconds']} s"
    )
    header = (
        "scheme  dataset           n    hit@1 hybrid/bm25/dense   Δ vs better  "
        "abstain F1  AUPRC   ECE   (noise floor)"
    )
    print(header)
    for scheme, by_set in results["schemes"].items():
        for name, entry in by_set.items():
            h, b, d = (entry[m]["hit@1"] for m in MODES)
            n = entry["hybrid"]["n_answerable"] + entry["hybrid"]["n_unanswerable"]
            print(
                f"{scheme:7s} {name:16s} {n:4d}    {h:.3f} / {b:.3f} / {d:.3f}"
                f"     {100 * (h - max(b, d)):+5.1f}       {entry['hybrid']['abstain_f1']:.2f}"
                f"      {entry['hybrid']['abstain_auprc']:.2f}   {entry['hybrid']['ece']:.3f}"
                f" ({entry['hybrid']['ece_noise_floor']:.3f})"
            )
    print("abstain F1 of hybrid by threshold " + " ".join(f"{t:.2f}" for t in SWEEP))
    for scheme, by_set in results["schemes"].items():
        for name, entry in by_set.items():
            sweep = entry["hybrid"]["abstain_f1_by_threshold"].values()
            print(f"{scheme:7s} {name:16s} " + "  ".join(f"{f:.2f}" for f in sweep))


if __name__ == "__main__":
    main()

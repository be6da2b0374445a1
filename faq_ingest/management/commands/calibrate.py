from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from faq_ingest import evaluation
from faq_ingest.retrieval.calibration import DEFAULT_PATH, RetrievalModel
from faq_ingest.retrieval.embedders import get_embedder


class Command(BaseCommand):
    help = (
        "Fit the fusion weights and confidence calibrators on the development splits "
        "of labelled datasets (folders with faqs.jsonl and queries.dev.jsonl)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dataset", action="append", type=Path, required=True)
        parser.add_argument("--out", type=Path, default=DEFAULT_PATH)

    def handle(self, *args, dataset: list[Path], out: Path, **opts) -> None:
        embedder = get_embedder()
        searchers = []
        try:
            for folder in dataset:
                dev = folder / "queries.dev.jsonl"
                if not dev.exists():
                    raise CommandError(f"{dev} is missing")
                docs = evaluation.load_faqs(folder / "faqs.jsonl")
                searcher = evaluation.build_searcher(docs, embedder, model=RetrievalModel())
                searchers.append((folder.name, searcher, evaluation.load_queries(dev)))
        except (OSError, evaluation.DatasetError) as exc:
            raise CommandError(str(exc)) from None

        matrices, labels, groups = [], [], []
        for _name, searcher, queries in searchers:
            m, y, g = evaluation.fusion_training_rows(searcher, queries)
            matrices += m
            labels += y
            groups += g
        fusion = evaluation.fit_fusion(matrices, labels, groups)
        model = RetrievalModel(
            embedder=embedder.name,
            fusion=fusion,
            fitted_on=", ".join(f"{n}/queries.dev.jsonl" for n, _s, _q in searchers),
        )
        for mode in ("hybrid", "bm25", "dense"):
            rows = []
            for _name, searcher, queries in searchers:
                searcher.model = model
                rows += evaluation.run_queries(searcher, queries, mode)
            model.calibrators.update(evaluation.fit_calibrators(mode, rows))
        model.save(out)
        self.stdout.write(
            f"wrote {out}: fusion over {sum(len(y) for y in labels)} candidates "
            f"from {len(labels)} queries; calibrators for hybrid, bm25, dense"
        )

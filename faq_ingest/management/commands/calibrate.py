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
        parser.add_argument(
            "--folds",
            type=int,
            default=5,
            help="cross-fitting folds for the hybrid calibrator (1: fit in-sample)",
        )

    def handle(self, *args, dataset: list[Path], out: Path, folds: int, **opts) -> None:
        embedder = get_embedder()
        searchers = []
        try:
            for folder in dataset:
                dev = folder / "queries.dev.jsonl"
                if not dev.exists():
                    raise CommandError(f"{dev} is missing")
                docs = evaluation.load_faqs(folder / "faqs.jsonl")
                labelled = evaluation.load_queries(dev)
                evaluation.check_gold(labelled, docs, lambda doc: doc.id, dev)
                searcher = evaluation.build_searcher(docs, embedder, model=RetrievalModel())
                searchers.append((folder.name, searcher, labelled))
        except (OSError, evaluation.DatasetError) as exc:
            raise CommandError(str(exc)) from None

        try:
            model = evaluation.fit_retrieval_model(
                [evaluation.LabelledSet(n, s, q) for n, s, q in searchers],
                embedder.name,
                folds=folds,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        model.fitted_on = ", ".join(f"{n}/queries.dev.jsonl" for n, _s, _q in searchers)
        model.save(out)
        self.stdout.write(
            f"wrote {out}: fusion for {', '.join(sorted(model.fusion))} queries, "
            f"calibrators {', '.join(sorted(model.calibrators))} "
            f"({folds}-fold cross-fitted), from {sum(len(q) for _n, _s, q in searchers)} "
            "development queries"
        )

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from faq_ingest import evaluation
from faq_ingest.evaluation_metrics import SUMMARY_KEYS
from faq_ingest.retrieval.embedders import get_embedder

# The table shows the quality and latency metrics; --json prints every key.
COLUMNS = tuple(k for k in SUMMARY_KEYS if not k.startswith("n_") and "no_embed" not in k)


class Command(BaseCommand):
    help = "Measure retrieval on labelled queries against BM25-only and dense-only baselines."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--queries", required=True, type=Path)
        parser.add_argument(
            "--faqs",
            type=Path,
            default=None,
            help="evaluate a throwaway index of this JSONL instead of the live KB",
        )
        parser.add_argument("--json", action="store_true")
        parser.add_argument("--threshold", type=float, default=None)

    def handle(
        self, *args, queries: Path, faqs: Path | None, json: bool, threshold: float | None, **opts
    ) -> None:
        threshold = settings.ANSWER_CONFIDENCE_THRESHOLD if threshold is None else threshold
        try:
            query_set = evaluation.load_queries(queries)
            if faqs is not None:
                docs = evaluation.load_faqs(faqs)
                key = _by_id
                # Before embedding every FAQ: a bad label should fail in a second, not minutes.
                evaluation.check_gold(query_set, docs, key, queries)
                searcher = evaluation.build_searcher(docs, get_embedder(), reranker=_reranker())
            else:
                from faq_ingest.index import live_index

                searcher = live_index.get()
                if searcher is None:
                    raise CommandError("the live knowledge base has no index yet; crawl first")
                key = _by_question
                evaluation.check_gold(query_set, searcher.docs, key, queries)
        except (OSError, evaluation.DatasetError) as exc:
            raise CommandError(str(exc)) from None
        systems = ["hybrid", "bm25", "dense"]
        if searcher.reranker is not None:
            systems.append("reranked")
        systems.append("production")
        results = evaluation.evaluate(searcher, query_set, threshold, systems, key)
        if json:
            self.stdout.write(_dumps(results))
            return
        self.stdout.write(
            f"{len(query_set)} queries, {len(searcher)} FAQs, threshold {threshold:.2f}"
        )
        self.stdout.write(f"{'system':<11}" + "".join(f"{c:>18}" for c in COLUMNS))
        for system, metrics in results.items():
            self.stdout.write(f"{system:<11}" + "".join(f"{metrics[c]:>18.3f}" for c in COLUMNS))


def _by_id(doc) -> str:
    return doc.id


def _by_question(doc) -> str:
    return doc.question


def _reranker():
    if not settings.RERANKER_MODEL:
        return None
    from faq_ingest.retrieval.rerankers import get_reranker

    return get_reranker(settings.RERANKER_MODEL)


def _dumps(data) -> str:
    return json.dumps(data, indent=2, sort_keys=True)

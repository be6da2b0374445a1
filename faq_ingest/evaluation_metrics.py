"""Pure metric functions for evaluating FAQ retrieval and abstention.

Everything here is a plain function of lists of ids, booleans and floats so the
evaluation command, notebooks and tests can share one definition of each number.
Degenerate inputs (no answerable queries, no positives, empty lists) yield 0.0
instead of NaN so a metrics table never silently contains NaN.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np

SUMMARY_KEYS: tuple[str, ...] = (
    "hit@1",
    "hit@3",
    "mrr@10",
    "ndcg@10",
    "abstain_precision",
    "abstain_recall",
    "abstain_f1",
    "abstain_auprc",
    "ece",
    "p50_ms",
    "p95_ms",
    "p50_ms_no_embed",
    "p95_ms_no_embed",
    "n_answerable",
    "n_unanswerable",
)


def _first_gold_rank(ranked_ids: Sequence[str], gold: Collection[str], k: int) -> int | None:
    """1-based rank of the first gold id within the top k, or None."""
    for rank, faq_id in enumerate(ranked_ids[: max(k, 0)], start=1):
        if faq_id in gold:
            return rank
    return None


def hit_at_k(ranked_ids: Sequence[str], gold: Collection[str], k: int) -> float:
    """1.0 if any gold id appears in the top k results, else 0.0."""
    return 0.0 if _first_gold_rank(ranked_ids, gold, k) is None else 1.0


def reciprocal_rank(ranked_ids: Sequence[str], gold: Collection[str], k: int = 10) -> float:
    """1/rank of the first gold id within the top k (0.0 if none is there)."""
    rank = _first_gold_rank(ranked_ids, gold, k)
    return 0.0 if rank is None else 1.0 / rank


def ndcg_at_k(ranked_ids: Sequence[str], gold: Collection[str], k: int = 10) -> float:
    """Binary-relevance nDCG@k.

    A gold id repeated in the ranking only earns gain once, otherwise a system
    could exceed the ideal DCG by returning duplicates.
    """
    gold_set = set(gold)
    if not gold_set or k <= 0:
        return 0.0
    seen: set[str] = set()
    dcg = 0.0
    for position, faq_id in enumerate(ranked_ids[:k]):
        if faq_id in gold_set and faq_id not in seen:
            seen.add(faq_id)
            dcg += 1.0 / np.log2(position + 2)
    ideal_hits = min(len(gold_set), k)
    idcg = float(np.sum(1.0 / np.log2(np.arange(ideal_hits) + 2)))
    return float(dcg / idcg)


def _safe_div(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator else 0.0


def abstention_scores(
    confidences: Sequence[float],
    answerable: Sequence[bool],
    correct_top1: Sequence[bool],
    threshold: float,
) -> dict[str, float]:
    """Precision/recall/F1 of the abstain decision (confidence < threshold).

    The positive class is "the system should abstain": the query has no answer in
    the FAQ set, or the top-1 FAQ is wrong (answering with a wrong FAQ is as bad
    for a customer as answering an out-of-scope question).
    """
    if not len(confidences) == len(answerable) == len(correct_top1):
        raise ValueError("confidences, answerable and correct_top1 must have equal length")
    conf = np.asarray(confidences, dtype=float)
    should = ~np.asarray(answerable, dtype=bool) | ~np.asarray(correct_top1, dtype=bool)
    abstained = conf < threshold
    true_pos = float(np.sum(abstained & should))
    precision = _safe_div(true_pos, float(np.sum(abstained)))
    recall = _safe_div(true_pos, float(np.sum(should)))
    f1 = _safe_div(2 * precision * recall, precision + recall)
    return {"precision": precision, "recall": recall, "f1": f1}


def abstention_auprc(confidences: Sequence[float], should_abstain: Sequence[bool]) -> float:
    """Average precision of ranking queries by 1 - confidence for "should abstain".

    Threshold-free, so it compares confidence signals before calibration picks a
    threshold. Tied scores form one operating point (same convention as
    scikit-learn's average_precision_score).
    """
    labels = np.asarray(should_abstain, dtype=bool)
    scores = 1.0 - np.asarray(confidences, dtype=float)
    if len(labels) != len(scores):
        raise ValueError("confidences and should_abstain must have equal length")
    n_pos = int(labels.sum())
    if n_pos == 0:
        return 0.0
    order = np.argsort(-scores, kind="mergesort")
    sorted_scores = scores[order]
    sorted_labels = labels[order]
    true_pos = np.cumsum(sorted_labels)
    # Only the last index of each run of tied scores is an operating point.
    last_of_tie = np.r_[sorted_scores[1:] != sorted_scores[:-1], True]
    tp = true_pos[last_of_tie].astype(float)
    predicted = (np.nonzero(last_of_tie)[0] + 1).astype(float)
    precision = tp / predicted
    recall = tp / n_pos
    recall_steps = np.diff(np.r_[0.0, recall])
    return float(np.sum(recall_steps * precision))


def expected_calibration_error(
    confidences: Sequence[float], correct: Sequence[bool], n_bins: int = 10
) -> float:
    """ECE over equal-width confidence bins: sum_b |B|/N * |accuracy(B) - mean_conf(B)|.

    Bins are (lo, hi] except the first, which also holds 0.0, so every value in
    [0, 1] lands in exactly one bin. Values outside [0, 1] are clipped.
    """
    conf = np.clip(np.asarray(confidences, dtype=float), 0.0, 1.0)
    hits = np.asarray(correct, dtype=float)
    if len(conf) != len(hits):
        raise ValueError("confidences and correct must have equal length")
    if len(conf) == 0 or n_bins <= 0:
        return 0.0
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bin_index = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        mask = bin_index == b
        if mask.any():
            ece += mask.mean() * abs(hits[mask].mean() - conf[mask].mean())
    return float(ece)


def ece_noise_floor(
    confidences: Sequence[float], n_bins: int = 10, trials: int = 500, seed: int = 0
) -> float:
    """Mean ECE of a *perfectly calibrated* system with these confidences on this many
    queries: outcomes are drawn as Bernoulli(confidence) and scored like real ones.

    ECE is biased upwards on small sets (each bin's accuracy is a noisy estimate), so
    an ECE of 0.08 on 60 queries can be as good as calibration gets; this says how much
    of a measured ECE sampling noise alone explains.
    """
    conf = np.clip(np.asarray(confidences, dtype=float), 0.0, 1.0)
    if len(conf) == 0 or trials <= 0:
        return 0.0
    rng = np.random.default_rng(seed)
    draws = rng.random((trials, len(conf))) < conf
    return float(np.mean([expected_calibration_error(conf, d, n_bins) for d in draws]))


def percentile_ms(samples_s: Sequence[float], q: float) -> float:
    """q-th percentile (0-100, linear interpolation) of durations in seconds, in ms."""
    if len(samples_s) == 0:
        return 0.0
    return float(np.percentile(np.asarray(samples_s, dtype=float), q) * 1000.0)


def summarise(per_query: list[dict], threshold: float) -> dict[str, float]:
    """Aggregate per-query results into the evaluation table (keys: SUMMARY_KEYS).

    Each dict holds "ranked", "gold", "confidence", "latency_s" and
    "latency_no_embed_s". Ranking metrics average over answerable queries only;
    abstention and calibration use every query.
    """
    answerable_rows = [row for row in per_query if row["gold"]]
    confidences = [float(row["confidence"]) for row in per_query]
    answerable = [bool(row["gold"]) for row in per_query]
    correct_top1 = [
        bool(row["gold"]) and hit_at_k(row["ranked"], row["gold"], 1) == 1.0 for row in per_query
    ]
    should_abstain = [not ok for ok in correct_top1]

    def mean_over_answerable(metric) -> float:
        if not answerable_rows:
            return 0.0
        return float(np.mean([metric(row["ranked"], row["gold"]) for row in answerable_rows]))

    abstain = abstention_scores(confidences, answerable, correct_top1, threshold)
    return {
        "hit@1": mean_over_answerable(lambda r, g: hit_at_k(r, g, 1)),
        "hit@3": mean_over_answerable(lambda r, g: hit_at_k(r, g, 3)),
        "mrr@10": mean_over_answerable(lambda r, g: reciprocal_rank(r, g, 10)),
        "ndcg@10": mean_over_answerable(lambda r, g: ndcg_at_k(r, g, 10)),
        "abstain_precision": abstain["precision"],
        "abstain_recall": abstain["recall"],
        "abstain_f1": abstain["f1"],
        "abstain_auprc": abstention_auprc(confidences, should_abstain),
        "ece": expected_calibration_error(confidences, correct_top1),
        "p50_ms": percentile_ms([row["latency_s"] for row in per_query], 50),
        "p95_ms": percentile_ms([row["latency_s"] for row in per_query], 95),
        "p50_ms_no_embed": percentile_ms([row["latency_no_embed_s"] for row in per_query], 50),
        "p95_ms_no_embed": percentile_ms([row["latency_no_embed_s"] for row in per_query], 95),
        "n_answerable": len(answerable_rows),
        "n_unanswerable": len(per_query) - len(answerable_rows),
    }

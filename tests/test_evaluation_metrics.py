"""Hand-computed checks for faq_ingest.evaluation_metrics."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faq_ingest.evaluation_metrics import (
    SUMMARY_KEYS,
    abstention_auprc,
    abstention_scores,
    expected_calibration_error,
    hit_at_k,
    ndcg_at_k,
    percentile_ms,
    reciprocal_rank,
    summarise,
)

RANKED = ["a", "b", "c", "d"]


@pytest.mark.parametrize(
    ("gold", "k", "expected"),
    [
        ({"a"}, 1, 1.0),
        ({"b"}, 1, 0.0),
        ({"b"}, 2, 1.0),
        ({"z"}, 10, 0.0),
        (set(), 3, 0.0),
        ({"d"}, 100, 1.0),  # k larger than the list
        ({"a"}, 0, 0.0),
    ],
)
def test_hit_at_k(gold, k, expected):
    assert hit_at_k(RANKED, gold, k) == expected


def test_reciprocal_rank_uses_first_gold_hit():
    assert reciprocal_rank(RANKED, {"c", "d"}) == pytest.approx(1 / 3)
    assert reciprocal_rank(RANKED, {"a"}) == 1.0
    assert reciprocal_rank(RANKED, {"d"}, k=3) == 0.0
    assert reciprocal_rank(RANKED, set()) == 0.0
    assert reciprocal_rank([], {"a"}) == 0.0


def test_ndcg_single_gold_at_rank_two():
    # DCG = 1/log2(3); IDCG = 1.
    assert ndcg_at_k(RANKED, {"b"}) == pytest.approx(1 / math.log2(3))


def test_ndcg_two_gold_hand_computed():
    # Gold at ranks 1 and 3: DCG = 1 + 1/log2(4) = 1.5; IDCG = 1 + 1/log2(3).
    expected = 1.5 / (1 + 1 / math.log2(3))
    assert ndcg_at_k(RANKED, {"a", "c"}) == pytest.approx(expected)


def test_ndcg_perfect_and_empty():
    assert ndcg_at_k(RANKED, {"a", "b"}) == pytest.approx(1.0)
    assert ndcg_at_k(RANKED, set()) == 0.0
    assert ndcg_at_k(RANKED, {"z"}) == 0.0
    assert ndcg_at_k(RANKED, {"d"}, k=2) == 0.0


def test_ndcg_duplicates_do_not_exceed_one():
    assert ndcg_at_k(["a", "a", "a"], {"a"}) == pytest.approx(1.0)


def test_ndcg_idcg_capped_at_k():
    # Three gold ids but k=2: the ideal list holds only two of them.
    assert ndcg_at_k(["a", "b"], {"a", "b", "c"}, k=2) == pytest.approx(1.0)


def test_abstention_scores_hand_computed():
    # should abstain:   unanswerable, wrong top1, correct, correct
    confidences = [0.1, 0.6, 0.2, 0.9]
    answerable = [False, True, True, True]
    correct = [False, False, True, True]
    # threshold 0.5 -> abstains on queries 0 and 2: TP=1 (query 0), FP=1 (query 2), FN=1.
    scores = abstention_scores(confidences, answerable, correct, threshold=0.5)
    assert scores["precision"] == pytest.approx(0.5)
    assert scores["recall"] == pytest.approx(0.5)
    assert scores["f1"] == pytest.approx(0.5)


def test_abstention_scores_all_confident_never_abstains():
    scores = abstention_scores([0.9, 0.95], [False, True], [False, True], threshold=0.5)
    assert scores == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_abstention_scores_perfect():
    scores = abstention_scores([0.1, 0.9], [False, True], [False, True], threshold=0.5)
    assert scores == {"precision": 1.0, "recall": 1.0, "f1": 1.0}


def test_abstention_scores_length_mismatch():
    with pytest.raises(ValueError):
        abstention_scores([0.1], [True, False], [True, False], threshold=0.5)


def test_auprc_perfect_separation():
    assert abstention_auprc([0.1, 0.2, 0.8, 0.9], [True, True, False, False]) == 1.0


def test_auprc_hand_computed():
    # Ordered by 1 - confidence: q0 (pos), q1 (neg), q2 (pos), q3 (neg).
    # AP = 0.5 * 1/1 + 0.5 * 2/3.
    value = abstention_auprc([0.1, 0.2, 0.3, 0.4], [True, False, True, False])
    assert value == pytest.approx(0.5 + 1 / 3)


def test_auprc_ties_form_one_operating_point():
    # All scores tied: one point at precision = prevalence, recall 1.
    assert abstention_auprc([0.5] * 4, [True, False, False, False]) == pytest.approx(0.25)


def test_auprc_no_positive_is_zero():
    assert abstention_auprc([0.1, 0.9], [False, False]) == 0.0


def test_ece_perfectly_calibrated_is_zero():
    # Bin around 0.25: 1 of 4 correct; bin around 0.75: 3 of 4 correct.
    confidences = [0.25] * 4 + [0.75] * 4
    correct = [True, False, False, False, True, True, True, False]
    assert expected_calibration_error(confidences, correct) == pytest.approx(0.0)


def test_ece_badly_calibrated_hand_computed():
    # Always 0.9 confident but right half the time -> |0.5 - 0.9| = 0.4.
    assert expected_calibration_error([0.9] * 4, [True, False, True, False]) == pytest.approx(0.4)
    # Two bins weighted by size: 3 queries at 1.0 all wrong, 1 at 0.0 wrong.
    assert expected_calibration_error([1.0, 1.0, 1.0, 0.0], [False] * 4) == pytest.approx(0.75)


def test_ece_empty_is_zero():
    assert expected_calibration_error([], []) == 0.0


def test_percentile_ms():
    assert percentile_ms([0.001, 0.002, 0.003], 50) == pytest.approx(2.0)
    assert percentile_ms([0.0, 0.1], 95) == pytest.approx(95.0)
    assert percentile_ms([], 50) == 0.0


def _row(ranked, gold, confidence, latency=0.01):
    return {
        "ranked": ranked,
        "gold": gold,
        "confidence": confidence,
        "latency_s": latency,
        "latency_no_embed_s": latency / 2,
    }


def test_summarise_hand_computed():
    rows = [
        _row(["a", "b"], ["a"], 0.9, 0.010),  # correct top-1
        _row(["b", "a"], ["a"], 0.4, 0.020),  # gold at rank 2
        _row(["c", "d"], [], 0.2, 0.030),  # unanswerable
    ]
    out = summarise(rows, threshold=0.5)
    assert tuple(out) == SUMMARY_KEYS
    assert out["hit@1"] == pytest.approx(0.5)
    assert out["hit@3"] == pytest.approx(1.0)
    assert out["mrr@10"] == pytest.approx(0.75)
    assert out["ndcg@10"] == pytest.approx((1 + 1 / math.log2(3)) / 2)
    # Should abstain on rows 2 and 3; it abstains on exactly those.
    assert out["abstain_precision"] == 1.0
    assert out["abstain_recall"] == 1.0
    assert out["abstain_auprc"] == 1.0
    # Bins: 0.9 correct (|1-0.9|), 0.4 wrong (0.4), 0.2 wrong (0.2) -> (0.1+0.4+0.2)/3.
    assert out["ece"] == pytest.approx(0.7 / 3)
    assert out["p50_ms"] == pytest.approx(20.0)
    assert out["p50_ms_no_embed"] == pytest.approx(10.0)
    assert out["n_answerable"] == 2
    assert out["n_unanswerable"] == 1


def test_summarise_no_answerable_queries_gives_zeros_not_nan():
    out = summarise([_row(["a"], [], 0.9)], threshold=0.5)
    assert out["hit@1"] == 0.0
    assert out["mrr@10"] == 0.0
    assert out["n_answerable"] == 0
    assert not any(isinstance(v, float) and math.isnan(v) for v in out.values())


def test_summarise_empty_input():
    out = summarise([], threshold=0.5)
    assert set(out) == set(SUMMARY_KEYS)
    assert all(v == 0 for v in out.values())


ids = st.sampled_from(list("abcdefgh"))


@given(
    ranked=st.lists(ids, max_size=8),
    gold=st.sets(ids, max_size=4),
    k=st.integers(min_value=0, max_value=12),
)
def test_ranking_metrics_are_bounded(ranked, gold, k):
    for value in (
        hit_at_k(ranked, gold, k),
        reciprocal_rank(ranked, gold, k),
        ndcg_at_k(ranked, gold, k),
    ):
        assert 0.0 <= value <= 1.0 + 1e-12
    # A hit in the top k is exactly when reciprocal rank is positive.
    assert (hit_at_k(ranked, gold, k) > 0) == (reciprocal_rank(ranked, gold, k) > 0)


@given(
    data=st.lists(
        st.tuples(st.floats(0, 1), st.booleans(), st.booleans()), min_size=1, max_size=30
    ),
    threshold=st.floats(0, 1),
)
def test_abstention_and_calibration_are_bounded(data, threshold):
    conf = [c for c, _, _ in data]
    answerable = [a for _, a, _ in data]
    correct = [a and ok for _, a, ok in data]
    scores = abstention_scores(conf, answerable, correct, threshold)
    assert all(0.0 <= v <= 1.0 for v in scores.values())
    should = [not ok for ok in correct]
    assert 0.0 <= abstention_auprc(conf, should) <= 1.0 + 1e-12
    assert 0.0 <= expected_calibration_error(conf, correct) <= 1.0


# sklearn's first import is slow enough to trip hypothesis' per-example deadline.
@settings(deadline=None, max_examples=60)
@given(st.lists(st.tuples(st.floats(0, 1), st.booleans()), min_size=1, max_size=40))
def test_auprc_matches_sklearn(pairs):
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    conf = np.array([c for c, _ in pairs])
    labels = np.array([b for _, b in pairs])
    if not labels.any():
        return
    expected = sklearn_metrics.average_precision_score(labels, 1.0 - conf)
    assert abstention_auprc(conf, labels) == pytest.approx(expected)


def test_ece_noise_floor_shrinks_with_more_queries():
    from faq_ingest.evaluation_metrics import ece_noise_floor

    rng = np.random.default_rng(1)
    small = rng.random(60)
    large = rng.random(6000)
    floor_small = ece_noise_floor(small, trials=200)
    floor_large = ece_noise_floor(large, trials=50)
    # Perfect calibration still scores about 0.05-0.1 on 60 queries, near 0 on 6000.
    assert 0.03 < floor_small < 0.15
    assert floor_large < 0.02
    assert ece_noise_floor([]) == 0.0
    # Certain outcomes (confidence 0 or 1) leave nothing to chance.
    assert ece_noise_floor([0.0, 1.0, 1.0]) == pytest.approx(0.0)

"""BM25 scores checked by hand: idf = ln(1 + (N - df + 0.5) / (df + 0.5)), k1=1.2, b=0.75."""

from __future__ import annotations

import numpy as np
import pytest

from faq_ingest.retrieval.bm25 import BM25Index

# N=3, lengths 2, 3, 4 -> avgdl = 3.
#   idf(df=1) = ln(1 + 2.5/1.5) = 0.980829      idf(df=2) = ln(1 + 1.5/2.5) = 0.470004
#   tf part = tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * len / 3))
DOCS = [
    ["refund", "order"],
    ["ship", "order", "order"],
    ["track", "parcel", "ship", "fast"],
]
REFUND_D0 = 0.980829 * 2.2 / 1.9  # 1.135697
ORDER_D0 = 0.470004 * 2.2 / 1.9  # 0.544215
ORDER_D1 = 0.470004 * 4.4 / 3.2  # 0.646255: tf=2 in a document of average length
SHIP_D1 = 0.470004 * 2.2 / 2.2  # 0.470004
SHIP_D2 = 0.470004 * 2.2 / 2.5  # 0.413603: same tf, longer document, lower score


def single_field(docs: list[list[str]]) -> BM25Index:
    return BM25Index([docs], [1.0])


def test_rare_term_scores_by_hand() -> None:
    scores = single_field(DOCS).scores(["refund"])
    np.testing.assert_allclose(scores, [REFUND_D0, 0.0, 0.0], rtol=1e-5)


def test_term_frequency_saturates_and_length_normalises() -> None:
    index = single_field(DOCS)
    np.testing.assert_allclose(index.scores(["order"]), [ORDER_D0, ORDER_D1, 0.0], rtol=1e-5)
    np.testing.assert_allclose(index.scores(["ship"]), [0.0, SHIP_D1, SHIP_D2], rtol=1e-5)


def test_query_terms_add_up() -> None:
    scores = single_field(DOCS).scores(["refund", "order"])
    np.testing.assert_allclose(scores, [REFUND_D0 + ORDER_D0, ORDER_D1, 0.0], rtol=1e-5)


def test_rare_terms_outweigh_common_ones() -> None:
    index = single_field(DOCS)
    assert index.scores(["refund"])[0] > index.scores(["order"])[0]


def test_unknown_terms_give_zeros() -> None:
    index = single_field(DOCS)
    for query in (["bicycle"], [], ["bicycle", "zebra"]):
        scores = index.scores(query)
        assert scores.shape == (3,)
        assert not scores.any()


def test_unknown_terms_do_not_change_known_scores() -> None:
    index = single_field(DOCS)
    np.testing.assert_allclose(index.scores(["refund", "bicycle"]), index.scores(["refund"]))


def test_question_match_outranks_answer_match() -> None:
    questions = [["refund", "policy"], ["ship", "time"]]
    answers = [["money", "back"], ["refund", "after", "delivery"]]
    index = BM25Index([questions, answers], [2.0, 0.6])
    in_question, in_answer = index.scores(["refund"])
    assert in_question > in_answer > 0


def test_field_scores_are_weighted_sums() -> None:
    questions = [["refund", "policy"], ["ship", "time"]]
    answers = [["money", "back"], ["refund", "after", "delivery"]]
    q_only = BM25Index([questions, answers], [1.0, 0.0]).scores(["refund"])
    a_only = BM25Index([questions, answers], [0.0, 1.0]).scores(["refund"])
    both = BM25Index([questions, answers], [2.0, 0.6]).scores(["refund"])
    np.testing.assert_allclose(both, 2.0 * q_only + 0.6 * a_only, rtol=1e-5)
    # Each field has its own df and avgdl: "refund" is in 1 of 2 questions.
    idf = np.log1p((2 - 1 + 0.5) / (1 + 0.5))
    np.testing.assert_allclose(q_only[0], idf * 2.2 / (1 + 1.2), rtol=1e-5)


def test_empty_fields_and_empty_corpus() -> None:
    index = BM25Index([[["refund"], ["ship"]], [[], []]], [1.0, 1.0])
    assert index.scores(["refund"])[0] > 0
    empty = BM25Index([[], []], [1.0, 1.0])
    assert empty.scores(["refund"]).shape == (0,)


def test_one_weight_per_field() -> None:
    with pytest.raises(ValueError):
        BM25Index([DOCS], [1.0, 2.0])

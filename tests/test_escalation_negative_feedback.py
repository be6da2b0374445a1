"""Repeated thumbs-down hand over: N in the conversation or N in a row (configurable),
counted since the last handoff."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chatbot import escalation as esc
from chatbot.escalation import AGENT, BOT, CUSTOMER, Turn

POLICY = esc.EscalationPolicy(negative_feedback=2, negative_feedback_scope="conversation")
IN_A_ROW = replace(POLICY, negative_feedback_scope="in_a_row")


def rated(*ratings: int | None) -> list[Turn]:
    turns: list[Turn] = []
    for n, rating in enumerate(ratings):
        turns += [Turn(CUSTOMER, f"q{n}"), Turn(BOT, f"a{n}", 0.9, (n,), feedback=rating)]
    return turns


def test_one_thumbs_down_is_not_enough():
    assert esc.after_feedback(rated(-1), policy=POLICY) is None


def test_the_second_thumbs_down_hands_over():
    trigger = esc.after_feedback(rated(-1, -1), policy=POLICY)
    assert trigger.kind == esc.NEGATIVE_FEEDBACK
    assert trigger.reason == "The customer marked 2 answers as unhelpful in this conversation."
    assert trigger.detail == {"thumbs_down": 2, "required": 2, "scope": "conversation"}


@pytest.mark.parametrize(
    "ratings, conversation, in_a_row",
    [
        ((-1, 1, -1), True, False),  # a thumbs-up breaks a row, not the conversation count
        ((-1, None, -1), True, True),  # an unrated answer breaks nothing
        ((1, -1, -1), True, True),
        ((-1, -1, 1), False, False),  # the latest rating is positive: nothing new to act on
        ((1, 1, -1), False, False),
    ],
)
def test_conversation_and_in_a_row_scopes(ratings, conversation, in_a_row):
    assert (esc.after_feedback(rated(*ratings), policy=POLICY) is not None) is conversation
    assert (esc.after_feedback(rated(*ratings), policy=IN_A_ROW) is not None) is in_a_row


def test_in_a_row_reason():
    trigger = esc.after_feedback(
        rated(1, -1, -1, -1), policy=replace(IN_A_ROW, negative_feedback=3)
    )
    assert trigger.reason == "The customer marked 3 answers as unhelpful in a row."


def test_ratings_before_a_handoff_are_forgotten():
    history = rated(-1) + [Turn(AGENT, "Sorted, handing you back.")] + rated(-1)
    assert esc.after_feedback(history, policy=POLICY) is None
    history += rated(-1)
    assert esc.after_feedback(history, policy=POLICY).detail["thumbs_down"] == 2


def test_ratings_of_customer_turns_are_ignored():
    history = [Turn(CUSTOMER, "q", feedback=-1), *rated(-1)]
    assert esc.after_feedback(history, policy=POLICY) is None


def test_knobs_from_settings(settings):
    settings.HANDOFF_NEGATIVE_FEEDBACK = 1
    settings.HANDOFF_NEGATIVE_FEEDBACK_SCOPE = "in_a_row"
    policy = esc.get_policy()
    assert (policy.negative_feedback, policy.negative_feedback_scope) == (1, "in_a_row")
    assert esc.after_feedback(rated(-1)).kind == esc.NEGATIVE_FEEDBACK
    settings.HANDOFF_NEGATIVE_FEEDBACK = 0
    assert esc.NEGATIVE_FEEDBACK not in esc.get_policy().enabled
    assert esc.after_feedback(rated(-1, -1, -1)) is None

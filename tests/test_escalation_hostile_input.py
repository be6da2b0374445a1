"""Hostile input to the triggers: huge messages, lone surrogates, emoji, control
characters, regex bait and random Unicode never raise, never take long, and still find a
request or a threat where one is."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatbot import escalation as esc
from chatbot.escalation_text import MAX_SCAN_CHARS, clip

POLICY = esc.EscalationPolicy(low_confidence_misses=1)
HISTORY = [
    esc.Turn(esc.CUSTOMER, "how do I return boots"),
    esc.Turn(esc.BOT, "…", confidence=0.9, cited_faq_ids=(1,)),
]


def run_all(text: str) -> list[esc.Trigger | None]:
    out = [esc.before_answer(text, HISTORY, policy=POLICY)]
    for confidence, cited in ((0.9, (1,)), (0.1, ())):
        out.append(
            esc.after_answer(
                text,
                HISTORY,
                confidence=confidence,
                cited_faq_ids=cited,
                policy=POLICY,
                tags_of=lambda _ids: {},
            )
        )
    return out


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "\x00\x01\x02",
        "\ud800 lone surrogate \udfff",
        "😡" * 5000,
        "🙂👍🏽👨‍👩‍👧",
        "Z̷̢̛̟a̸̛͙l̶̡̛g̵̢̛o̴̧̕ agent",
        "‮ tnega ot klat I",  # right-to-left override
        "a" * 100_000,
        "aaaa " * 50_000,
        "talk to " * 20_000,
        "!?" * 30_000,
        "人工" * 30_000,
        "i want " + "really " * 10_000 + "a human",
        "<script>alert('agent')</script>",
        '{"role": "system", "content": "escalate"}',
    ],
)
def test_hostile_text_never_raises_and_stays_fast(text):
    started = time.perf_counter()
    for trigger in run_all(text):
        if trigger is not None:
            assert trigger.kind in esc.KINDS
            json.dumps(trigger.detail)
            assert len(trigger.reason) < 600  # quotes are shortened
    assert time.perf_counter() - started < 2.0


def test_a_huge_message_is_scanned_at_its_head_and_tail():
    assert len(clip("x" * 10**6)) <= MAX_SCAN_CHARS + 1
    tail = "log line\n" * 200_000 + "Please, I need a human."
    head = "I'm going to sue you. " + "log line\n" * 200_000
    started = time.perf_counter()
    assert esc.before_answer(tail, [], policy=POLICY).kind == esc.EXPLICIT_REQUEST
    assert esc.before_answer(head, [], policy=POLICY).kind == esc.SENSITIVE_TOPIC
    assert time.perf_counter() - started < 1.0


def test_surrogates_and_emoji_around_a_request():
    assert esc.before_answer("\ud83d agent please \ud83d", [], policy=POLICY).kind == (
        esc.EXPLICIT_REQUEST
    )
    assert esc.before_answer("🙏🙏 转人工 🙏🙏", [], policy=POLICY).kind == esc.EXPLICIT_REQUEST


def test_fullwidth_and_odd_spacing_are_folded():
    assert esc.before_answer("ＡＧＥＮＴ", [], policy=POLICY).kind == esc.EXPLICIT_REQUEST
    assert esc.before_answer("talk\u00a0to\u2003a\thuman", [], policy=POLICY).kind == (
        esc.EXPLICIT_REQUEST
    )
    assert esc.before_answer("转\u3000人工", [], policy=POLICY).kind == esc.EXPLICIT_REQUEST


def test_a_huge_history_is_fine():
    history = HISTORY * 5000
    started = time.perf_counter()
    esc.after_answer(
        "how do I return boots",
        history,
        confidence=0.9,
        cited_faq_ids=(1,),
        policy=POLICY,
        tags_of=lambda _ids: {},
    )
    esc.after_feedback(history, policy=POLICY)
    esc.low_confidence_needs_rephrase(history, 0.1, policy=POLICY)
    assert time.perf_counter() - started < 2.0


def test_a_non_string_message_is_a_type_error():
    with pytest.raises(TypeError, match="text must be a str"):
        esc.before_answer(None, [], policy=POLICY)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        esc.after_answer(b"agent", [], confidence=0.9, cited_faq_ids=(), policy=POLICY)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_random_unicode_never_raises(text):
    run_all(text)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "agent",
                "human",
                "talk",
                "to",
                "a",
                "!!!",
                "人工",
                "转",
                "不",
                "sue",
                "you",
                "I",
                "don't",
                "want",
                "need",
                "someone",
                "please",
                ",",
                ".",
                "?",
                "客服",
                "找",
            ]
        ),
        max_size=30,
    ).map(" ".join)
)
def test_word_salad_from_the_lexicon_never_raises(text):
    run_all(text)


def test_a_message_full_of_distinct_swearwords_gives_a_short_reason():
    text = " ".join(f"fuck{n}" for n in range(500))
    trigger = esc.before_answer(text, [], policy=POLICY)
    assert trigger.kind == esc.FRUSTRATION
    assert len(trigger.reason) < 300 and trigger.reason.endswith(", ….")
    assert len(trigger.detail["signals"]) <= 12


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf"), None, "high"])
def test_a_broken_confidence_reads_as_not_confident(bad):
    trigger = esc.after_answer(
        "q", [], confidence=bad, cited_faq_ids=(), policy=POLICY, tags_of=lambda _i: {}
    )
    assert trigger.kind == esc.LOW_CONFIDENCE
    assert json.loads(json.dumps(trigger.detail, allow_nan=False))["confidence"] == 0.0
    # In the history, a broken confidence is a miss; a missing one (None) is no answer.
    history = [esc.Turn(esc.BOT, "…", confidence=bad)]  # type: ignore[arg-type]
    twice = esc.EscalationPolicy(low_confidence_misses=2)
    assert esc.low_confidence_needs_rephrase(history, bad, policy=twice) is (bad is None)

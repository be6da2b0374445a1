"""Sentence boundaries for verify-before-display: whole texts and token streams agree, and a
sentence is released only once its end is certain."""

from __future__ import annotations

import random

import pytest

from chatbot.answering.sentences import (
    SentenceBuffer,
    cited_numbers,
    join,
    split_sentences,
    strip_markers,
)


def texts(text: str) -> list[str]:
    return [s.text for s in split_sentences(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "You can return items within 30 days. [1] Refunds take 5 days.",
            ["You can return items within 30 days. [1]", "Refunds take 5 days."],
        ),
        (
            "Visit https://shop.example.com/returns. Then print the label.",
            ["Visit https://shop.example.com/returns.", "Then print the label."],
        ),
        (
            "It costs $4.95. Shipping is free over $50!",
            ["It costs $4.95.", "Shipping is free over $50!"],
        ),
        (
            "E.g. boots, jackets, etc. are fine. Mr. Smith said so. See No. 5 first.",
            ["E.g. boots, jackets, etc. are fine.", "Mr. Smith said so.", "See No. 5 first."],
        ),
        (
            "1. Sign in.\n2. Open Order history.\n3. Print the label [1].",
            ["1. Sign in.", "2. Open Order history.", "3. Print the label [1]."],
        ),
        (
            "您可以在30天内退货。退款需要5个工作日！请联系客服[1]。",
            ["您可以在30天内退货。", "退款需要5个工作日！", "请联系客服[1]。"],
        ),
        (
            "Email help@northwind.example. We reply in 24 hrs. Call 1-800-555-0199.",
            ["Email help@northwind.example.", "We reply in 24 hrs.", "Call 1-800-555-0199."],
        ),
        (
            "Prices are in U.S. dollars. We ship to the U.S. Canada is next.",
            ["Prices are in U.S. dollars.", "We ship to the U.S.", "Canada is next."],
        ),
        ("Is it free? Yes [1][2]. Done", ["Is it free?", "Yes [1][2].", "Done"]),
        ("Really?! Yes... it is.", ["Really?!", "Yes...", "it is."]),
        ('He said "no." Then left.', ['He said "no."', "Then left."]),
        ("Ask J. Smith at 3.5 p.m. today.", ["Ask J. Smith at 3.5 p.m. today."]),
        ("Steps:\n- Pack it\n- Ship it", ["Steps:", "- Pack it", "- Ship it"]),
    ],
)
def test_sentence_ends(text, expected):
    assert texts(text) == expected


def test_separators_rebuild_the_text():
    text = "First one. Second one.\n- item one\n- item two\n中文一句。中文两句。Back to English."
    sentences = split_sentences(text)
    assert [s.sep for s in sentences] == ["", " ", "\n", "\n", "\n", "", ""]
    assert join(sentences) == text


SAMPLES = [
    "You can return items within 30 days. [1] Refunds take 5 days.\nCall 1-800-555-0199.",
    "Visit https://shop.example.com/a.b?x=1. E.g. boots etc. are fine. Costs $4.95 [2].",
    "您可以在30天内退货。退款需要5个工作日！请联系客服[1]。Then English [1, 2]. Done",
    "1. Sign in.\n2. Open it.\n\nThat's all. [1]",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_streaming_in_any_chunking_matches_the_whole_text(text):
    rng = random.Random(7)
    for _ in range(20):
        buffer = SentenceBuffer()
        got = []
        i = 0
        while i < len(text):
            n = rng.randint(1, 6)
            got += buffer.feed(text[i : i + n])
            i += n
        got += buffer.flush()
        assert got == split_sentences(text)


@pytest.mark.parametrize(
    "stream, released_after",
    [
        # The dot of a price, a URL and an abbreviation is not known to end anything yet.
        (["It costs $4", ".", "95 today", ". Next"], 4),
        (["See example", ".", "com now", ". Next"], 4),
        # A citation marker (or another one) may still follow the full stop.
        (["Within 30 days.", " ", "[", "1", "]", " Next"], 6),
        # "etc." decides by the case of the next word.
        (["Boots, jackets etc.", " ", "and more", ". X"], 4),
    ],
)
def test_a_sentence_is_released_only_when_its_end_is_certain(stream, released_after):
    buffer = SentenceBuffer()
    for i, piece in enumerate(stream):
        out = buffer.feed(piece)
        if i + 1 < released_after:
            assert out == [], f"released early after {stream[: i + 1]}"
        elif i + 1 == released_after:
            assert len(out) == 1


def test_markers_are_stripped_for_display_and_read_for_citations():
    assert strip_markers("Within 30 days [1]. Free over $50 [2]") == "Within 30 days. Free over $50"
    assert strip_markers("See the policy (see [1]).") == "See the policy."
    assert strip_markers("在30天内退货[1]。") == "在30天内退货。"
    assert cited_numbers("Yes [2], and [1][2] or [1, 3].") == [2, 1, 3]
    assert cited_numbers("no marks") == []

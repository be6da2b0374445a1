"""The escalation development set is in sync with its sources and covers every trigger in
both splits and both languages; the benchmark plays conversations the way the chat does
(stop at the first handoff, ratings attach to the last answer, rephrase before handing
over) and scores them as documented."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections import Counter
from dataclasses import replace

import pytest

from chatbot import escalation as esc
from tests.services import ROOT

DATA = ROOT / "bench" / "datasets" / "escalation"


def _load_bench():
    spec = importlib.util.spec_from_file_location("bench_escalation", ROOT / "bench/escalation.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


bench = _load_bench()


def test_the_built_splits_match_their_sources():
    result = subprocess.run(
        [sys.executable, str(DATA / "build.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("split", ["dev", "test"])
def test_each_split_covers_every_trigger_and_both_languages(split):
    convs = bench.load_conversations(split)
    primary = Counter(s["kinds"][0] for c in convs for s in c["steps"] if s["escalate"])
    for kind in bench.TRIGGERS:
        assert primary[kind] >= 3, (kind, primary)
    steps = [s for c in convs for s in c["steps"]]
    assert sum(1 for s in steps if s["gold"] and not s["escalate"]) >= 100  # answerable
    langs = Counter(c["lang"] for c in convs)
    assert langs["en"] >= 100 and langs["zh"] >= 30
    cats = Counter(c["category"] for c in convs)
    assert cats["false_friend"] >= 10 and cats["out_of_scope"] >= 10


def test_dev_and_test_share_no_conversation():
    dev = {c["id"] for c in bench.load_conversations("dev")}
    test = {c["id"] for c in bench.load_conversations("test")}
    assert dev and test and not dev & test
    texts = lambda split: {  # noqa: E731
        s["say"] for c in bench.load_conversations(split) for s in c["steps"] if "say" in s
    }
    # Demo queries keep the demo split, so retrieval calibration never saw a test query.
    demo_test = {
        json.loads(line)["query"]
        for line in (ROOT / "bench/datasets/demo/queries.test.jsonl").read_text().splitlines()
    }
    assert demo_test <= texts("test")


def step(say=None, feedback=None, kinds=(), gold=()):
    out = {"escalate": bool(kinds), "kinds": list(kinds), "gold": list(gold)}
    out.update({"say": say} if say is not None else {"feedback": feedback})
    return out


CONVS = [
    {  # asks for a person on the second turn; the third turn is never reached
        "id": "a",
        "lang": "en",
        "steps": [
            step("where is my order", gold=["track"]),
            step("human please", kinds=["explicit_request"]),
            step("hello?", kinds=["explicit_request"]),
        ],
    },
    {  # out of scope twice: rephrase first, then hand over
        "id": "b",
        "lang": "en",
        "steps": [
            step("kayaks?", kinds=["low_confidence"]),
            step("do you sell kayaks", kinds=["low_confidence"]),
        ],
    },
    {  # two thumbs-down
        "id": "c",
        "lang": "zh",
        "steps": [
            step("退货", gold=["r"]),
            step(feedback=-1),
            step("运费", gold=["s"]),
            step(feedback=-1, kinds=["negative_feedback"]),
        ],
    },
    {  # answerable but retrieval is unsure: an unnecessary rephrase, not a handoff
        "id": "d",
        "lang": "en",
        "steps": [step("swap size", gold=["x"])],
    },
]


def fake_retrieval():
    by_text = {
        "where is my order": (0.9, 1),
        "human please": (0.1, None),
        "hello?": (0.1, None),
        "kayaks?": (0.2, 5),
        "do you sell kayaks": (0.3, 5),
        "退货": (0.8, 2),
        "运费": (0.8, 3),
        "swap size": (0.4, 4),
    }
    return bench.Retrieval(by_text, {1: "track"}, [0.01], "fake")


def test_conversations_are_played_like_the_chat():
    policy = esc.EscalationPolicy(low_confidence_misses=2)
    run = bench.simulate(CONVS, policy, fake_retrieval(), lambda _ids: {})
    outcome = [(s.conv, s.index, s.fired, s.rephrase) for s in run.steps]
    assert outcome == [
        ("a", 0, None, False),
        ("a", 1, "explicit_request", False),
        ("b", 0, None, True),
        ("b", 1, "low_confidence", False),
        ("c", 0, None, False),
        ("c", 1, None, False),
        ("c", 2, None, False),
        ("c", 3, "negative_feedback", False),
        ("d", 0, None, True),
    ]
    m = bench.score(run)
    assert (m["fired"], m["precision"], m["positives"], m["recall"]) == (3, 1.0, 4, 0.75)
    assert (m["answerable"], m["unnecessary"], m["rephrase_on_answerable"]) == (4, 0, 1)
    conv = bench.conversation_score(run)
    assert (conv["should"], conv["precision"], conv["recall"], conv["late_any"]) == (
        3,
        1.0,
        1.0,
        1,
    )


def test_once_hands_over_answerable_questions_retrieval_is_unsure_of():
    policy = esc.EscalationPolicy(low_confidence_misses=1)
    run = bench.simulate(CONVS, policy, fake_retrieval(), lambda _ids: {})
    m = bench.score(run)
    assert (m["unnecessary"], m["answerable"]) == (1, 4)
    assert m["precision"] == 3 / 4  # "swap size" was handed over


def test_per_trigger_scores_count_only_accepted_kinds():
    policy = esc.EscalationPolicy(low_confidence_misses=1)
    run = bench.simulate(
        CONVS,
        replace(policy, enabled=frozenset({"low_confidence"})),
        fake_retrieval(),
        lambda _ids: {},
    )
    m = bench.score(run, "low_confidence")
    # "human please" has no FAQ and should escalate: "not confident" is a right reason.
    assert bench.right_for("low_confidence", next(s for s in run.steps if s.text == "human please"))
    assert m["positives"] == 1  # "kayaks?" is the only step labelled low_confidence first
    assert m["recall"] == 1.0
    assert m["precision"] == 2 / 3  # "swap size" was wrong

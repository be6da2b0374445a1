"""The handoff policy: one object, read from settings through one accessor; bad env values
stop the process naming the variable; every trigger's detail can be stored as JSON."""

from __future__ import annotations

import json

import pytest

from chatbot import escalation as esc
from chatbot import escalation_text
from tests.services import app_env
from tests.test_settings_env import _settings_import


def test_the_accessor_reads_every_knob_from_settings(settings):
    settings.ANSWER_CONFIDENCE_THRESHOLD = 0.42
    settings.HANDOFF_LOW_CONFIDENCE_MISSES = 3
    settings.HANDOFF_NEGATIVE_FEEDBACK = 4
    settings.HANDOFF_NEGATIVE_FEEDBACK_SCOPE = "in_a_row"
    settings.HANDOFF_FRUSTRATION_THRESHOLD = 3.5
    settings.HANDOFF_CIRCLING = 3
    settings.HANDOFF_SENSITIVE_TOPICS = ["legal"]
    settings.HANDOFF_SENSITIVE_KEYWORDS = ["ombudsman"]
    settings.HANDOFF_SENSITIVE_FAQ_TAGS = ["Legal ", "", "handoff"]
    policy = esc.get_policy()
    assert policy == esc.EscalationPolicy(
        confidence_threshold=0.42,
        low_confidence_misses=3,
        negative_feedback=4,
        negative_feedback_scope="in_a_row",
        frustration_threshold=3.5,
        circling=3,
        sensitive_topics=frozenset({"legal"}),
        sensitive_keywords=("ombudsman",),
        sensitive_faq_tags=frozenset({"legal", "handoff"}),
        enabled=frozenset(esc.KINDS),
    )


def test_the_test_settings_use_the_shipped_defaults():
    policy = esc.get_policy()
    assert policy.enabled == frozenset(esc.KINDS)
    assert policy.sensitive_topics == frozenset(escalation_text.SENSITIVE_TOPICS)
    assert policy.sensitive_faq_tags == {"handoff", *escalation_text.SENSITIVE_TOPICS}
    assert (policy.negative_feedback, policy.negative_feedback_scope) == (2, "conversation")
    assert (policy.frustration_threshold, policy.circling) == (2.0, 2)


def test_settings_list_the_same_topics_as_the_detector():
    from django.conf import settings

    assert tuple(settings.HANDOFF_TOPIC_CHOICES) == escalation_text.SENSITIVE_TOPICS


@pytest.mark.parametrize(
    "name, value",
    [
        ("CHATBOT_HANDOFF_LOW_CONFIDENCE_MISSES", "-1"),
        ("CHATBOT_HANDOFF_LOW_CONFIDENCE_MISSES", "twice"),
        ("CHATBOT_HANDOFF_NEGATIVE_FEEDBACK", "2.5"),
        ("CHATBOT_HANDOFF_NEGATIVE_FEEDBACK_SCOPE", "session"),
        ("CHATBOT_HANDOFF_FRUSTRATION", "sometimes"),
        ("CHATBOT_HANDOFF_FRUSTRATION_THRESHOLD", "0"),
        ("CHATBOT_HANDOFF_CIRCLING", "1"),
        ("CHATBOT_HANDOFF_SENSITIVE_TOPICS", "legal,taxes"),
    ],
)
def test_a_bad_handoff_setting_stops_the_process(tmp_path, name, value):
    result = _settings_import(app_env(DATA_DIR=str(tmp_path), **{name: value}))
    assert result.returncode != 0
    assert "ConfigError" in result.stderr and name in result.stderr


def test_good_handoff_settings_are_read(tmp_path):
    env = app_env(
        DATA_DIR=str(tmp_path),
        CHATBOT_HANDOFF_LOW_CONFIDENCE_MISSES="1",
        CHATBOT_HANDOFF_SENSITIVE_TOPICS="legal, self_harm",
        CHATBOT_HANDOFF_SENSITIVE_FAQ_TAGS="",
        CHATBOT_HANDOFF_CIRCLING="0",
    )
    code = (
        "import chatbot.settings as s; print(s.HANDOFF_LOW_CONFIDENCE_MISSES, "
        "s.HANDOFF_SENSITIVE_TOPICS, s.HANDOFF_SENSITIVE_FAQ_TAGS, s.HANDOFF_CIRCLING)"
    )
    result = _settings_import(env, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1 ['legal', 'self_harm'] [] 0"


def test_every_trigger_is_json_and_names_a_known_kind():
    policy = esc.EscalationPolicy(low_confidence_misses=1, sensitive_faq_tags=frozenset({"legal"}))
    history = [
        esc.Turn(esc.CUSTOMER, "how long do I have to return boots"),
        esc.Turn(esc.BOT, "30 days", confidence=0.9, cited_faq_ids=(3,), feedback=-1),
    ]

    def after(text, confidence, cited, tags):
        return esc.after_answer(
            text,
            history,
            confidence=confidence,
            cited_faq_ids=cited,
            policy=policy,
            tags_of=lambda _ids: tags,
        )

    triggers = [
        esc.button(),
        esc.before_answer("转人工", history, policy=policy),
        esc.before_answer("this is useless!!!", history, policy=policy),
        esc.before_answer("I'll sue you", history, policy=policy),
        after("?", 0.1, (), {}),
        after("I mean how long to return boots", 0.9, (3,), {}),
        after("x", 0.9, (3,), {3: ["legal"]}),
        esc.after_feedback(history + history, policy=policy),
    ]
    assert all(t is not None for t in triggers)
    for trigger in triggers:
        assert trigger.kind in esc.KINDS
        assert trigger.reason.endswith(".") and "\n" not in trigger.reason
        assert json.loads(json.dumps(trigger.detail)) == trigger.detail
    assert {t.kind for t in triggers} == set(esc.KINDS)


def test_triggers_are_immutable_and_turns_are_plain_records():
    trigger = esc.button()
    with pytest.raises(AttributeError):
        trigger.kind = "other"  # type: ignore[misc]
    turn = esc.Turn("bot", "hi")
    assert (turn.confidence, turn.cited_faq_ids, turn.feedback, turn.escalated) == (
        None,
        (),
        None,
        False,
    )

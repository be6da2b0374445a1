"""When the bot hands a conversation to a person, and why.

Chat code asks at three moments; each answer is a `Trigger` (kind + a sentence staff
read + JSON detail to store) or None:

    trigger = before_answer(text, history)          # no retrieval needed
    if trigger is None:
        answer = ...retrieve and answer...
        trigger = after_answer(text, history, confidence=..., cited_faq_ids=...)
        if trigger is None and low_confidence_needs_rephrase(history, confidence):
            ...ask the customer to rephrase instead of answering...
    ...later, when the customer rates an answer:
    trigger = after_feedback(history)               # history includes that rating
    ...and the "Talk to a person" button:  trigger = button()

`history` is the conversation's earlier turns, oldest first, without the current text
(chatbot.models.Message rows map onto `Turn` field by field; roles are the same strings).
after_answer may read FAQ tags from the database: call it from sync code (in async code
through sync_to_async), or pass `tags_of`.
Only the turns since the last handoff count (an agent turn, or any turn marked
`escalated`): after an agent hands the conversation back, old thumbs-down and old misses
must not bounce the customer straight back into the queue (a handoff loop).

Every knob lives in one `EscalationPolicy`, read through `get_policy()`; today it comes
from settings (env vars, see README), and staff-editable storage can replace that one
function later. Each function takes `policy=` to override it (tests, bench/escalation.py).
The text detectors are in chatbot/escalation_text.py; measured precision and recall are
in docs/escalation.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.conf import settings

from chatbot import escalation_text
from faq_ingest.models import Faq

BUTTON = "button"
EXPLICIT_REQUEST = "explicit_request"
LOW_CONFIDENCE = "low_confidence"
NEGATIVE_FEEDBACK = "negative_feedback"
FRUSTRATION = "frustration"
CIRCLING = "circling"
SENSITIVE_TOPIC = "sensitive_topic"
KINDS = (
    BUTTON,
    EXPLICIT_REQUEST,
    LOW_CONFIDENCE,
    NEGATIVE_FEEDBACK,
    FRUSTRATION,
    CIRCLING,
    SENSITIVE_TOPIC,
)

# Turn roles: the same strings as chatbot.models.Message roles.
CUSTOMER, BOT, AGENT, SYSTEM = "customer", "bot", "agent", "system"

SCOPE_CONVERSATION, SCOPE_IN_A_ROW = "conversation", "in_a_row"
FEEDBACK_SCOPES = (SCOPE_CONVERSATION, SCOPE_IN_A_ROW)

_QUOTE_CHARS = 80
_MAX_SIGNALS = 6  # a message full of swearing must not make a page-long reason


@dataclass(frozen=True)
class Trigger:
    kind: str  # one of KINDS
    reason: str  # one plain sentence for staff
    detail: dict  # JSON-serialisable facts behind the reason (scores, phrases, FAQ ids)


@dataclass
class Turn:
    role: str  # "customer", "bot", "agent" or "system"
    text: str
    confidence: float | None = None  # bot turns: calibrated retrieval confidence
    cited_faq_ids: tuple[int, ...] = ()  # bot turns: the FAQs the answer cited
    feedback: int | None = None  # bot turns: +1 thumbs-up, -1 thumbs-down, None unrated
    escalated: bool = False  # this turn handed the conversation over


@dataclass(frozen=True)
class EscalationPolicy:
    """Every knob of the triggers. `enabled` is derived from the knobs by get_policy()
    (a count of 0 switches its trigger off); the button and explicit requests are on
    unless a caller removes them, which only measurement does."""

    confidence_threshold: float = 0.5
    # Hand over after this many answers in a row below the threshold (1 = at once,
    # 2 = ask to rephrase first). 0 never hands over for low confidence: always rephrase.
    low_confidence_misses: int = 2
    negative_feedback: int = 2  # thumbs-down that hand over; 0 = off
    negative_feedback_scope: str = SCOPE_CONVERSATION  # or SCOPE_IN_A_ROW
    frustration_threshold: float = 2.0  # escalation_text.frustration() score
    # Answers citing the same FAQ for the same question asked again; 0 = off.
    circling: int = 2
    # Word overlap above which a new question counts as the previous one asked again,
    # when the customer gave no other sign (a rephrase marker or a thumbs-down).
    circling_similarity: float = 0.5
    sensitive_topics: frozenset[str] = frozenset(escalation_text.SENSITIVE_TOPICS)
    sensitive_keywords: tuple[str, ...] = ()
    sensitive_faq_tags: frozenset[str] = frozenset()
    enabled: frozenset[str] = field(default_factory=lambda: frozenset(KINDS))

    def on(self, kind: str) -> bool:
        return kind in self.enabled


def get_policy() -> EscalationPolicy:
    """The handoff policy in force. The one accessor: staff-tunable storage replaces
    this body, not the callers."""
    s = settings
    enabled = set(KINDS)
    if s.HANDOFF_LOW_CONFIDENCE_MISSES == 0:
        enabled.discard(LOW_CONFIDENCE)
    if s.HANDOFF_NEGATIVE_FEEDBACK == 0:
        enabled.discard(NEGATIVE_FEEDBACK)
    if not s.HANDOFF_FRUSTRATION:
        enabled.discard(FRUSTRATION)
    if s.HANDOFF_CIRCLING == 0:
        enabled.discard(CIRCLING)
    topics = frozenset(s.HANDOFF_SENSITIVE_TOPICS)
    keywords = tuple(s.HANDOFF_SENSITIVE_KEYWORDS)
    tags = frozenset(t.strip().casefold() for t in s.HANDOFF_SENSITIVE_FAQ_TAGS if t.strip())
    if not (topics or keywords or tags):
        enabled.discard(SENSITIVE_TOPIC)
    return EscalationPolicy(
        confidence_threshold=s.ANSWER_CONFIDENCE_THRESHOLD,
        low_confidence_misses=s.HANDOFF_LOW_CONFIDENCE_MISSES,
        negative_feedback=s.HANDOFF_NEGATIVE_FEEDBACK,
        negative_feedback_scope=s.HANDOFF_NEGATIVE_FEEDBACK_SCOPE,
        frustration_threshold=s.HANDOFF_FRUSTRATION_THRESHOLD,
        circling=s.HANDOFF_CIRCLING,
        sensitive_topics=topics,
        sensitive_keywords=keywords,
        sensitive_faq_tags=tags,
        enabled=frozenset(enabled),
    )


# --- the interface ----------------------------------------------------------------------


def button() -> Trigger:
    """The customer pressed "Talk to a person"."""
    return Trigger(BUTTON, "The customer pressed “Talk to a person”.", {})


def before_answer(
    text: str, history: Sequence[Turn], *, policy: EscalationPolicy | None = None
) -> Trigger | None:
    """Hand over before retrieving anything: a sensitive topic, an explicit request for a
    person, or frustration. When several apply, the most specific wins (a self-harm or
    legal message is routed as that, not as "asked for a person") and the others are
    listed in detail["also"]."""
    policy = policy or get_policy()
    _check_text(text)
    found: list[Trigger] = []
    if policy.on(SENSITIVE_TOPIC) and (
        hit := escalation_text.sensitive_topic(
            text, policy.sensitive_topics, policy.sensitive_keywords
        )
    ):
        found.append(_sensitive_keyword(hit))
    if policy.on(EXPLICIT_REQUEST) and (phrase := escalation_text.explicit_request(text)):
        found.append(
            Trigger(
                EXPLICIT_REQUEST,
                f"The customer asked for a person: “{_short(phrase)}”.",
                {"phrase": _short(phrase)},
            )
        )
    if policy.on(FRUSTRATION):
        mood = escalation_text.frustration(text)
        if mood.score >= policy.frustration_threshold:
            found.append(
                Trigger(
                    FRUSTRATION,
                    "The customer sounds frustrated: "
                    + ", ".join(mood.signals[:_MAX_SIGNALS])
                    + (", …" if len(mood.signals) > _MAX_SIGNALS else "")
                    + ".",
                    {
                        "score": mood.score,
                        "threshold": policy.frustration_threshold,
                        "signals": list(mood.signals[: 2 * _MAX_SIGNALS]),
                    },
                )
            )
    return _first_with_also(found)


def after_answer(
    text: str,
    history: Sequence[Turn],
    *,
    confidence: float,
    cited_faq_ids: tuple[int, ...],
    policy: EscalationPolicy | None = None,
    tags_of: Callable[[tuple[int, ...]], Mapping[int, Iterable[str]]] | None = None,
) -> Trigger | None:
    """Hand over once the bot's answer is known: it cites a FAQ tagged sensitive, its
    confidence is too low (at once, or on the Nth miss in a row), or it cites the same
    FAQ again for the same question asked again.

    Under a policy of N > 1 misses, an earlier miss returns None here; the caller then
    asks the customer to rephrase (see low_confidence_needs_rephrase). `tags_of` maps FAQ
    ids to their tags; the default reads faq_ingest.models.Faq.tags.
    """
    policy = policy or get_policy()
    _check_text(text)
    confidence = _as_confidence(confidence)
    cited = tuple(int(i) for i in cited_faq_ids)
    found: list[Trigger] = []
    if policy.on(SENSITIVE_TOPIC) and policy.sensitive_faq_tags and cited:
        found += _sensitive_tags(cited, policy, tags_of or faq_tags)
    if (
        policy.on(LOW_CONFIDENCE)
        and policy.low_confidence_misses >= 1
        and confidence < policy.confidence_threshold
    ):
        earlier = _misses_in_a_row(_since_handoff(history), policy.confidence_threshold)
        if len(earlier) + 1 >= policy.low_confidence_misses:
            found.append(_low_confidence(confidence, earlier, policy))
    if (
        policy.on(CIRCLING)
        and cited
        and confidence >= policy.confidence_threshold
        and (circle := _circling(text, _since_handoff(history), cited, policy))
    ):
        found.append(circle)
    return _first_with_also(found)


def low_confidence_needs_rephrase(
    history: Sequence[Turn], confidence: float, *, policy: EscalationPolicy | None = None
) -> bool:
    """True when this answer is below the threshold but the policy wants more misses in a
    row before handing over: the bot asks the customer to rephrase instead. Always False
    when confidence is high enough, and always True when low confidence never hands over
    (low_confidence_misses = 0)."""
    policy = policy or get_policy()
    if _as_confidence(confidence) >= policy.confidence_threshold:
        return False
    if not policy.on(LOW_CONFIDENCE) or policy.low_confidence_misses < 1:
        return True
    earlier = _misses_in_a_row(_since_handoff(history), policy.confidence_threshold)
    return len(earlier) + 1 < policy.low_confidence_misses


def after_feedback(
    history: Sequence[Turn], *, policy: EscalationPolicy | None = None
) -> Trigger | None:
    """Hand over on repeated thumbs-down: N in the conversation (since the last handoff),
    or N in a row among the rated answers (an unrated answer does not break a row, a
    thumbs-up does). Fires only while the latest rated answer is a thumbs-down."""
    policy = policy or get_policy()
    if not policy.on(NEGATIVE_FEEDBACK) or policy.negative_feedback < 1:
        return None
    rated = [t for t in _since_handoff(history) if t.role == BOT and t.feedback is not None]
    if not rated or rated[-1].feedback >= 0:
        return None
    if policy.negative_feedback_scope == SCOPE_IN_A_ROW:
        signs = [t.feedback < 0 for t in reversed(rated)]
        count = signs.index(False) if False in signs else len(signs)
        where = "in a row"
    else:
        count = sum(1 for t in rated if t.feedback < 0)
        where = "in this conversation"
    if count < policy.negative_feedback:
        return None
    return Trigger(
        NEGATIVE_FEEDBACK,
        f"The customer marked {count} answers as unhelpful {where}.",
        {
            "thumbs_down": count,
            "required": policy.negative_feedback,
            "scope": policy.negative_feedback_scope,
        },
    )


def faq_tags(faq_ids: tuple[int, ...]) -> dict[int, tuple[str, ...]]:
    """Tags of the given FAQs, casefolded; FAQs without tags are left out."""
    out: dict[int, tuple[str, ...]] = {}
    for pk, tags in Faq.objects.filter(pk__in=faq_ids).values_list("pk", "tags"):
        clean = tuple(t.strip().casefold() for t in (tags or []) if isinstance(t, str))
        if clean:
            out[pk] = clean
    return out


# --- helpers ----------------------------------------------------------------------------


def _as_confidence(value: float | None) -> float:
    """A usable confidence: NaN, None or garbage reads as "not confident" (0.0)."""
    try:
        value = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return min(max(value, 0.0), 1.0) if math.isfinite(value) else 0.0


def _check_text(text: str) -> None:
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, not {type(text).__name__}")


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _QUOTE_CHARS else text[: _QUOTE_CHARS - 1] + "…"


def _first_with_also(found: list[Trigger]) -> Trigger | None:
    if not found:
        return None
    first = found[0]
    if len(found) > 1:
        also = [t.kind for t in found[1:] if t.kind != first.kind]
        if also:
            return Trigger(first.kind, first.reason, {**first.detail, "also": also})
    return first


def _since_handoff(history: Sequence[Turn]) -> Sequence[Turn]:
    for i in range(len(history) - 1, -1, -1):
        if history[i].escalated or history[i].role == AGENT:
            return history[i + 1 :]
    return history


def _misses_in_a_row(turns: Sequence[Turn], threshold: float) -> list[float]:
    """Confidences of the bot's latest answers below the threshold, newest first, up to
    the last confident one. Bot turns without a confidence (greetings, notices) are
    neither a miss nor a hit."""
    misses = []
    for turn in reversed(turns):
        if turn.role != BOT or turn.confidence is None:
            continue
        confidence = _as_confidence(turn.confidence)
        if confidence >= threshold:
            break
        misses.append(confidence)
    return misses


def _low_confidence(confidence: float, earlier: list[float], policy: EscalationPolicy) -> Trigger:
    threshold = policy.confidence_threshold
    if earlier:
        seq = ", then ".join(f"{c:.2f}" for c in [*reversed(earlier), confidence])
        reason = (
            f"The bot was not confident enough to answer {len(earlier) + 1} times in a row "
            f"(confidence {seq}; threshold {threshold:.2f})."
        )
    else:
        reason = (
            "The bot was not confident enough to answer "
            f"(confidence {confidence:.2f}, threshold {threshold:.2f})."
        )
    return Trigger(
        LOW_CONFIDENCE,
        reason,
        {
            "confidence": round(float(confidence), 4),
            "threshold": threshold,
            "misses_in_a_row": len(earlier) + 1,
            "required": policy.low_confidence_misses,
        },
    )


def _sensitive_keyword(hit: escalation_text.TopicHit) -> Trigger:
    label = escalation_text.topic_label(hit.topic)
    if hit.topic == "keyword":
        reason = f"The message contains a configured sensitive phrase: “{_short(hit.phrase)}”."
    else:
        reason = f"Sensitive topic ({label}): the customer wrote “{_short(hit.phrase)}”."
    return Trigger(
        SENSITIVE_TOPIC,
        reason,
        {"source": "keyword", "topic": hit.topic, "phrase": _short(hit.phrase)},
    )


def _sensitive_tags(
    cited: tuple[int, ...],
    policy: EscalationPolicy,
    tags_of: Callable[[tuple[int, ...]], Mapping[int, Iterable[str]]],
) -> list[Trigger]:
    tags = tags_of(cited)
    for faq_id in cited:
        hits = sorted({t.casefold() for t in tags.get(faq_id, ())} & policy.sensitive_faq_tags)
        if hits:
            return [
                Trigger(
                    SENSITIVE_TOPIC,
                    f"The answer cites FAQ #{faq_id}, tagged “{hits[0]}”, a topic configured "
                    "to go to a person.",
                    {"source": "faq_tag", "faq_id": faq_id, "tags": hits},
                )
            ]
    return []


def _exchanges(turns: Sequence[Turn]) -> list[tuple[Turn, Turn]]:
    """(customer question, bot answer) pairs, in order."""
    pairs = []
    question = None
    for turn in turns:
        if turn.role == CUSTOMER:
            question = turn
        elif turn.role == BOT and question is not None and turn.confidence is not None:
            pairs.append((question, turn))
            question = None
    return pairs


def _asked_again(current: str, earlier: Turn, answer: Turn, policy: EscalationPolicy) -> str | None:
    """Why `current` reads as `earlier` asked again after `answer`, or None."""
    if answer.feedback is not None and answer.feedback < 0:
        return "the customer marked the earlier answer unhelpful"
    if marker := escalation_text.rephrase_marker(current):
        return f"the customer wrote “{_short(marker)}”"
    overlap = escalation_text.similarity(current, earlier.text)
    if overlap >= policy.circling_similarity:
        return f"the question repeats the earlier one ({overlap:.0%} of its words)"
    return None


def _circling(
    text: str, turns: Sequence[Turn], cited: tuple[int, ...], policy: EscalationPolicy
) -> Trigger | None:
    """The same FAQ cited for the same question asked again, `policy.circling` times.

    Walks back over the answered questions: each step needs the earlier answer to share a
    cited FAQ with the later one and a sign that the later question asks the earlier one
    again. A follow-up the same FAQ answers ("and can I tumble dry it?") shows no such
    sign and does not count.
    """
    if policy.circling < 2:
        return None
    shared = set(cited)
    current = text
    times = 1
    why: list[str] = []
    for question, answer in reversed(_exchanges(turns)):
        if not answer.cited_faq_ids:
            continue  # a rephrase prompt or a refusal: no FAQ was given
        common = shared & set(answer.cited_faq_ids)
        if not common:
            break
        reason = _asked_again(current, question, answer, policy)
        if reason is None:
            break
        times += 1
        why.append(reason)
        shared, current = common, question.text
        if times >= policy.circling:
            faq_id = min(shared)
            return Trigger(
                CIRCLING,
                f"The bot cited FAQ #{faq_id} {times} times for the same question asked "
                f"again ({why[0]}).",
                {"faq_id": faq_id, "times": times, "evidence": why},
            )
    return None

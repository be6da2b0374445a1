"""When the bot hands over to a person. Pure: no database, no network.

STAND-IN written by the handoff branch (h1) so its glue code runs: the real module, with
the full trigger set and its measurement bench, comes from the h2-triggers branch and
replaces this file whole. Only the interface below is relied on by agents/handoff.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings


@dataclass(frozen=True)
class Trigger:
    kind: str
    reason: str
    detail: dict = field(default_factory=dict)


@dataclass
class Turn:
    role: str
    text: str
    confidence: float | None = None
    cited_faq_ids: tuple[int, ...] = ()
    feedback: int | None = None
    escalated: bool = False


_EXPLICIT = (
    "human",
    "agent",
    "real person",
    "a person",
    "operator",
    "人工",
    "转人工",
    "真人客服",
    "客服",
)


def before_answer(text: str, history: list[Turn]) -> Trigger | None:
    lowered = text.lower()
    for phrase in _EXPLICIT:
        if phrase in lowered:
            return Trigger("explicit_request", f"The customer asked for a person (“{phrase}”).", {})
    return None


def after_answer(
    text: str, history: list[Turn], *, confidence: float, cited_faq_ids: tuple[int, ...]
) -> Trigger | None:
    if confidence < settings.ANSWER_CONFIDENCE_THRESHOLD:
        return Trigger(
            "low_confidence",
            f"The assistant's confidence {confidence:.2f} is below the threshold "
            f"{settings.ANSWER_CONFIDENCE_THRESHOLD:.2f}.",
            {"confidence": confidence},
        )
    return None


def after_feedback(history: list[Turn]) -> Trigger | None:
    downs = [t for t in history if t.role == "bot" and t.feedback == -1]
    if len(downs) >= 2:
        return Trigger(
            "negative_feedback",
            f"The customer marked {len(downs)} answers as unhelpful.",
            {"count": len(downs)},
        )
    return None


def low_confidence_needs_rephrase(history: list[Turn], confidence: float) -> bool:
    return False

"""A short extractive summary of a conversation for the agent who picks it up.

No model: the customer's own sentences, chosen by how much they say about the topic the
customer keeps coming back to, plus what the bot did and why it handed over. Every line
is copied or counted from the transcript, so the summary cannot invent anything.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from agents.models import Handoff
from chatbot.models import Message

MAX_CHARS = 180
_SENTENCE = re.compile(r"(?<=[.!?。！？])\s*|\n+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u9fff]")
_STOP = frozenset(
    """a an the and or but if of to in on at for with from by is are was were be been am i
    me my we our you your it its this that these those do does did have has had can could
    would should will just so not no yes please thanks thank hi hello hey ok okay what how
    why when where which who there here about any some get got""".split()
)


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1].rstrip() + "…"


def _terms(text: str) -> list[str]:
    terms: list[str] = []
    for word in _WORD.findall(text.lower()):
        if _CJK.search(word):
            # Chinese has no spaces: character bigrams stand in for words.
            chars = [c for c in word if _CJK.match(c)]
            terms.extend(a + b for a, b in zip(chars, chars[1:], strict=False))
        elif word not in _STOP and len(word) > 1:
            terms.append(word)
    return terms


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s and len(s.strip()) > 3]


def _key_sentences(texts: Sequence[str], skip: str, n: int) -> list[str]:
    weight = Counter(t for text in texts for t in set(_terms(text)))
    scored = []
    for order, sentence in enumerate(s for text in texts for s in _sentences(text)):
        if sentence == skip:
            continue
        terms = _terms(sentence)
        if not terms:
            continue
        # Words the customer repeats across messages carry the topic; digits are often
        # the order or tracking numbers an agent needs first.
        score = sum(weight[t] for t in set(terms)) / len(terms) ** 0.5
        score += 2.0 if re.search(r"\d{3,}", sentence) else 0.0
        scored.append((score, order, sentence))
    best = sorted(scored, key=lambda item: (-item[0], item[1]))[:n]
    return [sentence for _, _, sentence in sorted(best, key=lambda item: item[1])]


def summarize(messages: Sequence[Message], handoffs: Sequence[Handoff]) -> list[str]:
    customer = [m.text for m in messages if m.role == Message.CUSTOMER]
    if not customer:
        return ["The customer has not written anything yet."]
    # The first sentence that says something ("Hi there!" does not).
    first = next((s for text in customer for s in _sentences(text) if _terms(s)), customer[0])
    lines = [f"Asked: {_clip(first)}"]
    for sentence in _key_sentences(customer, first, 2):
        lines.append(f"Also said: {_clip(sentence)}")

    bot = [m for m in messages if m.role == Message.BOT and m.state == Message.COMPLETE]
    cited: list[str] = []
    for m in bot:
        for c in m.citations or []:
            question = c.get("question") if isinstance(c, dict) else None
            if question and question not in cited:
                cited.append(question)
    if cited:
        lines.append("Assistant answered from: " + "; ".join(_clip(q) for q in cited[:3]))
    missed = sum(1 for m in bot if m.escalate)
    if missed:
        lines.append(f"Assistant could not answer {missed} question{'s' if missed > 1 else ''}.")
    downs = sum(1 for m in bot if m.feedback == -1)
    if downs:
        lines.append(f"Customer marked {downs} answer{'s' if downs > 1 else ''} unhelpful.")
    if handoffs:
        lines.append(f"Handed over: {_clip(handoffs[-1].reason)}")
    return lines

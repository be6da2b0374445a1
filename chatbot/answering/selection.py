"""Which sentences of an FAQ answer a question: for trimming references in the prompt and
for the quoted fallback.

Score: the share of the question's content words a sentence contains, plus its embedding
similarity to the question, plus a small bonus for an answer's first sentence (FAQ answers
usually open with the direct answer). Chosen sentences keep their original order, and a
chosen list item brings the line that introduces its list, without which "Gift cards and
e-gift cards" means nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from chatbot.answering import vectors
from chatbot.answering.sentences import Sentence, split_sentences
from faq_ingest.retrieval.embedders import Embedder
from faq_ingest.retrieval.text import tokenize

FIRST_SENTENCE_BONUS = 0.1
EMBED_CANDIDATES = 6
_LIST_ITEM_RE = re.compile(r"^\s*(?:[-*•]|\d{1,3}[.)])\s+")


@lru_cache(maxsize=4096)
def answer_sentences(answer: str) -> tuple[Sentence, ...]:
    return tuple(split_sentences(answer))


@dataclass(frozen=True)
class Scored:
    position: int
    sentence: Sentence
    lexical: float
    similarity: float

    @property
    def score(self) -> float:
        bonus = FIRST_SENTENCE_BONUS if self.position == 0 else 0.0
        return self.lexical + self.similarity + bonus


def rank(question: str, answer: str, embedder: Embedder | None) -> list[Scored]:
    """The answer's sentences, best first.

    Only the EMBED_CANDIDATES best by shared words (and the first sentence) are embedded:
    this runs before generation starts, and a long FAQ has dozens of sentences.
    """
    sentences = answer_sentences(answer)
    if not sentences:
        return []
    q_tokens = set(tokenize(question))
    lexical = [
        len(q_tokens & set(tokenize(s.text))) / len(q_tokens) if q_tokens else 0.0
        for s in sentences
    ]
    sims = np.zeros(len(sentences), dtype=np.float32)
    if embedder is not None:
        first_bonus = [FIRST_SENTENCE_BONUS if i == 0 else 0.0 for i in range(len(sentences))]
        order = sorted(range(len(sentences)), key=lambda i: -(lexical[i] + first_bonus[i]))
        picked = sorted(order[:EMBED_CANDIDATES])
        vecs = vectors.embed(embedder, [question, *(sentences[i].text for i in picked)])
        for row, i in enumerate(picked, start=1):
            sims[i] = float(vecs[row] @ vecs[0])
    scored = [Scored(i, s, lexical[i], max(0.0, float(sims[i]))) for i, s in enumerate(sentences)]
    return sorted(scored, key=lambda x: (-x.score, x.position))


def is_list_item(sentence: Sentence) -> bool:
    return bool(_LIST_ITEM_RE.match(sentence.text))


def select(
    question: str,
    answer: str,
    *,
    embedder: Embedder | None,
    max_sentences: int,
    max_chars: int,
) -> list[Sentence]:
    """The most relevant sentences of `answer`, in their original order."""
    ranked = rank(question, answer, embedder)
    if not ranked:
        return []
    sentences = answer_sentences(answer)
    chosen: set[int] = set()
    used = 0
    for item in ranked:
        if len([i for i in chosen if not _is_lead_in(i, chosen, sentences)]) >= max_sentences:
            break
        extra = {item.position}
        if is_list_item(item.sentence):
            lead = _lead_in(item.position, sentences)
            if lead is not None:
                extra.add(lead)
        cost = sum(len(sentences[i].text) + 1 for i in extra - chosen)
        if chosen and used + cost > max_chars:
            continue
        chosen |= extra
        used += cost
    return [sentences[i] for i in sorted(chosen)]


def _lead_in(position: int, sentences: tuple[Sentence, ...]) -> int | None:
    """The sentence that introduces the list `position` is an item of."""
    for i in range(position - 1, -1, -1):
        if not is_list_item(sentences[i]):
            return i if sentences[i].text.rstrip().endswith((":", "：")) else None
    return None


def _is_lead_in(i: int, chosen: set[int], sentences: tuple[Sentence, ...]) -> bool:
    return any(j > i and is_list_item(sentences[j]) and _lead_in(j, sentences) == i for j in chosen)


def as_text(sentences: list[Sentence]) -> str:
    """Selected sentences as one text: list items on their own lines, prose run on."""
    out = ""
    for s in sentences:
        if out:
            out += "\n" if is_list_item(s) else s.sep
        out += s.text
    return out

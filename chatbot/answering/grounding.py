"""Checks that a generated answer is supported by the FAQs it cites, and picks citations.

A small model paraphrases and sometimes invents. We measure how much of the answer's
content words appear in the references; an answer that mostly is not in them is replaced
by the best reference's own text, so the bot never claims what the FAQs do not say.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from faq_ingest.retrieval.searcher import IndexDoc
from faq_ingest.retrieval.text import tokenize

_CITE_RE = re.compile(r"\[(\d{1,2})\]")
_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)?")

# Share of the answer's content tokens that must occur in the cited references.
MIN_SUPPORT = 0.6


@dataclass
class Grounding:
    support: float
    cited: list[int]  # 0-based indexes into the references
    unsupported_numbers: list[str]

    @property
    def supported(self) -> bool:
        return self.support >= MIN_SUPPORT and not self.unsupported_numbers


def cited_indexes(answer: str, n_refs: int) -> list[int]:
    out: list[int] = []
    for match in _CITE_RE.finditer(answer):
        i = int(match.group(1)) - 1
        if 0 <= i < n_refs and i not in out:
            out.append(i)
    return out


def strip_citation_marks(answer: str) -> str:
    return re.sub(r"\s*\[\d{1,2}\]", "", answer).strip()


def check(answer: str, refs: Sequence[IndexDoc]) -> Grounding:
    cited = cited_indexes(answer, len(refs))
    body = strip_citation_marks(answer)
    tokens = set(tokenize(body))
    if not refs or not tokens:
        return Grounding(0.0, cited, [])
    per_ref = [set(tokenize(f"{d.question} {d.answer}")) for d in refs]
    if not cited:
        # Cite the reference the answer overlaps most.
        overlaps = [len(tokens & t) for t in per_ref]
        best = max(range(len(refs)), key=lambda i: overlaps[i])
        cited = [best] if overlaps[best] else []
    pool = set().union(*(per_ref[i] for i in cited)) if cited else set()
    support = len(tokens & pool) / len(tokens)
    ref_text = " ".join(f"{refs[i].question} {refs[i].answer}" for i in cited)
    ref_numbers = set(_NUMBER_RE.findall(ref_text))
    # Invented prices, days and percentages are the most harmful hallucination.
    unsupported = [n for n in _NUMBER_RE.findall(body) if n not in ref_numbers]
    return Grounding(support, cited, unsupported)

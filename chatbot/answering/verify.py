"""Checks one generated sentence against the FAQ references it cites, before anyone sees it.

A sentence is supported when
- its meaning is in the reference: enough of its content words occur there and it is
  close in embedding space to one of the reference's sentences, or, when an entailment
  model is configured (CHATBOT_NLI_MODEL), the reference entails it; and
- every hard fact it states is there too: each number with its unit and currency, link,
  email, phone number and name; no clause flips the negation of the reference clause it
  restates ("can" for "can't"); and an opening "Yes"/"No" answers a question the
  reference is about, the same way round.

A sentence that cites no reference, or one that does not support it, is checked against
the other retrieved references as well; the citation shown is the reference that
supports it, never one that does not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from chatbot.answering import facts, vectors
from chatbot.answering.entailment import EntailmentModel
from chatbot.answering.selection import answer_sentences
from chatbot.answering.sentences import cited_numbers, strip_markers
from faq_ingest.retrieval.embedders import Embedder
from faq_ingest.retrieval.searcher import IndexDoc
from faq_ingest.retrieval.text import tokenize

# Supported by meaning: nearly all of its content words are in one sentence of the
# reference (not gathered from all over it: a small model's typical invention recombines
# the FAQ's own words, "get a return label at the order number printed on the gift
# receipt"), and it is at least fairly close to that sentence in embedding space.
# Paraphrases that change many words fail: a dropped true sentence costs a quote, a shown
# false one costs trust. Chosen by reading SmolLM2's drafts on the development sets
# (bench/answer.py --out writes every draft and verdict).
LOCAL_MIN = 0.8
SIMILARITY_MIN = 0.5
# With an entailment model: its probability, and a floor on shared words so a generic
# sentence ("We are happy to help.") is not "entailed" by any text.
LEXICAL_FLOOR_NLI = 0.3
# A clause restates a reference clause when it shares this much of its content words.
CLAUSE_MATCH = 0.5
# An opening yes/no needs the reference to contain this share of the question's words.
QUESTION_COVERAGE = 0.75
SIMILARITY_CANDIDATES = 3
# The opening sentence of an answer must be about the question: a shared content word, or
# at least this cosine with it.
RELEVANCE_MIN = 0.4


_NUMBER_WORDS_RE = re.compile(
    r"\b(" + "|".join(sorted(facts.EN_NUMBER_WORDS, key=len, reverse=True)) + r")\b", re.I
)


def _words(text: str) -> list[str]:
    """Content words, with number words as digits ("two-year" meets "2-year")."""
    return tokenize(
        _NUMBER_WORDS_RE.sub(lambda m: str(facts.EN_NUMBER_WORDS[m.group(1).lower()]), text)
    )


@dataclass
class Verdict:
    sentence: str  # as generated, markers included
    text: str  # as the customer would read it
    supported: bool
    reasons: list[str] = field(default_factory=list)
    cited: list[int] = field(default_factory=list)  # 0-based reference indexes shown
    scores: dict[str, float] = field(default_factory=dict)

    def to_record(self, refs: Sequence[IndexDoc]) -> dict:
        return {
            "text": self.text,
            "generated": self.sentence,
            "supported": self.supported,
            "reasons": self.reasons,
            "cited_faq_ids": [_faq_id(refs[i]) for i in self.cited],
            "scores": {k: round(v, 4) for k, v in self.scores.items()},
        }


def _faq_id(doc: IndexDoc) -> int | str:
    return int(doc.id) if str(doc.id).isdigit() else doc.id


@dataclass
class _Ref:
    doc: IndexDoc
    text: str  # question and answer, what facts are looked up in
    tokens: set[str]  # content words of the answer
    question_tokens: set[str]
    sentences: list[str]  # of the answer
    windows: list[tuple[set[str], str]]  # each answer sentence: its words, its text
    opening: tuple[set[str], str]  # the question with the answer's first sentence
    clauses: list[tuple[set[str], bool, str]]  # (content words, negated, text)


class Verifier:
    def __init__(
        self,
        question: str,
        refs: Sequence[IndexDoc],
        *,
        embedder: Embedder | None = None,
        entailment: EntailmentModel | None = None,
        nli_threshold: float = 0.5,
    ) -> None:
        self.question = question
        self.docs = list(refs)
        self.embedder = embedder
        self.entailment = entailment
        self.nli_threshold = nli_threshold
        self._refs = [self._prepare(d) for d in self.docs]

    @staticmethod
    def _prepare(doc: IndexDoc) -> _Ref:
        # Support comes from the answer: an FAQ's question states what customers ask
        # ("my parcel says delivered but it isn't here"), not what is true.
        sentences = [s.text for s in answer_sentences(doc.answer)] or [doc.answer]
        clause_list = []
        for s in sentences:
            for c in facts.clauses(s):
                words = set(_words(c))
                if words:
                    clause_list.append((words, facts.negated(c), c))
        windows = [(set(_words(text)), text) for text in sentences]
        opening_text = f"{doc.question} {sentences[0]}"
        opening = (set(_words(opening_text)), opening_text)
        return _Ref(
            doc,
            f"{doc.question}\n{doc.answer}",
            set(_words(doc.answer)),
            set(_words(doc.question)),
            sentences,
            windows,
            opening,
            clause_list,
        )

    def _similarity(self, vec: np.ndarray, words: set[str], i: int) -> float:
        """Best cosine between the sentence and the reference's sentences that share the
        most words with it (embedding all of a long FAQ would delay the first sentence)."""
        ref = self._refs[i]
        order = sorted(
            range(len(ref.sentences)), key=lambda k: -len(words & set(_words(ref.sentences[k])))
        )[:SIMILARITY_CANDIDATES]
        return vectors.cosine_max(
            vec, vectors.embed(self.embedder, [ref.sentences[k] for k in order])
        )

    def check(self, sentence: str) -> Verdict:
        text = strip_markers(sentence)
        # An opening "Yes," is checked against the question (_yes_no), not as a word.
        words = set(_words(facts.strip_yes_no(text)))
        if not words:
            return Verdict(sentence, text, False, ["no content words to check"])
        n = len(self.docs)
        marked = [k - 1 for k in cited_numbers(sentence) if 1 <= k <= n]
        vec = vectors.embed(self.embedder, [text])[0] if self.embedder is not None else None
        attempts: list[list[int]] = []
        if marked:
            attempts.append(marked)
        others = [i for i in range(n) if [i] not in attempts and i not in marked]
        # Most promising first: the reference sharing most of the sentence's words.
        others.sort(key=lambda i: -len(words & self._refs[i].tokens))
        attempts += [[i] for i in others]
        first: Verdict | None = None
        for group in attempts:
            verdict = self._check_against(sentence, text, words, vec, group)
            if verdict.supported:
                if marked and group != marked:
                    verdict.reasons.append(
                        f"cited [{', '.join(str(i + 1) for i in marked)}] but supported by "
                        f"[{group[0] + 1}], which is the citation shown"
                    )
                return verdict
            first = first or verdict
        return first or Verdict(sentence, text, False, ["no references"])

    def _check_against(
        self,
        sentence: str,
        text: str,
        words: set[str],
        vec: np.ndarray | None,
        group: list[int],
    ) -> Verdict:
        refs = [self._refs[i] for i in group]
        label = "[" + ", ".join(str(i + 1) for i in group) + "]"
        ref_text = "\n".join(r.text for r in refs)
        ref_tokens = set().union(*(r.tokens for r in refs))
        lexical = len(words & ref_tokens) / len(words)
        # The words must also come from one sentence, not be gathered across the answer:
        # a small model's typical invention recombines the FAQ's own words.
        windows = [w for r in refs for w in r.windows]
        if facts.yes_no_lead(text) is not None:
            # "Yes, you can pick up your order in a store" turns the FAQ's question into
            # the answer its first sentence gives; _yes_no checks it is the right way round.
            windows += [r.opening for r in refs]
        local, window = max(
            ((len(words & w) / len(words), t) for w, t in windows),
            default=(0.0, ""),
            key=lambda x: x[0],
        )
        scores = {"lexical": lexical, "local": local}
        reasons: list[str] = []

        if vec is not None:
            scores["similarity"] = max(
                [self._similarity(vec, words, i) for i in group]
                + [float(vectors.embed(self.embedder, [window])[0] @ vec)]
            )
        if self.entailment is not None:
            premises = self._premises(text, vec, group)
            probs = self.entailment.entailment([(p, text) for p in premises])
            scores["entailment"] = max(probs) if probs else 0.0
            meaning = scores["entailment"] >= self.nli_threshold and lexical >= LEXICAL_FLOOR_NLI
            if not meaning:
                reasons.append(
                    f"{label} does not entail it (p={scores['entailment']:.2f}, "
                    f"words {lexical:.0%})"
                )
        else:
            sim = scores.get("similarity", 1.0)
            meaning = local >= LOCAL_MIN and sim >= SIMILARITY_MIN
            if not meaning:
                shown = f", similarity {sim:.2f}" if "similarity" in scores else ""
                reasons.append(f"not in {label}: {lexical:.0%} of its words{shown}")

        for q in facts.unsupported_quantities(text, ref_text):
            reasons.append(f"number “{q}” is not in {label}")
        for c in facts.unsupported_contacts(text, ref_text):
            reasons.append(f"“{c}” is not in {label}")
        for name in facts.unsupported_names(text, ref_text):
            reasons.append(f"name “{name}” is not in {label}")
        for word in sorted(facts.qualifiers(text) - facts.qualifiers(window)):
            reasons.append(f"“{word}” is not in the passage of {label} it restates")
        reasons += self._negation_flips(text, refs, label)
        reasons += self._dropped_hedges(text, refs, label)
        reasons += self._yes_no(text, refs, ref_tokens, label)
        return Verdict(sentence, text, not reasons, reasons, list(group), scores)

    def _premises(self, text: str, vec: np.ndarray | None, group: list[int]) -> list[str]:
        """The reference passages the entailment model reads: each reference's question
        with its closest sentences, within a cross-encoder's input size."""
        out = []
        for i in group:
            ref = self._refs[i]
            body = ref.sentences
            if vec is not None and len(body) > 3:
                sims = vectors.embed(self.embedder, body) @ vec
                order = sorted(range(len(body)), key=lambda k: -float(sims[k]))[:3]
                body = [body[k] for k in sorted(order)]
            out.append(" ".join([ref.doc.question, *body])[:1500])
        return out

    @staticmethod
    def _best_clause(words: set[str], refs: list[_Ref]) -> tuple[float, bool, str]:
        best = (0.0, False, "")
        for ref in refs:
            for c_words, neg, c_text in ref.clauses:
                share = len(words & c_words) / len(words)
                if share > best[0]:
                    best = (share, neg, c_text)
        return best

    def _negation_flips(self, text: str, refs: list[_Ref], label: str) -> list[str]:
        out = []
        for clause in facts.clauses(text):
            words = set(_words(clause))
            if len(words) < 2:
                continue
            share, ref_negated, ref_clause = self._best_clause(words, refs)
            if share >= CLAUSE_MATCH and facts.negated(clause) != ref_negated:
                out.append(f"negation: “{clause}” but {label} says “{ref_clause}”")
        return out

    def addresses_question(self, text: str) -> bool:
        """Whether a sentence is about what was asked: it shares a content word with the
        question, or is close to it in embedding space."""
        q_words = set(_words(self.question))
        if not q_words or q_words & set(_words(text)):
            return True
        if self.embedder is None:
            return False
        vecs = vectors.embed(self.embedder, [self.question, text])
        return float(vecs[0] @ vecs[1]) >= RELEVANCE_MIN

    def _dropped_hedges(self, text: str, refs: list[_Ref], label: str) -> list[str]:
        out = []
        for clause in facts.clauses(text):
            words = set(_words(clause))
            if len(words) < 2:
                continue
            share, _negated, ref_clause = self._best_clause(words, refs)
            if share >= CLAUSE_MATCH:
                for word in sorted(facts.hedges(ref_clause) - facts.hedges(text)):
                    out.append(f"drops “{word}” from {label}: “{ref_clause}”")
        return out

    def _yes_no(self, text: str, refs: list[_Ref], ref_tokens: set[str], label: str) -> list[str]:
        lead = facts.yes_no_lead(text)
        if lead is None:
            return []
        q_words = set(_words(self.question))
        if not q_words:
            return []
        about = ref_tokens.union(*(r.question_tokens for r in refs))
        coverage = len(q_words & about) / len(q_words)
        if coverage < QUESTION_COVERAGE:
            return [f"answers {'yes' if lead else 'no'}, but {label} is not about the question"]
        share, ref_negated, ref_clause = self._best_clause(q_words, refs)
        claim_negated = facts.negated(self.question) if lead else not facts.negated(self.question)
        if share >= CLAUSE_MATCH and claim_negated != ref_negated:
            return [f"answers {'yes' if lead else 'no'}, but {label} says “{ref_clause}”"]
        return []

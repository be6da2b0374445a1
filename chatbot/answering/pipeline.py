"""retrieve → decide → prompt → generate → verify each sentence → show it → cite.

Nothing the model writes reaches `on_token` unverified: generation streams into a sentence
buffer, each complete sentence is checked against the FAQ references (verify.py), and only
supported sentences are passed on, as they complete. When none survives, the customer gets
the most relevant sentences of the best FAQ, quoted and cited (fallback.py). What
`on_token` received, concatenated, is exactly the final answer text: nothing shown is
ever taken back.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.conf import settings

from chatbot.answering import fallback, selection
from chatbot.answering.entailment import get_entailment_model
from chatbot.answering.prompt import STOP, build_messages
from chatbot.answering.sentences import MARKER_RE, Sentence, SentenceBuffer
from chatbot.answering.verify import Verdict, Verifier
from chatbot.generation import get_generator
from faq_ingest import index
from faq_ingest.retrieval.embedders import get_embedder
from faq_ingest.retrieval.searcher import Hit, IndexDoc

log = logging.getLogger(__name__)

# Prompt references: the best hit and those close to it; a weak third mostly distracts a
# small model. Each is cut to its sentences most relevant to the question (shorter prefill,
# fewer things to paraphrase wrongly).
MAX_PROMPT_REFERENCES = 3
RELATIVE_SCORE_FLOOR = 0.5
REFERENCE_SENTENCES = (3, 2, 2)  # for the 1st, 2nd, 3rd reference
REFERENCE_CHARS = (420, 240, 240)
# Stop generating once this many sentences were shown, or after this many unsupported
# sentences in a row: a draft that went off the rails rarely comes back.
MAX_SENTENCES = 3
MAX_UNSUPPORTED_RUN = 2
# A shown sentence has at least this many words ("refund" alone is not an answer).
MIN_WORDS = 3

OUTCOME_DRAFT = "draft"  # the model's verified sentences
OUTCOME_FALLBACK = "fallback"  # quoted FAQ sentences
OUTCOME_HANDOFF = "handoff"  # nothing to answer from: flagged for a person


class AnswerCancelled(Exception):
    """`should_stop()` returned True: generation was stopped and nothing more is sent."""


@dataclass
class Answer:
    answer: str
    citations: list[dict]
    confidence: float
    escalate: bool
    outcome: str = OUTCOME_DRAFT
    draft: str = ""  # everything the model generated, shown or not
    verdicts: list[dict] = field(default_factory=list)  # one per generated sentence
    references: list[dict] = field(default_factory=list)  # retrieved FAQs with scores
    timings: dict = field(default_factory=dict)
    language: str = "en"

    @property
    def kept_draft(self) -> bool:
        """The customer read the model's own (verified) words, not a quote or hand-off."""
        return self.outcome == OUTCOME_DRAFT

    def to_public(self) -> dict:
        """The stable machine shape of `ask --json` and POST /api/v1/ask."""
        return {
            "answer": self.answer,
            "citations": self.citations,
            "confidence": self.confidence,
            "escalate": self.escalate,
        }

    def to_record(self) -> dict:
        """What is stored with the bot message for staff (see Message)."""
        return {
            "draft": self.draft,
            "verdicts": self.verdicts,
            "references": self.references,
            "kept_draft": self.kept_draft,
            "outcome": self.outcome,
            "timings": self.timings,
        }


def _citation(doc: IndexDoc) -> dict:
    return {"faq_id": int(doc.id), "question": doc.question, "url": doc.url}


def _reference(rank: int, hit: Hit, prompt_text: str | None) -> dict:
    return {
        "rank": rank,
        "faq_id": int(hit.doc.id),
        "question": hit.doc.question,
        "url": hit.doc.url,
        "score": round(float(hit.score), 4),
        "bm25": round(float(hit.bm25), 4),
        "dense": round(float(hit.dense), 4),
        "in_prompt": prompt_text is not None,
        "prompt_chars": len(prompt_text) if prompt_text is not None else 0,
        "cited": False,
    }


def prompt_references(question: str, hits: list[Hit], embedder) -> list[IndexDoc]:
    """The prompt's references: each hit's answer cut to its most relevant sentences."""
    docs = []
    for i, hit in enumerate(hits):
        chosen = selection.select(
            question,
            hit.doc.answer,
            embedder=embedder,
            max_sentences=REFERENCE_SENTENCES[min(i, len(REFERENCE_SENTENCES) - 1)],
            max_chars=REFERENCE_CHARS[min(i, len(REFERENCE_CHARS) - 1)],
        )
        text = selection.as_text(chosen) or hit.doc.answer
        docs.append(
            IndexDoc(id=hit.doc.id, question=hit.doc.question, answer=text, url=hit.doc.url)
        )
    return docs


def answer_question(
    question: str,
    on_token: Callable[[str], None] | None = None,
    *,
    should_stop: Callable[[], bool] | None = None,
    deadline: float | None = None,
) -> Answer:
    """Answer one customer question from the live index.

    `on_token` receives the answer as it becomes safe to show: each verified sentence
    (with the space or line break joining it to the one before), or the fallback or
    hand-off text; their concatenation is `Answer.answer`.
    `should_stop` is polled between generated tokens; when it returns True, generation
    stops and AnswerCancelled is raised.
    `deadline` is a time.monotonic() value: once generation passes it, generation stops
    and the customer keeps the sentences already shown, or gets the fallback if none was
    (timings["timed_out"] is then True).
    """
    question = question.strip()
    if not question:
        raise ValueError("empty question")
    t0 = time.perf_counter()
    emitted: list[str] = []
    lang = fallback.language(question)

    def emit(piece: str) -> None:
        emitted.append(piece)
        if on_token is not None:
            on_token(piece)

    result = index.search(question, k=settings.RETRIEVAL_TOP_K)
    timings: dict = {"retrieval_s": time.perf_counter() - t0, "timed_out": False}
    confidence = round(float(result.confidence), 4)
    references = [_reference(r, h, None) for r, h in enumerate(result.hits, start=1)]

    if not result.hits or confidence < settings.ANSWER_CONFIDENCE_THRESHOLD:
        text = fallback.handoff_text(question)
        emit(text)
        timings["first_sentence_s"] = timings["total_s"] = time.perf_counter() - t0
        return Answer(
            text,
            [],
            confidence,
            escalate=True,
            outcome=OUTCOME_HANDOFF,
            references=references,
            timings=timings,
            language=lang,
        )

    best = result.hits[0].score
    hits = [h for h in result.hits if h.score >= best * RELATIVE_SCORE_FLOOR]
    hits = hits[:MAX_PROMPT_REFERENCES]
    embedder = get_embedder()
    t1 = time.perf_counter()
    prompt_docs = prompt_references(question, hits, embedder)
    for ref, doc in zip(references, prompt_docs, strict=False):
        ref.update(in_prompt=True, prompt_chars=len(doc.answer))
    timings["prompt_s"] = time.perf_counter() - t1
    verifier = Verifier(
        question,
        [h.doc for h in hits],
        embedder=embedder,
        entailment=get_entailment_model(),
        nli_threshold=settings.NLI_THRESHOLD,
    )

    run = _Generation(question, prompt_docs, verifier, emit, should_stop, deadline, t0)
    run.execute()
    timings.update(run.timings)

    if run.shown:
        cited: list[int] = []
        for v in run.shown:
            cited += [i for i in v.cited if i not in cited]
        outcome = OUTCOME_DRAFT
    else:
        # Nothing the model wrote can be shown: the best FAQ's own words, quoted.
        quoted = fallback.quoted_sentences(question, hits[0].doc.answer, embedder)
        text = fallback.quote(question, quoted)
        emit(text)
        timings["first_sentence_s"] = time.perf_counter() - t0
        cited = [0]
        outcome = OUTCOME_FALLBACK
        log.info(
            "no verified sentence (%s); answered with %d quoted sentences",
            "; ".join(r for v in run.verdicts for r in v.reasons)[:300] or "empty draft",
            len(quoted),
        )
    for i in cited:
        references[i]["cited"] = True
    timings["total_s"] = time.perf_counter() - t0
    docs = [h.doc for h in hits]
    return Answer(
        "".join(emitted),
        [_citation(docs[i]) for i in cited],
        confidence,
        escalate=False,
        outcome=outcome,
        draft=run.draft,
        verdicts=[v.to_record(docs) for v in run.verdicts],
        references=references,
        timings=timings,
        language=lang,
    )


class _Generation:
    """One streamed generation, verified sentence by sentence."""

    def __init__(
        self,
        question: str,
        prompt_docs: list[IndexDoc],
        verifier: Verifier,
        emit: Callable[[str], None],
        should_stop: Callable[[], bool] | None,
        deadline: float | None,
        t0: float,
    ) -> None:
        self.messages = build_messages(question, prompt_docs)
        self.verifier = verifier
        self.emit = emit
        self.should_stop = should_stop
        self.deadline = deadline
        self.t0 = t0
        self.pieces: list[str] = []
        self.verdicts: list[Verdict] = []
        self.shown: list[Verdict] = []
        self.timings: dict = {"verify_s": 0.0}
        self._seen: set[str] = set()
        self._unsupported_run = 0

    @property
    def draft(self) -> str:
        return "".join(self.pieces).strip()

    def _stop_requested(self) -> bool:
        return self.should_stop is not None and self.should_stop()

    def _past_deadline(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def execute(self) -> None:
        max_tokens = settings.GENERATOR_MAX_TOKENS
        if self._stop_requested():
            raise AnswerCancelled()
        if self._past_deadline():
            self._finish("deadline", [])
            return
        buffer = SentenceBuffer()
        t_gen = time.perf_counter()
        stream: Iterator[str] = get_generator().stream(
            self.messages, max_tokens=max_tokens, stop=STOP
        )
        stop = "eos"
        try:
            for piece in stream:
                if not self.pieces:
                    self.timings["first_token_s"] = time.perf_counter() - self.t0
                self.pieces.append(piece)
                for sentence in buffer.feed(piece):
                    self._handle(sentence)
                if len(self.shown) >= MAX_SENTENCES:
                    stop = "enough"
                elif self._unsupported_run >= MAX_UNSUPPORTED_RUN:
                    stop = "off_track"
                elif self._stop_requested():
                    stop = "cancelled"
                elif self._past_deadline():
                    stop = "deadline"
                if stop != "eos":
                    break
        finally:
            # Closing the generator stops the backend mid-generation (llama.cpp stops
            # sampling, transformers' streamer loop ends) and releases its lock.
            close = getattr(stream, "close", None)
            if close is not None:
                close()
            self.timings["generation_s"] = time.perf_counter() - t_gen
        if stop == "cancelled":
            raise AnswerCancelled()
        if stop == "eos" and len(self.pieces) >= max_tokens:
            stop = "max_tokens"
        self._finish(stop, buffer.flush() if stop in ("eos", "max_tokens") else [])

    def _finish(self, stop: str, tail: list[Sentence]) -> None:
        for i, sentence in enumerate(tail):
            last = i == len(tail) - 1
            self._handle(sentence, tail=last, cut_off=last and stop == "max_tokens")
        self.timings["stop"] = stop
        self.timings["timed_out"] = stop == "deadline"
        self.timings["generated_pieces"] = len(self.pieces)

    def _handle(self, sentence: Sentence, *, tail: bool = False, cut_off: bool = False) -> None:
        if not MARKER_RE.sub("", sentence.text).strip(" \t.。"):
            return  # a line holding only a citation marker
        t = time.perf_counter()
        verdict = self.verifier.check(sentence.text)
        key = " ".join(verdict.text.lower().split())
        if key in self._seen:
            verdict.supported = False
            verdict.reasons.append("repeats an earlier sentence")
        if tail and not _ends_sentence(sentence.text):
            # Generation stopped mid-sentence ("You can return postage cost UK"): a
            # fragment whose words happen to be in the FAQ is still not a claim it makes.
            verdict.supported = False
            verdict.reasons.append(
                "cut off by the token limit" if cut_off else "unfinished: no sentence end"
            )
        if len(verdict.text.split()) < MIN_WORDS and not _cjk_end(verdict.text):
            verdict.supported = False
            verdict.reasons.append("too short to stand on its own")
        if (
            verdict.supported
            and not self.shown
            and not self.verifier.addresses_question(verdict.text)
        ):
            # True, but an answer must open with what was asked; details may follow it.
            verdict.supported = False
            verdict.reasons.append("does not address the question, so it cannot open the answer")
        self._seen.add(key)
        self.timings["verify_s"] += time.perf_counter() - t
        self.verdicts.append(verdict)
        if not verdict.supported:
            self._unsupported_run += 1
            return
        self._unsupported_run = 0
        sep = sentence.sep if self.shown else ""
        if sep == "" and self.shown and not _cjk_end(self.shown[-1].text):
            sep = " "
        self.emit(sep + verdict.text)
        if not self.shown:
            self.timings["first_sentence_s"] = time.perf_counter() - self.t0
        self.shown.append(verdict)


def _ends_sentence(text: str) -> bool:
    """Ends like a sentence (punctuation or a citation marker), or is a list item."""
    body = text.rstrip()
    return bool(re.search(r"[.!?。！？…:：)）\"”’']$|\]$", body)) or bool(
        re.match(r"\s*(?:[-*•]|\d{1,3}[.)])\s", body)
    )


def _cjk_end(text: str) -> bool:
    return bool(text) and ("\u3000" <= text[-1] <= "\u9fff" or text[-1] in "。！？；…")

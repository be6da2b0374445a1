from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from django.conf import settings

from chatbot.answering import grounding
from chatbot.answering.prompt import STOP, build_messages
from chatbot.generation import get_generator
from faq_ingest import index
from faq_ingest.retrieval.searcher import Hit
from faq_ingest.retrieval.text import is_cjk

log = logging.getLogger(__name__)

HANDOFF_EN = (
    "I couldn't find an answer to that in our help center, so I won't guess. "
    "I've flagged this conversation for a member of our support team."
)
HANDOFF_ZH = "我们的帮助中心里没有找到这个问题的答案，我不会猜测。已为您转接人工客服。"


class AnswerCancelled(Exception):
    """`should_stop()` said stop: the caller no longer wants this answer."""


@dataclass
class Answer:
    answer: str
    citations: list[dict]
    confidence: float
    escalate: bool
    grounded: bool = True
    timings: dict = field(default_factory=dict)

    def to_public(self) -> dict:
        """The stable machine shape of `ask --json` and POST /api/v1/ask."""
        data = asdict(self)
        return {k: data[k] for k in ("answer", "citations", "confidence", "escalate")}


def _citation(hit: Hit) -> dict:
    return {"faq_id": int(hit.doc.id), "question": hit.doc.question, "url": hit.doc.url}


def answer_question(
    question: str,
    on_token: Callable[[str], None] | None = None,
    *,
    should_stop: Callable[[], bool] | None = None,
    deadline: float | None = None,
) -> Answer:
    """Answer one customer question from the live index, streaming pieces to `on_token`.

    The returned answer is authoritative: when grounding fails the streamed draft is
    replaced by the best FAQ's own words.

    `should_stop()` is polled between tokens; when it says True generation stops and
    AnswerCancelled is raised. Past `deadline` (a time.monotonic() value) generation stops
    and the answer degrades to the FAQ's own words, as for an unsupported draft.
    """
    question = question.strip()
    if not question:
        raise ValueError("empty question")
    emit = on_token or (lambda _piece: None)
    t0 = time.perf_counter()
    result = index.search(question, k=settings.RETRIEVAL_TOP_K)
    timings = {"retrieval_s": time.perf_counter() - t0}
    confidence = round(float(result.confidence), 4)

    if not result.hits or confidence < settings.ANSWER_CONFIDENCE_THRESHOLD:
        text = HANDOFF_ZH if is_cjk(question) else HANDOFF_EN
        emit(text)
        timings["total_s"] = time.perf_counter() - t0
        return Answer(text, [], confidence, escalate=True, timings=timings)

    # Only references close to the best one: a weak third hit mostly distracts a small model.
    hits = [h for h in result.hits if h.score >= result.hits[0].score * 0.5][:3]
    refs = [h.doc for h in hits]
    generator = get_generator()
    pieces: list[str] = []
    t1 = time.perf_counter()
    timed_out = False
    stream = generator.stream(
        build_messages(question, refs), max_tokens=settings.GENERATOR_MAX_TOKENS, stop=STOP
    )
    # Closing the stream is how a backend is cancelled (it frees its slot at once).
    with contextlib.closing(stream):
        for piece in stream:
            if should_stop is not None and should_stop():
                raise AnswerCancelled
            if deadline is not None and time.monotonic() > deadline:
                timed_out = True
                break
            if not pieces:
                timings["first_token_s"] = time.perf_counter() - t0
            pieces.append(piece)
            emit(piece)
    timings["generation_s"] = time.perf_counter() - t1
    draft = "".join(pieces).strip()

    check = grounding.check(draft, refs)
    if timed_out:
        log.warning("generation passed its deadline; answering with the FAQ's words")
        timings["timed_out"] = True
    if check.supported and check.cited and not timed_out:
        text = grounding.strip_citation_marks(draft)
        cited = [hits[i] for i in check.cited]
        grounded = True
    else:
        # Say only what the best FAQ says, in its own words.
        log.info(
            "ungrounded draft replaced (support=%.2f, numbers=%s)",
            check.support,
            check.unsupported_numbers,
        )
        text = hits[0].doc.answer
        cited = [hits[0]]
        grounded = False
    timings["total_s"] = time.perf_counter() - t0
    return Answer(
        text,
        [_citation(h) for h in cited],
        confidence,
        escalate=False,
        grounded=grounded,
        timings=timings,
    )

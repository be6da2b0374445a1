"""What the bot says when the model's draft cannot be shown, in the customer's language.

- The hand-off, when retrieval found nothing confident enough to answer from.
- The quoted fallback, when nothing the model wrote survived verification: the most
  relevant sentences of the best FAQ, in its own words, quoted and cited.
"""

from __future__ import annotations

from chatbot.answering import selection
from chatbot.answering.sentences import Sentence
from faq_ingest.retrieval.embedders import Embedder
from faq_ingest.retrieval.text import is_cjk

HANDOFF = {
    # No promise of a person here: whether one can come is for agents.handoff to find out
    # and say (it posts "An agent will join…" or "nobody is available" right after this).
    "en": "I couldn't find an answer to that in our help center, so I won't guess.",
    "zh": "我们的帮助中心里没有找到这个问题的答案，我不会猜测。",
}
# {quote} is the FAQ's own words; the citation link under the message names the FAQ.
QUOTE_FRAME = {
    "en": "Here is what our help center says:\n“{quote}”",
    "zh": "帮助中心的说明如下：\n“{quote}”",
}
FALLBACK_SENTENCES = 2
FALLBACK_CHARS = 400


def language(question: str) -> str:
    """The language the bot answers in: Chinese for a question in Chinese, else English."""
    return "zh" if is_cjk(question) else "en"


def handoff_text(question: str) -> str:
    return HANDOFF[language(question)]


def quoted_sentences(question: str, answer: str, embedder: Embedder | None) -> list[Sentence]:
    return selection.select(
        question,
        answer,
        embedder=embedder,
        max_sentences=FALLBACK_SENTENCES,
        max_chars=FALLBACK_CHARS,
    )


def quote(question: str, sentences: list[Sentence]) -> str:
    body = selection.as_text(sentences).strip()
    return QUOTE_FRAME[language(question)].format(quote=body)

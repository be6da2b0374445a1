"""Knowledge-base search for agents ("insert a FAQ answer"): the same retrieval index the
bot uses (faq_ingest.index.search). The embedder loads where inference runs: in this
process when inference is inline, on an inference worker otherwise, so the scaled web
process never imports the model libraries."""

from __future__ import annotations

from django.conf import settings

MAX_QUERY_CHARS = 500


def search_here(query: str, k: int = 5) -> list[dict]:
    from faq_ingest import index

    result = index.search(query[:MAX_QUERY_CHARS], k=k)
    return [
        {
            "faq_id": int(hit.doc.id),
            "question": hit.doc.question,
            "answer": hit.doc.answer,
            "url": hit.doc.url,
            "score": round(float(hit.score), 4),
        }
        for hit in result.hits
    ]


def search(query: str, k: int = 5, timeout: float = 15.0) -> list[dict]:
    query = query.strip()
    if not query:
        return []
    if settings.INFERENCE_MODE == "inline":
        return search_here(query, k)
    from celery.exceptions import TimeoutError as CeleryTimeoutError

    from agents.tasks import search_kb

    try:
        return search_kb.apply_async(args=[query, k], queue="inference").get(timeout=timeout)
    except CeleryTimeoutError:
        raise TimeoutError(f"no inference worker answered within {timeout:.0f}s") from None

"""Where bot replies are computed: in this process (embedded) or on the `inference` queue.

torch and llama.cpp are imported only by the code path that runs here in inline mode, or
inside Celery inference workers; the web process in scaled mode never loads them.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings

log = logging.getLogger(__name__)

_executor: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def _inline_executor() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            # One thread: the model serves one generation at a time anyway, and a queue
            # in front of it keeps replies in arrival order.
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inference")
        return _executor


def submit_reply(customer_message_id: int) -> None:
    if settings.INFERENCE_MODE == "inline":
        from chatbot.conversations import run_reply

        future = _inline_executor().submit(run_reply, customer_message_id)
        future.add_done_callback(_log_failure)
    else:
        from chatbot.tasks import generate_reply

        generate_reply.apply_async(args=[customer_message_id], queue="inference")


def _log_failure(future) -> None:
    exc = future.exception()
    if exc is not None:
        log.error("inline reply failed", exc_info=exc)


def warm_up_in_background() -> threading.Thread:
    def warm() -> None:
        try:
            from chatbot.generation import get_generator
            from faq_ingest.retrieval.embedders import get_embedder

            get_embedder()
            get_generator()
        except Exception:
            log.exception("model warm-up failed; the first answer will retry loading")

    thread = threading.Thread(target=warm, name="model-warmup", daemon=True)
    thread.start()
    return thread


def ask(question: str, timeout: float = 120.0) -> dict:
    """A synchronous answer for the HTTP API: computed here or by an inference worker."""
    if settings.INFERENCE_MODE == "inline":
        from chatbot.answering import answer_question

        return answer_question(question).to_public()
    from celery.exceptions import TimeoutError as CeleryTimeoutError

    from chatbot.tasks import answer

    try:
        return answer.apply_async(args=[question], queue="inference").get(timeout=timeout)
    except CeleryTimeoutError:
        # Celery's TimeoutError is not the builtin one callers (the API view) handle.
        raise TimeoutError(f"no inference worker answered within {timeout:.0f}s") from None

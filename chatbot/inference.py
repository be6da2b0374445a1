"""Where bot replies are computed: in this process (embedded) or on the `inference` queue.

torch and llama.cpp are imported only by the code path that runs here in inline mode, or
inside Celery inference workers; the web process in scaled mode never loads them.
"""

from __future__ import annotations

import logging
import queue
import threading

from django.conf import settings

from chatbot import replies
from chatbot.tasks import answer as answer_task
from chatbot.tasks import generate_reply

log = logging.getLogger(__name__)

_queue: queue.Queue[int] | None = None
_lock = threading.Lock()


def _inline_queue() -> queue.Queue[int]:
    global _queue
    with _lock:
        if _queue is None:
            # Bounded: past QUEUE_MAX_DEPTH new messages are refused before they are stored
            # (conversations), and a reply that still finds it full fails visibly.
            _queue = queue.Queue(maxsize=settings.QUEUE_MAX_DEPTH)
            # One thread: the model serves one generation at a time anyway, and the queue
            # keeps replies in arrival order.
            threading.Thread(
                target=_serve_inline, args=(_queue,), name="inference", daemon=True
            ).start()
        return _queue


def _serve_inline(jobs: queue.Queue[int]) -> None:
    while True:
        customer_message_id = jobs.get()
        try:
            replies.run(customer_message_id)
        except Exception:
            log.exception("inline reply to message %s failed", customer_message_id)
        finally:
            jobs.task_done()


def submit_reply(customer_message_id: int) -> None:
    if settings.INFERENCE_MODE == "inline":
        try:
            _inline_queue().put_nowait(customer_message_id)
        except queue.Full:
            log.warning("inference queue full; refusing the reply to %s", customer_message_id)
            replies.refuse_busy(customer_message_id)
    else:
        generate_reply.apply_async(args=[customer_message_id], queue="inference")


def wait_inline_idle() -> None:
    """Block until the inline thread has finished every reply submitted so far."""
    if _queue is not None:
        _queue.join()


def inline_queue_size() -> int:
    return 0 if _queue is None else _queue.qsize()


def ask(question: str, timeout: float = 120.0) -> dict:
    """A synchronous answer for the HTTP API: computed here or by an inference worker."""
    if settings.INFERENCE_MODE == "inline":
        from chatbot.answering import answer_question

        return answer_question(question).to_public()
    from celery.exceptions import TimeoutError as CeleryTimeoutError

    try:
        return answer_task.apply_async(args=[question], queue="inference").get(timeout=timeout)
    except CeleryTimeoutError:
        # Celery's TimeoutError is not the builtin one callers (the API view) handle.
        raise TimeoutError(f"no inference worker answered within {timeout:.0f}s") from None

"""The bot reply's lifecycle: accepted, claimed by a worker, kept alive, taken over when its
worker dies, cancelled, finished exactly once.

A bot reply is a Message (role=bot, `reply_to` the customer's message) created PENDING in
the same transaction as the customer's message, so no accepted question exists without a
row that the pool can see, count and recover. Its states:

    PENDING    waiting for a worker (`attempt` = claims so far)
    STREAMING  held by the worker of claim number `attempt`; `heartbeat_at` is its last beat
    COMPLETE   final answer stored and published
    FAILED     generation raised; the customer was told; a redelivered task may try again
    CANCELLED  superseded by a newer customer message, or the customer left

The rules that make "exactly one final reply" hold across processes:
- claiming is a conditional UPDATE from the attempt number a worker read to the next one,
  so of two workers racing for the same reply exactly one wins;
- a STREAMING reply is claimable only once its heartbeat is older than REPLY_STALE_S (its
  worker is dead or hung), so a duplicate delivery of a live task does nothing;
- every write that ends a reply (finish, fail) is conditional on the writer's attempt and
  on STREAMING, so a worker that lost its claim (taken over, cancelled) writes and
  publishes nothing, and its generation stops at the next heartbeat.

Events go out only after commit (the answer's tokens are not rows, so they are published
as generated, tagged with the attempt so clients can drop a dead attempt's leftovers).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from agents import handoff
from chatbot import events, pool, presence
from chatbot.answering import Answer, AnswerCancelled, answer_question
from chatbot.models import Conversation, Message

log = logging.getLogger(__name__)

UNFINISHED = (Message.PENDING, Message.STREAMING)
# Embedded start-up answers what was pending before a restart, unless it is older than this:
# nobody is waiting for a day-old answer.
RECOVER_WITHIN = timedelta(hours=1)


@dataclass(frozen=True)
class Claim:
    """A worker's hold on one reply. `deadline` is time.monotonic() based."""

    reply_id: int
    customer_message_id: int
    attempt: int
    group: str
    question: str
    deadline: float
    claimed_at: float


# --- acceptance ------------------------------------------------------------------------


def accept(customer: Message) -> Message:
    """Inside the transaction that stores `customer`: cancel the conversation's unfinished
    replies (a newer message supersedes them) and create this message's PENDING reply.
    After commit, a `queue_status` event tells the customer the wait when the queue is past
    QUEUE_WARN_DEPTH. Dispatching the reply is the caller's job (after commit)."""
    cancel_unfinished(customer.conversation_id, "superseded")
    reply = Message.objects.create(
        conversation_id=customer.conversation_id,
        role=Message.BOT,
        reply_to=customer,
        state=Message.PENDING,
        heartbeat_at=timezone.now(),
    )
    ahead = Message.objects.filter(role=Message.BOT, state=Message.PENDING, pk__lt=reply.pk).count()
    if ahead >= max(1, settings.QUEUE_WARN_DEPTH):
        group = customer.conversation.group_name
        wait = pool.estimate_wait_s(ahead)
        transaction.on_commit(
            lambda: events.publish(group, events.queue_status(reply.pk, ahead, wait, True))
        )
    return reply


# --- claiming and running ---------------------------------------------------------------


def claim(customer_message_id: int) -> Claim | None:
    """Take the reply to one customer message, or None when there is nothing to do: the
    message is gone, its reply is finished or cancelled, or a live worker holds it."""
    customer = (
        Message.objects.select_related("conversation")
        .filter(pk=customer_message_id, role=Message.CUSTOMER)
        .first()
    )
    if customer is None:
        return None  # deleted while queued
    group = customer.conversation.group_name
    now = timezone.now()
    reply = Message.objects.filter(reply_to=customer, role=Message.BOT).first()
    if reply is None:
        # A message stored without a reply row (before this lifecycle existed): create it
        # already claimed. The unique constraint makes a concurrent creator lose.
        try:
            with transaction.atomic():
                reply = Message.objects.create(
                    conversation=customer.conversation,
                    role=Message.BOT,
                    reply_to=customer,
                    state=Message.STREAMING,
                    attempt=1,
                    heartbeat_at=now,
                )
        except IntegrityError:
            return None
        return _claim(reply.pk, customer, 1, group)
    stale_before = now - timedelta(seconds=settings.REPLY_STALE_S)
    claimable = (
        Q(state__in=(Message.PENDING, Message.FAILED))
        | Q(state=Message.STREAMING, heartbeat_at__lt=stale_before)
        | Q(state=Message.STREAMING, heartbeat_at__isnull=True)
    )
    won = Message.objects.filter(claimable, pk=reply.pk, attempt=reply.attempt).update(
        state=Message.STREAMING, attempt=F("attempt") + 1, heartbeat_at=now
    )
    if not won:
        return None
    return _claim(reply.pk, customer, reply.attempt + 1, group)


def _claim(reply_id: int, customer: Message, attempt: int, group: str) -> Claim:
    started = time.monotonic()
    return Claim(
        reply_id=reply_id,
        customer_message_id=customer.pk,
        attempt=attempt,
        group=group,
        question=customer.text,
        deadline=started + settings.ANSWER_TIMEOUT_S,
        claimed_at=started,
    )


class Heartbeat:
    """Keeps a claim alive from a side thread while its answer is generated, and notices
    when the claim is lost (cancelled, or taken over after a stall): then `lost` is set and
    the generation stops at its next token.

    It stops beating REPLY_STALE_S after the answer's deadline: a generation hung past its
    timeout then looks dead and another worker takes the reply over.
    """

    def __init__(self, held: Claim) -> None:
        self.claim = held
        self.lost = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"reply-heartbeat-{held.reply_id}", daemon=True
        )

    def __enter__(self) -> Heartbeat:
        with _running_lock:
            _running[self.claim.reply_id] = self
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join(timeout=5)
        with _running_lock:
            if _running.get(self.claim.reply_id) is self:
                del _running[self.claim.reply_id]

    def _run(self) -> None:
        give_up_at = self.claim.deadline + settings.REPLY_STALE_S
        try:
            while not self._done.wait(settings.REPLY_HEARTBEAT_S):
                if time.monotonic() > give_up_at:
                    log.error("reply %s hung past its deadline; letting it go", self.claim.reply_id)
                    return
                try:
                    held = Message.objects.filter(
                        pk=self.claim.reply_id, attempt=self.claim.attempt, state=Message.STREAMING
                    ).update(heartbeat_at=timezone.now())
                except Exception:
                    # A database hiccup is not a lost claim; the next beat tries again.
                    log.warning("heartbeat of reply %s failed", self.claim.reply_id, exc_info=True)
                    continue
                if not held:
                    self.lost.set()
                    return
        finally:
            connection.close()  # this thread's own connection


_running: dict[int, Heartbeat] = {}
_running_lock = threading.Lock()


def busy() -> bool:
    """Whether this process is generating a reply right now."""
    with _running_lock:
        return bool(_running)


def run(customer_message_id: int) -> Message | None:
    """Produce the bot's reply to one customer message: the body of the inference task.

    Idempotent: a run that finds the reply finished, cancelled or held by a live worker
    returns without doing anything. Returns the completed reply, or None when this run did
    not complete it."""
    close_old_connections()
    held = claim(customer_message_id)
    if held is None:
        return None
    conversation_id = Message.objects.filter(pk=held.reply_id).values_list(
        "conversation_id", flat=True
    )[0]
    if not handoff.bot_may_answer(conversation_id):
        # A person took over while this reply waited for a worker: the bot stays silent.
        with transaction.atomic():
            cancel_unfinished(conversation_id, "handed_off")
        return None
    if held.attempt > 1:
        # Another worker streamed part of this reply and died: the client starts over.
        events.publish(held.group, events.reply_restart(held.reply_id, held.attempt))
    # The model call can take seconds: don't hold a DB connection through it.
    close_old_connections()
    with Heartbeat(held) as heartbeat:

        def on_token(piece: str) -> None:
            if not heartbeat.lost.is_set():
                events.publish(held.group, events.token(held.reply_id, piece, attempt=held.attempt))

        try:
            answer = answer_question(
                held.question,
                on_token=on_token,
                should_stop=heartbeat.lost.is_set,
                deadline=held.deadline,
            )
        except AnswerCancelled:
            log.info("reply %s stopped: its claim was cancelled or taken over", held.reply_id)
            return None
        except Exception:
            log.exception("reply to message %s failed", customer_message_id)
            fail(held)
            return None
    return finish(held, answer)


def finish(held: Claim, answer: Answer) -> Message | None:
    """Store the final answer and publish it, once: only while `held` is the current claim."""
    with transaction.atomic():
        won = Message.objects.filter(
            pk=held.reply_id, attempt=held.attempt, state=Message.STREAMING
        ).update(
            text=answer.answer,
            citations=answer.citations,
            confidence=answer.confidence,
            escalate=answer.escalate,
            state=Message.COMPLETE,
            heartbeat_at=timezone.now(),
            **answer.to_record(),
        )
        if not won:
            log.info("reply %s was taken from this worker; dropping its answer", held.reply_id)
            return None
        final = events.bot_message(
            held.reply_id, answer.answer, answer.citations, answer.confidence, answer.escalate
        )
        transaction.on_commit(lambda: events.publish(held.group, final))
        # The after-answer triggers (low confidence, circling, sensitive topics) commit
        # with the answer; their notices ("An agent will join…") publish after it.
        handoff.after_bot_answer(held.reply_id)
    pool.record_answer_seconds(time.monotonic() - held.claimed_at)
    return Message.objects.get(pk=held.reply_id)


def fail(held: Claim) -> None:
    if Message.objects.filter(
        pk=held.reply_id, attempt=held.attempt, state=Message.STREAMING
    ).update(state=Message.FAILED):
        events.publish(
            held.group,
            events.error(
                "generation_failed",
                "Sorry, something went wrong while answering. Please try again.",
            ),
        )


def refuse_busy(customer_message_id: int) -> None:
    """The embedded queue is full: the accepted message's reply fails visibly, never silently."""
    reply = (
        Message.objects.select_related("conversation")
        .filter(reply_to_id=customer_message_id, role=Message.BOT, state=Message.PENDING)
        .first()
    )
    if reply is None:
        return
    if Message.objects.filter(pk=reply.pk, state=Message.PENDING).update(state=Message.FAILED):
        events.publish(
            reply.conversation.group_name,
            events.error(
                "busy",
                "We're answering a lot of questions right now and couldn't take yours. "
                "Please send it again in a minute, or ask for a person.",
                retry_after=max(1, round(pool.average_answer_seconds())),
            ),
        )


# --- cancelling -------------------------------------------------------------------------


def cancel_unfinished(conversation_id: int, reason: str) -> list[int]:
    """Cancel a conversation's pending and streaming replies; returns their ids. `reason`
    goes to the client: "superseded", "disconnected" (or e.g. "handed_off" when a person
    takes over). The `reply_cancelled` events go out after commit, and a generation running in this process
    stops at once (one in another process stops at its next heartbeat)."""
    candidates = Message.objects.filter(
        conversation_id=conversation_id, role=Message.BOT, state__in=UNFINISHED
    ).values_list("pk", flat=True)
    cancelled = [
        pk
        for pk in candidates
        if Message.objects.filter(pk=pk, state__in=UNFINISHED).update(state=Message.CANCELLED)
    ]
    if cancelled:
        group = Conversation.objects.get(pk=conversation_id).group_name

        def announce() -> None:
            for pk in cancelled:
                with _running_lock:
                    local = _running.get(pk)
                if local is not None:
                    local.lost.set()
                events.publish(group, events.reply_cancelled(pk, reason))

        transaction.on_commit(announce)
    return cancelled


def cancel_if_abandoned(public_id: uuid.UUID) -> list[int]:
    """The customer's last socket closed a grace period ago: cancel the conversation's
    unfinished replies unless a socket has come back since."""
    if presence.count(public_id):
        return []
    conversation_id = (
        Conversation.objects.filter(public_id=public_id).values_list("pk", flat=True).first()
    )
    if conversation_id is None:
        return []
    with transaction.atomic():
        return cancel_unfinished(conversation_id, "disconnected")


# --- recovery ---------------------------------------------------------------------------


def requeue_stale() -> list[int]:
    """For the watchdog: replies whose worker stopped beating go back to PENDING, and
    PENDING replies whose task may have been lost (waiting longer than the broker's
    visibility timeout) are re-sent. Returns the customer message ids to dispatch; each
    is handed to exactly one caller, however many watchdogs run."""
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.REPLY_STALE_S)
    lost_before = now - timedelta(
        seconds=settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    )
    dead = Q(state=Message.STREAMING) & (
        Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True)
    )
    lost = Q(state=Message.PENDING, heartbeat_at__lt=lost_before)
    rows = Message.objects.filter(dead | lost, role=Message.BOT).values_list(
        "pk", "attempt", "state", "reply_to_id"
    )[:200]
    ids = []
    for pk, attempt, state, customer_id in rows:
        if customer_id is None:  # the question was deleted
            Message.objects.filter(pk=pk, state=state).update(state=Message.FAILED)
            continue
        mine = Message.objects.filter(dead | lost, pk=pk, attempt=attempt, state=state).update(
            state=Message.PENDING, heartbeat_at=now
        )
        if mine:
            log.warning(
                "reply %s (attempt %s, %s) is stale; dispatching it again", pk, attempt, state
            )
            ids.append(customer_id)
    return ids


def recover_after_restart() -> list[int]:
    """Embedded start-up: every reply a previous run left pending or streaming has no
    worker any more (there is one process). Recent ones go back to PENDING and their
    customer message ids are returned, oldest first, to be dispatched; older ones fail."""
    now = timezone.now()
    unfinished = Message.objects.filter(role=Message.BOT, state__in=UNFINISHED)
    unfinished.filter(Q(created_at__lt=now - RECOVER_WITHIN) | Q(reply_to__isnull=True)).update(
        state=Message.FAILED
    )
    recent = unfinished.filter(created_at__gte=now - RECOVER_WITHIN).order_by("pk")
    ids = list(recent.values_list("reply_to_id", flat=True))
    recent.update(state=Message.PENDING, heartbeat_at=now)
    return ids

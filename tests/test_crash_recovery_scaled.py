"""Kill -9 in the scaled shape (PostgreSQL, Redis, real Celery `ingest` workers), restart,
and the product answers again with nothing lost.

Seen in the field before leases: the run stayed RUNNING and blocked the source for two
hours; a crawl queued meanwhile "succeeded" in 0.2 s having done nothing; the redelivered
task did nothing either; the FAQs the killed crawl had saved were never indexed.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.httpserver import RecordedRequest, Response
from tests.services import (
    ROOT,
    Proc,
    app_env,
    free_port,
    fresh_postgres_database,
    fresh_redis_db,
    manage,
    start_celery_worker,
    start_daphne,
)
from tests.test_ingest_fixture_site import FaqSite

pytestmark = pytest.mark.services

SLOW = "/z-slow"  # last in every page's navigation: crawled after the others


class GatedSite(FaqSite):
    """FaqSite whose SLOW page is held until `release()`: a crawl waits there, half-way."""

    def __init__(self) -> None:
        super().__init__(
            {
                "/": [("How long do refunds take?", "Five working days.")],
                "/a": [
                    ("Do you ship abroad?", "Yes, to 40 countries."),
                    ("Can I pay by cheque?", "Yes, by post."),
                ],
                "/b": [("Do you offer gift wrapping?", "Yes, for 3 euros.")],
                SLOW: [("Can I collect my order in a store?", "Yes, in Leeds and York.")],
            }
        )
        self.gate = threading.Event()

    def respond(self, req: RecordedRequest) -> Response:
        if req.path == SLOW:
            self.gate.wait(timeout=180)
        return super().respond(req)

    def release(self) -> None:
        self.gate.set()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[str, str, dict[str, str]]]:
    with fresh_postgres_database() as db_url, fresh_redis_db() as redis_url:
        env = app_env(
            DATABASE_URL=db_url,
            REDIS_URL=redis_url,
            DATA_DIR=str(tmp_path),
            CHATBOT_GENERATOR="fake",
            CHATBOT_EMBEDDER="hashing",
            CHATBOT_INDEX_DEBOUNCE_S="0.2",
            CHATBOT_INDEX_RELOAD_CHECK_S="0",
            # Short, so the test sees redelivery and lease expiry in seconds.
            CELERY_VISIBILITY_TIMEOUT_S="4",
            CHATBOT_INGEST_LEASE_S="8",
            CRASHKIT_DIR=str(tmp_path),
        )
        migrated = manage(env, "migrate", "--noinput", timeout=240)
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        yield db_url, redis_url, env


def query(db_url: str, sql: str, *params: object) -> list[tuple]:
    import psycopg

    with psycopg.connect(db_url) as conn:
        return conn.execute(sql, params).fetchall()


def shell(env: dict[str, str], code: str, timeout: float = 180) -> str:
    done = manage(env, "shell", "-c", code, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


def create_source(env: dict[str, str], url: str) -> int:
    code = (
        "from faq_ingest.models import FaqSource; "
        f"print(FaqSource.objects.create(name='Help', start_url={url!r}).pk)"
    )
    return int(shell(env, code))


def enqueue_crawl(env: dict[str, str], source_id: int) -> str:
    code = f"from faq_ingest.tasks import crawl_source; print(crawl_source.delay({source_id}).id)"
    return shell(env, code)


def task_outcome(env: dict[str, str], task_id: str, timeout: float = 120) -> dict:
    code = (
        "import json; from celery.result import AsyncResult; "
        f"r = AsyncResult({task_id!r}); r.get(timeout={timeout}, propagate=False); "
        "print(json.dumps({'state': r.state, 'result': r.result if r.successful() "
        "else f'{type(r.result).__name__}: {r.result}'}))"
    )
    return json.loads(shell(env, code, timeout=timeout + 60))


def ask(env: dict[str, str], question: str) -> dict:
    done = manage(env, "ask", "--json", question, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def wait_for(check: Callable[[], bool], timeout: float, what: str, *procs: Proc) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.2)
    raise AssertionError(f"{what} not seen in {timeout}s\n" + "\n".join(p.log() for p in procs))


def faq_count(db_url: str) -> int:
    return query(db_url, "SELECT count(*) FROM faq_ingest_faq WHERE active")[0][0]


def indexed_count(db_url: str) -> int | None:
    rows = query(
        db_url,
        "SELECT faq_count FROM faq_ingest_indexsnapshot WHERE status = 'ready' "
        "ORDER BY id DESC LIMIT 1",
    )
    return rows[0][0] if rows else None


def assert_answers(env: dict[str, str], question: str, page: str) -> None:
    data = ask(env, question)
    assert data["escalate"] is False, data
    assert any(c["url"].endswith(page) for c in data["citations"]), data


def test_worker_killed_mid_crawl_heals_on_restart(stack, tmp_path: Path) -> None:
    db_url, _redis_url, env = stack
    site = GatedSite()
    with site.serve() as server:
        source_id = create_source(env, server.url("/"))
        # Two slots: the second takes the crawl that staff queue while the first runs.
        first_worker = start_celery_worker(env, "ingest", tmp_path, concurrency=2, label="-1")
        try:
            killed_task = enqueue_crawl(env, source_id)
            wait_for(
                lambda: server.hits(SLOW) == 1 and faq_count(db_url) == 4,
                120,
                "the crawl half-way",
                first_worker,
            )
            # Queued while the first crawl runs: refused, with the reason, not "succeeded".
            queued = task_outcome(env, enqueue_crawl(env, source_id))
            assert queued["state"] == "FAILURE"
            assert queued["result"].startswith("CrawlNotStarted: crawl #1 of “Help” is still")
        finally:
            first_worker.kill()
        assert query(db_url, "SELECT id, status FROM faq_ingest_crawlrun ORDER BY id") == [
            (1, "running"),
            (2, "refused"),
        ]
        site.release()

        # The restarted worker closes the dead crawl, indexes what it had saved, and gets
        # the killed task again (acks_late; Redis gives it back after the visibility
        # timeout), which crawls the source anew.
        second_worker = start_celery_worker(env, "ingest", tmp_path, label="-2")
        try:
            redone = task_outcome(env, killed_task)
            assert redone["state"] == "SUCCESS", second_worker.log()
            assert redone["result"]["status"] == "succeeded"
            wait_for(lambda: indexed_count(db_url) == 5, 60, "the index", second_worker)
        finally:
            second_worker.stop()

    runs = query(db_url, "SELECT id, status, task_id, error FROM faq_ingest_crawlrun ORDER BY id")
    assert [(i, s) for i, s, _, _ in runs] == [(1, "failed"), (2, "refused"), (3, "succeeded")]
    assert runs[0][3].startswith("worker stopped responding: ")
    assert runs[0][2] == runs[2][2] == killed_task
    assert faq_count(db_url) == 5
    assert query(db_url, "SELECT count(*) FROM faq_ingest_faqrevision")[0][0] == 5  # once each
    assert_answers(env, "Can I collect my order in a store?", SLOW)
    assert_answers(env, "Do you ship abroad?", "/a")


def test_pool_process_killed_mid_crawl_is_retried_at_once(stack, tmp_path: Path) -> None:
    db_url, _redis_url, env = stack
    site = GatedSite()
    with site.serve() as server:
        source_id = create_source(env, server.url("/"))
        worker = start_celery_worker(env, "ingest", tmp_path)
        try:
            task_id = enqueue_crawl(env, source_id)
            wait_for(lambda: server.hits(SLOW) == 1, 120, "the crawl half-way", worker)
            # The kernel's OOM killer takes the pool process; the worker itself survives.
            (owner,) = query(db_url, "SELECT lease_owner FROM faq_ingest_crawlrun")[0]
            os.kill(int(owner.split(":")[1]), signal.SIGKILL)
            site.release()
            outcome = task_outcome(env, task_id)
            wait_for(lambda: indexed_count(db_url) == 5, 60, "the index", worker)
        finally:
            worker.stop()
    assert outcome["state"] == "SUCCESS" and outcome["result"]["status"] == "succeeded"
    runs = query(db_url, "SELECT status, error FROM faq_ingest_crawlrun ORDER BY id")
    assert [s for s, _ in runs] == ["failed", "succeeded"]
    assert "is gone (killed or crashed)" in runs[0][1]
    assert_answers(env, "Can I collect my order in a store?", SLOW)


def test_worker_killed_mid_index_build_heals_on_restart(stack, tmp_path: Path) -> None:
    db_url, redis_url, env = stack
    site = GatedSite()
    site.release()
    blocking = dict(env, CRASHKIT_BLOCK_BUILD="1", PYTHONPATH=f"{ROOT / 'tests/crashkit'}:{ROOT}")
    with site.serve() as server:
        source_id = create_source(env, server.url("/"))
        worker = start_celery_worker(blocking, "ingest", tmp_path, label="-blocking")
        try:
            crawl = task_outcome(env, enqueue_crawl(env, source_id))
            assert crawl["result"]["status"] == "succeeded", worker.log()
            wait_for(lambda: (tmp_path / "build-blocked").exists(), 60, "the build", worker)
        finally:
            worker.kill()
    assert query(db_url, "SELECT status FROM faq_ingest_indexsnapshot") == [("building",)]

    # The web process, started next, asks the ingest queue for the start-up check (it
    # does not do it itself: no embedder in web).
    import redis

    port = free_port()
    web = start_daphne(env, port, tmp_path)
    try:
        client = redis.Redis.from_url(redis_url)
        wait_for(
            lambda: any(b"faq_ingest.tasks.heal" in m for m in client.lrange("ingest", 0, -1)),
            30,
            "the start-up check queued by web",
            web,
        )
        worker = start_celery_worker(env, "ingest", tmp_path, label="-2")
        try:
            wait_for(lambda: indexed_count(db_url) == 5, 60, "the index", worker)
        finally:
            worker.stop()
    finally:
        web.stop()
    snapshots = query(db_url, "SELECT status, error FROM faq_ingest_indexsnapshot ORDER BY id")
    assert snapshots[0][0] == "failed"
    assert snapshots[0][1].startswith("worker stopped responding: ")
    assert snapshots[-1][0] == "ready"
    assert_answers(env, "Do you offer gift wrapping?", "/b")

"""The scaled shape end to end: PostgreSQL, Redis and a real Celery worker on the `ingest`
queue crawl a local site twice, around a staff edit, without losing anything."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.services import (
    app_env,
    fresh_postgres_database,
    fresh_redis_db,
    manage,
    start_celery_worker,
)
from tests.test_ingest_fixture_site import FaqSite

pytestmark = pytest.mark.services

STAFF_Q = "How long do refunds take?"
OTHER_Q = "Do you ship abroad?"
GONE_Q = "Can I pay by cheque?"


def shell(env: dict[str, str], code: str) -> str:
    done = manage(env, "shell", "-c", code, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


def crawl_via_queue(env: dict[str, str], source_id: int) -> dict:
    code = (
        "import json; from faq_ingest.tasks import crawl_source; "
        f"print(json.dumps(crawl_source.delay({source_id}).get(timeout=120)))"
    )
    return json.loads(shell(env, code))


def query(db_url: str, sql: str, *params: object) -> list[tuple]:
    import psycopg

    with psycopg.connect(db_url) as conn:
        return conn.execute(sql, params).fetchall()


def faqs(db_url: str) -> dict[str, tuple]:
    rows = query(
        db_url,
        "SELECT question, id, answer, active, missing_count, edited_by_staff, "
        "crawl_conflict, crawled_answer FROM faq_ingest_faq",
    )
    return {r[0]: r[1:] for r in rows}


def test_crawl_edit_recrawl_through_celery_on_postgres(tmp_path: Path) -> None:
    site = FaqSite(
        {
            "/": [(STAFF_Q, "Five days."), (OTHER_Q, "No.")],
            "/pay": [(GONE_Q, "Yes."), ("Do you take cards?", "Yes, all major cards.")],
        }
    )
    with fresh_postgres_database() as db_url, fresh_redis_db() as redis_url, site.serve() as srv:
        env = app_env(
            DATABASE_URL=db_url,
            REDIS_URL=redis_url,
            CHATBOT_EMBEDDER="hashing",
            CHATBOT_GENERATOR="fake",
            DATA_DIR=str(tmp_path),
            CHATBOT_INDEX_DEBOUNCE_S="0.2",
        )
        migrated = manage(env, "migrate", "--noinput")
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        worker = start_celery_worker(env, "ingest", tmp_path)
        try:
            source_id = int(
                shell(
                    env,
                    (
                        "from faq_ingest.models import FaqSource; print(FaqSource.objects.create("
                        f"name='Help', start_url={srv.url('/')!r}).pk)"
                    ),
                )
            )

            first = crawl_via_queue(env, source_id)
            assert first["status"] == "succeeded", worker.log()
            before = faqs(db_url)
            assert set(before) == {STAFF_Q, OTHER_Q, GONE_Q, "Do you take cards?"}

            shell(
                env,
                (
                    "from faq_ingest.models import Faq; from faq_ingest import knowledge; "
                    f"f = Faq.objects.get(question={STAFF_Q!r}); "
                    "f.answer = 'Five working days, to the original card.'; f.save(); "
                    "knowledge.record_staff_edit(f, 'alice'); print('ok')"
                ),
            )

            site.pages["/"] = [(STAFF_Q, "Ten days."), (OTHER_Q, "Yes, to 40 countries.")]
            site.pages["/pay"] = [("Do you take cards?", "Yes, all major cards.")]
            second = crawl_via_queue(env, source_id)
            assert second["status"] == "succeeded", worker.log()

            after = faqs(db_url)
            run = query(
                db_url,
                "SELECT status, pages_fetched, faqs_added, faqs_updated, "
                "faqs_unchanged, conflicts, faqs_retired FROM faq_ingest_crawlrun "
                "WHERE id = %s",
                second["crawl_run_id"],
            )[0]
            history = query(
                db_url,
                "SELECT changed_by, answer, crawl_run_id FROM "
                "faq_ingest_faqrevision WHERE faq_id = %s ORDER BY id",
                after[OTHER_Q][0],
            )
            staff_history = query(
                db_url,
                "SELECT changed_by FROM faq_ingest_faqrevision WHERE faq_id = %s ORDER BY id",
                after[STAFF_Q][0],
            )
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:  # the debounced rebuild runs on the worker
                snapshots = query(
                    db_url,
                    "SELECT faq_count FROM faq_ingest_indexsnapshot "
                    "WHERE status = 'ready' ORDER BY id",
                )
                if len(snapshots) >= 2:
                    break
                time.sleep(0.5)
        finally:
            worker.stop()

    # Same rows: identity survived both the crawl and the staff edit.
    assert {q: row[0] for q, row in after.items()} == {q: row[0] for q, row in before.items()}
    # The staff edit is kept; the page's new text waits as a conflict.
    _, answer, active, _, staff, conflict, crawled = after[STAFF_Q]
    assert (answer, staff, conflict, crawled) == (
        "Five working days, to the original card.",
        True,
        True,
        "Ten days.",
    )
    assert staff_history == [("crawler",), ("staff:alice",)]
    # The other changed FAQ is updated in place, with the old answer kept in history.
    assert after[OTHER_Q][1] == "Yes, to 40 countries."
    assert history == [
        ("crawler", "No.", first["crawl_run_id"]),
        ("crawler", "Yes, to 40 countries.", second["crawl_run_id"]),
    ]
    # Missing once is not retired (CRAWLER_RETIRE_AFTER_MISSES defaults to 3).
    assert after[GONE_Q][2:4] == (True, 1)
    # Unchanged: the cards FAQ. The staff FAQ is a conflict (only the page's text recorded).
    assert run == ("succeeded", 2, 0, 1, 1, 1, 0)
    assert len(snapshots) >= 2, "no index rebuild after the FAQ changes"

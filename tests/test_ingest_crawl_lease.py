"""One crawl at a time per source: the RUNNING CrawlRun holds a lease with a heartbeat. A
run whose worker died stops blocking as soon as that is known, a refused crawl says so, and
a redelivered task finds its earlier attempt."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from faq_ingest import knowledge, leases, sync
from faq_ingest.errors import CrawlNotStarted, DuplicateDelivery
from faq_ingest.models import CrawlRun, Faq, FaqSource, IndexSnapshot
from tests.services import ROOT, app_env
from tests.test_ingest_fixture_site import FaqSite, make_source

pytestmark = pytest.mark.django_db


@pytest.fixture
def source() -> FaqSource:
    return FaqSource.objects.create(name="s", start_url="http://127.0.0.1:9/")


@pytest.fixture(scope="module")
def dead_owner() -> str:
    """The owner id of a process on this machine that has exited."""
    code = "from faq_ingest.leases import owner_id; print(owner_id())"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=app_env(), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def expire(run: CrawlRun, seconds_ago: float = 5) -> None:
    past = timezone.now() - timedelta(seconds=seconds_ago)
    CrawlRun.objects.filter(pk=run.pk).update(heartbeat_at=past, lease_expires_at=past)


def test_second_start_while_running_is_refused_and_recorded(source) -> None:
    first = sync.start_run(source.pk)
    assert first.status == CrawlRun.RUNNING and first.lease_owner == leases.owner_id()
    assert first.lease_expires_at > timezone.now()
    with pytest.raises(CrawlNotStarted, match=rf"crawl #{first.pk} of “s” is still running"):
        sync.start_run(source.pk)
    with pytest.raises(CrawlNotStarted) as refused:
        sync.crawl_source(source.pk)
    row = CrawlRun.objects.get(pk=refused.value.refused_run_id)
    assert row.status == CrawlRun.REFUSED and row.finished_at is not None
    assert row.error.startswith(f"not started: crawl #{first.pk}")
    assert "last heartbeat" in row.error
    assert CrawlRun.objects.filter(status=CrawlRun.RUNNING).count() == 1
    other = FaqSource.objects.create(name="t", start_url="http://127.0.0.1:9/")
    assert sync.start_run(other.pk).status == CrawlRun.RUNNING  # the lease is per source


def test_lease_is_released_when_the_run_finishes(source) -> None:
    run = sync.crawl_source(source.pk)  # nothing listens on port 9: a quick failed run
    assert run.status == CrawlRun.FAILED
    assert run.lease_expires_at is None and run.heartbeat_at is not None
    assert sync.start_run(source.pk).status == CrawlRun.RUNNING


def test_expired_lease_is_closed_with_a_reason_and_a_new_crawl_starts(source) -> None:
    dead = sync.start_run(source.pk)
    expire(dead)
    fresh = sync.start_run(source.pk)
    dead.refresh_from_db()
    assert fresh.pk != dead.pk and fresh.status == CrawlRun.RUNNING
    assert dead.status == CrawlRun.FAILED and dead.finished_at is not None
    assert dead.error.startswith("worker stopped responding: no heartbeat from process")


def test_a_live_lease_is_not_closed(source) -> None:
    live = sync.start_run(source.pk)
    assert sync.reap_crawls() == []
    live.refresh_from_db()
    assert live.status == CrawlRun.RUNNING


def test_a_dead_process_on_this_machine_is_noticed_before_its_lease_ends(
    source, dead_owner
) -> None:
    assert leases.owner_is_gone(dead_owner)
    assert not leases.owner_is_gone(leases.owner_id())
    run = sync.start_run(source.pk)
    CrawlRun.objects.filter(pk=run.pk).update(lease_owner=dead_owner)
    closed = sync.reap_crawls()
    assert [pk for pk, _ in closed] == [run.pk]
    assert "is gone (killed or crashed)" in closed[0][1]


def test_an_owner_on_another_machine_waits_for_its_lease(source) -> None:
    other = "elsewhere:4242:123456:0123456789ab.4026531836"
    assert not leases.owner_is_gone(other)
    run = sync.start_run(source.pk)
    CrawlRun.objects.filter(pk=run.pk).update(lease_owner=other)
    assert sync.reap_crawls() == []
    expire(run)
    assert [pk for pk, _ in sync.reap_crawls()] == [run.pk]


def test_rows_from_before_leases_are_closed_once_older_than_a_lease(source, settings) -> None:
    old = CrawlRun.objects.create(source=source)  # no lease columns, as before the upgrade
    CrawlRun.objects.filter(pk=old.pk).update(
        started_at=timezone.now() - timedelta(seconds=settings.INGEST_LEASE_S + 5)
    )
    recent = CrawlRun.objects.create(source=FaqSource.objects.create(name="t", start_url="x"))
    closed = sync.reap_crawls()
    assert [pk for pk, _ in closed] == [old.pk]
    recent.refresh_from_db()
    assert recent.status == CrawlRun.RUNNING


def test_disabled_or_missing_source_is_not_crawled(source) -> None:
    source.enabled = False
    source.save()
    with pytest.raises(CrawlNotStarted, match="disabled"):
        sync.start_run(source.pk)
    with pytest.raises(CrawlNotStarted, match="does not exist"):
        sync.start_run(source.pk + 1000)
    assert not CrawlRun.objects.exists()


def test_redelivered_task_returns_the_finished_run(source) -> None:
    site = FaqSite({"/": [("Do you ship abroad?", "Yes.")]})
    with site.serve() as server:
        source = make_source(server)
        first = sync.crawl_source(source.pk, task_id="task-1")
        again = sync.crawl_source(source.pk, task_id="task-1")
        hits = server.hits("/")
    assert first.status == CrawlRun.SUCCEEDED
    assert again.pk == first.pk and hits == 1  # nothing crawled twice
    assert CrawlRun.objects.count() == 1


def test_redelivered_task_while_its_first_delivery_runs_is_a_duplicate(source) -> None:
    running = sync.start_run(source.pk, task_id="task-1")
    with pytest.raises(DuplicateDelivery):
        sync.start_run(source.pk, task_id="task-1")
    assert list(CrawlRun.objects.values_list("pk", flat=True)) == [running.pk]


def test_redelivered_task_of_a_killed_crawl_crawls_again(dead_owner) -> None:
    site = FaqSite({"/": [("Do you ship abroad?", "Yes.")], "/b": [("Gift wrap?", "Yes.")]})
    with site.serve() as server:
        source = make_source(server)
        killed = sync.start_run(source.pk, task_id="task-1")
        CrawlRun.objects.filter(pk=killed.pk).update(lease_owner=dead_owner)
        redo = sync.crawl_source(source.pk, task_id="task-1")
    killed.refresh_from_db()
    assert killed.status == CrawlRun.FAILED and "worker stopped responding" in killed.error
    assert redo.pk != killed.pk and redo.task_id == "task-1"
    assert redo.status == CrawlRun.SUCCEEDED and redo.faqs_added == 2


def test_faqs_saved_by_a_dead_crawl_reach_the_index(
    source, dead_owner, django_capture_on_commit_callbacks
) -> None:
    killed = sync.start_run(source.pk)
    item = knowledge.CrawledFaq(
        question="Can I pay by cheque?",
        question_key="can i pay by cheque",
        answer="Yes, by post.",
        source_url="http://127.0.0.1:9/pay",
        language="en",
        extractor="details",
    )
    knowledge.apply_crawled(source, item, killed)  # committed page by page, then killed
    CrawlRun.objects.filter(pk=killed.pk).update(lease_owner=dead_owner)
    assert not IndexSnapshot.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        sync.reap_crawls()
    snap = IndexSnapshot.objects.get(status=IndexSnapshot.READY)
    assert snap.faq_count == 1 == Faq.objects.count()


def test_a_crawl_closed_by_recovery_midway_retires_and_overwrites_nothing(monkeypatch) -> None:
    keep, goes = ("Do you ship abroad?", "Yes."), ("Can I pay by cheque?", "Yes.")
    site = FaqSite({"/": [keep, goes]})
    with site.serve() as server:
        source = make_source(server)
        sync.crawl_source(source.pk)
        Faq.objects.filter(question=goes[0]).update(missing_count=5)  # due for retirement
        site.pages["/"] = [keep, ("Is there a shop?", "Yes, in Leeds.")]
        real = knowledge.apply_crawled

        def presumed_dead(source, item, run):
            # This process stalled past its lease; recovery closed the run meanwhile.
            CrawlRun.objects.filter(pk=run.pk).update(
                status=CrawlRun.FAILED, error="worker stopped responding: test"
            )
            return real(source, item, run)

        monkeypatch.setattr(knowledge, "apply_crawled", presumed_dead)
        run = sync.crawl_source(source.pk)
    assert run.status == CrawlRun.FAILED and run.error == "worker stopped responding: test"
    assert Faq.objects.get(question=goes[0]).active  # the final step never ran


@pytest.mark.django_db(transaction=True)
def test_heartbeat_renews_the_lease_and_notices_when_it_is_taken() -> None:
    source = FaqSource.objects.create(name="s", start_url="http://127.0.0.1:9/")
    run = sync.start_run(source.pk)
    first_expiry = run.lease_expires_at
    with leases.Heartbeat(CrawlRun, run.pk, run.lease_owner, CrawlRun.RUNNING, interval_s=0.05):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if run.lease_expires_at > first_expiry:
                break
            time.sleep(0.05)
    assert run.lease_expires_at > first_expiry and run.heartbeat_at > run.started_at

    CrawlRun.objects.filter(pk=run.pk).update(status=CrawlRun.FAILED)  # recovery closed it
    heartbeat = leases.Heartbeat(CrawlRun, run.pk, run.lease_owner, CrawlRun.RUNNING)
    assert heartbeat.beat() is False
    with pytest.raises(leases.LeaseLost):
        heartbeat.check()


def test_the_crawl_after_an_interrupted_one_finds_the_pages_it_never_reached(
    monkeypatch,
) -> None:
    site = FaqSite(
        {
            "/": [("Do you ship abroad?", "Yes.")],
            "/a": [("Gift wrap?", "Yes.")],
            "/b": [("Store pickup?", "Yes, in Leeds.")],
        }
    )
    real = knowledge.apply_crawled

    def dies_on_a(source, item, run):
        if item.question == "Gift wrap?":
            raise RuntimeError("worker killed")
        return real(source, item, run)

    with site.serve() as server:
        source = make_source(server)
        monkeypatch.setattr(knowledge, "apply_crawled", dies_on_a)
        assert sync.crawl_source(source.pk).status == CrawlRun.FAILED  # "/" stored, no more
        monkeypatch.setattr(knowledge, "apply_crawled", real)
        redo = sync.crawl_source(source.pk)
        # "/" would answer 304 to its stored ETag, and a 304 has no links to follow.
        conditional = [r for r in server.requests_for("/") if "if-none-match" in r.headers]
    assert redo.status == CrawlRun.SUCCEEDED and redo.faqs_added == 2
    assert Faq.objects.count() == 3
    assert conditional == []

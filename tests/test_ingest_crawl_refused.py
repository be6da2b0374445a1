"""A crawl that cannot start because another holds the source's lease says so everywhere
(task result, `crawl` command, admin) and never reports success."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from faq_ingest import sync, tasks
from faq_ingest.errors import CrawlNotStarted
from faq_ingest.models import CrawlRun, FaqSource
from tests.test_ingest_fixture_site import FaqSite, make_source

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy():
    """A source of a live site, with a crawl holding its lease."""
    site = FaqSite({"/": [("Do you ship abroad?", "Yes.")]})
    with site.serve() as server:
        source = make_source(server)
        holder = sync.start_run(source.pk)
        yield server, source, holder


def test_crawl_command_fails_with_the_reason(busy) -> None:
    server, _source, holder = busy
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("crawl", server.url("/"), stdout=out, stderr=err)
    assert str(refused.value).startswith(f"crawl not started: crawl #{holder.pk} of “Test help”")
    assert "is still running" in str(refused.value)
    assert out.getvalue() == ""  # no summary line that a script could read as success
    assert server.hits("/") == 0


def test_task_result_is_a_failure_with_the_reason(busy) -> None:
    _server, source, holder = busy
    result = tasks.crawl_source.apply(args=[source.pk], throw=False)
    assert result.state == "FAILURE"
    assert isinstance(result.result, CrawlNotStarted)
    assert f"crawl #{holder.pk}" in str(result.result)
    refused = CrawlRun.objects.get(status=CrawlRun.REFUSED)
    assert refused.task_id == result.id and f"crawl #{holder.pk}" in refused.error


def test_crawl_all_goes_on_past_a_busy_source(busy) -> None:
    server, source, _holder = busy
    other = FaqSource.objects.create(name="Other", start_url=server.url("/"))
    assert tasks.crawl_all.apply().get() == 2
    assert CrawlRun.objects.get(source=other).status == CrawlRun.SUCCEEDED
    assert CrawlRun.objects.filter(source=source, status=CrawlRun.REFUSED).count() == 1


def test_admin_crawl_now_says_the_source_is_busy(busy, admin_client) -> None:
    _server, source, holder = busy
    response = admin_client.post(
        "/admin/faq_ingest/faqsource/",
        {"action": "crawl_now", "_selected_action": [source.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert f"Not queued: crawl #{holder.pk} of “Test help” is still running" in page
    assert "Queued" not in page
    assert list(CrawlRun.objects.values_list("pk", flat=True)) == [holder.pk]

"""Staff screens, driven through Django's test client as a logged-in superuser: saving the
change form makes a staff edit with a revision; "Crawl now"/"Crawl all" enqueue crawls
(run in-process in the embedded shape); crawl runs and their counts are visible."""

from __future__ import annotations

import pytest

from faq_ingest import sync
from faq_ingest.models import CrawlRun, Faq, FaqSource
from tests.test_ingest_fixture_site import FaqSite, faq, make_source

pytestmark = pytest.mark.django_db

Q = "Can I change my delivery address?"


def change_form_data(response) -> dict[str, object]:
    """The POST a browser would send for the change form as rendered."""
    data: dict[str, object] = {}

    def add(form) -> None:
        for name, field in form.fields.items():
            value = form[name].value()
            if field.disabled or value is None or value is False:
                continue
            data[form.add_prefix(name)] = (
                field.widget.format_value(value)
                if name == ("alternates")
                else ("on" if value is True else value)
            )

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for key, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{key}"] = value
        for form in formset.forms:
            add(form)
    return data


@pytest.fixture
def crawled():
    site = FaqSite({"/": [(Q, "Yes, until it ships.")]})
    with site.serve() as server:
        source = make_source(server)
        sync.crawl_source(source.pk)
        yield site, source


def test_change_form_save_is_a_staff_edit_with_revision(crawled, admin_client) -> None:
    pk = faq(Q).pk
    url = f"/admin/faq_ingest/faq/{pk}/change/"
    data = change_form_data(admin_client.get(url))
    data["answer"] = "Yes, until it ships; contact us after that."
    resp = admin_client.post(url, data)
    assert resp.status_code == 302, resp.context and resp.context["adminform"].form.errors
    f = Faq.objects.get(pk=pk)
    assert f.answer == "Yes, until it ships; contact us after that."
    assert f.edited_by_staff
    latest = f.revisions.first()
    assert latest.changed_by == "staff:admin" and latest.answer == f.answer


def test_saving_an_untouched_form_is_not_an_edit(crawled, admin_client) -> None:
    pk = faq(Q).pk
    url = f"/admin/faq_ingest/faq/{pk}/change/"
    resp = admin_client.post(url, change_form_data(admin_client.get(url)))
    assert resp.status_code == 302
    f = Faq.objects.get(pk=pk)
    assert not f.edited_by_staff and f.revisions.count() == 1


def test_crawl_now_and_crawl_all_actions_run_crawls(
    admin_client, django_capture_on_commit_callbacks
) -> None:
    site = FaqSite({"/": [(Q, "Yes, until it ships.")]})
    with site.serve() as server:
        source = make_source(server)
        with django_capture_on_commit_callbacks(execute=True) as queued:
            resp = admin_client.post(
                "/admin/faq_ingest/faqsource/",
                {"action": "crawl_now", "_selected_action": [source.pk]},
                follow=True,
            )
        assert len(queued) >= 1  # enqueued after commit, not inside the request's transaction
        assert "Queued 1 crawl(s)." in resp.content.decode()
        assert CrawlRun.objects.filter(source=source, status=CrawlRun.SUCCEEDED).count() == 1
        assert Faq.objects.filter(source=source).count() == 1

        other = FaqSource.objects.create(name="Second", start_url=server.url("/"))
        FaqSource.objects.create(name="Disabled", start_url=server.url("/"), enabled=False)
        with django_capture_on_commit_callbacks(execute=True):
            admin_client.post(
                "/admin/faq_ingest/faqsource/",
                {"action": "crawl_all", "_selected_action": [source.pk]},
            )
    runs = CrawlRun.objects.values_list("source__name", "status")
    assert sorted(runs) == [
        ("Second", "succeeded"),
        ("Test help", "succeeded"),
        ("Test help", "succeeded"),
    ]
    assert Faq.objects.filter(source=other).count() == 1


def test_crawl_runs_are_visible_with_counts(crawled, admin_client) -> None:
    site, source = crawled
    site.pages["/"] = [(Q, "Only before it ships."), ("Do you deliver on Sundays?", "No.")]
    run = sync.crawl_source(source.pk)
    listing = admin_client.get("/admin/faq_ingest/crawlrun/")
    assert listing.status_code == 200
    rows = listing.context["cl"].result_list
    assert [(r.pk, r.faqs_added, r.faqs_updated) for r in rows][0] == (run.pk, 1, 1)
    detail = admin_client.get(f"/admin/faq_ingest/crawlrun/{run.pk}/change/")
    assert detail.status_code == 200 and "Faqs updated" in detail.content.decode()
    assert admin_client.get("/admin/faq_ingest/crawlrun/add/").status_code == 403


def test_revision_history_cannot_be_deleted(crawled, admin_client) -> None:
    rev = faq(Q).revisions.first()
    resp = admin_client.get(f"/admin/faq_ingest/faqrevision/{rev.pk}/delete/")
    assert resp.status_code == 403

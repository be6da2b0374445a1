"""Adding or editing a FAQ by hand in the admin so that it would share its identity (source +
normalised question, the `faq_unique_question_per_source` constraint) with another FAQ is a
form error on the question, not a 500 from the database; nothing is saved."""

from __future__ import annotations

import pytest

from faq_ingest.extract import normalise_question
from faq_ingest.models import Faq, FaqSource
from tests.test_ingest_admin import change_form_data

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/faq_ingest/faq/add/"
DUPLICATE = "An FAQ with this question already exists for this source"


def make_faq(source: FaqSource | None, question: str, answer: str = "Yes.") -> Faq:
    return Faq.objects.create(
        source=source,
        question=question,
        question_key=normalise_question(question)[:500],
        answer=answer,
    )


def change_url(f: Faq) -> str:
    return f"/admin/faq_ingest/faq/{f.pk}/change/"


@pytest.fixture
def sources() -> tuple[FaqSource, FaqSource]:
    return (
        FaqSource.objects.create(name="Shop help", start_url="https://shop.example/help/"),
        FaqSource.objects.create(name="Other help", start_url="https://other.example/help/"),
    )


def add_form_data(client, source: FaqSource | None, question: str) -> dict[str, object]:
    data = change_form_data(client.get(ADD_URL))
    if source is not None:
        data["source"] = source.pk
    data.update(question=question, answer="Typed in by staff.")
    return data


def question_errors(resp) -> list[str]:
    return resp.context["adminform"].form.errors.get("question", [])


@pytest.mark.parametrize(
    "question",
    ["Can I change my delivery address?", "  can i CHANGE my delivery address  "],
    ids=["same-text", "same-after-normalising"],
)
def test_adding_a_duplicate_question_is_a_form_error(sources, admin_client, question) -> None:
    source, _ = sources
    existing = make_faq(source, "Can I change my delivery address?")

    resp = admin_client.post(ADD_URL, add_form_data(admin_client, source, question))

    assert resp.status_code == 200
    errors = question_errors(resp)
    assert len(errors) == 1 and DUPLICATE in errors[0]
    assert change_url(existing) in errors[0]  # links the FAQ it clashes with
    page = resp.content.decode()
    assert DUPLICATE in page and f'href="{change_url(existing)}"' in page
    assert list(Faq.objects.values_list("pk", flat=True)) == [existing.pk]
    assert existing.revisions.count() == 0


def test_adding_a_distinct_question_saves(sources, admin_client) -> None:
    source, other = sources
    make_faq(source, "Can I change my delivery address?")

    data = add_form_data(admin_client, source, "Do you deliver on Sundays?")
    resp = admin_client.post(ADD_URL, data)
    assert resp.status_code == 302, resp.context and resp.context["adminform"].form.errors
    added = Faq.objects.get(question="Do you deliver on Sundays?")
    assert added.source == source
    assert added.question_key == normalise_question("Do you deliver on Sundays?")
    assert added.edited_by_staff and added.revisions.count() == 1

    # The same question under another source is a different FAQ.
    data = add_form_data(admin_client, other, "Can I change my delivery address?")
    assert admin_client.post(ADD_URL, data).status_code == 302
    assert Faq.objects.filter(question="Can I change my delivery address?").count() == 2


def test_saving_an_existing_faq_unchanged_still_works(sources, admin_client) -> None:
    source, _ = sources
    f = make_faq(source, "Can I change my delivery address?")
    make_faq(source, "Do you deliver on Sundays?")

    resp = admin_client.post(change_url(f), change_form_data(admin_client.get(change_url(f))))
    assert resp.status_code == 302, resp.context and resp.context["adminform"].form.errors

    data = change_form_data(admin_client.get(change_url(f)))
    data["answer"] = "Yes, until it ships."
    assert admin_client.post(change_url(f), data).status_code == 302
    f.refresh_from_db()
    assert f.answer == "Yes, until it ships." and f.source == source


def test_moving_a_faq_onto_a_source_that_has_its_question_is_a_form_error(
    sources, admin_client
) -> None:
    source, other = sources
    mine = make_faq(source, "Can I change my delivery address?")
    theirs = make_faq(other, "Can I change my delivery address?", answer="No.")

    data = change_form_data(admin_client.get(change_url(mine)))
    data["source"] = other.pk
    data["answer"] = "Changed as well."
    resp = admin_client.post(change_url(mine), data)

    assert resp.status_code == 200
    errors = question_errors(resp)
    assert len(errors) == 1 and DUPLICATE in errors[0] and change_url(theirs) in errors[0]
    mine.refresh_from_db()
    assert mine.source == source and mine.answer == "Yes." and not mine.edited_by_staff
    assert Faq.objects.count() == 2


def test_faqs_without_a_source_are_not_duplicates_of_each_other(sources, admin_client) -> None:
    # The database constraint treats a missing source as distinct, and so does the form.
    make_faq(None, "Can I change my delivery address?")
    data = add_form_data(admin_client, None, "Can I change my delivery address?")
    assert admin_client.post(ADD_URL, data).status_code == 302
    assert Faq.objects.filter(source=None).count() == 2

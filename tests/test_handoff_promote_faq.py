"""“Promote to FAQ”: an agent's answer becomes an inactive draft for staff to review; once
staff publish it, the retrieval index finds it like any other FAQ."""

from __future__ import annotations

import pytest

from agents import console
from agents.models import FaqDraft
from chatbot.models import Conversation, Message
from faq_ingest import index, knowledge
from faq_ingest.models import Faq
from tests.handoff_helpers import make_agent

pytestmark = pytest.mark.django_db

QUESTION = "Can I swap the colour of my kayak paddle after ordering?"
ANSWER = "Yes: paddle colours can be swapped free of charge until the order ships."


@pytest.fixture
def agent_answer(tiny_kb):
    maya = make_agent()
    conv = Conversation.objects.create(
        status=Conversation.Status.AGENT, assigned_agent=maya, language="en"
    )
    Message.objects.create(conversation=conv, role=Message.CUSTOMER, text=QUESTION)
    answer = Message.objects.create(conversation=conv, role=Message.AGENT, text=ANSWER, author=maya)
    return maya, answer


def _found(query: str) -> list[str]:
    index.live_index.reset()
    return [hit.doc.question for hit in index.search(query, k=3).hits]


def test_a_promoted_answer_is_a_draft_until_staff_publish_it(
    agent_answer, admin_client, django_capture_on_commit_callbacks
):
    maya, answer = agent_answer
    draft = console.promote_to_faq(answer.pk, maya)

    faq = draft.faq
    assert (faq.question, faq.answer, faq.active, faq.source) == (QUESTION, ANSWER, False, None)
    assert faq.edited_by_staff and faq.extractor == "agent"
    assert faq.revisions.get().changed_by == "agent:maya"
    assert (draft.message, draft.proposed_by) == (answer, maya)
    # Not published: the bot cannot cite it.
    with django_capture_on_commit_callbacks(execute=True):
        index.build_snapshot(force=True)
    assert QUESTION not in _found("swap kayak paddle colour")

    # Staff review it in the admin and activate it: the rebuild picks it up.
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/faq_ingest/faq/",
            {"action": "activate", "_selected_action": [faq.pk]},
        )
    assert response.status_code == 302
    faq.refresh_from_db()
    assert faq.active
    assert _found("swap kayak paddle colour")[0] == QUESTION


def test_an_answer_is_promoted_once(agent_answer):
    maya, answer = agent_answer
    console.promote_to_faq(answer.pk, maya)
    with pytest.raises(console.ConsoleError):
        console.promote_to_faq(answer.pk, maya)
    assert Faq.objects.filter(extractor="agent").count() == 1


def test_the_agent_may_word_the_question(agent_answer):
    maya, answer = agent_answer
    draft = console.promote_to_faq(answer.pk, maya, "Can I change my paddle colour?")
    assert draft.faq.question == "Can I change my paddle colour?"


def test_only_agent_messages_can_be_promoted(agent_answer):
    maya, answer = agent_answer
    customer = Message.objects.get(role=Message.CUSTOMER)
    with pytest.raises(console.ConsoleError) as info:
        console.promote_to_faq(customer.pk, maya)
    assert info.value.code == "not_found"
    assert not FaqDraft.objects.exists()


def test_drafts_are_listed_for_staff(agent_answer, admin_client):
    maya, answer = agent_answer
    console.promote_to_faq(answer.pk, maya)
    page = admin_client.get("/admin/agents/faqdraft/")
    assert page.status_code == 200 and QUESTION[:40].encode() in page.content
    assert knowledge.create_draft  # the one write path for FAQs written outside a crawl

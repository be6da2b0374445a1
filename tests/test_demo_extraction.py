"""The bundled demo help center, crawled end to end: every section of its pages is kept,
entry labels ("答：") never reach a stored or served answer, and what is left out is
reported."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import requests
from django.core.management import call_command

from faq_ingest.models import CrawlRun, Faq
from tests.httpserver import LocalHTTPServer

DEMO = Path(__file__).resolve().parent.parent / "faq_ingest" / "demo_site"
LABEL = re.compile(
    r"^\s*(?:\*\*|__)?\s*(?:答|回答|A|Answer|问|問|Q|Question)\s*[:：]", re.IGNORECASE
)


@pytest.fixture
def crawled_demo(db):
    with LocalHTTPServer(directory=DEMO) as server:
        out, err = io.StringIO(), io.StringIO()
        call_command("crawl", server.url("/index.html"), stdout=out, stderr=err)
        yield server, out.getvalue(), err.getvalue()


def test_no_stored_question_or_answer_keeps_its_label(crawled_demo) -> None:
    faqs = list(Faq.objects.filter(active=True))
    assert faqs
    assert not [f.question for f in faqs if LABEL.match(f.question)]
    assert not [f.answer[:40] for f in faqs if LABEL.match(f.answer)]
    zh = Faq.objects.get(question="退货期限是多久？")
    assert zh.answer.startswith("大多数未使用的商品可在签收后 30 天内退货")


def test_every_demo_entry_and_section_is_kept(crawled_demo) -> None:
    _, summary, _ = crawled_demo
    assert summary.startswith("succeeded: pages fetched 9,")
    faqs = Faq.objects.filter(active=True, kind=Faq.KIND_FAQ)
    # 68 before statement-titled entries counted: orders.html's "A note on payment security"
    # is an <h3> entry like its question siblings.
    assert faqs.count() == 69
    security = faqs.get(question="A note on payment security")
    assert security.answer.startswith("Card details are entered on a page hosted by")
    assert security.source_url.endswith("orders.html#payment-security")
    # Each topic page's introduction is a passage now, not lost.
    intro = Faq.objects.get(kind=Faq.KIND_PASSAGE, question="常见问题（简体中文）")
    assert intro.answer == "以下是中文客户最常咨询的问题。更多信息请参阅英文帮助页面。"
    run = CrawlRun.objects.get()
    assert run.skipped == sum(run.skipped_by_reason.values())
    # The in-page tables of contents ("On this page") are navigation, and are reported.
    assert ("navigation", "On this page") in {
        (s["reason"], s["title"]) for s in run.skipped_sections
    }
    assert "empty_answer" not in run.skipped_by_reason


def test_the_served_chinese_answer_has_no_label(live_demo) -> None:
    reply = requests.post(
        f"{live_demo.base_url}/api/v1/ask", json={"question": "退货期限是多久？"}, timeout=60
    ).json()
    assert reply["escalate"] is False, reply
    assert any("/demo-help/zh/faq.html" in c["url"] for c in reply["citations"]), reply
    assert "答：" not in reply["answer"] and "**" not in reply["answer"][:4]
    assert "30 天" in reply["answer"]

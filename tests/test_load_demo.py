"""`load_demo` (run by `make run`) loads the demo once, finishes a load that was killed,
and leaves a knowledge base that is not the demo alone."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from django.core.management import call_command

from faq_ingest import index, leases
from faq_ingest.models import CrawlRun, Faq, FaqSource
from tests.services import ROOT, app_env
from tests.test_crash_recovery_embedded import DemoHelpServer

pytestmark = pytest.mark.django_db


def load_demo(server: str) -> str:
    out = io.StringIO()
    call_command("load_demo", "--server", server, "--wait", "10", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_a_knowledge_base_of_its_own_is_left_alone() -> None:
    Faq.objects.create(question="Own?", question_key="own", answer="Yes.")
    with DemoHelpServer() as demo:
        assert load_demo(demo.url).strip() == "knowledge base already has FAQs; demo not reloaded"
        assert demo.server.paths() == []


def test_a_killed_load_is_finished_and_a_complete_one_kept() -> None:
    code = "from faq_ingest.leases import owner_id; print(owner_id())"
    dead = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=app_env(), capture_output=True, text=True
    ).stdout.strip()
    with DemoHelpServer() as demo:
        source = FaqSource.objects.create(
            name="Northwind demo help center", start_url=f"{demo.url}/demo-help/index.html"
        )
        killed = CrawlRun.objects.create(
            source=source, **{**leases.lease_fields(), "lease_owner": dead}
        )
        Faq.objects.create(source=source, question="Half?", question_key="half", answer="Yes.")

        first = load_demo(demo.url)
        assert first.startswith("finishing an interrupted demo load\nsucceeded: pages fetched")
        killed.refresh_from_db()
        assert killed.status == CrawlRun.FAILED
        count = Faq.objects.filter(source=source, active=True).count()
        assert count > 20 and index.index_is_current()

        Faq.objects.filter(source=source, question_key="half").update(active=False)
        hits = len(demo.server.paths())
        again = load_demo(demo.url)
        assert again.strip() == f"demo already loaded ({count - 1} FAQs)"
        assert len(demo.server.paths()) == hits  # nothing crawled again
        assert index.index_is_current()  # but the index caught up with the change

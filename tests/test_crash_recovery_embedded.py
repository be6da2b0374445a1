"""Kill -9 in the embedded shape (daphne + `manage.py` processes on SQLite), restart, and
the product answers again with nothing lost.

The crawls are made slow where it matters by a real HTTP server that holds one page until
the test lets it go, and index builds by tests/crashkit (a build that hangs): the test
kills a process only once the database shows it is half-way, never after a blind sleep.
"""

from __future__ import annotations

import contextlib
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from faq_ingest.extract import extract_faqs, normalise_question
from tests.httpserver import LocalHTTPServer, RecordedRequest, Response
from tests.services import ROOT, Proc, app_env, free_port, manage, start_daphne

DEMO_ROOT = ROOT / "faq_ingest" / "demo_site"
GATED_PAGE = "/demo-help/rewards.html"  # linked late from the home page: crawled mid-way


class DemoHelpServer:
    """The bundled demo help center on a real local server, as /demo-help/…, with a
    /healthz like the app's. One page can be held: its request waits until `release()`."""

    def __init__(self, gated: str | None = None) -> None:
        self.gated = gated
        self.gate = threading.Event()
        self.server = LocalHTTPServer(default=self.respond)

    def respond(self, req: RecordedRequest) -> Response:
        if req.path == "/healthz":
            return Response(body=b'{"ok": true}', headers={"Content-Type": "application/json"})
        if not req.path.startswith("/demo-help/"):
            return Response(404, b"not found")
        if req.path == self.gated:
            self.gate.wait(timeout=120)
        target = (DEMO_ROOT / req.path.removeprefix("/demo-help/")).resolve()
        if DEMO_ROOT not in target.parents or not target.is_file():
            return Response(404, b"not found")
        ctype = {".html": "text/html; charset=utf-8", ".txt": "text/plain", ".css": "text/css"}
        return Response(
            body=target.read_bytes(),
            headers={"Content-Type": ctype.get(target.suffix, "application/octet-stream")},
        )

    def release(self) -> None:
        self.gate.set()

    @property
    def url(self) -> str:
        return self.server.base_url

    def __enter__(self) -> DemoHelpServer:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
        self.server.stop()


def embedded_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = app_env(
        DATA_DIR=str(data_dir),
        CHATBOT_GENERATOR="fake",
        CHATBOT_EMBEDDER="hashing",
        CHATBOT_INDEX_RELOAD_CHECK_S="0",
        INFERENCE_MODE="inline",
        CRASHKIT_DIR=str(data_dir),
        **extra,
    )
    for var in ("DATABASE_URL", "REDIS_URL"):
        env.pop(var, None)
    return env


def blocking_builds(env: dict[str, str]) -> dict[str, str]:
    """The env of a process whose index builds hang (tests/crashkit)."""
    return dict(env, CRASHKIT_BLOCK_BUILD="1", PYTHONPATH=f"{ROOT / 'tests/crashkit'}:{ROOT}")


def sql(data_dir: Path, query: str, *params: object) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(data_dir / "db.sqlite3", timeout=20)) as db:
        return db.execute(query, params).fetchall()


def wait_for(check: Callable[[], bool], timeout: float, what: str, *procs: Proc) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} not seen in {timeout}s\n" + "\n".join(p.log() for p in procs))


def ask(base: str, question: str) -> dict:
    response = requests.post(f"{base}/api/v1/ask", json={"question": question}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def answered_from(base: str, question: str, page: str) -> bool:
    try:
        data = ask(base, question)
    except (requests.RequestException, AssertionError):
        return False
    return not data["escalate"] and any(page in c["url"] for c in data["citations"])


def demo_question_keys(urls: list[str]) -> set[str]:
    """What the extractor finds on these demo pages, read straight from the files."""
    keys = set()
    for url in urls:
        path = DEMO_ROOT / url.split("/demo-help/", 1)[1]
        for item in extract_faqs(path.read_text(encoding="utf-8"), url):
            keys.add(normalise_question(item.question)[:500])
    return keys - {""}


def load_demo(env: dict[str, str], server: str, log_dir: Path, name: str) -> Proc:
    return Proc(
        [sys.executable, "manage.py", "load_demo", "--server", server, "--wait", "60"],
        env,
        log_dir / f"load_demo-{name}.log",
    )


@pytest.fixture
def migrated(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    env = embedded_env(tmp_path)
    done = manage(env, "migrate", "--noinput", timeout=180)
    assert done.returncode == 0, done.stderr
    yield tmp_path, env


def test_killed_first_run_demo_load_is_finished_by_the_next_run(migrated) -> None:
    data_dir, env = migrated
    with DemoHelpServer(gated=GATED_PAGE) as demo:
        # First `make run`: the server and the demo load side by side; both are killed
        # while the crawler waits on a page half-way through the help center.
        web = start_daphne(env, free_port(), data_dir)
        loader = load_demo(env, demo.url, data_dir, "first")
        wait_for(
            lambda: demo.server.hits(GATED_PAGE) == 1
            and sql(data_dir, "SELECT count(*) FROM faq_ingest_faq")[0][0] > 0,
            90,
            "the demo load half-way",
            loader,
        )
        loader.kill()
        web.kill()

        (run_status,) = sql(data_dir, "SELECT status FROM faq_ingest_crawlrun")[0]
        saved = sql(data_dir, "SELECT question, source_url FROM faq_ingest_faq")
        assert run_status == "running"
        assert saved and not any(GATED_PAGE in url for _, url in saved)
        demo.release()

        # Second `make run`.
        port = free_port()
        (data_dir / "second").mkdir()
        web = start_daphne(env, port, data_dir / "second")
        base = f"http://127.0.0.1:{port}"
        try:
            # The server's start-up check closes the dead crawl and indexes what it saved,
            # before and independently of the demo load below.
            early_question, early_url = saved[0]
            wait_for(
                lambda: answered_from(base, early_question, early_url),
                60,
                "an answer from the FAQs saved before the kill",
                web,
            )
            loader = load_demo(env, demo.url, data_dir, "second")
            assert loader.popen.wait(timeout=120) == 0, loader.log()
            output = loader.log()
            assert "finishing an interrupted demo load" in output, output
            assert "succeeded: pages fetched" in output, output

            runs = sql(data_dir, "SELECT status, error FROM faq_ingest_crawlrun ORDER BY id")
            assert [s for s, _ in runs] == ["failed", "succeeded"]
            assert runs[0][1].startswith("worker stopped responding: ")
            pages = [u for (u,) in sql(data_dir, "SELECT url FROM faq_ingest_crawledpage")]
            assert any(GATED_PAGE in u for u in pages)
            keys = {k for (k,) in sql(data_dir, "SELECT question_key FROM faq_ingest_faq")}
            assert keys == demo_question_keys(pages)  # every FAQ of every page, once

            gated_faqs = sql(
                data_dir,
                "SELECT question FROM faq_ingest_faq WHERE source_url LIKE ? AND kind = 'faq'",
                f"%{GATED_PAGE}%",
            )
            assert gated_faqs
            assert answered_from(base, gated_faqs[0][0], GATED_PAGE)
            assert answered_from(base, early_question, early_url)

            # A third start finds the demo complete and leaves it alone.
            third = manage(env, "load_demo", "--server", demo.url, timeout=120)
            assert third.returncode == 0, third.stderr
            assert third.stdout.strip() == f"demo already loaded ({len(keys)} FAQs)"
        finally:
            web.stop()


def test_killed_index_build_is_redone_on_restart(migrated) -> None:
    data_dir, env = migrated
    with DemoHelpServer() as demo:
        # The crawl finishes; the process is killed in the index build that follows.
        crawl = Proc(
            [sys.executable, "manage.py", "crawl", f"{demo.url}/demo-help/index.html"],
            blocking_builds(env),
            data_dir / "crawl.log",
        )
        wait_for(lambda: (data_dir / "build-blocked").exists(), 90, "the index build", crawl)
        crawl.kill()

    assert sql(data_dir, "SELECT status FROM faq_ingest_crawlrun") == [("succeeded",)]
    assert sql(data_dir, "SELECT status, error FROM faq_ingest_indexsnapshot") == [("building", "")]
    question, url = sql(
        data_dir, "SELECT question, source_url FROM faq_ingest_faq WHERE kind = 'faq' LIMIT 1"
    )[0]

    port = free_port()
    web = start_daphne(env, port, data_dir)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: answered_from(base, question, url), 60, "an answer", web)
        snapshots = sql(data_dir, "SELECT status, error FROM faq_ingest_indexsnapshot ORDER BY id")
        assert snapshots[0][0] == "failed"
        assert snapshots[0][1].startswith("worker stopped responding: process")
        assert snapshots[-1][0] == "ready"
        faqs = sql(data_dir, "SELECT count(*) FROM faq_ingest_faq WHERE active")[0][0]
        assert sql(
            data_dir, "SELECT faq_count FROM faq_ingest_indexsnapshot WHERE status = 'ready'"
        ) == [(faqs,)]
    finally:
        web.stop()


def test_crawl_command_is_refused_while_one_runs_and_not_after_it_was_killed(
    migrated,
) -> None:
    data_dir, env = migrated
    with DemoHelpServer(gated=GATED_PAGE) as demo:
        url = f"{demo.url}/demo-help/index.html"
        first = Proc([sys.executable, "manage.py", "crawl", url], env, data_dir / "first-crawl.log")
        wait_for(lambda: demo.server.hits(GATED_PAGE) == 1, 90, "the gated page", first)

        second = manage(env, "crawl", url, timeout=120)
        assert second.returncode != 0
        assert second.stdout == ""  # no summary line a script could take for success
        assert "crawl not started: crawl #1 of" in second.stderr
        assert "is still running" in second.stderr and "last heartbeat" in second.stderr

        first.kill()  # the crawl's worker dies: no 2-hour wait for the next one
        demo.release()
        third = manage(env, "crawl", url, timeout=120)
    assert third.returncode == 0, third.stdout + third.stderr
    assert third.stdout.startswith("succeeded: pages fetched")
    runs = sql(data_dir, "SELECT id, status, error FROM faq_ingest_crawlrun ORDER BY id")
    assert [(i, s) for i, s, _ in runs] == [(1, "failed"), (2, "refused"), (3, "succeeded")]
    assert "is gone (killed or crashed)" in runs[0][2]

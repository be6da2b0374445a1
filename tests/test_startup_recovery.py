"""The web process's start-up check never blocks start-up and, in the scaled shape, only
queues the check for an ingest worker: no model library is loaded, even with the broker down."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.services import ROOT, app_env, free_port
from tests.test_lazy_imports import HEAVY

PROBE = f"""
import json, sys, threading, time
import django
django.setup()
import chatbot.asgi
threads = [t.name for t in threading.enumerate()]
time.sleep(1.0)  # the request thread meets the dead broker meanwhile
print(json.dumps({{
    "heavy": sorted(m for m in {HEAVY!r} if m in sys.modules),
    "threads": threads,
}}))
"""


def test_scaled_web_start_queues_the_check_without_loading_models(tmp_path) -> None:
    env = app_env(
        DATA_DIR=str(tmp_path),
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",  # nothing listens: broker down
        CHATBOT_GENERATOR="llamacpp",
        CHATBOT_EMBEDDER="sentence-transformers",
    )
    env.pop("INFERENCE_MODE", None)
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["heavy"] == []
    assert "ingest-recovery-request" in report["threads"]

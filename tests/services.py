"""Real services for tests: PostgreSQL, Redis, and app processes (daphne, Celery workers).

Outside CI a missing PostgreSQL or Redis skips the tests that need it; with CI=true it
fails them, so a broken CI machine can never pass by skipping.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"


def _missing(what: str, why: str) -> None:
    message = f"{what} is not available: {why}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " (CI=true: required services must run)", pytrace=False)
    pytest.skip(message)


def require_postgres() -> str:
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_PG)
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=3):
            pass
    except Exception as exc:
        _missing("PostgreSQL", str(exc))
    return url


def require_redis() -> str:
    url = os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS)
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except Exception as exc:
        _missing("Redis", str(exc))
    return url


@contextlib.contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty database for one test; dropped afterwards."""
    import psycopg

    base = require_postgres()
    name = f"faqbot_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = base.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def fresh_redis_db() -> Iterator[str]:
    import redis

    url = require_redis()
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_env(**overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(
        {
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "chatbot.settings",
            "CRAWLER_ALLOWED_PRIVATE_HOSTS": "127.0.0.1,localhost",
        }
    )
    env.update(overrides)
    return env


class Proc:
    """An app process with its output in a log file that failing tests can print."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115  (closed in stop())
        self.popen = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def wait_until(self, check: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise AssertionError(f"{what}: process exited early\n{self.log()}")
            try:
                if check():
                    return
            except Exception:
                pass
            time.sleep(0.2)
        raise AssertionError(f"{what}: not ready after {timeout}s\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL the process and its children: no cleanup runs, as in a crash or OOM kill."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)
        self._log.close()

    def stop(self) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=5)
        self._log.close()


def manage(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_daphne(env: dict[str, str], port: int, log_dir: Path) -> Proc:
    import requests

    proc = Proc(
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "chatbot.asgi:application",
        ],
        env,
        log_dir / f"daphne-{port}.log",
    )
    proc.wait_until(
        lambda: requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok, 60, "daphne"
    )
    return proc


def start_celery_worker(
    env: dict[str, str],
    queue: str,
    log_dir: Path,
    *,
    label: str = "",
    threads: int = 0,
    concurrency: int = 1,
) -> Proc:
    """A worker on one queue; `label` tells apart several workers on the same queue. An
    inference worker runs `-P solo`, or `-P threads -c N` with `threads=N` (as
    `make worker-inference` does); other queues run prefork with `concurrency` children."""
    worker_env = dict(env, CHATBOT_WORKER_QUEUES=queue)
    args = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "chatbot",
        "worker",
        "-Q",
        queue,
        "-n",
        f"{queue}-{uuid.uuid4().hex[:6]}@%h",
        "--loglevel",
        "INFO",
    ]
    if threads:
        args += ["-P", "threads", "-c", str(threads)]
    elif queue == "inference":
        args += ["-P", "solo"]
    else:
        args += ["-c", str(concurrency)]
    proc = Proc(args, worker_env, log_dir / f"celery-{queue}{label}.log")
    proc.wait_until(lambda: "ready." in proc.log(), 120, f"celery worker {queue}")
    return proc

"""Periodic jobs without Celery beat: the embedded shape's scheduler.

The jobs are the interval entries of settings.CELERY_BEAT_SCHEDULE, so one list serves
both shapes: scaled, `make beat` sends them to the workers; embedded, one daemon thread
in the web process calls the same tasks in-process (chatbot/asgi.py starts it when
CHATBOT_IN_PROCESS_SCHEDULER is on, the default without REDIS_URL). To add a job, add a
beat entry whose "schedule" is a number of seconds.

Jobs must be idempotent and safe to run concurrently (several web processes, or beat and
a stray scheduler thread, may run the same job at once).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import close_old_connections

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    task: str
    every_s: float


def jobs() -> list[Job]:
    out = []
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        schedule = entry.get("schedule")
        if isinstance(schedule, int | float) and schedule > 0:
            out.append(Job(name, entry["task"], float(schedule)))
        else:
            log.warning("in-process scheduler skips %s: only interval schedules run here", name)
    return out


def run_job(job: Job) -> None:
    from chatbot.celery import app

    app.loader.import_default_modules()
    task = app.tasks[job.task]
    close_old_connections()
    try:
        task()  # run here, now: the task body, not a message to a broker
    finally:
        close_old_connections()


class Scheduler(threading.Thread):
    def __init__(self, job_list: list[Job]) -> None:
        super().__init__(name="periodic-jobs", daemon=True)
        self.jobs = job_list
        self.stopped = threading.Event()

    def run(self) -> None:
        due = {job.name: time.monotonic() + job.every_s for job in self.jobs}
        while not self.stopped.is_set():
            now = time.monotonic()
            for job in self.jobs:
                if now < due[job.name]:
                    continue
                try:
                    run_job(job)
                except Exception:
                    log.exception("periodic job %s failed", job.name)
                due[job.name] = time.monotonic() + job.every_s
            wait = min(due.values(), default=now + 1.0) - time.monotonic()
            self.stopped.wait(max(0.05, min(wait, 1.0)))

    def stop(self) -> None:
        self.stopped.set()


_scheduler: Scheduler | None = None
_lock = threading.Lock()


def start_in_process() -> Scheduler | None:
    """Start this process's scheduler thread once; returns it (None when no jobs)."""
    global _scheduler
    with _lock:
        if _scheduler is None or not _scheduler.is_alive():
            job_list = jobs()
            if not job_list:
                return None
            _scheduler = Scheduler(job_list)
            _scheduler.start()
            log.info("in-process scheduler: %s", ", ".join(j.name for j in job_list))
        return _scheduler

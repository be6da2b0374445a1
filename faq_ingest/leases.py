"""Leases for long ingestion work (crawls, index builds): who holds the work, and until when.

A row that is being worked on (a RUNNING CrawlRun, a BUILDING IndexSnapshot) names its
owner process and a lease expiry. While the work runs, a heartbeat thread renews the lease
every quarter of `INGEST_LEASE_S`. A process killed with SIGKILL, an OOM kill, a lost
machine or a hung process stops renewing; once the lease has run out, `reap` marks the row
failed and the next crawl or build may start.

On the same machine we need not wait for the lease to run out: an owner id carries the
kernel boot id, the pid namespace, the pid and the process start time, so a process can
tell for sure that another one on its own machine is gone (`owner_is_gone`). Anything it
cannot be sure about (another machine, another container) waits for the lease.

Every write that depends on still holding the lease is conditional on the owner column, so
a process that was stalled past its lease and then wakes up finds it lost (`LeaseLost`)
instead of overwriting the row that recovery already closed.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.db import connections, models
from django.utils import timezone

log = logging.getLogger(__name__)


class LeaseLost(RuntimeError):
    """This process no longer holds the lease of the row it was working on."""


def lease_duration() -> timedelta:
    return timedelta(seconds=settings.INGEST_LEASE_S)


def lease_fields(now: datetime | None = None) -> dict[str, object]:
    """Column values that claim a row for this process from `now`."""
    now = now or timezone.now()
    return {
        "lease_owner": owner_id(),
        "heartbeat_at": now,
        "lease_expires_at": now + lease_duration(),
    }


# --------------------------------------------------------------------------------------------
# Who owns a lease
# --------------------------------------------------------------------------------------------


def _read(path: str) -> str:
    try:
        with open(path, encoding="ascii") as f:
            return f.read().strip()
    except OSError:
        return ""


@cache
def _machine() -> str:
    """Boot id + pid namespace: two processes that share both can see each other's pids."""
    boot = _read("/proc/sys/kernel/random/boot_id").replace("-", "")[:12]
    try:
        pidns = str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        pidns = ""
    return f"{boot}.{pidns}" if boot and pidns else ""


def _start_ticks(pid: int) -> str:
    """The process's start time in clock ticks since boot; '' if there is no such process."""
    stat = _read(f"/proc/{pid}/stat")
    # The command name (field 2) may hold spaces and parentheses; fields after it do not.
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else ""


@cache
def _owner_for(pid: int) -> str:
    host = socket.gethostname().replace(":", "_")[:120]
    return f"{host}:{pid}:{_start_ticks(pid)}:{_machine()}"


def owner_id() -> str:
    """This process, as a lease owner: 'host:pid:start_ticks:machine'.

    Keyed by pid because Celery's prefork children inherit this module from their parent.
    """
    return _owner_for(os.getpid())


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int
    start_ticks: str
    machine: str

    @classmethod
    def parse(cls, owner: str) -> Owner | None:
        parts = owner.split(":")
        if len(parts) != 4 or not parts[1].isdigit():
            return None
        return cls(parts[0], int(parts[1]), parts[2], parts[3])

    def describe(self) -> str:
        return f"process {self.pid} on {self.host}"


def owner_is_gone(owner: str) -> bool:
    """True only when `owner` was a process on this machine that no longer runs.

    A pid that exists again with another start time was reused by a new process, so the
    owner is gone too. Anything else (another machine or container, no /proc) is False:
    only its lease running out can tell.
    """
    parsed = Owner.parse(owner)
    if parsed is None or not parsed.machine or parsed.machine != _machine():
        return False
    if not parsed.start_ticks:
        return False
    return _start_ticks(parsed.pid) != parsed.start_ticks


def describe_owner(owner: str) -> str:
    parsed = Owner.parse(owner)
    return parsed.describe() if parsed else (owner or "an unknown process")


# --------------------------------------------------------------------------------------------
# Holding a lease
# --------------------------------------------------------------------------------------------


class Heartbeat:
    """Renews the lease on one row from a background thread while the work runs.

    `model` must have the lease columns and a `status` column; the lease is renewed only
    while the row is still in `running_status` and owned by `owner`. When a renewal finds
    the row taken away, `lost` is set and `check()` raises `LeaseLost` in the worker.
    """

    def __init__(
        self,
        model: type[models.Model],
        pk: int,
        owner: str,
        running_status: str,
        *,
        interval_s: float | None = None,
    ) -> None:
        self.model, self.pk, self.owner, self.running_status = model, pk, owner, running_status
        self.interval_s = interval_s if interval_s is not None else settings.INGEST_LEASE_S / 4
        self.lost = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Heartbeat:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> Heartbeat:
        self._thread = threading.Thread(
            target=self._run, name=f"lease-{self.model.__name__}-{self.pk}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def check(self) -> None:
        if self.lost:
            raise LeaseLost(
                f"{self.model.__name__} {self.pk}: the lease was taken over "
                "(this process was presumed dead); stopping"
            )

    def beat(self) -> bool:
        """Renew now; False when the row is no longer ours."""
        now = timezone.now()
        renewed = self.model.objects.filter(
            pk=self.pk, status=self.running_status, lease_owner=self.owner
        ).update(heartbeat_at=now, lease_expires_at=now + lease_duration())
        if not renewed:
            self.lost = True
        return bool(renewed)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval_s):
                try:
                    if not self.beat():
                        log.warning(
                            "%s %s: lease lost; the work will stop", self.model.__name__, self.pk
                        )
                        return
                except Exception:  # a busy database must not end the heartbeat for good
                    log.warning("lease heartbeat of %s %s failed", self.model.__name__, self.pk)
        finally:
            # The thread's own connection: nothing else would ever close it.
            connections.close_all()


# --------------------------------------------------------------------------------------------
# Recovering abandoned work
# --------------------------------------------------------------------------------------------


def abandonment(
    owner: str,
    heartbeat_at: datetime | None,
    expires_at: datetime | None,
    started_at: datetime,
    now: datetime,
) -> str | None:
    """Why a running row counts as abandoned now, or None if its owner may still be at work."""
    if owner and owner_is_gone(owner):
        return f"worker stopped responding: {describe_owner(owner)} is gone (killed or crashed)"
    if expires_at is None:
        # A row written before leases existed: its start is the only clue.
        if started_at < now - lease_duration():
            return "worker stopped responding (no heartbeat recorded)"
        return None
    if expires_at < now:
        since = (heartbeat_at or started_at).strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"worker stopped responding: no heartbeat from {describe_owner(owner)} since {since}"
    return None


def reap(
    queryset: models.QuerySet,
    *,
    running_status: str,
    failed_status: str,
    started_field: str,
    extra: dict[str, object] | None = None,
) -> list[tuple[int, str]]:
    """Mark the abandoned `running_status` rows of `queryset` as failed.

    Returns (pk, reason) for each row this call closed. Each update is conditional on the
    lease values read, so a holder that renewed in between keeps its row.
    """
    now = timezone.now()
    closed: list[tuple[int, str]] = []
    rows = queryset.filter(status=running_status).values_list(
        "pk", "lease_owner", "heartbeat_at", "lease_expires_at", started_field
    )
    for pk, owner, heartbeat_at, expires_at, started_at in rows:
        reason = abandonment(owner, heartbeat_at, expires_at, started_at, now)
        if reason is None:
            continue
        updated = queryset.model.objects.filter(
            pk=pk, status=running_status, lease_owner=owner, lease_expires_at=expires_at
        ).update(status=failed_status, error=reason, lease_expires_at=None, **(extra or {}))
        if updated:
            log.warning("%s %s marked failed: %s", queryset.model.__name__, pk, reason)
            closed.append((pk, reason))
    return closed


def holder_summary(owner: str, heartbeat_at: datetime | None) -> str:
    """'process 123 on web-1, last heartbeat 4 s ago' for messages to people."""
    if heartbeat_at is None:
        return describe_owner(owner)
    age = max(0, int((timezone.now() - heartbeat_at).total_seconds()))
    return f"{describe_owner(owner)}, last heartbeat {age} s ago"

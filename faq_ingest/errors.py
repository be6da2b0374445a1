"""Exceptions that ingestion code raises and its entry points (tasks, commands, admin) report.

Kept apart from `sync` so that `tasks` can name them without importing the crawler.
"""

from __future__ import annotations


class CrawlNotStarted(Exception):
    """The crawl did not start; the message says why, for staff and task results.

    Only the message is an argument, so Celery can rebuild the exception from a result.
    """

    def __init__(self, message: str, *, refused_run_id: int | None = None) -> None:
        super().__init__(message)
        # The REFUSED CrawlRun recorded for it (staff see it in the crawl list), if any.
        self.refused_run_id = refused_run_id


class DuplicateDelivery(CrawlNotStarted):
    """The broker delivered a crawl task again while its first delivery still runs."""

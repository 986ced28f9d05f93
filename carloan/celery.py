"""The Celery application (`carloan.celery:app`), on the Redis broker named by the settings."""

import os
from typing import Any

from celery import Celery, shared_task

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carloan.settings")

app = Celery("carloan")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def service_task(name: str, *, minutes: int = 15, max_retries: int = 3, backoff: int = 5) -> Any:
    """The shape of every task here: named, acknowledged late (settings), bounded in time, and
    retried only when the database connection was lost (anything else is a bug to see).

    A task calls one service with ids or values and must be safe to run twice.
    """
    from django.db import InterfaceError, OperationalError

    return shared_task(
        name=name,
        acks_late=True,
        soft_time_limit=minutes * 60 - 60,
        time_limit=minutes * 60,
        autoretry_for=(OperationalError, InterfaceError),
        retry_backoff=backoff,
        max_retries=max_retries,
    )

"""The Celery application (`carloan.celery:app`), on the Redis broker named by the settings."""

import os
from typing import Any

from celery import Celery, shared_task

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carloan.settings")

app = Celery("carloan")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

_REDBEAT_SETTINGS = (
    "redbeat_redis_url",
    "redbeat_redis_options",
    "redbeat_key_prefix",
    "redbeat_lock_timeout",
)


@app.on_after_configure.connect
def _redbeat_settings_by_their_own_names(sender: Celery, **_kwargs: Any) -> None:
    # RedBeat checks that its settings exist under their bare names (not CELERY_REDBEAT_*) and
    # otherwise warns that it falls back to the broker's; they are set, so say so.
    sender.conf.update({name: sender.conf.get(name) for name in _REDBEAT_SETTINGS})


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

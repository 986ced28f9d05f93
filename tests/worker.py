"""A real Celery worker for tests: `celery -A carloan worker` in a subprocess, on the test database.

Use the `celery_worker_process` fixture (import it into the test module) in tests marked
`@pytest.mark.worker` and `@pytest.mark.django_db(transaction=True)`: the worker is another
process, so it only sees what the test has committed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse, urlunparse

import pytest
from django.conf import settings
from django.db import connection

BASE_DIR = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60.0


def _database_url(name: str) -> str:
    """DATABASE_URL with its database name replaced by `name` (the pytest-django test one)."""
    parsed = urlparse(os.environ["DATABASE_URL"])
    return urlunparse(parsed._replace(path="/" + quote(name)))


def _wait_until_ready(process: subprocess.Popen[bytes], nodename: str, log: Path) -> None:
    from carloan.celery import app

    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Celery worker exited at start:\n{log.read_text()}")
        if app.control.ping(destination=[nodename], timeout=0.5):
            return
    raise RuntimeError(
        f"the Celery worker did not answer within {START_TIMEOUT:.0f} s:\n{log.read_text()}"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)  # its own session: the worker and nothing else
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup: Any, django_db_blocker: Any) -> Iterator[str]:
    """Start a worker on this run's queue (CELERY_QUEUE) against the test database; yield its
    node name."""
    with django_db_blocker.unblock():
        name = connection.settings_dict["NAME"]
    nodename = f"carloan-test-{os.getpid()}@{socket.gethostname()}"
    env = {**os.environ, "DATABASE_URL": _database_url(name), "PYTHONUNBUFFERED": "1"}
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    # No periods computed ahead after refreshes: the warm-up would still be reading the loan
    # book when a test's teardown truncates it (a deadlock). tests/test_metrics_summary.py
    # tests the warm-up with eager tasks.
    env["METRICS_SUMMARY_CACHE_SECONDS"] = "0"
    with tempfile.NamedTemporaryFile(
        "wb", prefix="celery-worker-", suffix=".log", delete=False
    ) as f:
        log = Path(f.name)
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "carloan",
                "worker",
                "--pool=solo",
                "-Q",
                settings.CELERY_TASK_DEFAULT_QUEUE,
                "-n",
                nodename,
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_ready(process, nodename, log)
        yield nodename
    finally:
        _stop(process)
        log.unlink(missing_ok=True)

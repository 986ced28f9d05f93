"""Two Celery beats never send a schedule twice: the schedule lives in Redis behind a lock
(RedBeat). The beat holding it sends what is due; the other waits, and takes over when the
holder dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.worker


class Beat:
    def __init__(self, name: str, env: dict[str, str], log_dir: Path) -> None:
        self.log = log_dir / f"{name}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "carloan", "beat", "-l", "info"],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def holds_lock(self) -> bool:
        return "beat: Acquired lock" in self.output()

    def stop(self, signum: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signum)
            self.process.wait(20)


def wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture
def beats(tmp_path: Path) -> Iterator[tuple[list[Beat], str, redis.Redis]]:
    """Two beats on this run's Redis with a prefix of their own, and an entry due every second
    whose messages go to a queue nobody consumes (so they can be counted)."""
    prefix = f"carloan-test-beat-{uuid.uuid4().hex[:8]}"
    queue = f"{prefix}-probe"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "carloan.settings",
        "CELERY_BEAT_KEY_PREFIX": prefix,
        "CELERY_BEAT_LOCK_TIMEOUT": "10",
        "PYTHONUNBUFFERED": "1",
    }
    from celery.schedules import schedule
    from redbeat import RedBeatSchedulerEntry

    from carloan.celery import app

    app.conf.redbeat_key_prefix = prefix
    try:
        RedBeatSchedulerEntry(
            "probe", "carloan.beat_probe", schedule(1), options={"queue": queue}, app=app
        ).save()
    finally:
        app.conf.redbeat_key_prefix = settings.CELERY_REDBEAT_KEY_PREFIX
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    started = [Beat(name, env, tmp_path) for name in ("beat-a", "beat-b")]
    try:
        yield started, queue, client
    finally:
        for beat in started:
            beat.stop(signal.SIGKILL)
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
        client.delete(queue)


def test_two_beats_send_each_due_task_once_and_the_second_takes_over(
    beats: tuple[list[Beat], str, redis.Redis],
) -> None:
    started, queue, client = beats
    wait_for(lambda: any(b.holds_lock() for b in started), 60, "a beat to take the lock")
    time.sleep(3)  # both are up: let the second try for the lock
    holders = [b for b in started if b.holds_lock()]
    assert len(holders) == 1, [b.output()[-2000:] for b in started]
    holder, waiting = holders[0], next(b for b in started if b is not holders[0])

    client.delete(queue)
    time.sleep(6)
    sent = client.llen(queue)
    # Due every second for 6 s: one beat sends about 6, two would send about 12.
    assert 3 <= sent <= 8, sent
    assert "Sending due task probe" not in waiting.output()

    holder.stop(signal.SIGKILL)  # dies without letting go: the lock expires
    wait_for(waiting.holds_lock, 45, "the second beat to take over")
    before = client.llen(queue)
    wait_for(lambda: client.llen(queue) >= before + 2, 20, "the second beat to send")

"""Faults survived (issue 8), with servers that are really stopped and started.

Everything here runs on servers of the module's own (tests/own_servers.py): a PostgreSQL and a
Redis on free ports, loaded with the demo book, and the product as separate OS processes
(uvicorn, Celery workers, `manage.py import_loanbook`). The machine's shared servers are never
touched.

- Redis restarts: /healthz says 503 while it is down; a change made meanwhile through the API is
  committed (its broadcast fails and is logged); the socket client reconnects with backoff and
  its fresh snapshot holds the change.
- PostgreSQL restarts: pages and the API answer 503 with a clear message, never a trace, and the
  same server process recovers by itself.
- A Celery worker SIGKILLed in the middle of a metric refresh: the task is delivered again (to
  another worker, after the visibility timeout) and the figures end exactly as a refresh run in
  one piece gives them.
- An import SIGKILLed while it COPYs a large file: nothing of it is stored.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.own_servers import (
    OwnPostgres,
    OwnRedis,
    Proc,
    manage,
    product_env,
    start_uvicorn,
    start_worker,
    wait_for,
)

pytestmark = pytest.mark.faults

DEMO_PASSWORD = "carloan-demo"
VISIBILITY_TIMEOUT = 6  # seconds before a dead worker's task is handed out again


@dataclass
class Stack:
    pg: OwnPostgres
    redis: OwnRedis
    env: dict[str, str]
    logs: Path
    procs: list[Proc] = field(default_factory=list)

    def db(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.pg.url("carloan"), autocommit=True)

    def web(self, name: str, **extra: str) -> tuple[Proc, str]:
        proc, url = start_uvicorn(name, {**self.env, **extra}, self.logs)
        self.procs.append(proc)
        return proc, url

    def worker(self, name: str, pool: str = "solo") -> Proc:
        proc = start_worker(name, self.env, self.logs, pool)
        self.procs.append(proc)
        return proc


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    logs = Path(tempfile.mkdtemp(prefix="carloan-faults-"))
    pg, redis = OwnPostgres(), OwnRedis()
    try:
        pg.start()
        pg.create_database("carloan")
        redis.start()
        env = product_env(
            pg.url("carloan"),
            redis.url(),
            CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
            # No refreshes of the API's own latency samples: the workers here run only the
            # tasks each test sends.
            METRICS_API_LATENCY="0",
        )
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo")
        stack = Stack(pg, redis, env, logs)
        yield stack
        for proc in stack.procs:
            proc.stop()
    finally:
        redis.destroy()
        pg.destroy()


def token_for(url: str, username: str) -> str:
    answer = httpx.post(
        f"{url}/api/auth/token/", data={"username": username, "password": DEMO_PASSWORD}
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


def assert_clear_503(answer: httpx.Response) -> None:
    assert answer.status_code == 503, answer.text[:500]
    assert "Traceback" not in answer.text
    assert "Error" not in answer.text  # no exception class names either
    assert "unavailable" in answer.text or "down" in answer.text


# --- Redis -----------------------------------------------------------------------------------


class ReconnectingClient:
    """What static/js/live.js does, in Python: connect with a token, keep the latest snapshot,
    and on a lost connection retry with exponential backoff until a snapshot arrives again."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url.replace("http://", "ws://") + "/ws/parameters/"
        self.headers = {"Authorization": f"Token {token}"}
        self.snapshots: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.disconnects = 0
        self.attempts = 0
        self._stop = False

    async def run(self) -> None:
        import websockets

        delay = 0.2
        while not self._stop:
            self.attempts += 1
            try:
                async with websockets.connect(
                    self.url, additional_headers=self.headers, open_timeout=3
                ) as socket:
                    async for raw in socket:
                        message = json.loads(raw)
                        if message["type"].endswith(".snapshot"):
                            self.snapshots.append(message)
                            delay = 0.2  # a good connection resets the backoff
                        else:
                            self.events.append(message)
                        if self._stop:
                            return
            except (OSError, websockets.exceptions.WebSocketException, TimeoutError):
                pass
            self.disconnects += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    def stop(self) -> None:
        self._stop = True


def _value_in(snapshot: dict[str, Any], key: str) -> Any:
    for item in snapshot["parameters"]:
        if item["key"] == key:
            return item["value"], item["version"]
    raise KeyError(key)


def test_redis_restart(stack: Stack) -> None:
    _web, url = stack.web("web-redis")
    token = token_for(url, "manager")
    auth = {"Authorization": f"Token {token}"}
    parameters = httpx.get(f"{url}/api/parameters/", headers=auth).json()
    # A number a manager changes at once (no second manager needed), with room to move.
    state_json = next(
        p
        for p in parameters
        if not p["four_eyes"]
        and p["key"].startswith("alert.")
        and p["type"] in ("percent", "integer", "decimal", "number")
        and p["min"] is not None
        and p["max"] is not None
        and float(p["max"]) - float(p["min"]) >= 2
    )
    key = state_json["key"]

    async def scenario() -> None:
        client = ReconnectingClient(url, token)
        runner = asyncio.create_task(client.run())
        try:
            await _until(lambda: len(client.snapshots) == 1, 10, "the first snapshot")
            before = _value_in(client.snapshots[0], key)

            stack.redis.stop()
            health = await asyncio.to_thread(httpx.get, f"{url}/healthz", timeout=5)
            assert health.status_code == 503
            assert health.json() == {"status": "down", "database": "ok", "redis": "down"}

            new_value = _other_value(state_json)
            answer = await asyncio.to_thread(
                httpx.patch,
                f"{url}/api/parameters/{key}/",
                json={"value": new_value, "version": before[1], "reason": "while Redis is down"},
                headers=auth,
                timeout=15,
            )
            # The change is committed even though its broadcast cannot go out.
            assert answer.status_code in (200, 202), answer.text
            assert answer.status_code != 500
            await _until(lambda: client.disconnects >= 1, 15, "the socket to drop")

            stack.redis.start()
            await _until(lambda: len(client.snapshots) >= 2, 30, "a snapshot after reconnecting")
            after = _value_in(client.snapshots[-1], key)
            assert after[1] == before[1] + 1
            assert float(after[0]) == float(new_value)
            assert client.attempts >= 2
        finally:
            client.stop()
            runner.cancel()

    asyncio.run(scenario())
    assert httpx.get(f"{url}/healthz").status_code == 200
    # The database says the same as the snapshot.
    with stack.db() as db:
        version = db.execute(
            "SELECT version FROM parameters_parameter WHERE key = %s", [key]
        ).fetchone()
    assert version is not None and version[0] == state_json["version"] + 1
    assert "Traceback" not in _only_server_errors(_web.output())


@pytest.mark.e2e
def test_a_browser_page_reconnects_after_a_redis_restart_and_shows_what_changed(
    stack: Stack,
) -> None:
    """The same, as a person sees it: `/parameters/` open in Chromium (static/js/live.js) while
    Redis restarts. The page shows it is offline, reconnects by itself with backoff, and shows
    the change made meanwhile from its fresh snapshot, without being reloaded."""
    from tests.e2e.conftest import chromium

    key = "alert.overdue_rate.warn_pct"
    _web, url = stack.web("web-redis-browser")
    auth = {"Authorization": f"Token {token_for(url, 'manager')}"}
    state = httpx.get(f"{url}/api/parameters/{key}/", headers=auth).json()
    new_value = int(float(state["value"])) + 1
    errors: list[str] = []
    with chromium() as browser:
        page = browser.new_context().new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{url}/parameters/")
        page.fill("input[name=username]", "viewer")
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("form.form button[type=submit]")
        page.wait_for_url(f"{url}/parameters/")
        page.wait_for_selector("#live-status[data-state=live]", timeout=15_000)
        page.evaluate("window.__notReloaded = true")
        shown = f'[data-param="{key}"][data-role=value]'
        assert page.inner_text(shown).strip() == f"{int(float(state['value']))} %"

        stack.redis.stop()
        try:
            page.wait_for_selector("#live-status:not([data-state=live])", timeout=15_000)
            answer = httpx.patch(
                f"{url}/api/parameters/{key}/",
                json={"value": new_value, "version": state["version"], "reason": "Redis down"},
                headers=auth,
                timeout=15,
            )
            assert answer.status_code == 200, answer.text
        finally:
            stack.redis.start()

        page.wait_for_selector("#live-status[data-state=live]", timeout=30_000)
        page.wait_for_function(
            "([selector, text]) => document.querySelector(selector).textContent.trim() === text",
            arg=[shown, f"{new_value} %"],
            timeout=10_000,
        )
        assert page.evaluate("window.__notReloaded") is True
    assert errors == [], errors


def _other_value(state: dict[str, Any]) -> Any:
    value = float(state["value"])
    candidate = value + 1 if value + 1 <= float(state["max"]) else value - 1
    return int(candidate) if isinstance(state["value"], int) else candidate


def _only_server_errors(log: str) -> str:
    """Uvicorn's log without the lines that legitimately mention exceptions (warnings)."""
    return "\n".join(line for line in log.splitlines() if "ERROR" in line and "500" in line)


async def _until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


# --- PostgreSQL ------------------------------------------------------------------------------


def test_postgres_restart(stack: Stack) -> None:
    # The pool (default) keeps connections across requests: the restart breaks every one of them.
    # While PostgreSQL is down a request waits DATABASE_POOL_TIMEOUT for a connection (10 s by
    # default), then answers 503: 3 s here keeps the test short.
    web, url = stack.web("web-postgres", DATABASE_POOL_TIMEOUT="3")
    token = token_for(url, "viewer")
    auth = {"Authorization": f"Token {token}"}
    browser = httpx.Client(base_url=url, follow_redirects=False)
    login = browser.get("/login/")
    csrf = login.cookies["csrftoken"]
    signed_in = browser.post(
        "/login/",
        data={"username": "viewer", "password": DEMO_PASSWORD, "csrfmiddlewaretoken": csrf},
        headers={"Referer": f"{url}/login/"},
    )
    assert signed_in.status_code == 302, signed_in.text[:300]
    assert httpx.get(f"{url}/api/parameters/", headers=auth).status_code == 200
    assert browser.get("/parameters/").status_code == 200

    stack.pg.stop()
    try:
        assert_clear_503(httpx.get(f"{url}/api/parameters/", headers=auth, timeout=15))
        assert_clear_503(httpx.get(f"{url}/api/metrics/panels/", headers=auth, timeout=15))
        assert_clear_503(browser.get("/parameters/", timeout=15))
        assert_clear_503(browser.get("/", timeout=15))
        assert_clear_503(
            httpx.post(
                f"{url}/api/auth/token/",
                data={"username": "viewer", "password": DEMO_PASSWORD},
                timeout=15,
            )
        )
        health = httpx.get(f"{url}/healthz", timeout=15)
        assert health.status_code == 503
        assert health.json()["database"] == "down"
    finally:
        stack.pg.start()

    # The same process recovers by itself: no restart of uvicorn.
    wait_for(
        lambda: httpx.get(f"{url}/api/parameters/", headers=auth, timeout=5).status_code == 200,
        30,
        "the API to answer again",
        web,
    )
    assert browser.get("/parameters/").status_code == 200
    assert httpx.get(f"{url}/healthz").status_code == 200
    assert web.alive()
    assert "Traceback" not in _only_server_errors(web.output())


# --- a worker killed mid-refresh -----------------------------------------------------------------

REFRESH_DAYS = 90
VALUES_SQL = (
    "SELECT metric, region, day, value, baseline, status FROM metrics_metricvalue "
    "WHERE day BETWEEN %s AND %s ORDER BY metric, region, day"
)


def _values(stack: Stack, start: str, end: str) -> list[tuple[Any, ...]]:
    with stack.db() as db:
        return db.execute(VALUES_SQL, [start, end]).fetchall()


def _refresh_is_held(stack: Stack) -> bool:
    """A refresh is in the middle of its transaction, waiting for the row the test holds (its
    statement's text is longer than pg_stat_activity keeps: the wait is what tells)."""
    with stack.db() as db:
        row = db.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = 'carloan' "
            "AND state = 'active' AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        ).fetchone()
    return bool(row and row[0])


@contextmanager
def _technical_row_held(stack: Stack, day: date) -> Iterator[Any]:
    """Hold one technical value of `day` (FOR UPDATE) until released: a refresh writes the
    funnel, portfolio and valuation families first, then waits on it, in the middle of its
    transaction. That is where the test kills the worker, every time, however fast the machine."""
    holder = psycopg.connect(stack.pg.url("carloan"))
    try:
        row = holder.execute(
            "SELECT id FROM metrics_metricvalue WHERE metric = 'availability' AND day = %s "
            "AND value IS NOT NULL LIMIT 1 FOR UPDATE",
            [day],
        ).fetchone()
        assert row is not None
        yield holder
    finally:
        holder.close()  # rolls back: the row is free


@pytest.mark.parametrize("what", ["pool-process", "whole-worker"])
def test_worker_killed_mid_refresh_runs_again_and_ends_exact(stack: Stack, what: str) -> None:
    """SIGKILL in the middle of a refresh, two ways:

    - `pool-process`: the child process running the task dies (the OOM killer's favourite); the
      worker sees it lost and, with reject_on_worker_lost, puts the task back at once.
    - `whole-worker`: the worker and its children die (a host lost); the task stays
      unacknowledged in Redis, and after the visibility timeout the broker's restore hands it to
      another worker. Kombu runs that restore about every 100 s in each worker; the test runs the
      same restore itself once the timeout has passed, to save the wait.
    """
    import psutil
    from celery import Celery

    with stack.db() as db:
        (last,) = db.execute("SELECT max(day) FROM metrics_metricvalue").fetchone()
    # The last REFRESH_DAYS days: long enough a refresh to be caught in the middle.
    start, end = (last - timedelta(days=REFRESH_DAYS - 1)).isoformat(), last.isoformat()

    # What a refresh in one piece gives.
    manage(stack.env, "refresh_metrics", "--start", start, "--end", end)
    expected = _values(stack, start, end)
    assert len(expected) > 1000

    # Damage the figures, so only a complete rerun can put them right.
    with stack.db() as db:
        db.execute(
            "UPDATE metrics_metricvalue SET value = value + 1000 WHERE day BETWEEN %s AND %s",
            [start, end],
        )
        db.execute("DELETE FROM metrics_metricvalue WHERE day = %s", [end])

    victim = stack.worker(f"victim-{what}", pool="prefork" if what == "pool-process" else "solo")
    app = Celery(broker=stack.redis.url())
    try:
        with _technical_row_held(stack, last - timedelta(days=1)):
            result = app.send_task(
                "metrics.metrics_refresh_range",
                args=[start, end],
                queue=stack.env.get("CELERY_QUEUE") or "celery",  # the queue its workers take
            )
            done = f"Task metrics.metrics_refresh_range[{result.id}] succeeded"
            wait_for(lambda: result.id in victim.output(), 90, "the task to be received", victim)
            wait_for(lambda: _refresh_is_held(stack), 60, "the refresh to be mid-way", victim)
            if what == "pool-process":
                (child,) = psutil.Process(victim.pid).children()
                child.send_signal(signal.SIGKILL)
                wait_for(
                    lambda: "WorkerLostError" in victim.output(), 30, "the worker to see it", victim
                )
            else:
                victim.kill()  # SIGKILL: no goodbye, no ack; the task stays unacknowledged
            assert done not in victim.output()
        # The row is free again: the task, delivered again, runs to the end.
        if what == "pool-process":
            # The same worker gets the task back at once.
            wait_for(lambda: done in victim.output(), 120, "the task to run again", victim)
        else:
            rescuer = stack.worker("rescuer")
            time.sleep(VISIBILITY_TIMEOUT + 1)
            with app.connection_for_write() as connection:
                channel = connection.default_channel
                channel.qos.visibility_timeout = VISIBILITY_TIMEOUT
                channel.qos.restore_visible(num=100)
            wait_for(
                lambda: done in rescuer.output(), 120, "another worker to run it again", rescuer
            )
            rescuer.stop()
    finally:
        victim.stop()
    assert _values(stack, start, end) == expected


# --- an import killed mid-COPY ---------------------------------------------------------------


def _big_leads_file(path: Path, rows: int) -> None:
    with path.open("w") as out:
        out.write("lead_id,created_at,region,branch,channel\n")
        for i in range(rows):
            out.write(f"KILL-{i:08d},2026-06-01T10:00:00,EAST-01,B1,web\n")


def _copy_is_running(stack: Stack) -> bool:
    with stack.db() as db:
        row = db.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = 'carloan' "
            "AND query ILIKE 'COPY%%' AND state = 'active'"
        ).fetchone()
    return bool(row and row[0])


def test_import_killed_mid_copy_stores_nothing(stack: Stack, tmp_path: Path) -> None:
    with stack.db() as db:
        leads_before = db.execute("SELECT count(*) FROM loanbook_lead").fetchone()[0]
        runs_before = db.execute("SELECT count(*) FROM carloan_importrun").fetchone()[0]
    leads = tmp_path / "leads.csv"
    _big_leads_file(leads, 1_500_000)

    command = subprocess.Popen(
        [sys.executable, "manage.py", "import_loanbook", str(leads), "--no-refresh"],
        cwd=Path(__file__).resolve().parent.parent,
        env=stack.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: _copy_is_running(stack) or command.poll() is not None, 60, "the COPY")
        assert command.poll() is None, "the import finished before it could be killed"
        time.sleep(0.5)  # well into the file
        command.send_signal(signal.SIGKILL)
        command.wait(10)
    finally:
        if command.poll() is None:
            command.kill()

    # The server notices the dead client and rolls the transaction back.
    wait_for(lambda: not _copy_is_running(stack), 30, "the server to drop the import")
    with stack.db() as db:
        assert db.execute("SELECT count(*) FROM loanbook_lead").fetchone()[0] == leads_before
        assert (
            db.execute(
                "SELECT count(*) FROM loanbook_lead WHERE lead_id LIKE 'KILL-%%'"
            ).fetchone()[0]
            == 0
        )
        assert db.execute("SELECT count(*) FROM carloan_importrun").fetchone()[0] == runs_before
        # No lock is left behind: the table takes a write at once.
        with db.transaction():
            db.execute("SET LOCAL lock_timeout = '2s'")
            db.execute("LOCK TABLE loanbook_lead IN EXCLUSIVE MODE")

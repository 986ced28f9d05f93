"""Scale-out (issue 8): several web processes and a worker on one PostgreSQL and one Redis behave
as one product.

Two uvicorn processes and a Celery worker run as separate OS processes on the test database.
Sockets are connected to both servers; changes are made through each; every socket must get every
event (the Redis channel layer). A metrics refresh enqueued through one server runs in the worker,
and its `panel.updated` reaches the sockets of both servers.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.contrib.auth.models import User

from tests.dburl import this_test_database_url
from tests.factories import make_user, token_for
from tests.own_servers import Proc, product_env, start_uvicorn

pytestmark = [pytest.mark.scaleout]

WAIT = 30.0


@pytest.fixture(scope="module")
def two_servers(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[str]]:

    with django_db_blocker.unblock():
        database_url = this_test_database_url()
    env = product_env(database_url, os.environ["REDIS_URL"])
    logs = Path(tmp_path_factory.mktemp("scaleout"))
    procs: list[Proc] = []
    urls: list[str] = []
    try:
        for name in ("web-a", "web-b"):
            proc, url = start_uvicorn(name, env, logs)
            procs.append(proc)
            urls.append(url)
        yield urls
    finally:
        for proc in procs:
            proc.stop()


class Sockets:
    """Sockets to several servers, each collecting what it receives."""

    def __init__(self) -> None:
        self.received: dict[str, list[dict[str, Any]]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._ready: list[asyncio.Event] = []

    async def open(self, name: str, url: str, token: str) -> None:
        import websockets

        self.received[name] = []
        ready = asyncio.Event()
        socket = await websockets.connect(
            url, additional_headers={"Authorization": f"Token {token}"}, open_timeout=10
        )

        async def pump() -> None:
            async with socket:
                async for raw in socket:
                    self.received[name].append(json.loads(raw))
                    ready.set()

        self._tasks.append(asyncio.create_task(pump()))
        await asyncio.wait_for(ready.wait(), WAIT)  # the snapshot

    async def wait_all(self, names: list[str], wanted: Any, what: str) -> float:
        """Wait until every socket in `names` got a message for which `wanted` holds."""
        started = time.monotonic()
        while time.monotonic() - started < WAIT:
            if all(any(wanted(m) for m in self.received[n]) for n in names):
                return time.monotonic() - started
            await asyncio.sleep(0.05)
        missing = [n for n in names if not any(wanted(m) for m in self.received[n])]
        raise AssertionError(f"{what} did not reach {missing} within {WAIT:.0f} s")

    def close(self) -> None:
        for task in self._tasks:
            task.cancel()


def _ws(url: str, path: str) -> str:
    return url.replace("http://", "ws://") + path


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_two_web_processes_and_a_worker_behave_as_one(
    two_servers: list[str],
    celery_worker_process: str,
) -> None:
    from metrics.selectors import business_today
    from tests.test_kanban_support import column, lane, shared_board

    a, b = two_servers
    manager: User = make_user("so_manager", "manager")
    tech: User = make_user("so_tech", "department_head", "tech")
    manager_token = token_for(manager)
    tech_token = token_for(tech)
    board = shared_board()
    risk_lane, backlog = lane(board, "risk").pk, column(board, "Backlog").pk
    today = business_today().isoformat()

    parameters = httpx.get(
        f"{a}/api/parameters/", headers={"Authorization": f"Token {manager_token}"}
    ).json()
    parameter = next(
        p for p in parameters if p["key"].startswith("alert.") and p["key"].endswith("warn_pct")
    )

    async def scenario() -> None:
        sockets = Sockets()
        try:
            for server, url in (("a", a), ("b", b)):
                await sockets.open(f"parameters@{server}", _ws(url, "/ws/parameters/"), tech_token)
                await sockets.open(
                    f"kanban@{server}", _ws(url, f"/ws/kanban/{board.pk}/"), tech_token
                )
                await sockets.open(f"metrics@{server}", _ws(url, "/ws/metrics/"), tech_token)
            everywhere = lambda stream: [f"{stream}@a", f"{stream}@b"]  # noqa: E731

            # A parameter changed through server A reaches the sockets of A and B.
            async with httpx.AsyncClient(
                base_url=a, headers={"Authorization": f"Token {manager_token}"}
            ) as api_a:
                new = float(parameter["value"]) + 1
                answer = await api_a.patch(
                    f"/api/parameters/{parameter['key']}/",
                    json={"value": new, "version": parameter["version"], "reason": "scale-out"},
                )
                assert answer.status_code == 200, answer.text
            await sockets.wait_all(
                everywhere("parameters"),
                lambda m: m["type"] == "parameter.changed" and m["key"] == parameter["key"],
                "parameter.changed",
            )

            # A card created through server B reaches the sockets of A and B.
            async with httpx.AsyncClient(
                base_url=b, headers={"Authorization": f"Token {tech_token}"}
            ) as api_b:
                answer = await api_b.post(
                    "/api/kanban/cards/",
                    json={
                        "board": board.pk,
                        "title": "Made on server B",
                        "lane": risk_lane,
                        "column": backlog,
                    },
                )
                assert answer.status_code == 201, answer.text
                card_id = answer.json()["id"]
            await sockets.wait_all(
                everywhere("kanban"),
                lambda m: m["type"] == "card.created" and m["card"]["id"] == card_id,
                "card.created",
            )

            # Samples posted through server A enqueue a refresh; the worker (another process)
            # runs it, and its panel.updated reaches the sockets of A and B.
            async with httpx.AsyncClient(
                base_url=a, headers={"Authorization": f"Token {tech_token}"}
            ) as api_a:
                answer = await api_a.post(
                    "/api/metrics/samples/",
                    json=[
                        {
                            "metric": "api_response_time",
                            "ts": f"{today}T09:{i:02d}:00",
                            "value": 180 + i,
                            "region": "EAST-01",
                            "source": "scaleout",
                        }
                        for i in range(20)
                    ],
                )
                assert answer.status_code == 201, answer.text
            await sockets.wait_all(
                everywhere("metrics"),
                lambda m: (
                    m["type"] == "panel.updated" and m["panel"]["key"] == "api_response_time_p95"
                ),
                "panel.updated from the worker",
            )
        finally:
            sockets.close()

    asyncio.run(scenario())


def test_every_task_is_acknowledged_late_and_bounded() -> None:
    """Several workers: a task is acknowledged only when done (a worker that dies leaves it to
    another), requeued when its worker process is lost, taken one at a time, and time-limited;
    a dead worker's task comes back after the visibility timeout, which exceeds the time limit
    (otherwise a slow task would run twice at once)."""
    from django.conf import settings

    from carloan.celery import app

    app.loader.import_default_modules()
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    ours = {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}
    assert {"metrics.metrics_refresh_range", "carloan.loanbook_refresh"} <= set(ours)
    for name, task in ours.items():
        assert task.acks_late, name
        assert task.time_limit or app.conf.task_time_limit, name
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled <= set(ours), "a beat entry names a task no worker knows"
    if os.environ.get("CELERY_VISIBILITY_TIMEOUT") is None:
        timeout = app.conf.broker_transport_options["visibility_timeout"]
        assert timeout > app.conf.task_time_limit

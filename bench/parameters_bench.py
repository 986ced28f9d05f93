"""Live-parameter fan-out benchmark: from a PATCH to the LAST open socket's `parameter.changed`.

    .venv/bin/python bench/parameters_bench.py                 # N = 100 and 1000
    .venv/bin/python bench/parameters_bench.py --sizes 100 --rounds 100

1. Creates a throwaway database (`carloan_params_bench`) on the PostgreSQL server of
   `DATABASE_URL` (default postgres://postgres@127.0.0.1:5432), migrates it, and adds a manager
   and a viewer with tokens.
2. Starts the product's ASGI server as `make run` does (uvicorn, `--ws websockets-sansio`, one
   process) on a free port, on that database and `REDIS_URL` (default redis://127.0.0.1:6379/0)
   with a channel-layer prefix of its own, so nothing else on that Redis sees its messages.
3. For each N: opens N sockets on `/ws/parameters/` (token header), reads their snapshots,
   then, round after round, PATCHes `marketing.lead_score_cutoff` over a kept-alive HTTP
   connection and times how long until every socket has received that version's
   `parameter.changed` (the time of the LAST one).
4. The floor: the same clients and the same measure against a minimal plain `websockets`
   server (its own process) that, told "go" on a control socket, broadcasts an event of the same
   size to every other socket. No Django, no database, no Redis: only the fan-out itself.
5. Prints p50/p99 of both and their ratio. The database is dropped at the end unless --keep.

Both servers use permessage-deflate, as uvicorn serves `make run` and deploy/ by default (each
socket compresses each event); `--no-deflate` runs both without it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
BENCH_DB = "carloan_params_bench"
KEY = "marketing.lead_score_cutoff"
GOAL_RATIO = 3.0
GOAL_P99_MS_AT_100 = 250.0

PRODUCT_SERVER = textwrap.dedent(
    """
    import sys

    import django
    from django.conf import settings

    django.setup()
    settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = sys.argv[1]

    import uvicorn

    from carloan.asgi import application

    uvicorn.run(
        application, host="127.0.0.1", port=int(sys.argv[2]), ws="websockets-sansio",
        ws_per_message_deflate=sys.argv[3] == "deflate", lifespan="off", log_level="warning",
        server_header=False,
    )
    """
)

FLOOR_SERVER = textwrap.dedent(
    """
    import asyncio
    import json
    import sys

    from websockets.asyncio.server import broadcast, serve

    clients = set()
    PAYLOAD = sys.argv[2]

    async def handler(ws):
        if ws.request.path == "/control":
            async for message in ws:
                version = int(message)
                event = json.loads(PAYLOAD)
                event["version"] = version
                broadcast(clients, json.dumps(event))
            return
        clients.add(ws)
        try:
            await ws.send(json.dumps({"type": "snapshot"}))
            await ws.wait_closed()
        finally:
            clients.discard(ws)

    async def main():
        compression = "deflate" if sys.argv[3] == "deflate" else None
        async with serve(
            handler, "127.0.0.1", int(sys.argv[1]), max_queue=None, compression=compression
        ):
            await asyncio.Future()

    asyncio.run(main())
    """
)


# --- set-up --------------------------------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    return urlunparse(urlparse(url)._replace(path="/" + name))


def recreate_database(server_url: str, name: str, *, drop_only: bool = False) -> None:
    import psycopg

    parsed = urlparse(server_url)
    conninfo = {
        "dbname": "postgres",
        "user": parsed.username or None,
        "password": parsed.password or None,
        "host": parsed.hostname or None,
        "port": parsed.port or None,
    }
    with psycopg.connect(
        **{k: v for k, v in conninfo.items() if v is not None}, autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise SystemExit(f"{what} did not start") from None
            time.sleep(0.1)


def people(env: dict[str, str]) -> tuple[str, str]:
    """Tokens of a manager (who changes) and a viewer (whose sockets listen)."""
    os.environ.update(env)
    import django

    django.setup()
    from carloan.people.services import token_create
    from tests.factories import make_user

    manager = make_user("bench_manager", "manager")
    viewer = make_user("bench_viewer", "viewer")
    return token_create(user=manager, name="bench")[1], token_create(user=viewer, name="bench")[1]


# --- measuring -----------------------------------------------------------------------------------


@dataclass
class Fanout:
    """N listening sockets; `arrived(version)` completes when all N have seen that version."""

    size: int
    waiting: dict[int, tuple[int, asyncio.Future[float]]] = field(default_factory=dict)

    def expect(self, version: int) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[version] = (0, future)
        return future

    def seen(self, version: int) -> None:
        count, future = self.waiting.get(version, (0, None))  # type: ignore[assignment]
        if future is None:
            return
        count += 1
        self.waiting[version] = (count, future)
        if count == self.size and not future.done():
            future.set_result(time.perf_counter())


async def listen(url: str, headers: dict[str, str], fanout: Fanout, ready: asyncio.Event) -> None:
    from websockets.asyncio.client import connect

    async with connect(url, additional_headers=headers, max_queue=None, open_timeout=60) as ws:
        await ws.recv()  # the snapshot
        ready.set()
        async for raw in ws:
            event = json.loads(raw)
            if event.get("type") == "parameter.changed":
                fanout.seen(int(event["version"]))


async def open_sockets(
    size: int, url: str, headers: dict[str, str], fanout: Fanout
) -> list[asyncio.Task[None]]:
    tasks: list[asyncio.Task[None]] = []
    batch = 50
    for start in range(0, size, batch):
        readies = []
        for _ in range(min(batch, size - start)):
            ready = asyncio.Event()
            readies.append(ready)
            tasks.append(asyncio.create_task(listen(url, headers, fanout, ready)))
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), timeout=120)
    return tasks


class KeptAliveHttp:
    """A minimal HTTP/1.1 client on one kept-alive connection (no third-party client needed)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: dict[str, Any] | None, token: str) -> Any:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        data = json.dumps(body).encode() if body is not None else b""
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            f"Authorization: Token {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n"
        )
        self.writer.write(head.encode() + data)
        await self.writer.drain()
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        payload = await self.reader.readexactly(length)
        status = int(status_line.split()[1])
        if status != 200:
            raise SystemExit(f"{method} {path} answered {status}: {payload[:300]!r}")
        return json.loads(payload)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def percentile(values: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (NumPy's default)."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


async def rounds_of(
    trigger: Callable[[int], Awaitable[None]],
    fanout: Fanout,
    first_version: int,
    rounds: int,
    warmup: int,
) -> list[float]:
    times: list[float] = []
    version = first_version
    for index in range(warmup + rounds):
        version += 1
        arrived = fanout.expect(version)
        started = time.perf_counter()
        await trigger(version)
        finished = await asyncio.wait_for(arrived, timeout=60)
        if index >= warmup:
            times.append((finished - started) * 1000)
        await asyncio.sleep(0.05)  # rounds never overlap
    return times


async def measure_product(
    port: int, manager: str, viewer: str, size: int, rounds: int, warmup: int
) -> tuple[list[float], list[float]]:
    fanout = Fanout(size)
    url = f"ws://127.0.0.1:{port}/ws/parameters/"
    tasks = await open_sockets(size, url, {"Authorization": f"Token {viewer}"}, fanout)
    http = KeptAliveHttp(port)
    patch_times: list[float] = []

    async def patch(version: int) -> None:
        started = time.perf_counter()
        answer = await http.request(
            "PATCH",
            f"/api/parameters/{KEY}/",
            {"value": 40 + version % 2, "version": version - 1, "reason": "bench"},
            manager,
        )
        patch_times.append((time.perf_counter() - started) * 1000)
        if answer["version"] != version:
            raise SystemExit(f"expected version {version}, got {answer}")

    first = await _current_version(http, manager)
    times = await rounds_of(patch, fanout, first, rounds, warmup)
    http.close()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return times, patch_times[warmup:]


async def _current_version(http: KeptAliveHttp, token: str) -> int:
    answer = await http.request("GET", f"/api/parameters/{KEY}/", None, token)
    return int(answer["version"])


async def measure_floor(port: int, size: int, rounds: int, warmup: int) -> list[float]:
    from websockets.asyncio.client import connect

    fanout = Fanout(size)
    tasks = await open_sockets(size, f"ws://127.0.0.1:{port}/listen", {}, fanout)
    async with connect(f"ws://127.0.0.1:{port}/control") as control:

        async def trigger(version: int) -> None:
            await control.send(str(version))

        times = await rounds_of(trigger, fanout, 0, rounds, warmup)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return times


SAMPLE_EVENT = {
    "type": "parameter.changed",
    "key": KEY,
    "value": 41,
    "old_value": 40,
    "version": 0,
    "changed_by": "bench_manager",
    "changed_at": "2026-01-01T00:00:00.000000+00:00",
    "reason": "bench",
    "change_set": str(uuid.uuid4()),
    "action": "set",
    "request": None,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100,1000", help="socket counts, comma-separated")
    parser.add_argument("--rounds", type=int, default=50, help="timed PATCHes per size")
    parser.add_argument("--warmup", type=int, default=5, help="untimed rounds first")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument(
        "--no-deflate",
        action="store_true",
        help="both servers without permessage-deflate (default: with it, as `make run` serves)",
    )
    args = parser.parse_args()
    compression = "none" if args.no_deflate else "deflate"
    sizes = [int(s) for s in args.sizes.split(",")]

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 8192)), hard))

    server_url = os.environ.get("DATABASE_URL") or DEFAULT_SERVER
    database_url = with_database(server_url, BENCH_DB)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only-not-secret",
        "DJANGO_SETTINGS_MODULE": "carloan.settings",
    }
    recreate_database(server_url, BENCH_DB)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v", "0"], env=env, cwd=ROOT, check=True
        )
        manager, viewer = people(env)
        product_port, floor_port = free_port(), free_port()
        prefix = f"carloan-bench-{uuid.uuid4().hex[:8]}"
        product = subprocess.Popen(
            [sys.executable, "-c", PRODUCT_SERVER, prefix, str(product_port), compression],
            env=env,
            cwd=ROOT,
        )
        processes.append(product)
        floor = subprocess.Popen(
            [
                sys.executable,
                "-c",
                FLOOR_SERVER,
                str(floor_port),
                json.dumps(SAMPLE_EVENT),
                compression,
            ],
            env=env,
            cwd=ROOT,
        )
        processes.append(floor)
        wait_for_port(product_port, product, "the product server")
        wait_for_port(floor_port, floor, "the floor server")

        print(f"{os.cpu_count()} CPUs; {args.rounds} timed rounds per size after {args.warmup}")
        print(
            f"{'sockets':>7}  {'product p50':>11} {'p99':>8}  {'floor p50':>9} {'p99':>8}  "
            f"{'p99 ratio':>9}  {'PATCH p50':>9}  goal"
        )
        for size in sizes:
            product_ms, patch_ms = asyncio.run(
                measure_product(product_port, manager, viewer, size, args.rounds, args.warmup)
            )
            floor_ms = asyncio.run(measure_floor(floor_port, size, args.rounds, args.warmup))
            p50, p99 = percentile(product_ms, 50), percentile(product_ms, 99)
            f50, f99 = percentile(floor_ms, 50), percentile(floor_ms, 99)
            ratio = p99 / f99 if f99 else float("inf")
            goal = ratio <= GOAL_RATIO and (size != 100 or p99 < GOAL_P99_MS_AT_100)
            print(
                f"{size:>7}  {p50:>9.1f}ms {p99:>6.1f}ms  {f50:>7.1f}ms {f99:>6.1f}ms  "
                f"{ratio:>8.1f}x  {statistics.median(patch_ms):>7.1f}ms  "
                f"{'met' if goal else 'missed'}",
                flush=True,
            )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        if not args.keep:
            from django.db import connections

            connections.close_all()
            recreate_database(server_url, BENCH_DB, drop_only=True)


if __name__ == "__main__":
    main()

"""Load benchmark (issue 8): a working day's traffic on this machine, against the whole stack.

    .venv/bin/python bench/load_bench.py                 # 2 minutes, the issue's figures
    .venv/bin/python bench/load_bench.py --duration 30   # shorter

It starts everything itself, on servers of its own (nothing shared is touched):

1. a PostgreSQL and a Redis on free ports (tests/own_servers.py), migrated and seeded with the
   demo book and users;
2. `--web-workers` (4) uvicorn processes for HTTP and WebSockets, each on its own port with the
   users and sockets spread evenly over them, as nginx in front of them would (`--balance
   kernel`: one port with `--workers 4`, where the kernel places each kept-alive connection and
   one process may get most of them), and one Celery worker (prefork, one child);
3. then, for `--warmup` (20) + `--duration` (120) seconds, all at once from this process
   (asyncio, httpx, websockets); the warm-up's figures are dropped, so every figure, memory
   included, is of the steady state, not of processes loading code and opening connections:
   - `--users` (50) signed-in people (sessions through the login form) browsing: a page (`/`,
     `/kanban/`, `/parameters/`), then the APIs those pages call, then `--think` (0.5-1.5 s)
     of reading;
   - `--sockets` (500) open sockets spread over /ws/metrics/, /ws/kanban/{id}/, /ws/parameters/;
   - `--rate` (1,000) samples per second posted to POST /api/metrics/samples/ (10 batches/s);
   - every 2 s a parameter change (PATCH) and a new kanban card (POST), whose events are timed
     from the request being sent to each socket receiving them;
4. reports p50/p95/p99 per page and API call, the error count, the event latency (first and
   every socket), the refresh events from samples, the memory of each process at the start and
   the end (RSS; PostgreSQL: its backends' private memory), the CPU each used (this generator
   included) and how busy the whole machine was; writes them as JSON (`--json`) and prints a
   Markdown table.

All traffic goes to 127.0.0.1; everything is bounded in count and time, and stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psutil  # noqa: E402
import websockets  # noqa: E402

from tests.own_servers import (  # noqa: E402
    OwnPostgres,
    OwnRedis,
    Proc,
    free_port,
    manage,
    product_env,
    start_worker,
    wait_http,
)

PASSWORD = "carloan-demo"
USERS = ("manager", "marketing", "risk", "tech", "viewer")


@dataclass
class Stats:
    timings: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    error_samples: list[str] = field(default_factory=list)
    sent: dict[str, float] = field(default_factory=dict)  # event tag -> time sent
    first_seen: dict[str, float] = field(default_factory=dict)
    every_socket: list[float] = field(default_factory=list)  # latency per (event, socket)
    panel_updates: int = 0
    samples_accepted: int = 0
    socket_failures: int = 0

    def reset(self) -> None:
        """Forget what the warm-up measured (events still in flight stay timed)."""
        self.timings.clear()
        self.errors.clear()
        self.error_samples.clear()
        self.first_seen.clear()
        self.every_socket.clear()
        self.panel_updates = self.samples_accepted = self.socket_failures = 0

    def record(
        self,
        name: str,
        started: float,
        response: httpx.Response | Exception | None,
        ok: set[int],
    ) -> None:
        failure = response if isinstance(response, Exception) else None
        response = None if failure is not None else response
        self.timings[name].append(time.monotonic() - started)
        if response is None or response.status_code not in ok:
            self.errors[name] += 1
            if len(self.error_samples) < 20:
                status = (
                    response.status_code
                    if response is not None
                    else f"no answer ({type(failure).__name__}: {failure})"
                )
                body = response.text[:200] if response is not None else ""
                self.error_samples.append(f"{name}: {status} {body}")


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


# --- the stack -----------------------------------------------------------------------------------


def start_stack(
    logs: Path, web_processes: int, balance: str
) -> tuple[OwnPostgres, OwnRedis, dict[str, str], list[Proc], list[str]]:
    pg, redis = OwnPostgres(), OwnRedis()
    pg.start()
    pg.create_database("carloan")
    redis.start()
    env = product_env(pg.url("carloan"), redis.url(), LOG_LEVEL="WARNING")
    print("migrating and seeding the demo book …", flush=True)
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo")
    uvicorn = str(Path(sys.executable).parent / "uvicorn")
    # "ports": one uvicorn process per port, as behind nginx with one upstream line each (nginx
    # then balances every request); "kernel": one port, `--workers N`, and the kernel hands each
    # new connection to whichever process accepts it first (kept-alive connections stay put).
    layout = [1] * web_processes if balance == "ports" else [web_processes]
    procs, urls = [], []
    for n, workers in enumerate(layout, 1):
        port = free_port()
        web = Proc(
            f"web{n}",
            [uvicorn, "carloan.asgi:application", "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(workers), "--log-level", "warning", "--no-access-log",
             "--timeout-keep-alive", "75"],
            env,
            logs,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        wait_http(url + "/healthz", web)
        procs.append(web)
        urls.append(url)
    worker = start_worker("worker", env, logs, pool="prefork")
    return pg, redis, env, [*procs, worker], urls


def _tree(pid: int) -> dict[str, psutil.Process]:
    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return {}
    out = {f"{root.name()}[{pid}]": root}
    for child in root.children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):  # a backend that just ended
            out[f"{child.name()}[{child.pid}]"] = child
    return out


def _measure(procs: list[Proc], pg: OwnPostgres, redis: OwnRedis, read: Any) -> dict[str, float]:
    """`read(process)` of each process of the stack (uvicorn master and workers, the Celery
    worker and its child; PostgreSQL's backends and Redis summed) and of this load generator."""

    def value(process: psutil.Process) -> float:
        try:
            return float(read(process))
        except psutil.NoSuchProcess:
            return 0.0

    result: dict[str, float] = {}
    for proc in procs:
        for name, process in _tree(proc.pid).items():
            result[f"{proc.name}:{name}"] = round(value(process), 1)
    postmaster = int((pg.data / "postmaster.pid").read_text().split()[0])
    backends = _tree(postmaster)
    result["postgres (all backends)"] = round(sum(map(value, backends.values())), 1)
    result["postgres processes (count)"] = len(backends)
    if redis.process is not None:
        result["redis"] = round(sum(map(value, _tree(redis.process.pid).values())), 1)
    result["load generator (this process)"] = round(value(psutil.Process()), 1)
    return result


def memory(procs: list[Proc], pg: OwnPostgres, redis: OwnRedis) -> dict[str, float]:
    """Resident memory (RSS, MiB) of each process, except PostgreSQL: the sum of its backends'
    private memory (USS). Each measure where the other misleads: a backend's RSS counts every
    page of the shared buffers it has read (the sum grows with pages read, not with use), and a
    forked process's USS grows as it and its parent stop sharing copy-on-write pages."""
    rss = _measure(procs, pg, redis, lambda p: p.memory_info().rss / 2**20)
    uss = _measure(procs, pg, redis, lambda p: p.memory_full_info().uss / 2**20)
    rss["postgres (all backends)"] = uss["postgres (all backends)"]
    return {**rss, **redis_data(redis)}


def redis_data(redis: OwnRedis) -> dict[str, float]:
    """What Redis holds (not its RSS): the data it keeps and how many keys."""
    import redis as redis_client

    client = redis_client.Redis.from_url(redis.url())
    try:
        used = client.info("memory")["used_memory"] / 2**20
        keys = client.dbsize()
    finally:
        client.close()
    return {"redis data (used_memory)": round(used, 1), "redis keys (count)": keys}


def cpu_seconds(procs: list[Proc], pg: OwnPostgres, redis: OwnRedis) -> dict[str, float]:
    """CPU time (user + system, seconds) used so far by each process; PostgreSQL's backends
    that ended meanwhile are not counted."""
    return _measure(procs, pg, redis, lambda p: sum(p.cpu_times()[:2]))


# --- the traffic ---------------------------------------------------------------------------------


async def token(client: httpx.AsyncClient, username: str) -> str:
    answer = await client.post(
        "/api/auth/token/", data={"username": username, "password": PASSWORD}
    )
    answer.raise_for_status()
    return str(answer.json()["token"])


async def sign_in(url: str, username: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=url, timeout=30)
    await client.get("/login/")
    answer = await client.post(
        "/login/",
        data={
            "username": username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": client.cookies["csrftoken"],
        },
        headers={"Referer": f"{url}/login/"},
    )
    assert answer.status_code == 302, answer.text[:300]
    return client


async def browse(url: str, username: str, board: int, stats: Stats, until: float,
                 think: tuple[float, float]) -> None:  # fmt: skip
    client = await sign_in(url, username)
    pages = {
        "page /": ["/api/metrics/panels/", "/api/alerts/?status=open"],
        "page /kanban/": [f"/api/kanban/boards/{board}/"],
        "page /parameters/": ["/api/parameters/"],
    }
    try:
        while time.monotonic() < until:
            page, apis = random.choice(list(pages.items()))
            started = time.monotonic()
            try:
                answer = await client.get(page.split(" ", 1)[1])
            except httpx.HTTPError as exc:
                answer = exc
            stats.record(page, started, answer, {200})
            for api in apis:
                started = time.monotonic()
                try:
                    answer = await client.get(api)
                except httpx.HTTPError as exc:
                    answer = exc
                stats.record(f"api {api.split('?')[0]}", started, answer, {200})
            await asyncio.sleep(random.uniform(*think))
    finally:
        await client.aclose()


async def listen(
    url: str, path: str, tok: str, stats: Stats, until: list[float], opened: list[int]
) -> None:
    """One socket, open until `until[0]` (+5 s for the last events); times tagged events."""
    try:
        async with websockets.connect(
            url.replace("http://", "ws://") + path,
            additional_headers={"Authorization": f"Token {tok}"},
            open_timeout=60,
            max_queue=None,
        ) as socket:
            opened[0] += 1
            while time.monotonic() < until[0] + 5:
                try:
                    raw = await asyncio.wait_for(socket.recv(), timeout=1)
                except TimeoutError:
                    continue
                now = time.monotonic()
                message = json.loads(raw)
                kind = message.get("type")
                tag = None
                if kind == "parameter.changed":
                    tag = f"p{message['key']}:{message['version']}"
                elif kind == "card.created":
                    tag = f"c{message['card']['title']}"
                elif kind == "panel.updated":
                    stats.panel_updates += 1
                if tag and tag in stats.sent:
                    latency = now - stats.sent[tag]
                    stats.every_socket.append(latency)
                    stats.first_seen.setdefault(tag, latency)
    except (OSError, websockets.exceptions.WebSocketException, TimeoutError) as exc:
        stats.socket_failures += 1
        if len(stats.error_samples) < 20:
            stats.error_samples.append(f"socket {path}: {exc!r}")


async def ingest(url: str, tok: str, rate: int, stats: Stats, until: float) -> None:
    """`rate` samples per second, as 10 batches a second (monitoring agents of six regions)."""
    regions = ["EAST-01", "EAST-02", "NORTH-01", "SOUTH-01", "WEST-01", "CENTRAL-01"]
    metrics = ["api_response_time", "credit_query_latency", "data_sync_lag", "availability"]
    per_batch = max(1, rate // 10)
    sequence = 0
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Token {tok}"}, timeout=30
    ) as client:
        next_at = time.monotonic()
        pending: set[asyncio.Task[None]] = set()

        async def post(batch: list[dict[str, Any]]) -> None:
            started = time.monotonic()
            try:
                answer = await client.post("/api/metrics/samples/", json=batch)
            except httpx.HTTPError as exc:
                answer = exc
            stats.record("api POST /api/metrics/samples/", started, answer, {201})
            if isinstance(answer, httpx.Response) and answer.status_code == 201:
                stats.samples_accepted += answer.json()["accepted"]

        while time.monotonic() < until:
            now_utc = time.time()
            batch = []
            for _ in range(per_batch):
                sequence += 1
                metric = metrics[sequence % len(metrics)]
                ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now_utc))
                batch.append(
                    {
                        "metric": metric,
                        "ts": f"{ts}.{sequence % 1_000_000:06d}Z",
                        "value": 1 if metric == "availability" else random.uniform(50, 400),
                        "region": regions[sequence % len(regions)],
                        "source": "load-bench",
                    }
                )
            task = asyncio.create_task(post(batch))
            pending.add(task)
            task.add_done_callback(pending.discard)
            next_at += 0.1
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        if pending:
            await asyncio.gather(*pending)


async def change(url: str, manager_tok: str, risk_tok: str, board: dict[str, Any], stats: Stats,
                 until: float) -> None:  # fmt: skip
    """A parameter change and a new card every 2 s, each timed to the sockets."""
    lane = next(lane["id"] for lane in board["lanes"] if lane["department"] == "risk")
    column = board["columns"][0]["id"]
    key = "alert.overdue_rate.warn_pct"
    async with (
        httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Token {manager_tok}"}, timeout=60
        ) as mgr,
        httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Token {risk_tok}"}, timeout=60
        ) as risk,
    ):
        state = (await mgr.get(f"/api/parameters/{key}/")).json()
        value, version, n = float(state["value"]), int(state["version"]), 0
        while time.monotonic() < until:
            n += 1
            value = value + 0.5 if n % 2 else value - 0.5
            stats.sent[f"p{key}:{version + 1}"] = time.monotonic()
            started = time.monotonic()
            try:
                answer = await mgr.patch(
                    f"/api/parameters/{key}/",
                    json={"value": value, "version": version, "reason": "load bench"},
                )
            except httpx.HTTPError as exc:
                answer = exc
            stats.record("api PATCH /api/parameters/{key}/", started, answer, {200})
            if isinstance(answer, httpx.Response) and answer.status_code == 200:
                version = int(answer.json()["version"])
            else:
                with contextlib.suppress(httpx.HTTPError, KeyError, ValueError):
                    version = int((await mgr.get(f"/api/parameters/{key}/")).json()["version"])
            title = f"load-{n}"
            stats.sent[f"c{title}"] = time.monotonic()
            started = time.monotonic()
            try:
                answer = await risk.post(
                    "/api/kanban/cards/",
                    json={"board": board["id"], "title": title, "lane": lane, "column": column},
                )
            except httpx.HTTPError as exc:
                answer = exc
            stats.record("api POST /api/kanban/cards/", started, answer, {201})
            await asyncio.sleep(2)


async def run_load(
    urls: list[str], args: argparse.Namespace, stats: Stats, at_warm: Any, at_half: Any
) -> dict[str, Any]:
    """Users and sockets are spread evenly over the web processes' addresses."""
    url = urls[0]
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        tokens = {name: await token(client, name) for name in USERS}
        boards = (
            await client.get(
                "/api/kanban/boards/", headers={"Authorization": f"Token {tokens['viewer']}"}
            )
        ).json()
    board = boards[0]
    # Sockets first (they are the audience), then the traffic.
    socket_until = [time.monotonic() + 3600]
    opened = [0]
    paths = ["/ws/metrics/", f"/ws/kanban/{board['id']}/", "/ws/parameters/"]
    listeners = []
    for i in range(args.sockets):
        tok = tokens[USERS[i % len(USERS)]]
        listeners.append(
            asyncio.create_task(
                listen(urls[i % len(urls)], paths[i % 3], tok, stats, socket_until, opened)
            )
        )
        if i % 50 == 49:
            await asyncio.sleep(0.2)
    deadline = time.monotonic() + 60
    while opened[0] + stats.socket_failures < args.sockets and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    print(f"{opened[0]} sockets open; traffic for {args.warmup} + {args.duration} s …", flush=True)

    started = time.monotonic()
    until = started + args.warmup + args.duration
    socket_until[0] = until

    async def warm_up() -> None:
        # Every process has loaded its code, filled its caches and opened its connections by
        # now: memory is measured from here, and so are all the figures.
        await asyncio.sleep(args.warmup)
        stats.reset()
        at_warm()
        print(f"warmed up ({args.warmup} s); measuring for {args.duration} s …", flush=True)
        await asyncio.sleep(args.duration / 2)
        at_half()  # memory half-way: growth that levels off is caches filling, not a leak

    work = [
        *(
            asyncio.create_task(
                browse(
                    urls[i % len(urls)],
                    USERS[i % len(USERS)],
                    board["id"],
                    stats,
                    until,
                    args.think,
                )
            )
            for i in range(args.users)
        ),
        asyncio.create_task(ingest(urls[-1], tokens["tech"], args.rate, stats, until)),
        asyncio.create_task(change(url, tokens["manager"], tokens["risk"], board, stats, until)),
        asyncio.create_task(warm_up()),
    ]
    await asyncio.gather(*work)
    measured = time.monotonic() - started - args.warmup
    await asyncio.gather(*listeners)  # they stop 5 s after the traffic: the last events
    return {"sockets_open": opened[0], "seconds": round(measured, 1)}


CPU_REQUESTS = 200  # per endpoint, after the scenario
CPU_CONCURRENCY = 4


def _web_and_db_cpu(procs: list[Proc], pg: OwnPostgres, redis: OwnRedis) -> tuple[float, float]:
    """CPU seconds used so far by the web processes (uvicorn, every worker) and PostgreSQL."""
    used = cpu_seconds(procs, pg, redis)
    web = sum(v for k, v in used.items() if k.startswith("web"))
    return web, used["postgres (all backends)"]


async def cpu_per_request(
    urls: list[str], procs: list[Proc], pg: OwnPostgres, redis: OwnRedis
) -> dict[str, dict[str, float]]:
    """After the scenario, each endpoint alone: CPU_REQUESTS requests, CPU_CONCURRENCY at a
    time, and the CPU the web processes and PostgreSQL spent on them, in ms per request (what
    the machine pays per call, beside its latency). The sockets are closed by then."""
    url = urls[0]
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        tokens = {name: await token(client, name) for name in ("viewer", "tech")}
        board = (
            await client.get(
                "/api/kanban/boards/", headers={"Authorization": f"Token {tokens['viewer']}"}
            )
        ).json()[0]["id"]
    browser = await sign_in(url, "viewer")
    api = httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Token {tokens['viewer']}"}, timeout=30
    )
    feed = httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Token {tokens['tech']}"}, timeout=30
    )

    sequence = [0]

    def samples() -> list[dict[str, Any]]:
        """100 samples as the agents send them (distinct timestamps: a sample is unique by them)."""
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        batch = []
        for _ in range(100):
            sequence[0] += 1
            batch.append(
                {
                    "metric": "api_response_time",
                    "ts": f"{stamp}.{sequence[0] % 1_000_000:06d}Z",
                    "value": 120.0,
                    "region": "EAST-01",
                    "source": "cpu-bench",
                }
            )
        return batch

    calls: dict[str, Any] = {
        "page /": lambda: browser.get("/"),
        "page /kanban/": lambda: browser.get("/kanban/"),
        "page /parameters/": lambda: browser.get("/parameters/"),
        "api GET /api/metrics/panels/": lambda: api.get("/api/metrics/panels/"),
        "api GET /api/alerts/?status=open": lambda: api.get("/api/alerts/?status=open"),
        f"api GET /api/kanban/boards/{board}/": lambda: api.get(f"/api/kanban/boards/{board}/"),
        "api GET /api/parameters/": lambda: api.get("/api/parameters/"),
        "api POST /api/metrics/samples/ (100)": lambda: feed.post(
            "/api/metrics/samples/", json=samples()
        ),
    }
    out: dict[str, dict[str, float]] = {}
    try:
        for name, call in calls.items():
            for _ in range(5):  # warm
                await call()
            web0, db0 = _web_and_db_cpu(procs, pg, redis)
            began = time.monotonic()
            remaining = [CPU_REQUESTS]

            async def worker(
                call: Any = call, name: str = name, remaining: list[int] = remaining
            ) -> None:
                while remaining[0] > 0:
                    remaining[0] -= 1
                    answer = await call()
                    assert answer.status_code < 400, (name, answer.status_code)

            await asyncio.gather(*(worker() for _ in range(CPU_CONCURRENCY)))
            wall = time.monotonic() - began
            web1, db1 = _web_and_db_cpu(procs, pg, redis)
            out[name] = {
                "web_cpu_ms": round(1000 * (web1 - web0) / CPU_REQUESTS, 1),
                "db_cpu_ms": round(1000 * (db1 - db0) / CPU_REQUESTS, 1),
                "wall_ms": round(1000 * wall / CPU_REQUESTS * CPU_CONCURRENCY, 1),
            }
    finally:
        await browser.aclose()
        await api.aclose()
        await feed.aclose()
    return out


def summary(stats: Stats, meta: dict[str, Any], mem0: dict[str, float], mem1: dict[str, float],
            cpu: dict[str, float], args: argparse.Namespace,
            mem_half: dict[str, float]) -> dict[str, Any]:  # fmt: skip
    calls = {}
    for name, values in sorted(stats.timings.items()):
        calls[name] = {
            "count": len(values),
            "p50_ms": round(pct(values, 50) * 1000, 1),
            "p95_ms": round(pct(values, 95) * 1000, 1),
            "p99_ms": round(pct(values, 99) * 1000, 1),
            "errors": stats.errors.get(name, 0),
        }
    api = [v for n, vs in stats.timings.items() if n.startswith("api") for v in vs]
    pages = [v for n, vs in stats.timings.items() if n.startswith("page") for v in vs]
    first = list(stats.first_seen.values())

    def growth_from(before: dict[str, float]) -> dict[str, float]:
        return {
            name: round(100 * (mem1.get(name, 0) - rss) / rss, 1)
            for name, rss in before.items()
            if rss and "(count)" not in name
        }

    growth = growth_from(mem0)
    return {
        "config": vars(args),
        **meta,
        "samples_per_s": round(stats.samples_accepted / meta["seconds"], 1),
        "errors": sum(stats.errors.values()) + stats.socket_failures,
        "socket_failures": stats.socket_failures,
        "pages": {q: round(pct(pages, q) * 1000, 1) for q in (50, 95, 99)},
        "api": {q: round(pct(api, q) * 1000, 1) for q in (50, 95, 99)},
        "calls": calls,
        "events_timed": len(stats.sent),
        "event_first_socket_ms": {q: round(pct(first, q) * 1000, 1) for q in (50, 95, 99)},
        "event_every_socket_ms": {
            q: round(pct(stats.every_socket, q) * 1000, 1) for q in (50, 95, 99)
        },
        "event_deliveries": len(stats.every_socket),
        "panel_updated_received": stats.panel_updates,
        "memory_mib_start": mem0,
        "memory_mib_half": mem_half,
        "memory_mib_end": mem1,
        "memory_growth_pct": growth,
        "memory_growth_second_half_pct": growth_from(mem_half),
        "cpu_pct_of_one_core": {
            name: round(100 * used / meta["seconds"], 1)
            for name, used in cpu.items()
            if "(count)" not in name
        },
        "error_samples": stats.error_samples,
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"- {result['seconds']} s, {result['config']['users']} users, "
        f"{result['sockets_open']} sockets open, {result['samples_per_s']} samples/s accepted, "
        f"errors: {result['errors']}",
        f"- pages p50/p95/p99: {result['pages'][50]} / {result['pages'][95]} / "
        f"{result['pages'][99]} ms; API: {result['api'][50]} / {result['api'][95]} / "
        f"{result['api'][99]} ms",
        f"- events ({result['events_timed']} changes, {result['event_deliveries']} deliveries): "
        f"first socket p50/p95/p99 {result['event_first_socket_ms'][50]} / "
        f"{result['event_first_socket_ms'][95]} / {result['event_first_socket_ms'][99]} ms; "
        f"every socket {result['event_every_socket_ms'][50]} / "
        f"{result['event_every_socket_ms'][95]} / {result['event_every_socket_ms'][99]} ms",
        "",
        "| call | count | p50 ms | p95 ms | p99 ms | errors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, c in result["calls"].items():
        lines.append(
            f"| {name} | {c['count']} | {c['p50_ms']} | {c['p95_ms']} | {c['p99_ms']} | "
            f"{c['errors']} |"
        )
    lines += [
        "",
        "| process | memory start MiB | half-way | end | growth % | 2nd half % | CPU % of a core |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, rss in result["memory_mib_start"].items():
        lines.append(
            f"| {name} | {rss} | {result['memory_mib_half'].get(name, '—')} | "
            f"{result['memory_mib_end'].get(name, '—')} | "
            f"{result['memory_growth_pct'].get(name, '—')} | "
            f"{result['memory_growth_second_half_pct'].get(name, '—')} | "
            f"{result['cpu_pct_of_one_core'].get(name, '—')} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=120, help="seconds of traffic (≤ 600)")
    parser.add_argument(
        "--warmup", type=int, default=20, help="seconds of traffic before measuring (≤ 120)"
    )
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument(
        "--think",
        default="0.5,1.5",
        help="seconds each user reads a page before the next, as MIN,MAX (default 0.5,1.5)",
    )
    parser.add_argument(
        "--web-workers", type=int, default=4, help="uvicorn processes (deploy/ runs 4)"
    )
    parser.add_argument(
        "--balance",
        choices=["ports", "kernel"],
        default="ports",
        help="ports: one process per port, users spread evenly (nginx in front balances each "
        "request); kernel: one port with --workers, the kernel places each connection",
    )
    parser.add_argument("--sockets", type=int, default=500)
    parser.add_argument("--rate", type=int, default=1000, help="samples per second")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args(argv)
    args.duration = min(max(args.duration, 5), 600)
    args.warmup = min(max(args.warmup, 0), 120)
    low, high = (float(x) for x in args.think.split(","))
    args.think = (max(0.0, low), max(low, high))
    args.sockets = min(args.sockets, 2000)
    args.users = min(args.users, 500)

    logs = Path(tempfile.mkdtemp(prefix="carloan-load-"))
    pg, redis, _env, procs, urls = start_stack(logs, args.web_workers, args.balance)
    try:
        mem0: dict[str, float] = {}
        cpu0: dict[str, float] = {}

        machine0: list[Any] = []

        def at_warm() -> None:
            mem0.update(memory(procs, pg, redis))
            cpu0.update(cpu_seconds(procs, pg, redis))
            machine0.append(psutil.cpu_times())

        mem_half: dict[str, float] = {}

        def at_half() -> None:
            mem_half.update(memory(procs, pg, redis))

        stats = Stats()
        meta = asyncio.run(run_load(urls, args, stats, at_warm, at_half))
        mem1 = memory(procs, pg, redis)
        cpu1 = cpu_seconds(procs, pg, redis)
        machine1 = psutil.cpu_times()
        cpu = {name: max(0.0, used - cpu0.get(name, 0.0)) for name, used in cpu1.items()}
        result = summary(stats, meta, mem0, mem1, cpu, args, mem_half)
        busy = [sum(t) - t.idle - getattr(t, "iowait", 0.0) for t in (machine0[0], machine1)]
        total = sum(machine1) - sum(machine0[0])
        result["machine_cpu_busy_pct"] = round(100 * (busy[1] - busy[0]) / total, 1)
        print(f"CPU per request: each endpoint alone, {CPU_REQUESTS} requests …", flush=True)
        result["cpu_ms_per_request"] = asyncio.run(cpu_per_request(urls, procs, pg, redis))
        result["json"] = str(args.json) if args.json else None
        if args.json:
            args.json.write_text(json.dumps(result, indent=2, default=str))
        print(markdown(result))
        print("\n| endpoint, alone | web CPU ms / request | PostgreSQL CPU ms / request |"
              " wall ms / request |\n|---|---:|---:|---:|")  # fmt: skip
        for name, c in result["cpu_ms_per_request"].items():
            print(f"| {name} | {c['web_cpu_ms']} | {c['db_cpu_ms']} | {c['wall_ms']} |")
        print(
            f"\nmachine CPU busy: {result['machine_cpu_busy_pct']} % of "
            f"{psutil.cpu_count()} cores (everything on it, this generator included)"
        )
        if result["error_samples"]:
            print("\nfirst errors:\n  " + "\n  ".join(result["error_samples"]))
        print(f"\nlogs: {logs}")
        return 0 if result["errors"] == 0 else 1
    finally:
        for proc in procs:
            proc.stop()
        redis.destroy()
        pg.destroy()


if __name__ == "__main__":
    sys.exit(main())

"""Kanban benchmark: a move with 2,000 cards on the board, and from a move to the event on 100
open sockets.

    .venv/bin/python bench/kanban_bench.py                   # 2,000 cards, 100 sockets
    .venv/bin/python bench/kanban_bench.py --cards 5000 --sockets 200 --rounds 200

1. Creates a throwaway database (`carloan_kanban_bench`) on the PostgreSQL server of
   `DATABASE_URL` (default postgres://postgres@127.0.0.1:5432), migrates it, adds a department
   head and a viewer, and puts N cards on the shared board (spread over the 3 lanes × 5 columns,
   created over the last 60 days, half of them moved once, so ageing medians have history).
2. **Service**: times `kanban.services.card_move` in this process (lock, WIP check, rank, log,
   the card as the event carries it) for random moves to random places; and the whole board
   answer (`board_snapshot`, what `GET /api/kanban/boards/{id}/` and the socket's snapshot send).
3. **Live**: starts the product's ASGI server as `make run` does (uvicorn, one process) on that
   database and `REDIS_URL` (default redis://127.0.0.1:6379/0) with a channel-layer prefix of its
   own, opens S sockets on `/ws/kanban/{id}/` (each reads its N-card snapshot), then, round after
   round, POSTs a move over a kept-alive HTTP connection and times (a) the HTTP answer and (b)
   the time until EVERY socket has received that move's `card.moved`.
4. Prints p50/p95/p99 of each. The database is dropped at the end unless --keep.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from parameters_bench import (  # noqa: E402 - the shared bench plumbing
    PRODUCT_SERVER,
    KeptAliveHttp,
    free_port,
    percentile,
    recreate_database,
    wait_for_port,
    with_database,
)

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
BENCH_DB = "carloan_kanban_bench"


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    import django

    django.setup()


def seed(cards: int, rng: random.Random) -> tuple[int, str, str]:
    """The shared board with `cards` cards; tokens of a department head and a viewer."""
    import datetime as dt

    from django.db import transaction
    from django.utils import timezone

    from carloan.people.services import token_create
    from kanban import ranks
    from kanban.models import Board, Card, Transition
    from tests.factories import make_user

    head = make_user("bench_head", "department_head", "risk")
    viewer = make_user("bench_viewer", "viewer")
    board = Board.objects.get(slug="shared")
    lanes = list(board.lanes.all())
    columns = list(board.columns.all())
    cells = [(lane, column) for lane in lanes for column in columns]
    per_cell: dict[tuple[int, int], int] = {}
    placed = [cells[rng.randrange(len(cells))] for _ in range(cards)]
    for lane, column in placed:
        per_cell[(lane.pk, column.pk)] = per_cell.get((lane.pk, column.pk), 0) + 1
    keys = {cell: iter(ranks.spread(n)) for cell, n in per_cell.items()}
    now = timezone.now()
    with transaction.atomic():
        rows = []
        for i, (lane, column) in enumerate(placed):
            created = now - dt.timedelta(hours=rng.uniform(1, 60 * 24))
            rows.append(
                Card(
                    board=board,
                    lane=lane,
                    column=column,
                    rank=next(keys[(lane.pk, column.pk)]),
                    title=f"Bench card {i}",
                    description="Seeded by bench/kanban_bench.py",
                    department=lane.department,
                    labels=["bench"] if i % 3 == 0 else [],
                    checklist=[{"text": "check", "done": False}] if i % 4 == 0 else [],
                    created_by=head,
                    created_at=created,
                    updated_at=created,
                    column_entered_at=created,
                    done_at=created if column.is_done else None,
                )
            )
        Card.objects.bulk_create(rows, batch_size=1000)
        log = []
        for card in rows:
            first_lane, first_column = (
                (card.lane, card.column) if card.pk % 2 else cells[rng.randrange(len(cells))]
            )
            log.append(
                Transition(
                    card=card,
                    board=board,
                    to_lane=first_lane,
                    to_column=first_column,
                    to_department=first_lane.department,
                    by=head,
                    at=card.created_at,
                )
            )
            if card.pk % 2 == 0:
                moved = card.created_at + (now - card.created_at) * rng.uniform(0.1, 0.9)
                log.append(
                    Transition(
                        card=card,
                        board=board,
                        from_lane=first_lane,
                        from_column=first_column,
                        to_lane=card.lane,
                        to_column=card.column,
                        from_department=first_lane.department,
                        to_department=card.lane.department,
                        by=head,
                        by_department="risk",
                        at=moved,
                        is_handoff=first_lane.department != card.lane.department,
                    )
                )
                card.column_entered_at = moved
        Transition.objects.bulk_create(log, batch_size=2000)
        Card.objects.bulk_update(rows, ["column_entered_at"], batch_size=1000)
    return (
        board.pk,
        token_create(user=head, name="bench")[1],
        token_create(user=viewer, name="bench")[1],
    )


def random_move(rng: random.Random, state: dict[int, dict[str, Any]], cells: list[Any]) -> Any:
    """A random card to a random other cell, at a random position."""
    card_id = rng.choice(list(state))
    card = state[card_id]
    while True:
        lane, column = rng.choice(cells)
        if (lane, column) != (card["lane"], card["column"]):
            return card_id, lane, column, rng.randint(0, 40), card["version"]


def measure_service(
    board_id: int, rounds: int, rng: random.Random
) -> tuple[list[float], list[float]]:
    from django.contrib.auth.models import User
    from django.db.models import F

    from kanban import selectors, services
    from kanban.models import Board, Card

    head = User.objects.get(username="bench_head")
    board = Board.objects.get(pk=board_id)
    cells = [(lane.pk, column.pk) for lane in board.lanes.all() for column in board.columns.all()]
    state = {
        row["id"]: row
        for row in Card.objects.filter(board=board).values(
            "id", "version", lane_=F("lane_id"), column_=F("column_id")
        )
    }
    for row in state.values():
        row["lane"], row["column"] = row.pop("lane_"), row.pop("column_")
    moves: list[float] = []
    for _ in range(rounds):
        card_id, lane, column, position, version = random_move(rng, state, cells)
        started = time.perf_counter()
        result = services.card_move(
            user=head,
            card_id=card_id,
            lane_id=lane,
            column_id=column,
            position=position,
            version=version,
        )
        moves.append((time.perf_counter() - started) * 1000)
        state[card_id].update(
            version=result.card["version"], lane=result.card["lane"], column=result.card["column"]
        )
    snapshots: list[float] = []
    for _ in range(10):
        started = time.perf_counter()
        snapshot = selectors.board_snapshot(board)
        json.dumps(snapshot)
        snapshots.append((time.perf_counter() - started) * 1000)
    return moves, snapshots


class Arrivals:
    """S sockets; `expect(key)` completes when all S have seen the event of that key."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.waiting: dict[tuple[int, int], tuple[int, asyncio.Future[float]]] = {}

    def expect(self, key: tuple[int, int]) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[key] = (0, future)
        return future

    def seen(self, key: tuple[int, int]) -> None:
        entry = self.waiting.get(key)
        if entry is None:
            return
        count, future = entry
        count += 1
        self.waiting[key] = (count, future)
        if count == self.size and not future.done():
            future.set_result(time.perf_counter())


async def listen(url: str, token: str, arrivals: Arrivals, ready: asyncio.Event) -> None:
    from websockets.asyncio.client import connect

    async with connect(
        url,
        additional_headers={"Authorization": f"Token {token}"},
        max_queue=None,
        max_size=None,
        open_timeout=120,
    ) as ws:
        snapshot = json.loads(await ws.recv())
        assert snapshot["type"] == "board.snapshot", snapshot["type"]
        ready.set()
        async for raw in ws:
            event = json.loads(raw)
            if event.get("type") == "card.moved":
                arrivals.seen((int(event["card"]["id"]), int(event["version"])))


async def measure_live(
    port: int, board_id: int, head: str, viewer: str, sockets: int, rounds: int, warmup: int
) -> tuple[list[float], list[float]]:
    rng = random.Random(11)
    arrivals = Arrivals(sockets)
    url = f"ws://127.0.0.1:{port}/ws/kanban/{board_id}/"
    tasks: list[asyncio.Task[None]] = []
    for start in range(0, sockets, 20):
        readies = []
        for _ in range(min(20, sockets - start)):
            ready = asyncio.Event()
            readies.append(ready)
            tasks.append(asyncio.create_task(listen(url, viewer, arrivals, ready)))
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), timeout=300)
    http = KeptAliveHttp(port)
    board = await http.request("GET", f"/api/kanban/boards/{board_id}/", None, viewer)
    cells = [(lane["id"], column["id"]) for lane in board["lanes"] for column in board["columns"]]
    state = {card["id"]: card for card in board["cards"]}
    answers: list[float] = []
    events: list[float] = []
    for index in range(warmup + rounds):
        card_id, lane, column, position, version = random_move(rng, state, cells)
        arrived = arrivals.expect((card_id, version + 1))
        started = time.perf_counter()
        answer = await http.request(
            "POST",
            f"/api/kanban/cards/{card_id}/move/",
            {"lane": lane, "column": column, "position": position, "version": version},
            head,
        )
        answered = time.perf_counter()
        finished = await asyncio.wait_for(arrived, timeout=60)
        state[card_id].update(
            version=answer["version"], lane=answer["lane"], column=answer["column"]
        )
        if index >= warmup:
            answers.append((answered - started) * 1000)
            events.append((finished - started) * 1000)
        await asyncio.sleep(0.02)  # rounds never overlap
    http.close()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return answers, events


def row(label: str, values: list[float]) -> str:
    return (
        f"  {label:<44} {percentile(values, 50):8.1f} {percentile(values, 95):8.1f} "
        f"{percentile(values, 99):8.1f}   (n={len(values)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cards", type=int, default=2000)
    parser.add_argument("--sockets", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=200, help="timed moves per part")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 8192)), hard))
    server_url = os.environ.get("DATABASE_URL") or DEFAULT_SERVER
    env = {
        **os.environ,
        "DATABASE_URL": with_database(server_url, BENCH_DB),
        "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only-not-secret",
        "DJANGO_SETTINGS_MODULE": "carloan.settings",
    }
    recreate_database(server_url, BENCH_DB)
    server: subprocess.Popen[bytes] | None = None
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v", "0"], env=env, cwd=ROOT, check=True
        )
        setup_django(env)
        rng = random.Random(7)
        started = time.perf_counter()
        board_id, head, viewer = seed(args.cards, rng)
        print(
            f"{os.cpu_count()} CPUs; {args.cards:,} cards seeded in "
            f"{time.perf_counter() - started:.1f} s; {args.rounds} timed moves per part"
        )
        print(f"  {'':<44} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
        for _ in range(args.warmup):
            measure_service(board_id, 1, rng)
        moves, snapshots = measure_service(board_id, args.rounds, rng)
        print(row("card_move (service, in process)", moves))
        print(row(f"board answer, {args.cards:,} cards (selector + JSON)", snapshots))

        from django.db import connections

        connections.close_all()
        port = free_port()
        prefix = f"carloan-bench-{uuid.uuid4().hex[:8]}"
        server = subprocess.Popen(
            [sys.executable, "-c", PRODUCT_SERVER, prefix, str(port)], env=env, cwd=ROOT
        )
        wait_for_port(port, server, "the product server")
        answers, events = asyncio.run(
            measure_live(port, board_id, head, viewer, args.sockets, args.rounds, args.warmup)
        )
        print(row("POST .../move/ answer (HTTP, one server)", answers))
        print(row(f"move sent → card.moved on all {args.sockets} sockets", events))
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
        if not args.keep:
            from django.db import connections

            connections.close_all()
            recreate_database(server_url, BENCH_DB, drop_only=True)


if __name__ == "__main__":
    main()

"""Notification benchmark: the time from samples arriving to the webhook received, with 100 alerts
raised at once (contract section 11).

    .venv/bin/python bench/notify_bench.py     # --rounds 10  --alerts 100  --keep

1. creates a throwaway database (`carloan_notify_bench`) on the PostgreSQL server of DATABASE_URL
   (default postgres://postgres@127.0.0.1:5432), migrates it, and starts a real Celery worker on a
   queue of its own (REDIS_URL defaults to redis://127.0.0.1:6379/4);
2. starts a real HTTP receiver on 127.0.0.1 (allowed through NOTIFY_ALLOWED_HOSTS) that notes
   when each message arrives;
3. each round: a fresh tech webhook channel; `--alerts` regions' API latency samples of today
   (900 ms, over the 800 ms service level) recorded through the samples service as the API
   does (the refresh queued to the worker); the worker recomputes, raises the alerts (one per
   region, and one for all regions), queues the delivery, and posts it; the receiver notes it;
4. prints, per alert, the time from its samples arriving to the webhook that carried it
   received: p50 and p99 over every round (and how many messages carried them: one digest a
   round), then drops the database unless --keep.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from import_bench import DEFAULT_SERVER, recreate_database, setup_django, with_database  # noqa: E402

BENCH_DB = "carloan_notify_bench"
QUEUE = f"notify-bench-{os.getpid()}"
ROUND_TIMEOUT_S = 60.0


class Receiver:
    """Notes when each message arrives and which alerts it carries."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[float, list[int]]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                ids = [a["id"] for a in body.get("alerts", [])] or (
                    [body["alert"]["id"]] if "alert" in body else []
                )
                with receiver.lock:
                    receiver.arrivals.append((time.monotonic(), ids))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
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
            QUEUE,
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    from carloan.celery import app

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if app.control.ping(timeout=0.5):
            return process
    process.kill()
    raise SystemExit("the Celery worker did not start")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--alerts", type=int, default=100, help="regions alerting at once")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    server = os.environ.get("DATABASE_URL") or DEFAULT_SERVER
    url = with_database(server, BENCH_DB)
    recreate_database(server, BENCH_DB)
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/4")
    os.environ["CELERY_QUEUE"] = QUEUE
    os.environ["NOTIFY_ALLOWED_HOSTS"] = "127.0.0.1"
    os.environ["METRICS_API_LATENCY"] = "0"
    setup_django(url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.contrib.auth.models import User
    from django.utils import timezone

    from carloan.parameters.selectors import parameter_cache_invalidate
    from metrics.notify.models import Channel
    from metrics.notify.services import channel_create
    from metrics.services import samples_record

    parameter_cache_invalidate()
    manager = User.objects.create_superuser("bench_manager", "b@example.com", "x-long-pass-2026")
    receiver = Receiver()
    env = {**os.environ, "DATABASE_URL": url}
    worker = start_worker(env)
    latencies: list[float] = []
    messages = 0
    try:
        for round_ in range(args.rounds):
            Channel.objects.update(enabled=False)
            channel_create(
                user=manager,
                kind="webhook",
                target=receiver.url,
                department="tech",
                name=f"round {round_}",
            )
            before = len(receiver.arrivals)
            now = timezone.now()
            # (metric, ts, value, region, source), as parse_samples gives them
            rows = [
                ("api_response_time", now, 900.0, f"R{round_:02d}-{n:03d}", f"bench-{round_}")
                for n in range(args.alerts)
            ]
            started = time.monotonic()
            samples_record(rows=rows, refresh="background")
            # each region's alert, and (the first round only: the episode stays open) all regions'
            expected = args.alerts + (1 if round_ == 0 else 0)
            received: set[int] = set()
            deadline = started + ROUND_TIMEOUT_S
            while time.monotonic() < deadline and len(received) < expected:
                with receiver.lock:
                    new = receiver.arrivals[before:]
                for at, ids in new:
                    for alert in ids:
                        if alert not in received:
                            received.add(alert)
                            latencies.append(at - started)
                before += len(new)
                messages += len(new)
                time.sleep(0.02)
            print(
                f"round {round_ + 1}: {len(received)} of {expected} alerts received "
                f"in {max((a for a in latencies[-len(received) :]), default=0):.2f} s",
                flush=True,
            )
    finally:
        os.killpg(worker.pid, 15)
        worker.wait(timeout=30)
        if not args.keep:
            from django.db import connections

            connections.close_all()
            recreate_database(server, BENCH_DB, drop_only=True)
    if latencies:
        print(
            f"\n{len(latencies)} alerts in {messages} messages over {args.rounds} rounds of "
            f"{args.alerts} regions at once: samples arriving → webhook received "
            f"p50 {statistics.median(latencies) * 1000:.0f} ms, "
            f"p99 {percentile(latencies, 99) * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()

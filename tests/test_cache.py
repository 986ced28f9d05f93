"""The cache keeps one Redis connection pool per process, whatever thread a request runs in.

Under ASGI each request's synchronous code runs in a new thread, and Django's stock Redis cache
builds a connection pool per thread: every request opened a new connection to Redis."""

from __future__ import annotations

import threading

import redis
from django.conf import settings
from django.core.cache import cache


def _connections_to_redis() -> int:
    return int(redis.Redis.from_url(settings.REDIS_URL).info("clients")["connected_clients"])


def test_requests_in_threads_of_their_own_share_one_redis_connection() -> None:
    cache.set("carloan-test:warm", 1)  # this process's pool has its connection now
    before = _connections_to_redis()
    done, release = threading.Barrier(11), threading.Event()

    def request_in_a_new_thread(n: int) -> None:
        cache.set(f"carloan-test:{n}", n)
        done.wait()
        release.wait()  # the thread (and anything it holds) lives until counted

    threads = [threading.Thread(target=request_in_a_new_thread, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    done.wait()
    try:
        # One more for the counting client itself; a pool per thread would add ten.
        assert _connections_to_redis() - before <= 2
        assert [cache.get(f"carloan-test:{n}") for n in range(10)] == list(range(10))
    finally:
        release.set()
        for thread in threads:
            thread.join()

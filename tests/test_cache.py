"""The cache keeps one Redis connection pool per process, whatever thread a request runs in.

Under ASGI each request's synchronous code runs in a new thread, and Django's stock Redis cache
builds a connection pool per thread: every request opened a new connection to Redis."""

from __future__ import annotations

import threading

from django.core.cache import cache


def test_requests_in_threads_of_their_own_share_one_redis_connection() -> None:
    one_at_a_time, all_done, release = threading.Lock(), threading.Barrier(11), threading.Event()
    connection_ids: list[int] = []

    def request_in_a_new_thread(n: int) -> None:
        with one_at_a_time:  # like requests one after another, each in its own thread
            cache.set(f"carloan-test:{n}", n)
            # Redis's id of the connection this thread's cache talks on (an idle pooled one).
            connection_ids.append(cache._cache.get_client().client_id())  # type: ignore[attr-defined]
        all_done.wait()
        release.wait()  # every thread, and whatever it holds, lives until the end

    threads = [threading.Thread(target=request_in_a_new_thread, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    all_done.wait()
    try:
        assert len(connection_ids) == 10
        assert len(set(connection_ids)) == 1  # a pool per thread: ten connections
        assert [cache.get(f"carloan-test:{n}") for n in range(10)] == list(range(10))
    finally:
        release.set()
        for thread in threads:
            thread.join()

"""The cache backend: Django's Redis cache with one connection pool per process.

Django keeps a cache object per request context, and each builds its own Redis connection pool
on first use. Under ASGI every request's synchronous code runs in a new thread and context, so
every request that touched the cache (a session, the parameter snapshot, a parameter change's
invalidation) opened a new connection to Redis, and left it to the garbage collector: on a
2-vCPU machine that was 1.5 ms of every parameter change. Here the Redis client, with its
connection pool, is made once per process and configuration and shared by every context;
redis-py's pool is thread-safe and starts afresh in a forked child (Celery's workers).
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property

_clients: dict[tuple[Any, ...], RedisCacheClient] = {}
_clients_lock = threading.Lock()


class ReusedRedisCacheClient(RedisCacheClient):
    """Django's Redis cache client builds a new `redis.Redis` for every cache call, and each one
    fills its table of about 500 response callbacks: six calls a request (session, parameters,
    throttles) cost half a millisecond of CPU. One `redis.Redis` per pool, made once, serves
    them all (it is thread-safe: each command borrows a connection from the pool)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._redis: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)
        client = self._redis.get(index)
        if client is None:
            client = self._client(connection_pool=self._get_connection_pool(write))
            self._redis[index] = client
        return client


class SharedPoolRedisCache(RedisCache):
    """`django.core.cache.backends.redis.RedisCache` whose client is shared process-wide."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusedRedisCacheClient

    @cached_property
    def _cache(self) -> RedisCacheClient:
        key = (self._class, tuple(self._servers), repr(sorted(self._options.items())))
        with _clients_lock:
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = self._class(self._servers, **self._options)
        return client


def source_version(*files: str | Path) -> str:
    """A short digest of source files (modules, templates): put in the key of what is built from
    them and kept in the shared cache, so that during a rolling deploy a process never reads an
    answer shaped by another version of the code."""
    digest = hashlib.sha1(usedforsecurity=False)
    for name in files:
        digest.update(Path(name).read_bytes())
    return digest.hexdigest()[:10]
